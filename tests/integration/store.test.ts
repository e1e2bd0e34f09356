/**
 * The SQL stores' file, schema and migration behaviour, checked on the real
 * databases: SQLite file mode and WAL, the recorded schema version, reopening
 * without re-migrating, refusing a newer schema, and several processes
 * migrating one fresh database at once.
 */
import Database from "better-sqlite3";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { Client } from "pg";
import { Ipam } from "../../provider/core/ipam";
import { openStore } from "../../provider/stores";
import { PostgresStore } from "../../provider/stores/postgres";
import { MIGRATIONS } from "../../provider/stores/sql";
import { Planner } from "../../provider/core/plan";
import type { Store } from "../../provider/core/store";
import { MemoryStore } from "../../provider/stores/memory";
import { SqliteStore } from "../../provider/stores/sqlite";
import { freshPgDatabase } from "../support/pg";
import { killAllWorkers, startTogether, startWorker } from "../support/workers";

afterAll(() => killAllWorkers());

let dir: string;
beforeAll(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), "ipam-store-"))));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

const TABLES = ["ipam_addresses", "ipam_allocations", "ipam_free", "ipam_pools", "ipam_schema", "ipam_tokens"];

/**
 * Counts, per migration step, how often a store walks its statements: each
 * MIGRATIONS[i] is swapped for a copy whose iteration is counted, and put
 * back by restore().
 */
function countMigrationRuns(): { runs: number[]; restore: () => void } {
  const saved = MIGRATIONS.slice();
  const runs = MIGRATIONS.map(() => 0);
  MIGRATIONS.forEach((step, i) => {
    const copy = step.slice();
    const iterate = copy[Symbol.iterator].bind(copy);
    copy[Symbol.iterator] = () => {
      runs[i]++;
      return iterate();
    };
    MIGRATIONS[i] = copy;
  });
  return { runs, restore: () => saved.forEach((s, i) => (MIGRATIONS[i] = s)) };
}

function rawSqlite<T>(file: string, fn: (db: Database.Database) => T): T {
  const db = new Database(file);
  try {
    return fn(db);
  } finally {
    db.close();
  }
}

/** Descriptors of this process open on `file` (or its -wal/-shm). */
function openDescriptors(file: string): string[] {
  const real = fs.realpathSync(file);
  return fs.readdirSync("/proc/self/fd").flatMap((fd) => {
    try {
      const target = fs.readlinkSync(`/proc/self/fd/${fd}`);
      return target.startsWith(real) ? [target] : [];
    } catch {
      return [];
    }
  });
}

/**
 * Migration 6 on a store holding plans made before it: a pool 10.6.0.0/16 with a held plan (its
 * allocation made) and two live ones, written as version 5 wrote them. `raw` runs SQL beside the store.
 */
const V5_POOL = "ipam-pool-0000000000000006a";
const v5Plan = (key: string, cidr: string, expiresAt: number) => ({
  key, kind: "allocation", nonce: `n-${key}`, ipamPoolId: V5_POOL, spacePoolId: V5_POOL, cidrs: [cidr], request: "{}", expiresAt,
});
const V5_PLANS = [v5Plan("k/held", "10.6.0.0/24", 0), v5Plan("k/a", "10.6.1.0/24", 4_000_000_000_000), v5Plan("k/b", "10.6.2.0/24", 4_000_000_000_000)];

/** After opening: the space is built on first use (held and live plans), a new plan skips them; the mark goes. */
async function expectV5PlansIndexed(store: Store, pending: () => Promise<string[]>): Promise<void> {
  const ipam = new Ipam(store);
  // The held plan's allocation, as version 5 left it.
  await ipam.allocate({ ipamPoolId: V5_POOL, cidr: "10.6.0.0/24" });
  expect(await pending()).toEqual([V5_POOL]);
  const plan = await new Planner(ipam, () => new MemoryStore()).planAllocation("k/c", { ipamPoolId: V5_POOL, netmaskLength: 24 });
  expect(plan.cidrs).toEqual(["10.6.3.0/24"]);
  expect(await pending()).toEqual([]);
  const segments = await store.read(async (tx) => tx.reservedFrom(V5_POOL, 0n, 100));
  expect(segments).toEqual([{ start: 0x0a060000n, last: 0x0a0603ffn, count: 1 }]);
}

