/**
 * SQLite store (better-sqlite3): the default. WAL journal; every transaction
 * that may write is BEGIN IMMEDIATE, so concurrent processes on one file
 * serialize on the write lock and never see each other's half-done work.
 * Reads are a deferred BEGIN: WAL gives them a snapshot without the lock, so
 * they never wait for a writer. A write lock held elsewhere for longer than
 * busyTimeoutMs is ServiceUnavailable.StoreBusy (retryable), not a raw
 * SQLITE_BUSY. The file is created with mode 0600 (it may hold tags and descriptions).
 */
import Database from "better-sqlite3";
import * as fs from "node:fs";
import * as path from "node:path";
import type { Block } from "../core/cidr";
import type { AddressRecord, AllocationRecord, PoolRecord, ReservationHold, ReservationRecord, ReservedSegment, TokenRecord } from "../core/model";
import { IpamError } from "../core/errors";
import { quote } from "../core/quote";
import { readOnlyTx, type Store, type StoreTx } from "../core/store";
import { MAX_BUSY_TIMEOUT_MS } from "./url";
import { Mutex } from "./mutex";
import {
  decodeAllocation, decodePool, DELETE_RESERVED, encodeAllocation, encodePool, FREE_MIN_ADD, FREE_MIN_REMOVE, forDialect, hexStart, isWholeSpace,
  LIST_EXPIRED, LIST_HOLDS, LOWEST_FREE_ANYWHERE, lowestFreeSql, lowestRow, MIGRATIONS, PUT_RESERVATION, PUT_RESERVED, RESERVED_FROM,
  TAKE_PENDING, toBlock, toHold, toSegment,
} from "./sql";

/** The shared SQL numbers its parameters $1..$n, which SQLite reads as names: better-sqlite3 binds them from {1: .., 2: ..}. */
function args(...v: unknown[]): Record<number, unknown> {
  const o: Record<number, unknown> = {};
  for (let i = 0; i < v.length; i++) o[i + 1] = v[i];
  return o;
}

export interface SqliteOptions {
  /**
   * "normal" (default): with WAL, an acknowledged change survives a crash of
   * any process (kill -9), not a power loss; about 0.07 ms per commit here.
   * "full": it also survives power loss, at one fsync per commit (0.2 ms on this disk, 3 ms on a busier one).
   */
  synchronous?: "full" | "normal";
  /** How long to wait for another process's write lock, in ms, before ServiceUnavailable.StoreBusy. @default 30000 */
  busyTimeoutMs?: number;
}

export const DEFAULT_BUSY_TIMEOUT_MS = 30000;

export class SqliteStore implements Store {
  readonly kind = "sqlite";
  private readonly db: Database.Database;
  private readonly mutex = new Mutex();
  private readonly stmts = new Map<string, Database.Statement>();
  // Prepared once: exec() would parse them on every transaction.
  private readonly begin: Database.Statement;
  private readonly beginRead: Database.Statement;
  private readonly commit: Database.Statement;
  private readonly rollback: Database.Statement;
  readonly busyTimeoutMs: number;

  constructor(readonly file: string, opts: SqliteOptions = {}) {
    this.busyTimeoutMs = opts.busyTimeoutMs ?? DEFAULT_BUSY_TIMEOUT_MS;
    if (!Number.isSafeInteger(this.busyTimeoutMs) || this.busyTimeoutMs < 0 || this.busyTimeoutMs > MAX_BUSY_TIMEOUT_MS) {
      throw new IpamError("InvalidParameterValue", `busyTimeoutMs ${quote(opts.busyTimeoutMs)} is not a whole number of milliseconds from 0 to ${MAX_BUSY_TIMEOUT_MS}.`);
    }
    if (file !== ":memory:") {
      fs.mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
      fs.closeSync(fs.openSync(file, "a", 0o600));
    }
    this.db = new Database(file);
    try {
      this.db.pragma(`busy_timeout = ${this.busyTimeoutMs}`);
      this.db.pragma("journal_mode = WAL");
      this.db.pragma(`synchronous = ${opts.synchronous === "full" ? "FULL" : "NORMAL"}`);
      this.migrate();
      this.begin = this.db.prepare("BEGIN IMMEDIATE");
      this.beginRead = this.db.prepare("BEGIN DEFERRED");
      this.commit = this.db.prepare("COMMIT");
      this.rollback = this.db.prepare("ROLLBACK");
    } catch (e) {
      // A refused open (e.g. a schema newer than this code) must not leave the
      // connection and its file descriptors open: the caller never gets a store to close.
      this.db.close();
      throw this.named(e);
    }
  }

