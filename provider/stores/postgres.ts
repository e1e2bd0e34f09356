/**
 * PostgreSQL store (pg): for many pipelines and machines sharing one address
 * plan. Each operation is one READ COMMITTED transaction that row-locks only
 * the pools it touches (SELECT ... FOR UPDATE), so work on different pools
 * runs in parallel. Deadlocks and unique-key races (two creators of one
 * ClientToken) roll back and retry with jittered backoff.
 *
 * Round trips are what an operation costs here (about 0.25 ms each on
 * loopback against 0.3 ms for a durable COMMIT), so statements travel
 * together: BEGIN, the pool locks and the writes are held back and sent
 * with the next read or with the COMMIT, and a locked pool's lowest free
 * blocks come with the pool. An unrestricted allocation is 2 round trips
 * (BEGIN + lock + pool + its ipam_free_min rows; writes + COMMIT), not 10. What
 * is held always goes before the read, so a transaction reads its own
 * writes and takes its locks before it reads what they guard.
 *
 * Values are always bound parameters, never SQL text. The statements of a
 * round trip go out pipelined on pg's extended protocol (`pipeline: true`,
 * pg >= 8.22): each is Parse/Bind/Execute/Sync of a named statement, all
 * written before the first answer is read. This keeps pg (already the
 * dependency, with its pool) rather than switching to the `postgres`
 * package, and costs nothing: named statements are parsed and planned once
 * per connection instead of once per use as a multi-statement simple query
 * was.
 *
 * Connection loss (a server restart, a dropped socket) never crashes the
 * process: the pool and each checked-out client have an 'error' listener.
 * A transaction cut by it is run again on a new connection, with backoff,
 * for up to retryTimeMs, when that is known to be safe: its COMMIT was never
 * sent or was answered, or it only read, or it wrote a ClientToken (running
 * it again replays the first result if the first did commit). Otherwise, and
 * when the server stays away, the call fails with STORE_CONNECTION_LOST.
 */
import { Pool, PoolClient } from "pg";
import type { Block } from "../core/cidr";
import { IpamError } from "../core/errors";
import type { AddressRecord, AllocationRecord, PoolRecord, ReservationRecord, ReservedSegment, TokenRecord } from "../core/model";
import { readOnlyTx, type Store, type StoreTx } from "../core/store";
import { retry } from "../util/retry";
import {
  decodeAllocation, decodePool, DELETE_RESERVED, encodeAllocation, encodePool, FREE_MIN_ADD, FREE_MIN_REMOVE, forDialect, hexStart, isWholeSpace,
  LIST_EXPIRED, LOWEST_FREE_ANYWHERE, LIST_HOLDS, lowestFreeBoundSql, lowestRow, MIGRATIONS, PUT_RESERVATION, PUT_RESERVED, RESERVED_FROM, TAKE_PENDING,
  toBlock, toHold, toSegment,
} from "./sql";

/**
 * The error of a call whose transaction lost its connection to PostgreSQL
 * and could not be run again: the server stayed unreachable for retryTimeMs,
 * or the connection broke while COMMIT was in flight in a transaction that
 * is not idempotent (it may or may not have committed). Retryable: run the
 * operation again once the server is back (with a ClientToken it is safe
 * whatever happened).
 */
export const STORE_CONNECTION_LOST = "ServiceUnavailable.StoreConnectionLost";

const GET_POOL = "SELECT body FROM ipam_pools WHERE id = $1";
const FREE_MIN_OF_POOL = "SELECT start, prefix FROM ipam_free_min WHERE pool_id = $1 AND start > ''";
/** Serialization failure, deadlock, a unique key a concurrent creator took: rolled back, safe to run again. */
const CONTENTION = new Set(["40001", "40P01", "23505"]);
const CONTENTION_ATTEMPTS = 20;
const MIGRATION_LOCK = 0x1b4a9c; // pg_advisory_xact_lock key: one migrator at a time
/**
 * A scope (ipam-scope-...) has no row to lock: pg_advisory_xact_lock(class, hashtext(id)) stands for it.
 * The two-key form's space never meets MIGRATION_LOCK's one-key space; two scopes sharing a hash only wait for each other.
 */
const SCOPE_LOCK = "SELECT pg_advisory_xact_lock(1788573, hashtext($1))";
/** A space's index of reserved blocks (its segments have no row to lock before they exist): an advisory lock of its own class. */
const RESERVED_LOCK = "SELECT pg_advisory_xact_lock(1788574, hashtext($1))";

