/**
 * Per-operation cost does not grow with the pool, checked structurally rather
 * than by timing: the store calls and SQL statements one operation runs are
 * counted on a pool holding 100 allocations and on one holding 5,000 (each
 * with as many free holes between them, so the free-block index is as big),
 * and must be the same, or for the one operation whose work depends on where
 * the free space happens to be, within a constant bound set by the netmask
 * lengths alone. On SQLite the plan of every statement run is also checked to
 * be an index search, never a table scan.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { Client } from "pg";
import { Ipam } from "../../provider/core/ipam";
import { PostgresStore } from "../../provider/stores/postgres";
import { SqliteStore } from "../../provider/stores/sqlite";
import { CountingStore, Recorder, recordPostgresStatements, recordSqliteStatements } from "../support/counting";
import { checkPool } from "../support/invariants";
import { freshPgDatabase } from "../support/pg";

const SMALL = 100;
const LARGE = 5000;
const ROOT_PREFIX = 8;

/** The i-th /28 of 10.0.0.0/8. */
const slot = (i: number) => {
  const a = 10 * 2 ** 24 + i * 16;
  return `${a >>> 24}.${(a >>> 16) & 255}.${(a >>> 8) & 255}.${a & 255}/28`;
};

interface Measured {
  txCalls: string[];
  sql: string[];
}

type Backend = {
  open: () => Promise<{ store: SqliteStore | PostgresStore; cleanup: () => Promise<void> }>;
  hook: (store: SqliteStore | PostgresStore, rec: Recorder) => void;
};

/**
 * Fills a pool with n /28 allocations at every other /28 (so n free /28 holes
 * lie between them), then measures a fixed sequence of operations.
 */
async function measureAt(backend: Backend, n: number): Promise<{ ops: Record<string, Measured>; sqlTexts: Set<string>; store: SqliteStore | PostgresStore; cleanup: () => Promise<void> }> {
  const { store, cleanup } = await backend.open();
  const rec = new Recorder();
  backend.hook(store, rec);
  const ipam = new Ipam(new CountingStore(store, rec));
  const pool = await ipam.createPool({ addressFamily: "ipv4", cidrs: ["10.0.0.0/8"] });
  const p = pool.ipamPoolId;
  const ids: string[] = [];
  for (let i = 0; i < n; i++) ids.push((await ipam.allocate({ ipamPoolId: p, cidr: slot(2 * i) })).ipamPoolAllocationId);
  expect((await ipam.utilization(p)).freeBlocks.filter((b) => b.endsWith("/28"))).toHaveLength(n);

  const ops: Record<string, Measured> = {};
  const m = async (name: string, fn: () => Promise<unknown>) => (ops[name] = await rec.measure(fn));
  let first = "";
  let eip = "";
  await m("allocate /28 (fills the lowest hole)", async () => {
    first = (await ipam.allocate({ ipamPoolId: p, netmaskLength: 28, clientToken: "cost-1" })).cidr;
  });
  expect(first).toBe(slot(1));
  await m("replay ClientToken", () => ipam.allocate({ ipamPoolId: p, netmaskLength: 28, clientToken: "cost-1" }));
  await m("allocate explicit cidr (a hole in the middle)", () => ipam.allocate({ ipamPoolId: p, cidr: slot(n + 1) }));
  await m("allocate /28 inside allowedCidrs", () => ipam.allocate({ ipamPoolId: p, netmaskLength: 28, allowedCidrs: ["10.0.0.0/20"] }));
  await m("previewNextCidr /28", () => ipam.previewNextCidr({ ipamPoolId: p, netmaskLength: 28 }));
  await m("allocateAddress", async () => {
    eip = (await ipam.allocateAddress({ ipamPoolId: p })).allocationId;
  });
  await m("releaseAddress", () => ipam.releaseAddress({ allocationId: eip }));
  await m("release (buddy still allocated)", () => ipam.release({ ipamPoolId: p, ipamPoolAllocationId: ids[Math.floor(n / 2)] }));
  await m("getAllocation", () => ipam.getAllocation(p, ids[3]));
  await m("allocate /24 (above the holes)", () => ipam.allocate({ ipamPoolId: p, netmaskLength: 24 }));

  // The measured operations left a consistent pool.
  expect((await checkPool(ipam, p)).problems).toEqual([]);
  const sqlTexts = new Set(Object.values(ops).flatMap((o) => o.sql));
  return { ops, sqlTexts, store, cleanup };
}