describe("SQLite store", () => {
  test("creates its file (and the WAL files) with mode 0600, in WAL mode, whatever the umask", async () => {
    const file = path.join(dir, "new/sub/dir/ipam.db");
    const oldMask = process.umask(0); // a permissive umask must not widen the file's mode
    let store: SqliteStore;
    try {
      store = new SqliteStore(file);
      const ipam = new Ipam(store);
      await ipam.createPool({ addressFamily: "ipv4", cidrs: ["10.0.0.0/8"] }); // a write, so the WAL exists
      const mode = (f: string) => fs.statSync(f).mode & 0o777;
      expect(mode(file).toString(8)).toBe("600");
      expect(mode(`${file}-wal`).toString(8)).toBe("600");
      expect(mode(`${file}-shm`).toString(8)).toBe("600");
    } finally {
      process.umask(oldMask);
    }
    await store.close();
    rawSqlite(file, (db) => expect(db.pragma("journal_mode", { simple: true })).toBe("wal"));
  });

  test("records the schema version; reopening migrates nothing and keeps the data", async () => {
    const file = path.join(dir, "reopen.db");
    const first = countMigrationRuns();
    let poolId: string;
    try {
      const store = new SqliteStore(file);
      poolId = (await new Ipam(store).createPool({ addressFamily: "ipv4", cidrs: ["10.1.0.0/16"] })).ipamPoolId;
      await store.close();
      expect(first.runs).toEqual(MIGRATIONS.map(() => 1)); // a fresh file: every step once
    } finally {
      first.restore();
    }
    const schema = () => rawSqlite(file, (db) => ({
      versions: db.prepare("SELECT version FROM ipam_schema").all(),
      objects: db.prepare("SELECT type, name, sql FROM sqlite_master ORDER BY name").all(),
    }));
    const before = schema();
    expect(before.versions).toEqual([{ version: MIGRATIONS.length }]);
    const tables = (before.objects as { type: string; name: string }[]).filter((o) => o.type === "table").map((o) => o.name);
    expect(tables).toEqual(expect.arrayContaining(TABLES));

    const again = countMigrationRuns();
    try {
      for (let i = 0; i < 3; i++) {
        const store = new SqliteStore(file);
        expect((await new Ipam(store).getPool(poolId)).cidrs).toEqual(["10.1.0.0/16"]);
        await store.close();
      }
      expect(again.runs).toEqual(MIGRATIONS.map(() => 0));
    } finally {
      again.restore();
    }
    expect(schema()).toEqual(before);
  });

  test("an older file runs only the migrations it lacks", async () => {
    const file = path.join(dir, "older.db");
    const have = MIGRATIONS.length - 1; // every step but the last, applied by hand as an older release would have
    rawSqlite(file, (db) => {
      db.exec("CREATE TABLE ipam_schema (version INTEGER NOT NULL)");
      db.prepare("INSERT INTO ipam_schema (version) VALUES (?)").run(have);
      for (const step of MIGRATIONS.slice(0, have)) for (const sql of step) if (!sql.startsWith("-- postgres only")) db.exec(sql);
    });
    const c = countMigrationRuns();
    try {
      const store = new SqliteStore(file);
      await new Ipam(store).createPool({ addressFamily: "ipv4", cidrs: ["10.2.0.0/16"] });
      await store.close();
    } finally {
      c.restore();
    }
    expect(c.runs).toEqual(MIGRATIONS.map((_s, i) => (i < have ? 0 : 1)));
    rawSqlite(file, (db) => expect(db.prepare("SELECT version FROM ipam_schema").all()).toEqual([{ version: MIGRATIONS.length }]));
  });

  test("a version-3 file with allocations keeps them across the WITHOUT ROWID rebuild (migration 4)", async () => {
    // The rows a version-3 release wrote: made here by today's code, then copied into a file built with steps 1-3 only.
    const made = path.join(dir, "made.db");
    const store = new SqliteStore(made);
    const ipam = new Ipam(store);
    const pool = await ipam.createPool({ addressFamily: "ipv4", cidrs: ["10.8.0.0/16"] });
    const kept: string[] = [];
    for (const n of [24, 20, 26, 24]) kept.push((await ipam.allocate({ ipamPoolId: pool.ipamPoolId, netmaskLength: n })).cidr);
    await ipam.release({ ipamPoolId: pool.ipamPoolId, ipamPoolAllocationId: (await ipam.listAllocations(pool.ipamPoolId))[0].ipamPoolAllocationId });
    const before = await ipam.utilization(pool.ipamPoolId);
    const allocationsBefore = (await ipam.listAllocations(pool.ipamPoolId)).map((a) => a.cidr).sort();
    await store.close();
    const old = path.join(dir, "v3.db");
    rawSqlite(old, (db) => {
      db.exec("CREATE TABLE ipam_schema (version INTEGER NOT NULL)");
      db.prepare("INSERT INTO ipam_schema (version) VALUES (3)").run();
      for (const step of MIGRATIONS.slice(0, 3)) for (const sql of step) db.exec(sql);
      db.exec(`ATTACH DATABASE '${made}' AS made`);
      for (const t of ["ipam_pools", "ipam_free", "ipam_free_min", "ipam_allocations"]) db.exec(`INSERT INTO main.${t} SELECT * FROM made.${t}`);
      // Version 3 deleted a prefix's row when its last free block went; '' rows are version 4's.
      db.exec("DELETE FROM main.ipam_free_min WHERE start = ''");
      expect(db.prepare("SELECT count(*) AS n FROM sqlite_schema WHERE sql LIKE '%WITHOUT ROWID%'").get()).toEqual({ n: 0 });
    });
    const upgraded = new SqliteStore(old);
    try {
      const again = new Ipam(upgraded);
      expect(await again.utilization(pool.ipamPoolId)).toEqual(before);
      expect((await again.listAllocations(pool.ipamPoolId)).map((a) => a.cidr).sort()).toEqual(allocationsBefore);
      // The next allocation is the lowest free /24, as before the upgrade: the freed first /24.
      expect((await again.allocate({ ipamPoolId: pool.ipamPoolId, netmaskLength: 24 })).cidr).toBe(kept[0]);
    } finally {
      await upgraded.close();
    }
    rawSqlite(old, (db) => {
      expect(db.prepare("SELECT version FROM ipam_schema").all()).toEqual([{ version: MIGRATIONS.length }]);
      expect(db.prepare("SELECT name FROM sqlite_schema WHERE sql LIKE '%WITHOUT ROWID%' ORDER BY name").all().map((r: any) => r.name))
        .toEqual(["ipam_allocations", "ipam_free", "ipam_free_min", "ipam_reserved"]);
    });
  });

  test("a version-4 file's plan reservations get their expiry and CIDRs as columns (migration 5)", async () => {
    const file = path.join(dir, "v4.db");
    const body = (key: string, cidrs: string[], expiresAt: number) =>
      JSON.stringify({ key, kind: "allocation", nonce: "n", ipamPoolId: "ipam-pool-0a", spacePoolId: "ipam-pool-0a", cidrs, request: "r", expiresAt });
    rawSqlite(file, (db) => {
      db.exec("CREATE TABLE ipam_schema (version INTEGER NOT NULL)");
      db.prepare("INSERT INTO ipam_schema (version) VALUES (4)").run();
      for (const step of MIGRATIONS.slice(0, 4)) for (const sql of step) if (!sql.startsWith("-- postgres only")) db.exec(sql);
      const put = db.prepare("INSERT INTO ipam_reservations (key, space_pool_id, planned_pool_id, body) VALUES (?, ?, NULL, ?)");
      put.run("p/s/IpamPoolAllocation/a", "ipam-pool-0a", body("p/s/IpamPoolAllocation/a", ["10.0.0.0/24"], 0));
      put.run("p/s/IpamPoolAllocation/b", "ipam-pool-0a", body("p/s/IpamPoolAllocation/b", ["10.0.1.0/24", "10.0.2.0/24"], 1_900_000_000_000));
    });
    const store = new SqliteStore(file);
    try {
      // a is held (expiresAt 0): it no longer steers plans and is not listed.
      expect(await store.transaction(async (tx) => tx.listReservationHolds("ipam-pool-0a"))).toEqual([
        { key: "p/s/IpamPoolAllocation/b", cidrs: ["10.0.1.0/24", "10.0.2.0/24"], expiresAt: 1_900_000_000_000 },
      ]);
      expect((await store.transaction(async (tx) => tx.listReservations("ipam-pool-0a"))).map((r) => r.key)).toEqual(["p/s/IpamPoolAllocation/a", "p/s/IpamPoolAllocation/b"]);
    } finally {
      await store.close();
    }
  });

  test("a version-5 file's plans are indexed on first use (migration 6): a new sibling skips them", async () => {
    const file = path.join(dir, "v5.db");
    rawSqlite(file, (db) => {
      db.exec("CREATE TABLE ipam_schema (version INTEGER NOT NULL)");
      db.prepare("INSERT INTO ipam_schema (version) VALUES (5)").run();
      for (const step of MIGRATIONS.slice(0, 5)) for (const sql of step) if (!sql.startsWith("-- postgres only")) db.exec(sql);
      const pool = { ipamPoolId: V5_POOL, addressFamily: "ipv4", poolDepth: 1, tags: {}, allocationResourceTags: {}, allocationStrategy: "first-fit", cidrs: [{ start: String(0x0a060000), prefix: 16 }], sourceAllocationIds: [] };
      db.prepare("INSERT INTO ipam_pools (id, source_id, body) VALUES (?, NULL, ?)").run(V5_POOL, JSON.stringify(pool));
      db.prepare("INSERT INTO ipam_free (pool_id, prefix, start) VALUES (?, 16, ?)").run(V5_POOL, (0x0a060000).toString(16).padStart(32, "0"));
      db.prepare("INSERT INTO ipam_free_min (pool_id, prefix, start) VALUES (?, 16, ?)").run(V5_POOL, (0x0a060000).toString(16).padStart(32, "0"));
      const put = db.prepare("INSERT INTO ipam_reservations (key, space_pool_id, planned_pool_id, body, expires_at, cidrs) VALUES (?, ?, NULL, ?, ?, ?)");
      for (const r of V5_PLANS) put.run(r.key, V5_POOL, JSON.stringify(r), r.expiresAt, r.cidrs.join(","));
    });
    const store = new SqliteStore(file);
    try {
      await expectV5PlansIndexed(store, async () => rawSqlite(file, (db) => db.prepare("SELECT pool_id FROM ipam_reserved_pending").pluck().all() as string[]));
    } finally {
      await store.close();
    }
  });

  test("refuses a schema newer than the code, with a clear error, changing nothing and holding no file open", async () => {
    const file = path.join(dir, "newer.db");
    const store = new SqliteStore(file);
    const poolId = (await new Ipam(store).createPool({ addressFamily: "ipv4", cidrs: ["10.3.0.0/16"] })).ipamPoolId;
    await store.close();
    const future = MIGRATIONS.length + 1;
    rawSqlite(file, (db) => db.prepare("UPDATE ipam_schema SET version = ?").run(future));
    const fdsBefore = openDescriptors(file).length;

    const message = new RegExp(`schema version ${future} is newer than this pulumi-ipam \\(${MIGRATIONS.length}\\); upgrade pulumi-ipam`);
    expect(() => new SqliteStore(file)).toThrow(message);
    expect(() => openStore(`sqlite:${file}`)).toThrow(message);
    // The refused open closed its connection rather than leaking it.
    expect(openDescriptors(file).length).toBe(fdsBefore);
    rawSqlite(file, (db) => {
      expect(db.prepare("SELECT version FROM ipam_schema").all()).toEqual([{ version: future }]);
      expect(db.prepare("SELECT id FROM ipam_pools").all()).toEqual([{ id: poolId }]);
    });
  });

  test("4 processes opening one fresh file at once: one migration, all of them work", async () => {
    const file = path.join(dir, "race.db");
    const workers = Array.from({ length: 4 }, () => startWorker("migrate", `sqlite:${file}`));
    await startTogether(workers);
    await Promise.all(workers.map((w) => w.finished()));
    for (const w of workers) {
      expect(w.failures()).toEqual([]);
      expect(w.ok()).toEqual([expect.objectContaining({ op: "migrate", pools: 0 })]);
    }
    rawSqlite(file, (db) => {
      expect(db.prepare("SELECT version FROM ipam_schema").all()).toEqual([{ version: MIGRATIONS.length }]);
      expect(db.pragma("journal_mode", { simple: true })).toBe("wal");
    });
  });
});