  private migrate(): void {
    // Checked first without the write lock: opening an up-to-date store must not wait for another process's writer.
    const hasSchema = this.db.prepare("SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'ipam_schema'").pluck().get();
    if (hasSchema && this.db.prepare("SELECT version FROM ipam_schema").pluck().get() === MIGRATIONS.length) return;
    this.db.exec("BEGIN IMMEDIATE");
    try {
      this.db.exec("CREATE TABLE IF NOT EXISTS ipam_schema (version INTEGER NOT NULL)");
      const row = this.db.prepare("SELECT version FROM ipam_schema").get() as { version: number } | undefined;
      let version = row?.version ?? 0;
      if (!row) this.db.prepare("INSERT INTO ipam_schema (version) VALUES (0)").run();
      if (version > MIGRATIONS.length) throw new Error(`store schema version ${version} is newer than this pulumi-ipam (${MIGRATIONS.length}); upgrade pulumi-ipam.`);
      const from = version;
      for (; version < MIGRATIONS.length; version++) {
        for (const sql of MIGRATIONS[version]) {
          const mine = forDialect(sql, "sqlite");
          if (mine) this.db.exec(mine);
        }
      }
      // Written only when it changed: an open of an up-to-date store writes nothing.
      if (version !== from) this.db.prepare("UPDATE ipam_schema SET version = ?").run(version);
      this.db.exec("COMMIT");
    } catch (e) {
      this.db.exec("ROLLBACK");
      throw e;
    }
  }

  stmt(sql: string): Database.Statement {
    let s = this.stmts.get(sql);
    if (!s) this.stmts.set(sql, (s = this.db.prepare(sql)));
    return s;
  }

  transaction<T>(fn: (tx: StoreTx) => Promise<T>): Promise<T> {
    return this.run(this.begin, fn);
  }

  read<T>(fn: (tx: StoreTx) => Promise<T>): Promise<T> {
    return this.run(this.beginRead, (tx) => fn(readOnlyTx(tx)));
  }

  private run<T>(begin: Database.Statement, fn: (tx: StoreTx) => Promise<T>): Promise<T> {
    return this.mutex.run(async () => {
      try {
        begin.run();
        const out = await fn(new SqliteTx(this));
        this.commit.run();
        return out;
      } catch (e) {
        if (this.db.inTransaction) this.rollback.run();
        throw this.named(e);
      }
    });
  }

  /** SQLITE_BUSY (the busy timeout ran out) as the named, retryable error; anything else as it was. */
  private named(e: unknown): unknown {
    const code = (e as { code?: unknown } | undefined)?.code;
    if (typeof code !== "string" || !/^SQLITE_BUSY(_|$)/.test(code)) return e;
    return new IpamError("ServiceUnavailable.StoreBusy", `SQLite store ${quote(this.file)} is busy (${code}): another process holds its write lock for longer than busyTimeoutMs (${this.busyTimeoutMs} ms); retry, or raise the wait with ?busyTimeoutMs= in the store URL.`);
  }

  async close(): Promise<void> {
    await this.mutex.run(async () => this.db.close());
  }
}

type Row = Record<string, unknown>;