/**
 * The bound for an allocation by netmaskLength /L from a /R root, from the
 * algorithm's structure: a handful of fixed statements, one free-block probe
 * per prefix between the block found and /L, one removal and one insert per
 * split between them.
 */
const boundFor = (length: number) => 10 + 2 * (length - ROOT_PREFIX + 1);
const VARIABLE = "allocate /24 (above the holes)";

/**
 * `free` names the StoreTx calls that run no SQL on this store (SQLite's lockPools: BEGIN IMMEDIATE already locks).
 * addFree and removeFree also keep the per-prefix lowest-free-block table: 2 statements each.
 */
const STATEMENTS: Record<string, number> = { addFree: 2, removeFree: 2 };
/**
 * perCall: every store call is a fixed number of statements (SQLite). The
 * PostgreSQL store reads a locked pool's ipam_free_min rows with the pool and
 * answers the next unrestricted search from them, so its count is per
 * operation: the same at both sizes.
 */
function compare(small: Record<string, Measured>, large: Record<string, Measured>, free: string[] = [], perCall = true): void {
  const withSql = (m: Measured) => m.txCalls.filter((c) => !free.includes(c)).reduce((n, c) => n + (STATEMENTS[c] ?? 1), 0);
  const table = Object.keys(small).map((op) => `${op}: ${small[op].txCalls.length}/${small[op].sql.length} vs ${large[op].txCalls.length}/${large[op].sql.length}`);
  // Shown on failure: store calls / SQL statements, at 100 vs at 5,000 allocations.
  expect(Object.keys(large)).toEqual(Object.keys(small));
  for (const op of Object.keys(small)) {
    const s = small[op];
    const l = large[op];
    // Every store call is a fixed number of SQL statements (no hidden per-row loops in the stores).
    if (perCall) {
      expect({ op, sql: s.sql.length }).toEqual({ op, sql: withSql(s) });
      expect({ op, sql: l.sql.length }).toEqual({ op, sql: withSql(l) });
    } else if (op !== VARIABLE) {
      expect({ op, sql: l.sql }).toEqual({ op, sql: s.sql });
    } else {
      // At most one more statement per getPool (the ipam_free_min rows read with a locked pool).
      const bound = (m: Measured) => withSql(m) + m.txCalls.filter((c) => c === "getPool").length;
      expect({ op, sql: s.sql.length <= bound(s) && l.sql.length <= bound(l) }).toEqual({ op, sql: true });
    }
    expect(s.txCalls.length).toBeGreaterThan(0);
    if (op === VARIABLE) {
      expect({ op, calls: l.txCalls.length <= boundFor(24), table }).toEqual({ op, calls: true, table });
      expect({ op, calls: s.txCalls.length <= boundFor(24), table }).toEqual({ op, calls: true, table });
    } else {
      // The same calls in the same order, whatever the pool's size.
      expect({ op, calls: l.txCalls }).toEqual({ op, calls: s.txCalls });
    }
  }
}