export interface PostgresOptions {
  /** Connections in the pool. @default 4 */
  max?: number;
  /** How long a transaction cut by connection loss keeps being retried (a restart takes seconds). @default 30000 */
  retryTimeMs?: number;
}

export class PostgresStore implements Store {
  readonly kind = "postgres";
  private readonly pool: Pool;
  private readonly retryTimeMs: number;
  private ready: Promise<void> | undefined;

  constructor(readonly url: string, opts: PostgresOptions = {}) {
    this.retryTimeMs = opts.retryTimeMs ?? 30_000;
    // keepAlive: a peer that vanished without a FIN/RST is noticed instead of waited on forever.
    this.pool = new Pool({ connectionString: url, max: opts.max ?? 4, pipeline: true, keepAlive: true } as ConstructorParameters<typeof Pool>[0]);
    // An idle client whose server went away (restart: "terminating connection due to administrator
    // command") emits 'error' through the pool; unheard, it would end the process. pg-pool drops that client.
    this.pool.on("error", () => undefined);
  }

  private migrate(): Promise<void> {
    return (this.ready ??= this.withClient(true, async (c) => {
      await c.query("BEGIN");
      await c.query("SELECT pg_advisory_xact_lock($1)", [MIGRATION_LOCK]);
      await c.query("CREATE TABLE IF NOT EXISTS ipam_schema (version INTEGER NOT NULL)");
      const r = await c.query("SELECT version FROM ipam_schema");
      let version: number = r.rows[0]?.version ?? 0;
      if (r.rowCount === 0) await c.query("INSERT INTO ipam_schema (version) VALUES (0)");
      if (version > MIGRATIONS.length) throw new Error(`store schema version ${version} is newer than this pulumi-ipam (${MIGRATIONS.length}); upgrade pulumi-ipam.`);
      const from = version;
      for (; version < MIGRATIONS.length; version++) {
        for (const sql of MIGRATIONS[version]) {
          const mine = forDialect(sql, "postgres");
          if (mine) await c.query(mine);
        }
      }
      if (version !== from) await c.query("UPDATE ipam_schema SET version = $1", [version]);
      await c.query("COMMIT");
    }).catch((e) => {
      this.ready = undefined;
      throw e;
    }));
  }

  /**
   * Runs work on a pooled client with an 'error' listener (a socket error on a checked-out client
   * otherwise ends the process); rolls back on failure; gives a broken client back as broken, so the
   * pool connects afresh. A connection failure comes out as ConnectionLost.
   */
  private async withClient<T>(idempotent: boolean, work: (c: PoolClient) => Promise<T>, state?: () => TxState): Promise<T> {
    let c: PoolClient;
    try {
      c = await this.pool.connect();
    } catch (e) {
      throw isConnectionFailure(e) ? new ConnectionLost(e, false) : e;
    }
    let broken: unknown;
    const onError = (e: unknown) => (broken ??= e);
    c.on("error", onError);
    try {
      return await work(c);
    } catch (e) {
      if (e instanceof ConnectionLost || isConnectionFailure(e)) {
        broken ??= e;
        if (e instanceof ConnectionLost) throw e;
        const s = state?.() ?? { commitUnknown: true, idempotent };
        throw new ConnectionLost(e, s.commitUnknown && !notSent(e), s.idempotent || idempotent);
      }
      if (!broken) await c.query("ROLLBACK").catch(() => undefined);
      throw e;
    } finally {
      c.off("error", onError);
      c.release(broken ? (broken instanceof Error ? broken : new Error(String(broken))) : undefined);
    }
  }

  async transaction<T>(fn: (tx: StoreTx) => Promise<T>): Promise<T> {
    try {
      return await retry(async () => {
        await this.migrate();
        let tx: PostgresTx | undefined;
        return await this.withClient(false, async (c) => {
          tx = new PostgresTx(c);
          const out = await fn(tx);
          await tx.commit();
          return out;
        }, () => tx?.state() ?? { commitUnknown: false, idempotent: true });
      }, {
        retryable: (e, attempt) => e instanceof ConnectionLost
          ? !e.commitUnknown || e.idempotent
          : CONTENTION.has((e as { code?: string }).code ?? "") && attempt < CONTENTION_ATTEMPTS,
        maxAttempts: Infinity, maxTimeMs: this.retryTimeMs, baseDelayMs: 10, maxDelayMs: 200,
      });
    } catch (e) {
      if (!(e instanceof ConnectionLost)) throw e;
      const why = String((e.cause as Error)?.message ?? e.cause).split("\n")[0];
      throw new IpamError(STORE_CONNECTION_LOST, e.commitUnknown
        ? `the connection to PostgreSQL broke while the change was committing (${why}): it may or may not have been made. Check, or run the operation again with a ClientToken.`
        : `the connection to PostgreSQL was lost and could not be made again within ${Math.round(this.retryTimeMs / 1000)} s (${why}); nothing was changed. Run the operation again once the server is back.`);
    }
  }