describe("PostgreSQL store", () => {
  async function query<T>(url: string, sql: string, values: unknown[] = []): Promise<T[]> {
    const c = new Client({ connectionString: url });
    await c.connect();
    try {
      return (await c.query(sql, values)).rows as T[];
    } finally {
      await c.end();
    }
  }

  test("values bound into pipelined statements round-trip exactly: quotes, backslashes, semicolons, $1, unicode", async () => {
    const url = await freshPgDatabase("ipam_inline");
    const store = new PostgresStore(url);
    try {
      const ipam = new Ipam(store);
      const nasty = `O'Brien \\ '' ; DROP TABLE ipam_pools; -- $1 $2 "q" \n\t ünïcødé 🚀 E'\\x41'`;
      const key = nasty.replace(/[\n\t]/g, " "); // tag keys may hold no control character at all
      const pool = await ipam.createPool({ addressFamily: "ipv4", cidrs: ["10.9.0.0/16"], description: nasty, tags: { [key]: nasty } });
      const a = await ipam.allocate({ ipamPoolId: pool.ipamPoolId, netmaskLength: 24, description: nasty, clientToken: "tok-'\\;$1" });
      expect((await ipam.getPool(pool.ipamPoolId)).description).toBe(nasty);
      expect((await ipam.getPool(pool.ipamPoolId)).tags).toEqual({ [key]: nasty });
      expect((await ipam.getAllocation(pool.ipamPoolId, a.ipamPoolAllocationId)).description).toBe(nasty);
      // The same token and parameters replay the original (the token row was written and read back intact).
      expect(await ipam.allocate({ ipamPoolId: pool.ipamPoolId, netmaskLength: 24, description: nasty, clientToken: "tok-'\\;$1" })).toEqual(a);
      expect(await query(url, "SELECT count(*)::int AS n FROM ipam_pools")).toEqual([{ n: 1 }]);
    } finally {
      await store.close();
    }
  });

  test("a version-4 database's plan reservations get their expiry and CIDRs as columns (migration 5)", async () => {
    const url = await freshPgDatabase("ipam_pg_v4");
    const c = new Client({ connectionString: url });
    await c.connect();
    try {
      await c.query("CREATE TABLE ipam_schema (version INTEGER NOT NULL)");
      await c.query("INSERT INTO ipam_schema (version) VALUES (4)");
      for (const step of MIGRATIONS.slice(0, 4)) for (const sql of step) if (!sql.startsWith("-- sqlite only")) await c.query(sql);
      const body = { key: "k/b", kind: "allocation", nonce: "n", ipamPoolId: "ipam-pool-0b", spacePoolId: "ipam-pool-0b", cidrs: ["10.0.1.0/24", "10.0.2.0/24"], request: "r", expiresAt: 1_900_000_000_000 };
      await c.query("INSERT INTO ipam_reservations (key, space_pool_id, planned_pool_id, body) VALUES ($1, $2, NULL, $3)", ["k/b", "ipam-pool-0b", JSON.stringify(body)]);
    } finally {
      await c.end();
    }
    const store = new PostgresStore(url);
    try {
      expect(await store.transaction(async (tx) => tx.listReservationHolds("ipam-pool-0b")))
        .toEqual([{ key: "k/b", cidrs: ["10.0.1.0/24", "10.0.2.0/24"], expiresAt: 1_900_000_000_000 }]);
    } finally {
      await store.close();
    }
  });

  test("a version-5 database's plans are indexed on first use (migration 6): a new sibling skips them", async () => {
    const url = await freshPgDatabase("ipam_pg_v5");
    const c = new Client({ connectionString: url });
    await c.connect();
    try {
      await c.query("CREATE TABLE ipam_schema (version INTEGER NOT NULL)");
      await c.query("INSERT INTO ipam_schema (version) VALUES (5)");
      for (const step of MIGRATIONS.slice(0, 5)) for (const sql of step) if (!sql.startsWith("-- sqlite only")) await c.query(sql);
      const pool = { ipamPoolId: V5_POOL, addressFamily: "ipv4", poolDepth: 1, tags: {}, allocationResourceTags: {}, allocationStrategy: "first-fit", cidrs: [{ start: String(0x0a060000), prefix: 16 }], sourceAllocationIds: [] };
      const hex = (0x0a060000).toString(16).padStart(32, "0");
      await c.query("INSERT INTO ipam_pools (id, source_id, body) VALUES ($1, NULL, $2)", [V5_POOL, JSON.stringify(pool)]);
      await c.query("INSERT INTO ipam_free (pool_id, prefix, start) VALUES ($1, 16, $2)", [V5_POOL, hex]);
      await c.query("INSERT INTO ipam_free_min (pool_id, prefix, start) VALUES ($1, 16, $2)", [V5_POOL, hex]);
      for (const r of V5_PLANS) {
        await c.query("INSERT INTO ipam_reservations (key, space_pool_id, planned_pool_id, body, expires_at, cidrs) VALUES ($1, $2, NULL, $3, $4, $5)",
          [r.key, V5_POOL, JSON.stringify(r), r.expiresAt, r.cidrs.join(",")]);
      }
    } finally {
      await c.end();
    }
    const store = new PostgresStore(url);
    try {
      await expectV5PlansIndexed(store, async () => (await query<{ pool_id: string }>(url, "SELECT pool_id FROM ipam_reserved_pending")).map((r) => r.pool_id));
    } finally {
      await store.close();
    }
  });

  test("4 processes migrating one fresh database at once (advisory lock): one schema row, every table, all work", async () => {
    for (let round = 0; round < 2; round++) {
      const url = await freshPgDatabase(`ipam_migrate_race${round}`);
      const workers = Array.from({ length: 4 }, () => startWorker("migrate", url));
      await startTogether(workers);
      await Promise.all(workers.map((w) => w.finished()));
      for (const w of workers) {
        expect(w.failures()).toEqual([]);
        expect(w.ok()).toEqual([expect.objectContaining({ op: "migrate", pools: 0 })]);
      }
      expect(await query(url, "SELECT version FROM ipam_schema")).toEqual([{ version: MIGRATIONS.length }]);
      const tables = await query<{ tablename: string }>(url, "SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename");
      expect(tables.map((t) => t.tablename)).toEqual(expect.arrayContaining(TABLES));
      // And the migrated database works from the next process.
      const store = openStore(url);
      const pool = await new Ipam(store).createPool({ addressFamily: "ipv4", cidrs: ["10.4.0.0/16"] });
      expect(pool.cidrs).toEqual(["10.4.0.0/16"]);
      await store.close();
    }
  });

  test("reopening migrates nothing; a newer schema is refused with a clear error, every time", async () => {
    const url = await freshPgDatabase("ipam_pg_schema");
    let store = new PostgresStore(url);
    const poolId = (await new Ipam(store).createPool({ addressFamily: "ipv4", cidrs: ["10.5.0.0/16"] })).ipamPoolId;
    await store.close();
    expect(await query(url, "SELECT version FROM ipam_schema")).toEqual([{ version: MIGRATIONS.length }]);

    const c = countMigrationRuns();
    try {
      store = new PostgresStore(url);
      expect((await new Ipam(store).getPool(poolId)).cidrs).toEqual(["10.5.0.0/16"]);
      await store.close();
    } finally {
      c.restore();
    }
    expect(c.runs).toEqual(MIGRATIONS.map(() => 0));

    const future = MIGRATIONS.length + 1;
    await query(url, "UPDATE ipam_schema SET version = $1", [future]);
    store = new PostgresStore(url);
    try {
      const ipam = new Ipam(store);
      const message = new RegExp(`schema version ${future} is newer than this pulumi-ipam \\(${MIGRATIONS.length}\\); upgrade pulumi-ipam`);
      await expect(ipam.getPool(poolId)).rejects.toThrow(message);
      await expect(ipam.listPools()).rejects.toThrow(message); // not a one-off: the store stays refused
    } finally {
      await store.close();
    }
    expect(await query(url, "SELECT version FROM ipam_schema")).toEqual([{ version: future }]);
    expect(await query(url, "SELECT id FROM ipam_pools")).toEqual([{ id: poolId }]);
  });
});