describe("per-operation cost does not depend on pool size", () => {
  test("SQLite: same store calls and statements at 100 and 5,000 allocations; every statement an index search", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "ipam-cost-"));
    let n = 0;
    const backend: Backend = {
      open: async () => ({ store: new SqliteStore(path.join(dir, `cost${n++}.db`), { synchronous: "normal" }), cleanup: async () => undefined }),
      hook: (s, rec) => recordSqliteStatements(s as SqliteStore, rec),
    };
    try {
      const small = await measureAt(backend, SMALL);
      await small.store.close();
      const large = await measureAt(backend, LARGE);
      compare(small.ops, large.ops, ["lockPools"]);

      // Query plans on the large store: each table access is a SEARCH through an index, never a
      // SCAN; and where a table access has ORDER BY ... LIMIT 1 (lowestFree), the index gives the
      // order: no temp B-tree sorts the table's rows (one may sort the one row each arm yields).
      const db = (large.store as unknown as { db: import("better-sqlite3").Database }).db;
      db.exec("ANALYZE");
      const bad: string[] = [];
      let searches = 0;
      for (const sql of large.sqlTexts) {
        const st = db.prepare(`EXPLAIN QUERY PLAN ${sql}`);
        const nParams = (sql.match(/\?/g) ?? []).length;
        const named = [...new Set([...sql.matchAll(/[@$](\w+)/g)].map((m) => m[1]))]; // @name or the shared SQL's $1..$n
        const rows = (named.length ? st.all(Object.fromEntries(named.map((n) => [n, "0"]))) : st.all(...Array(nParams).fill("0"))) as { id: number; parent: number; detail: string }[];
        for (const r of rows) {
          if (/\bSCAN ipam_/.test(r.detail)) bad.push(`${r.detail} :: ${sql}`);
          if (/\bSEARCH ipam_/.test(r.detail)) {
            searches++;
            const sorted = rows.some((o) => o.parent === r.parent && /TEMP B-TREE/.test(o.detail));
            // ipam_free_min holds at most one row per prefix length (<= 129 per pool): sorting those is bounded.
            if (sorted && !/ipam_free_min/.test(r.detail)) bad.push(`rows of ${r.detail} are sorted :: ${sql}`);
          }
        }
      }
      expect(large.sqlTexts.size).toBeGreaterThan(5);
      expect(searches).toBeGreaterThan(large.sqlTexts.size / 2);
      expect(bad).toEqual([]);
      await large.store.close();
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  test("PostgreSQL: same store calls and statements at 100 and 5,000 allocations", async () => {
    let n = 0;
    const backend: Backend = {
      open: async () => {
        const url = await freshPgDatabase(`ipam_cost${n++}`);
        // Only to fill the pool faster: commits need not wait for the disk here (what is counted is unchanged).
        const admin = new Client({ connectionString: url });
        await admin.connect();
        await admin.query(`ALTER DATABASE ${url.replace(/^.*\//, "")} SET synchronous_commit = off`);
        await admin.end();
        const store = new PostgresStore(url);
        return { store, cleanup: () => store.close() };
      },
      hook: (s, rec) => recordPostgresStatements(s as PostgresStore, rec),
    };
    const small = await measureAt(backend, SMALL);
    await small.cleanup();
    const large = await measureAt(backend, LARGE);
    try {
      compare(small.ops, large.ops, [], false);
      // The statements are the same texts whatever the size (no per-size query shapes).
      for (const sql of small.sqlTexts) expect(large.sqlTexts).toContain(sql);
      const url = (large.store as PostgresStore).url;
      const c = new Client({ connectionString: url });
      await c.connect();
      try {
        const rows = (await c.query("SELECT count(*)::int AS n FROM ipam_allocations")).rows as { n: number }[];
        expect(rows[0].n).toBeGreaterThanOrEqual(LARGE);
        await c.query("ANALYZE");
        const pool = ((await c.query("SELECT id FROM ipam_pools")).rows as { id: string }[])[0].id;
        for (const sql of large.sqlTexts) {
          const count = Math.max(0, ...[...sql.matchAll(/\$(\d+)/g)].map((x) => Number(x[1])));
          const values = Array.from({ length: count }, (_v, i) => (i > 0 ? "0".repeat(32) : /ANY\(\$1\)/.test(sql) ? [pool] : pool));
          if (/^\s*(INSERT|UPDATE|DELETE)/i.test(sql)) continue;
          const plan = (await c.query({ text: `EXPLAIN ${sql}`, values })).rows.map((r: Record<string, string>) => r["QUERY PLAN"]).join("\n");
          // The big tables are only ever read through their indexes (pools, tokens, addresses and ipam_free_min, one row per prefix, are small).
          expect({ sql, plan: /Seq Scan on ipam_(free|allocations)\b/.test(plan) }).toEqual({ sql, plan: false });
          if (/FROM ipam_free\b(?!_)/.test(sql)) expect(plan).toMatch(/Index (Only )?Scan using ipam_free_pkey/);
          if (/FROM ipam_free_min/.test(sql)) expect(plan).toMatch(/Index (Only )?Scan using ipam_free_min_pkey|Seq Scan on ipam_free_min/);
        }
      } finally {
        await c.end();
      }
    } finally {
      await large.cleanup();
    }
  });
});