class SqliteTx implements StoreTx {
  constructor(private readonly s: SqliteStore) {}

  lockPools(): void {} // BEGIN IMMEDIATE already holds the database's write lock.

  getPool(id: string) {
    const r = this.s.stmt("SELECT body FROM ipam_pools WHERE id = ?").get(id) as Row | undefined;
    return r && decodePool(r.body as string);
  }
  putPool(p: PoolRecord) {
    this.s.stmt("INSERT INTO ipam_pools (id, source_id, body) VALUES (?, ?, ?) ON CONFLICT (id) DO UPDATE SET body = excluded.body")
      .run(p.ipamPoolId, p.sourceIpamPoolId ?? null, encodePool(p));
  }
  deletePool(id: string) { this.s.stmt("DELETE FROM ipam_pools WHERE id = ?").run(id); }
  countChildPools(id: string) { return (this.s.stmt("SELECT count(*) AS n FROM ipam_pools WHERE source_id = ?").get(id) as Row).n as number; }
  listPools() { return (this.s.stmt("SELECT body FROM ipam_pools ORDER BY id").all() as Row[]).map((r) => decodePool(r.body as string)); }

  lowestFree(poolId: string, minPrefix: number, maxPrefix: number, from: bigint, to: bigint): Block | undefined {
    if (minPrefix > maxPrefix) return undefined;
    if (isWholeSpace(from, to)) {
      const r = lowestRow(this.s.stmt(LOWEST_FREE_ANYWHERE).all(args(poolId, minPrefix, maxPrefix)) as { start: string; prefix: number }[]);
      return r && toBlock(r);
    }
    const r = this.s.stmt(lowestFreeSql(minPrefix, maxPrefix)).get(args(poolId, hexStart(from), hexStart(to))) as Row | undefined;
    return r && toBlock(r as { start: string; prefix: number });
  }
  hasFree(poolId: string, b: Block) {
    return this.s.stmt("SELECT 1 FROM ipam_free WHERE pool_id = ? AND prefix = ? AND start = ?").get(poolId, b.prefix, hexStart(b.start)) !== undefined;
  }
  addFree(poolId: string, b: Block) {
    const start = hexStart(b.start);
    this.s.stmt("INSERT INTO ipam_free (pool_id, prefix, start) VALUES (?, ?, ?)").run(poolId, b.prefix, start);
    this.s.stmt(FREE_MIN_ADD).run(args(poolId, b.prefix, start));
  }
  removeFree(poolId: string, b: Block) {
    const start = hexStart(b.start);
    this.s.stmt("DELETE FROM ipam_free WHERE pool_id = ? AND prefix = ? AND start = ?").run(poolId, b.prefix, start);
    this.s.stmt(FREE_MIN_REMOVE).run(args(poolId, b.prefix, start));
  }
  listFree(poolId: string) { return (this.s.stmt("SELECT start, prefix FROM ipam_free WHERE pool_id = ?").all(poolId) as { start: string; prefix: number }[]).map(toBlock); }

  getAllocation(id: string) {
    const r = this.s.stmt("SELECT start, prefix, body FROM ipam_allocations WHERE id = ?").get(id) as { start: string; prefix: number; body: string } | undefined;
    return r && decodeAllocation(r);
  }
  putAllocation(a: AllocationRecord) {
    this.s.stmt("INSERT INTO ipam_allocations (id, pool_id, start, prefix, body) VALUES (?, ?, ?, ?, ?) ON CONFLICT (id) DO UPDATE SET body = excluded.body")
      .run(a.ipamPoolAllocationId, a.ipamPoolId, hexStart(a.start), a.prefix, encodeAllocation(a));
  }
  deleteAllocation(id: string) { this.s.stmt("DELETE FROM ipam_allocations WHERE id = ?").run(id); }
  listAllocations(poolId: string) {
    return (this.s.stmt("SELECT start, prefix, body FROM ipam_allocations WHERE pool_id = ? ORDER BY start").all(poolId) as { start: string; prefix: number; body: string }[]).map(decodeAllocation);
  }
  countAllocations(poolId: string) { return (this.s.stmt("SELECT count(*) AS n FROM ipam_allocations WHERE pool_id = ?").get(poolId) as Row).n as number; }