  /** MVCC reads never wait for writers here: a transaction whose writes and locks throw. */
  read<T>(fn: (tx: StoreTx) => Promise<T>): Promise<T> {
    return this.transaction((tx) => fn(readOnlyTx(tx)));
  }

  async close(): Promise<void> {
    await this.pool.end();
  }
}

/** A transaction cut by connection loss, with what is known of its outcome. */
class ConnectionLost extends Error {
  constructor(readonly cause: unknown, readonly commitUnknown: boolean, readonly idempotent = false) {
    super("connection lost");
  }
}

interface TxState {
  /** COMMIT was sent and not answered, and nothing before it failed: it may have committed. */
  commitUnknown: boolean;
  /** Running it again is harmless even if it did commit: it wrote nothing, or it wrote a ClientToken. */
  idempotent: boolean;
}

/** SQLSTATEs of a connection the server ended or will not take now: class 08 (not 08P01, a protocol error), shutdown, crash, starting up. */
const CONNECTION_STATE = /^(08(00[0-9]|006)|57P0[123])$/;
const NODE_NET = new Set(["ECONNRESET", "ECONNREFUSED", "EPIPE", "ETIMEDOUT", "EHOSTUNREACH", "ENETUNREACH", "EAI_AGAIN", "ENOTFOUND"]);
/** pg's own messages for a socket that ended and for a client broken by it. */
const PG_CLOSED = /^Connection terminated|not queryable/;

function isConnectionFailure(e: unknown): boolean {
  const x = e as { code?: unknown; message?: unknown } | undefined;
  if (!x || typeof x !== "object" || x instanceof IpamError) return false;
  const code = typeof x.code === "string" ? x.code : "";
  return CONNECTION_STATE.test(code) || NODE_NET.has(code) || PG_CLOSED.test(String(x.message ?? ""));
}

/** pg refused to send on a client already broken: nothing of this round trip reached the server. */
const notSent = (e: unknown) => /has encountered a connection error and is not queryable/.test(String((e as Error)?.message ?? ""));

/**
 * Values go to the server only as bound parameters, and only of the types
 * the schema has: strings without NUL (PostgreSQL text cannot hold one; pg
 * would hand it on and the server answer 22021), finite numbers, null, and
 * string arrays (ANY($1)). Anything else is refused here, before a round
 * trip, as InvalidParameterValue.
 */
function checkValue(v: unknown): void {
  if (v === null || v === undefined || (typeof v === "number" && Number.isFinite(v))) return;
  if (typeof v === "string") {
    if (v.includes("\0")) throw new IpamError("InvalidParameterValue", "a value contains a NUL character (U+0000), which the PostgreSQL store cannot keep; remove it.");
    return;
  }
  if (Array.isArray(v) && v.every((x) => typeof x === "string")) return v.forEach(checkValue);
  throw new IpamError("InvalidParameterValue", `a value of type ${Array.isArray(v) ? "array" : typeof v} cannot be stored here; expected a string or a number.`);
}

/** One prepared statement per distinct text, shared by every connection (each prepares it on first use). */
const statementNames = new Map<string, string>();
const nameOf = (text: string) => {
  let n = statementNames.get(text);
  if (!n) statementNames.set(text, (n = `ipam_${statementNames.size}`));
  return n;
};

/** A statement held back until the next read or the COMMIT. */
interface Held { text: string; values: unknown[] }
/** What pg answers a statement. */
interface Answer { rows: Record<string, unknown>[]; command: string }

