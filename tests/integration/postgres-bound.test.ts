/**
 * The PostgreSQL store sends values only as bound parameters: every query
 * the store's clients send is recorded (text and values, on whichever
 * pooled client), and no SQL text may contain a value, while the values,
 * hostile to SQL text on purpose, are stored and read back verbatim. A NUL,
 * which PostgreSQL text cannot hold, and a value of a type no column has
 * are refused as InvalidParameterValue before anything is sent. And the
 * pipelining keeps the round trips where they were (an unrestricted
 * allocation: 2).
 */
import { Client, type Pool, type PoolClient } from "pg";
import { IpamError } from "../../provider/core/errors";
import { Ipam } from "../../provider/core/ipam";
import type { PoolRecord } from "../../provider/core/model";
import { PostgresStore } from "../../provider/stores/postgres";
import { freshPgDatabase } from "../support/pg";

interface Sent { text: string; values: unknown[]; round: number }

/**
 * Records every query of the store's pooled clients. A round trip starts
 * when a query is sent while none is outstanding: pipelined statements are
 * all sent before the first answer, so they share one.
 */
function recordQueries(store: PostgresStore): { sent: Sent[]; rounds: () => number } {
  const sent: Sent[] = [];
  let round = 0;
  let outstanding = 0;
  const pool = (store as unknown as { pool: Pool }).pool;
  const seen = new WeakSet<PoolClient>();
  pool.on("acquire", (c: PoolClient) => {
    if (seen.has(c)) return;
    seen.add(c);
    const original = c.query.bind(c) as (...a: unknown[]) => Promise<unknown>;
    (c as unknown as { query: (...a: unknown[]) => unknown }).query = (...args: unknown[]) => {
      const q = args[0] as string | { text: string; values?: unknown[] };
      if (outstanding === 0) round++;
      outstanding++;
      sent.push({ text: typeof q === "string" ? q : q.text, values: (typeof q === "string" ? (args[1] as unknown[]) : q.values) ?? [], round });
      // Counted down on either outcome, whether the caller passed a callback (the store does) or awaits a promise.
      const cb = args.findIndex((a) => typeof a === "function");
      if (cb >= 0) {
        const done = args[cb] as (...a: unknown[]) => void;
        args[cb] = (...a: unknown[]) => {
          outstanding--;
          done(...a);
        };
        return original(...args);
      }
      const p = original(...args);
      p.then(() => outstanding--, () => outstanding--);
      return p;
    };
  });
  return { sent, rounds: () => round };
}

/** Every character that could end a literal, start a placeholder, a comment or another statement. */
const HOSTILE = `Mk'1 O'Brien \\ '' ; DROP TABLE ipam_pools; -- $1 $2 ? :name @p %s "q" ünïcødé 🚀 E'\\x41' /* */ $$x$$`;
const TOKEN = `Mk'2 '\\;$1 --"`;

async function codeOf(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (e) {
    if (e instanceof IpamError) return e.code;
    throw e;
  }
  throw new Error("expected an IpamError, but the call succeeded");
}

let url: string;
let store: PostgresStore;
let ipam: Ipam;
let rec: ReturnType<typeof recordQueries>;

beforeAll(async () => {
  url = await freshPgDatabase("ipam_bound");
  store = new PostgresStore(url);
  rec = recordQueries(store);
  ipam = new Ipam(store);
});
afterAll(() => store.close());

async function rows<T>(sql: string, values: unknown[] = []): Promise<T[]> {
  const c = new Client({ connectionString: url });
  await c.connect();
  try {
    return (await c.query(sql, values)).rows as T[];
  } finally {
    await c.end();
  }
}

