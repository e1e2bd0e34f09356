/**
 * Planning cost does not grow with the number of siblings: the store calls
 * and SQL statements of one plan (and of a commit and a forget) are counted
 * with 100 and with 5,000 sibling plans live in the same pool, in a pool
 * that exists and in one only planned (the preview of a new program). A plan
 * reads the index of reserved blocks from its candidate on
 * (core/reserved.ts), never every sibling's reservation; before the index it
 * read all N of them, O(N^2) for a preview of N siblings.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { Client } from "pg";
import { Ipam } from "../../provider/core/ipam";
import { Planner } from "../../provider/core/plan";
import type { Store } from "../../provider/core/store";
import { MemoryStore } from "../../provider/stores/memory";
import { PostgresStore } from "../../provider/stores/postgres";
import { LIST_HOLDS } from "../../provider/stores/sql";
import { SqliteStore } from "../../provider/stores/sqlite";
import { CountingStore, Recorder, recordPostgresStatements, recordSqliteStatements } from "../support/counting";
import { freshPgDatabase } from "../support/pg";

const SMALL = 100;
const LARGE = 5000;

interface Measured { txCalls: string[]; sql: string[] }
type Ops = Record<string, Measured>;

/**
 * Two pools, one created and one only planned, each with `n` sibling plans of a /24 (and, in the created
 * one, every tenth committed); then one more plan, a commit and a forget measured in each.
 */
async function measure(store: Store, rec: Recorder, sizes: number[]): Promise<Ops[]> {
  const planner = new Planner(new Ipam(new CountingStore(store, rec)), () => new MemoryStore());
  const ipam = planner.ipam;
  const created = (await ipam.createPool({ addressFamily: "ipv4", cidrs: ["10.0.0.0/8"], allocationDefaultNetmaskLength: 24 })).ipamPoolId;
  const planned = (await planner.planPool("urn:planned", { addressFamily: "ipv4", cidrs: ["11.0.0.0/8"], allocationDefaultNetmaskLength: 24 })).ipamPoolId;
  const out: Ops[] = [];
  let made = 0;
  for (const n of sizes) {
    for (; made < n; made++) {
      const p = await planner.planAllocation(`urn:c${made}`, { ipamPoolId: created });
      if (made % 10 === 9) await planner.commitAllocation(`urn:c${made}`, { ipamPoolId: created }, p);
      await planner.planAllocation(`urn:p${made}`, { ipamPoolId: planned });
    }
    const ops: Ops = {};
    const m = async (name: string, fn: () => Promise<unknown>) => (ops[name] = await rec.measure(fn));
    let plan = await planner.planAllocation(`urn:x${n}`, { ipamPoolId: created }); // warm (statements prepared)
    await planner.forget(`urn:x${n}`, plan.nonce);
    await m("plan in a created pool", async () => { plan = await planner.planAllocation(`urn:y${n}`, { ipamPoolId: created }); });
    expect(plan.cidrs[0]).toMatch(/^10\./);
    await m("re-plan kept (the update after a preview)", () => planner.planAllocation(`urn:y${n}`, { ipamPoolId: created }));
    await m("commit", () => planner.commitAllocation(`urn:y${n}`, { ipamPoolId: created }, plan));
    const other = await planner.planAllocation(`urn:z${n}`, { ipamPoolId: created });
    await m("forget a plan", () => planner.forget(`urn:z${n}`, other.nonce));
    await m("plan in a planned pool", () => planner.planAllocation(`urn:q${n}`, { ipamPoolId: planned }));
    out.push(ops);
  }
  return out;
}

/**
 * The same store calls at both sizes, in the same order, apart from the free-block index's own probes and
 * splits (hasFree, lowestFree, addFree, removeFree): how many of those a search or an allocation makes
 * depends on where in the buddy tree its block lies, at most one or two per prefix from /8 to /24.
 */
const FREE_SPACE = new Set(["hasFree", "lowestFree", "addFree", "removeFree"]);
const FREE_BOUND = 2 * (24 - 8 + 1);

function compare(small: Ops, large: Ops, sqlPerCall: boolean): void {
  for (const op of Object.keys(small)) {
    const s = small[op], l = large[op];
    expect({ op, listsEverySibling: [...s.sql, ...l.sql].includes(LIST_HOLDS) || [...s.txCalls, ...l.txCalls].includes("listReservationHolds") })
      .toEqual({ op, listsEverySibling: false });
    const rest = (m: Measured) => m.txCalls.filter((c) => !FREE_SPACE.has(c));
    const free = (m: Measured) => m.txCalls.length - rest(m).length;
    expect({ op, calls: rest(l) }).toEqual({ op, calls: rest(s) });
    expect({ op, free: [free(s), free(l)].every((n) => n <= FREE_BOUND) }).toEqual({ op, free: true });
    // Every statement is a store call's, so the statement counts differ only as the free-space calls do.
    if (sqlPerCall) expect({ op, sql: Math.abs(l.sql.length - s.sql.length) <= 2 * Math.abs(free(l) - free(s)) }).toEqual({ op, sql: true });
  }
}

describe("per-plan cost does not depend on the number of siblings", () => {
  test("memory: the same store calls at 100 and 5,000 siblings", async () => {
    const rec = new Recorder();
    const [small, large] = await measure(new MemoryStore(), rec, [SMALL, LARGE]);
    compare(small, large, false);
  });

  test("SQLite: the same calls and statements at 100 and 5,000 siblings; the index is read by SEARCH", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "ipam-plan-cost-"));
    const store = new SqliteStore(path.join(dir, "ipam.db"));
    try {
      const rec = new Recorder();
      recordSqliteStatements(store, rec);
      const [small, large] = await measure(store, rec, [SMALL, LARGE]);
      compare(small, large, true);
      const db = (store as unknown as { db: import("better-sqlite3").Database }).db;
      db.exec("ANALYZE");
      const texts = new Set(Object.values(large).flatMap((o) => o.sql).filter((t) => /ipam_reserv/.test(t) && /^\s*SELECT/i.test(t)));
      expect(texts.size).toBeGreaterThan(2);
      for (const sql of texts) {
        const st = db.prepare(`EXPLAIN QUERY PLAN ${sql}`);
        const named = [...new Set([...sql.matchAll(/[$](\w+)/g)].map((x) => x[1]))];
        const rows = named.length ? st.all(Object.fromEntries(named.map((k) => [k, "0"]))) : st.all(...Array((sql.match(/\?/g) ?? []).length).fill("0"));
        const plan = (rows as { detail: string }[]).map((r) => r.detail).join("; ");
        expect({ sql, scan: /\bSCAN ipam_/.test(plan) }).toEqual({ sql, scan: false });
      }
    } finally {
      await store.close();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  test("PostgreSQL: the same calls and statements at 100 and 5,000 siblings", async () => {
    const url = await freshPgDatabase("ipam_plan_cost");
    const admin = new Client({ connectionString: url });
    await admin.connect();
    // Only to fill the pools faster: commits need not wait for the disk here (what is counted is unchanged).
    await admin.query(`ALTER DATABASE ${url.replace(/^.*\//, "")} SET synchronous_commit = off`);
    await admin.end();
    const store = new PostgresStore(url);
    try {
      const rec = new Recorder();
      recordPostgresStatements(store, rec);
      const [small, large] = await measure(store, rec, [SMALL, LARGE]);
      compare(small, large, true);
    } finally {
      await store.close();
    }
  });
});