class PostgresTx implements StoreTx {
  private begun = false;
  private held: Held[] = [];
  private commitSent = false;
  private commitAnswered = false;
  private wrote = false;
  private wroteToken = false;
  private readonly locked = new Set<string>();
  private readonly lockedReserved = new Set<string>();
  /**
   * ipam_free_min rows (one per prefix, so at most 129) of the pools this
   * transaction locked, read with the pool itself: an unrestricted search
   * then needs no round trip of its own. Dropped on any free-space write.
   */
  private readonly freeMin = new Map<string, { start: string; prefix: number }[]>();
  constructor(private readonly c: PoolClient) {}

  state(): TxState {
    return { commitUnknown: this.commitSent && !this.commitAnswered, idempotent: !this.wrote || this.wroteToken };
  }

  /** A read: sent with everything held, in one round trip; its rows. */
  private async rows(text: string, values: unknown[]): Promise<Record<string, unknown>[]> {
    return (await this.reads([{ text, values }]))[0];
  }

  /** Several reads in the one round trip that also carries what is held; the rows of each. */
  private async reads(list: Held[]): Promise<Record<string, unknown>[][]> {
    list.forEach((h) => h.values.forEach(checkValue));
    const results = await this.send([...this.take(), ...list]);
    return results.slice(results.length - list.length).map((r) => r.rows);
  }

  private write(text: string, values: unknown[]): void {
    this.hold(text, values);
    this.wrote = true;
  }

  /** Held like a write, but changes no data (a lock). */
  private hold(text: string, values: unknown[]): void {
    values.forEach(checkValue);
    this.held.push({ text, values });
  }

  /** Sends what is held with the COMMIT; nothing at all when the transaction never began. */
  async commit(): Promise<void> {
    if (!this.begun && this.held.length === 0) return;
    await this.send(this.take(), true);
  }

  private take(): Held[] {
    const held = this.held;
    this.held = [];
    return held;
  }

  /**
   * One round trip: the statements pipelined (BEGIN first if not yet sent,
   * COMMIT last when committing), written to the socket in one go (corked),
   * then every answer awaited. The first statement that fails aborts the
   * transaction (later ones answer 25P02, COMMIT answers ROLLBACK), and its
   * error is the one thrown; the caller rolls back and retries as before.
   */
  private async send(statements: Held[], commit = false): Promise<{ rows: Record<string, unknown>[] }[]> {
    const queries: { text: string; values?: unknown[]; name?: string }[] = statements.map((h) => ({ text: h.text, values: h.values, name: nameOf(h.text) }));
    const beginning = !this.begun;
    if (beginning) queries.unshift({ text: "BEGIN" });
    if (commit) {
      queries.push({ text: "COMMIT" });
      this.commitSent = true;
    }
    this.begun = true;
    const settled = await this.pipeline(queries);
    if (commit && settled[settled.length - 1].status === "fulfilled") this.commitAnswered = true;
    const failed = settled.filter((r): r is PromiseRejectedResult => r.status === "rejected").map((r) => r.reason as unknown);
    // A statement the server refused is the cause (the transaction cannot commit after it), even if the connection broke later.
    const refused = failed.find((e) => !isConnectionFailure(e));
    if (refused !== undefined) {
      this.commitAnswered = true; // known: it cannot have committed
      throw refused;
    }
    if (failed.length) throw failed[0];
    const all = (settled as PromiseFulfilledResult<Answer>[]).map((r) => r.value);
    return all.slice(beginning ? 1 : 0, commit ? -1 : undefined);
  }

  /**
   * Sends the queries back to back and settles when every answer is in.
   * Each query corks and uncorks the socket around its own messages; corked
   * around all of them, they leave in one write. Callbacks, not a promise per
   * query: about 8% less CPU per allocation.
   */
  private pipeline(queries: { text: string; values?: unknown[]; name?: string }[]): Promise<PromiseSettledResult<Answer>[]> {
    return new Promise((resolve) => {
      const settled: PromiseSettledResult<Answer>[] = new Array(queries.length);
      let left = queries.length;
      const stream = (this.c as unknown as { connection?: { stream?: { cork?: () => void; uncork?: () => void } } }).connection?.stream;
      stream?.cork?.();
      try {
        queries.forEach((q, i) => this.c.query(q as { text: string }, (err: Error | undefined, res: unknown) => {
          settled[i] = err ? { status: "rejected", reason: err } : { status: "fulfilled", value: res as Answer };
          if (--left === 0) resolve(settled);
        }));
      } finally {
        stream?.uncork?.();
      }
    });
  }

