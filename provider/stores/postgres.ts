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
 */
import { Pool, PoolClient } from "pg";
import type { Block } from "../core/cidr";
import type { AddressRecord, AllocationRecord, PoolRecord, ReservationRecord, TokenRecord } from "../core/model";
import { readOnlyTx, type Store, type StoreTx } from "../core/store";
import {
  decodeAllocation, decodePool, encodeAllocation, encodePool, FREE_MIN_ADD, FREE_MIN_REMOVE, forDialect, hexStart, isWholeSpace, LOWEST_FREE_ANYWHERE,
  LIST_HOLDS, lowestFreeSql, lowestRow, MIGRATIONS, PUT_RESERVATION, toBlock, toHold,
} from "./sql";

const GET_POOL = "SELECT body FROM ipam_pools WHERE id = $1";
const FREE_MIN_OF_POOL = "SELECT start, prefix FROM ipam_free_min WHERE pool_id = $1 AND start > ''";
const RETRYABLE = new Set(["40001", "40P01", "23505"]);
const MAX_ATTEMPTS = 20;
const MIGRATION_LOCK = 0x1b4a9c; // pg_advisory_xact_lock key: one migrator at a time
/**
 * A scope (ipam-scope-...) has no row to lock: pg_advisory_xact_lock(class, hashtext(id)) stands for it.
 * The two-key form's space never meets MIGRATION_LOCK's one-key space; two scopes sharing a hash only wait for each other.
 */
const SCOPE_LOCK = "SELECT pg_advisory_xact_lock(1788573, hashtext($1))";

export class PostgresStore implements Store {
  readonly kind = "postgres";
  private readonly pool: Pool;
  private ready: Promise<void> | undefined;

  constructor(readonly url: string, opts: { max?: number } = {}) {
    this.pool = new Pool({ connectionString: url, max: opts.max ?? 4 });
  }

  private migrate(): Promise<void> {
    return (this.ready ??= (async () => {
      const c = await this.pool.connect();
      try {
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
      } catch (e) {
        await c.query("ROLLBACK").catch(() => undefined);
        this.ready = undefined;
        throw e;
      } finally {
        c.release();
      }
    })());
  }

  async transaction<T>(fn: (tx: StoreTx) => Promise<T>): Promise<T> {
    await this.migrate();
    for (let attempt = 1; ; attempt++) {
      const c = await this.pool.connect();
      try {
        const tx = new PostgresTx(c);
        const out = await fn(tx);
        await tx.commit();
        return out;
      } catch (e) {
        await c.query("ROLLBACK").catch(() => undefined);
        const code = (e as { code?: string }).code;
        if (!code || !RETRYABLE.has(code) || attempt >= MAX_ATTEMPTS) throw e;
        await new Promise((r) => setTimeout(r, Math.random() * Math.min(200, 5 * 2 ** attempt)));
      } finally {
        c.release();
      }
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

/** A write held back until the next read or the COMMIT. */
interface Held { text: string; values: unknown[] }

class PostgresTx implements StoreTx {
  private begun = false;
  private held: Held[] = [];
  private readonly locked = new Set<string>();
  /**
   * ipam_free_min rows (one per prefix, so at most 129) of the pools this
   * transaction locked, read with the pool itself: an unrestricted search
   * then needs no round trip of its own. Dropped on any free-space write.
   */
  private readonly freeMin = new Map<string, { start: string; prefix: number }[]>();
  constructor(private readonly c: PoolClient) {}

  /** A read: sent with everything held, in one round trip; its rows. */
  private async rows(text: string, values: unknown[]): Promise<Record<string, unknown>[]> {
    return (await this.reads([{ text, values }]))[0];
  }

  /** Several reads in the one round trip that also carries what is held; the rows of each. */
  private async reads(list: Held[]): Promise<Record<string, unknown>[][]> {
    const results = await this.send([...this.take(), ...list]);
    return results.slice(results.length - list.length).map((r) => r.rows);
  }

  private write(text: string, values: unknown[]): void {
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
   * One simple-protocol query: the only one that carries several statements
   * in a round trip, and it takes no parameters, so values are inlined by
   * pg's own literal escaping. The first failing statement aborts the
   * transaction; the caller's ROLLBACK and retry handle it as before.
   */
  private async send(statements: Held[], commit = false): Promise<{ rows: Record<string, unknown>[] }[]> {
    const parts = statements.map((h) => this.inline(h));
    if (!this.begun) parts.unshift("BEGIN");
    if (commit) parts.push("COMMIT");
    this.begun = true;
    // ipamStatements: the parameterized texts, for tests that count statements (pg ignores the field).
    const r = await this.c.query({ text: parts.join(";\n"), ipamStatements: statements.map((h) => h.text) } as { text: string });
    const all = (Array.isArray(r) ? r : [r]) as { rows: Record<string, unknown>[]; command: string }[];
    return all.filter((x) => x.command !== "BEGIN" && x.command !== "COMMIT");
  }

  private inline({ text, values }: Held): string {
    const literal = (v: unknown): string => {
      if (v === null || v === undefined) return "NULL";
      if (typeof v === "number" && Number.isFinite(v)) return String(v);
      if (typeof v === "string") return this.c.escapeLiteral(v);
      if (Array.isArray(v) && v.every((x) => typeof x === "string")) return `ARRAY[${v.map(literal).join(", ")}]::text[]`;
      throw new Error(`internal: cannot inline ${JSON.stringify(v)} into SQL`);
    };
    return text.replace(/\$(\d+)/g, (_m, i: string) => literal(values[Number(i) - 1]));
  }

  /** Held like a write: the locks are taken, in id order, just before the read that follows. */
  async lockPools(ids: string[]): Promise<void> {
    const pools = ids.filter((id) => !id.startsWith("ipam-scope-"));
    if (pools.length) this.write("SELECT id FROM ipam_pools WHERE id = ANY($1) ORDER BY id FOR UPDATE", [pools]);
    for (const id of pools) this.locked.add(id);
    for (const scope of ids.filter((id) => id.startsWith("ipam-scope-")).sort()) this.write(SCOPE_LOCK, [scope]);
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
    const r = await this.rows(lowestFreeSql(minPrefix, maxPrefix), [poolId, hexStart(from), hexStart(to)]);
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
  async putToken(t: TokenRecord) { this.write("INSERT INTO ipam_tokens (key, fingerprint, result) VALUES ($1, $2, $3)", [t.key, t.fingerprint, t.result]); }

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
}