  getAddress(id: string) {
    const r = this.s.stmt("SELECT body FROM ipam_addresses WHERE id = ?").get(id) as Row | undefined;
    return r && (JSON.parse(r.body as string) as AddressRecord);
  }
  putAddress(a: AddressRecord) { this.s.stmt("INSERT INTO ipam_addresses (id, body) VALUES (?, ?) ON CONFLICT (id) DO UPDATE SET body = excluded.body").run(a.allocationId, JSON.stringify(a)); }
  deleteAddress(id: string) { this.s.stmt("DELETE FROM ipam_addresses WHERE id = ?").run(id); }

  getToken(key: string) { return this.s.stmt("SELECT key, fingerprint, result FROM ipam_tokens WHERE key = ?").get(key) as TokenRecord | undefined; }
  putToken(t: TokenRecord) { this.s.stmt("INSERT INTO ipam_tokens (key, fingerprint, result) VALUES (?, ?, ?)").run(t.key, t.fingerprint, t.result); }

  getReservation(key: string) {
    const r = this.s.stmt("SELECT body FROM ipam_reservations WHERE key = ?").get(key) as Row | undefined;
    return r && (JSON.parse(r.body as string) as ReservationRecord);
  }
  putReservation(r: ReservationRecord) {
    this.s.stmt(PUT_RESERVATION).run(args(r.key, r.spacePoolId ?? null, r.kind === "pool" ? r.ipamPoolId : null, JSON.stringify(r), r.expiresAt, r.cidrs.join(",")));
  }
  deleteReservation(key: string) {
    this.s.stmt("DELETE FROM ipam_reservations WHERE key = ?").run(key);
  }
  listReservations(spacePoolId: string) {
    return (this.s.stmt("SELECT body FROM ipam_reservations WHERE space_pool_id = ? ORDER BY key").all(spacePoolId) as Row[]).map((r) => JSON.parse(r.body as string) as ReservationRecord);
  }
  listReservationHolds(spacePoolId: string): ReservationHold[] {
    return (this.s.stmt(LIST_HOLDS).all(args(spacePoolId)) as { key: string; cidrs: string; expires_at: number }[]).map(toHold);
  }
  listExpiredReservations(spacePoolId: string, now: number) {
    return (this.s.stmt(LIST_EXPIRED).all(args(spacePoolId, now)) as Row[]).map((r) => JSON.parse(r.body as string) as ReservationRecord);
  }

  lockReservations(): void {} // BEGIN IMMEDIATE already holds the database's write lock.
  reservedFrom(spacePoolId: string, from: bigint, limit: number): ReservedSegment[] {
    return (this.s.stmt(RESERVED_FROM).all(args(spacePoolId, hexStart(from), limit)) as { start: string; last: string; n: number }[]).map(toSegment);
  }
  putReserved(spacePoolId: string, g: ReservedSegment) { this.s.stmt(PUT_RESERVED).run(args(spacePoolId, hexStart(g.last), hexStart(g.start), g.count)); }
  deleteReserved(spacePoolId: string, last: bigint) { this.s.stmt(DELETE_RESERVED).run(args(spacePoolId, hexStart(last))); }
  takeReservedPending(spacePoolId: string) { return this.s.stmt(TAKE_PENDING).all(args(spacePoolId)).length > 0; }
  getPoolReservation(ipamPoolId: string) {
    const r = this.s.stmt("SELECT body FROM ipam_reservations WHERE planned_pool_id = ?").get(ipamPoolId) as Row | undefined;
    return r && (JSON.parse(r.body as string) as ReservationRecord);
  }
}