  /** Held like a write: the locks are taken, in id order, just before the read that follows. */
  async lockPools(ids: string[]): Promise<void> {
    const pools = ids.filter((id) => !id.startsWith("ipam-scope-"));
    if (pools.length) this.hold("SELECT id FROM ipam_pools WHERE id = ANY($1) ORDER BY id FOR UPDATE", [pools]);
    for (const id of pools) this.locked.add(id);
    for (const scope of ids.filter((id) => id.startsWith("ipam-scope-")).sort()) this.hold(SCOPE_LOCK, [scope]);
  }

  async getPool(id: string) {
    if (!this.locked.has(id)) {
      const r = await this.rows(GET_POOL, [id]);
      return r[0] && decodePool(r[0].body as string);
    }
    const [r, free] = await this.reads([{ text: GET_POOL, values: [id] }, { text: FREE_MIN_OF_POOL, values: [id] }]);
    this.freeMin.set(id, free as { start: string; prefix: number }[]);
    return r[0] && decodePool(r[0].body as string);
  }
  async putPool(p: PoolRecord) {
    this.write("INSERT INTO ipam_pools (id, source_id, body) VALUES ($1, $2, $3) ON CONFLICT (id) DO UPDATE SET body = excluded.body",
      [p.ipamPoolId, p.sourceIpamPoolId ?? null, encodePool(p)]);
  }
  async deletePool(id: string) { this.write("DELETE FROM ipam_pools WHERE id = $1", [id]); }
  async countChildPools(id: string) { return Number((await this.rows("SELECT count(*) AS n FROM ipam_pools WHERE source_id = $1", [id]))[0].n); }
  async listPools() { return (await this.rows("SELECT body FROM ipam_pools ORDER BY id", [])).map((r) => decodePool(r.body as string)); }

  async lowestFree(poolId: string, minPrefix: number, maxPrefix: number, from: bigint, to: bigint): Promise<Block | undefined> {
    if (minPrefix > maxPrefix) return undefined;
    if (isWholeSpace(from, to)) {
      const cached = this.freeMin.get(poolId)?.filter((x) => x.prefix >= minPrefix && x.prefix <= maxPrefix);
      const r = lowestRow(cached ?? await this.rows(LOWEST_FREE_ANYWHERE, [poolId, minPrefix, maxPrefix]) as { start: string; prefix: number }[]);
      return r && toBlock(r);
    }
    const r = await this.rows(lowestFreeBoundSql(maxPrefix - minPrefix + 1), [poolId, hexStart(from), hexStart(to), minPrefix]);
    return r[0] && toBlock(r[0] as { start: string; prefix: number });
  }
  async hasFree(poolId: string, b: Block) {
    return (await this.rows("SELECT 1 FROM ipam_free WHERE pool_id = $1 AND prefix = $2 AND start = $3", [poolId, b.prefix, hexStart(b.start)])).length > 0;
  }
  async addFree(poolId: string, b: Block) {
    const start = hexStart(b.start);
    this.freeMin.delete(poolId);
    this.write("INSERT INTO ipam_free (pool_id, prefix, start) VALUES ($1, $2, $3)", [poolId, b.prefix, start]);
    this.write(FREE_MIN_ADD, [poolId, b.prefix, start]);
  }
  async removeFree(poolId: string, b: Block) {
    const start = hexStart(b.start);
    this.freeMin.delete(poolId);
    this.write("DELETE FROM ipam_free WHERE pool_id = $1 AND prefix = $2 AND start = $3", [poolId, b.prefix, start]);
    this.write(FREE_MIN_REMOVE, [poolId, b.prefix, start]);
  }
  async listFree(poolId: string) { return (await this.rows("SELECT start, prefix FROM ipam_free WHERE pool_id = $1", [poolId])).map((r) => toBlock(r as { start: string; prefix: number })); }

  async getAllocation(id: string) {
    const r = await this.rows("SELECT start, prefix, body FROM ipam_allocations WHERE id = $1", [id]);
    return r[0] && decodeAllocation(r[0] as { start: string; prefix: number; body: string });
  }
  async putAllocation(a: AllocationRecord) {
    this.write("INSERT INTO ipam_allocations (id, pool_id, start, prefix, body) VALUES ($1, $2, $3, $4, $5) ON CONFLICT (id) DO UPDATE SET body = excluded.body",
      [a.ipamPoolAllocationId, a.ipamPoolId, hexStart(a.start), a.prefix, encodeAllocation(a)]);
  }
  async deleteAllocation(id: string) { this.write("DELETE FROM ipam_allocations WHERE id = $1", [id]); }
  async listAllocations(poolId: string) {
    return (await this.rows("SELECT start, prefix, body FROM ipam_allocations WHERE pool_id = $1 ORDER BY start", [poolId]))
      .map((r) => decodeAllocation(r as { start: string; prefix: number; body: string }));
  }
  async countAllocations(poolId: string) { return Number((await this.rows("SELECT count(*) AS n FROM ipam_allocations WHERE pool_id = $1", [poolId]))[0].n); }