describe("PostgreSQL store: bound parameters only", () => {
  test("hostile values are stored verbatim, and no SQL text sent carries any of them", async () => {
    rec.sent.length = 0;
    const pool = await ipam.createPool({ addressFamily: "ipv4", cidrs: ["10.9.0.0/16"], description: HOSTILE, tags: { [HOSTILE]: HOSTILE } });
    const a = await ipam.allocate({ ipamPoolId: pool.ipamPoolId, netmaskLength: 24, description: HOSTILE, clientToken: TOKEN });
    // The same token and parameters replay the original: the token row went in and came back intact.
    expect(await ipam.allocate({ ipamPoolId: pool.ipamPoolId, netmaskLength: 24, description: HOSTILE, clientToken: TOKEN })).toEqual(a);
    expect((await ipam.getPool(pool.ipamPoolId)).description).toBe(HOSTILE);
    expect((await ipam.getPool(pool.ipamPoolId)).tags).toEqual({ [HOSTILE]: HOSTILE });
    expect((await ipam.getAllocation(pool.ipamPoolId, a.ipamPoolAllocationId)).description).toBe(HOSTILE);
    expect(await rows("SELECT count(*)::int AS n FROM ipam_pools")).toEqual([{ n: 1 }]);
    const body = (await rows<{ body: string }>("SELECT body FROM ipam_allocations WHERE id = $1", [a.ipamPoolAllocationId]))[0].body;
    expect(JSON.parse(body).description).toBe(HOSTILE);

    expect(rec.sent.length).toBeGreaterThan(10);
    const texts = rec.sent.map((s) => s.text);
    // "Mk'" begins both values and appears in no statement of the store.
    expect(texts.filter((t) => t.includes("Mk'") || t.includes("O'Brien") || t.includes(a.ipamPoolAllocationId) || t.includes(pool.ipamPoolId))).toEqual([]);
    // The values went as parameters: the hostile text, the ids, the token (in its key), each in some statement's values.
    const inValues = (v: string) => rec.sent.some((s) => s.values.some((x) => typeof x === "string" && (x.includes(v) || x.includes(JSON.stringify(v).slice(1, -1)))));
    expect([HOSTILE, a.ipamPoolAllocationId, pool.ipamPoolId, TOKEN].filter((v) => !inValues(v))).toEqual([]);
    // Each statement has exactly as many values as its highest placeholder; no text is more than one statement.
    for (const s of rec.sent) {
      const highest = Math.max(0, ...[...s.text.matchAll(/\$(\d+)/g)].map((m) => Number(m[1])));
      expect({ text: s.text, values: s.values.length }).toEqual({ text: s.text, values: highest });
      expect(s.text.replace(/'[^']*'/g, "")).not.toContain(";");
    }
  });

  test("a NUL in any value is InvalidParameterValue before anything is sent, and changes nothing", async () => {
    const before = await rows("SELECT (SELECT count(*) FROM ipam_pools)::int AS pools, (SELECT count(*) FROM ipam_allocations)::int AS allocations");
    const pool = (await ipam.listPools())[0];
    const record = (await store.transaction(async (tx) => tx.getPool(pool.ipamPoolId))) as PoolRecord;
    rec.sent.length = 0;
    const nul = "a\u0000b";
    // Straight at the store, past the core's input checks: a read, a write, a key.
    expect(await codeOf(store.transaction(async (tx) => tx.getAllocation(nul)))).toBe("InvalidParameterValue");
    expect(await codeOf(store.transaction(async (tx) => tx.putPool({ ...record, ipamPoolId: `ipam-pool-${nul}` })))).toBe("InvalidParameterValue");
    expect(await codeOf(store.transaction(async (tx) => tx.getToken(nul)))).toBe("InvalidParameterValue");
    expect(await codeOf(store.transaction(async (tx) => {
      await tx.putPool({ ...record, ipamPoolId: "ipam-pool-0nul" }); // held, never sent: the NUL below fails the transaction first
      return tx.getReservation(nul);
    }))).toBe("InvalidParameterValue");
    // And through the core (whose own checks may answer first: the code is the same).
    expect(await codeOf(ipam.allocate({ ipamPoolId: pool.ipamPoolId, netmaskLength: 24, description: nul }))).toBe("InvalidParameterValue");
    expect(await codeOf(ipam.getAllocation(pool.ipamPoolId, nul))).toBe("InvalidParameterValue");
    expect(rec.sent.filter((s) => JSON.stringify(s.values).includes("\\u0000"))).toEqual([]);
    expect(await rows("SELECT (SELECT count(*) FROM ipam_pools)::int AS pools, (SELECT count(*) FROM ipam_allocations)::int AS allocations")).toEqual(before);
  });

  test("a value of a type no column has (object, array of numbers, NaN) is InvalidParameterValue, never a raw driver error", async () => {
    for (const bad of [{}, [1, 2], Number.NaN, Infinity, true]) {
      expect(await codeOf(store.transaction(async (tx) => tx.getAllocation(bad as unknown as string)))).toBe("InvalidParameterValue");
    }
  });

  test("round trips as before pipelining: an unrestricted allocation 2, with a ClientToken 3 (its look-up), its replay 3", async () => {
    const pool = await ipam.createPool({ addressFamily: "ipv4", cidrs: ["10.10.0.0/16"] });
    await ipam.allocate({ ipamPoolId: pool.ipamPoolId, netmaskLength: 24 }); // warm: the statements are prepared on this connection
    const roundsOf = async (fn: () => Promise<unknown>) => {
      const r0 = rec.rounds();
      const n0 = rec.sent.length;
      await fn();
      return { rounds: rec.rounds() - r0, statements: rec.sent.length - n0 };
    };
    const plain = await roundsOf(() => ipam.allocate({ ipamPoolId: pool.ipamPoolId, netmaskLength: 24 }));
    expect(plain.rounds).toBe(2);
    expect(plain.statements).toBeGreaterThan(6); // many statements in those 2 round trips
    expect((await roundsOf(() => ipam.allocate({ ipamPoolId: pool.ipamPoolId, netmaskLength: 26 }))).rounds).toBe(2);
    expect((await roundsOf(() => ipam.allocate({ ipamPoolId: pool.ipamPoolId, netmaskLength: 24, clientToken: "rt-1" }))).rounds).toBe(3);
    expect((await roundsOf(() => ipam.allocate({ ipamPoolId: pool.ipamPoolId, netmaskLength: 24, clientToken: "rt-1" }))).rounds).toBeLessThanOrEqual(3);
  });

  test("a statement that fails mid-pipeline rolls back the whole transaction: nothing before it is kept", async () => {
    const pool = (await ipam.listPools())[0];
    const record = (await store.transaction(async (tx) => tx.getPool(pool.ipamPoolId))) as PoolRecord;
    const before = await rows("SELECT id FROM ipam_pools ORDER BY id");
    const err = await store.transaction(async (tx) => {
      await tx.putPool({ ...record, ipamPoolId: "ipam-pool-0kept" });
      await tx.putToken({ key: "dup", fingerprint: "f", result: "r" });
      await tx.putToken({ key: "dup", fingerprint: "f", result: "r" }); // a unique violation in the same pipeline as the COMMIT
      return "committed";
    }).catch((e: unknown) => e);
    // 23505 is retried as a race; every attempt fails the same way, and nothing stays.
    expect((err as { code?: string }).code).toBe("23505");
    expect(await rows("SELECT id FROM ipam_pools ORDER BY id")).toEqual(before);
    expect(await rows("SELECT key FROM ipam_tokens WHERE key = 'dup'")).toEqual([]);
  });
});