  async getAddress(id: string) {
    const r = await this.rows("SELECT body FROM ipam_addresses WHERE id = $1", [id]);
    return r[0] && (JSON.parse(r[0].body as string) as AddressRecord);
  }
  async putAddress(a: AddressRecord) { this.write("INSERT INTO ipam_addresses (id, body) VALUES ($1, $2) ON CONFLICT (id) DO UPDATE SET body = excluded.body", [a.allocationId, JSON.stringify(a)]); }
  async deleteAddress(id: string) { this.write("DELETE FROM ipam_addresses WHERE id = $1", [id]); }

  async getToken(key: string) {
    const r = await this.rows("SELECT key, fingerprint, result FROM ipam_tokens WHERE key = $1", [key]);
    return r[0] as unknown as TokenRecord | undefined;
  }
  async putToken(t: TokenRecord) {
    this.write("INSERT INTO ipam_tokens (key, fingerprint, result) VALUES ($1, $2, $3)", [t.key, t.fingerprint, t.result]);
    this.wroteToken = true;
  }

  async getReservation(key: string) {
    const r = await this.rows("SELECT body FROM ipam_reservations WHERE key = $1", [key]);
    return r[0] && (JSON.parse(r[0].body as string) as ReservationRecord);
  }
  async putReservation(r: ReservationRecord) {
    this.write(PUT_RESERVATION, [r.key, r.spacePoolId ?? null, r.kind === "pool" ? r.ipamPoolId : null, JSON.stringify(r), r.expiresAt, r.cidrs.join(",")]);
  }
  async deleteReservation(key: string) { this.write("DELETE FROM ipam_reservations WHERE key = $1", [key]); }
  async listReservations(spacePoolId: string) {
    return (await this.rows("SELECT body FROM ipam_reservations WHERE space_pool_id = $1 ORDER BY key", [spacePoolId])).map((r) => JSON.parse(r.body as string) as ReservationRecord);
  }
  async listReservationHolds(spacePoolId: string) {
    return (await this.rows(LIST_HOLDS, [spacePoolId])).map((r) => toHold(r as { key: string; cidrs: string; expires_at: string }));
  }
  async getPoolReservation(ipamPoolId: string) {
    const r = await this.rows("SELECT body FROM ipam_reservations WHERE planned_pool_id = $1", [ipamPoolId]);
    return r[0] && (JSON.parse(r[0].body as string) as ReservationRecord);
  }
  async listExpiredReservations(spacePoolId: string, now: number) {
    return (await this.rows(LIST_EXPIRED, [spacePoolId, now])).map((r) => JSON.parse(r.body as string) as ReservationRecord);
  }

  /** Held like a write: taken just before the read that follows, once per transaction. */
  async lockReservations(spacePoolId: string): Promise<void> {
    if (this.lockedReserved.has(spacePoolId)) return;
    this.lockedReserved.add(spacePoolId);
    this.hold(RESERVED_LOCK, [spacePoolId]);
  }
  async reservedFrom(spacePoolId: string, from: bigint, limit: number): Promise<ReservedSegment[]> {
    return (await this.rows(RESERVED_FROM, [spacePoolId, hexStart(from), limit])).map((r) => toSegment(r as { start: string; last: string; n: number }));
  }
  async putReserved(spacePoolId: string, g: ReservedSegment) { this.write(PUT_RESERVED, [spacePoolId, hexStart(g.last), hexStart(g.start), g.count]); }
  async deleteReserved(spacePoolId: string, last: bigint) { this.write(DELETE_RESERVED, [spacePoolId, hexStart(last)]); }
  async takeReservedPending(spacePoolId: string) {
    const taken = (await this.rows(TAKE_PENDING, [spacePoolId])).length > 0;
    if (taken) this.wrote = true;
    return taken;
  }
}
