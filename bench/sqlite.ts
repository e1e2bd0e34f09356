/**
 * sqlite-commit / sqlite-commit-normal: committed /24 allocations per second
 * from 10.0.0.0/8 on the SQLite store, one transaction per allocation, with
 * synchronous=FULL (an acknowledged allocation survives power loss) and
 * NORMAL (survives a process crash), each asked for explicitly in the URL.
 *
 * Baseline: the storage's own commit rate, i.e. raw better-sqlite3 doing one
 * durable transaction per operation (BEGIN IMMEDIATE; one INSERT of an
 * allocation-sized row; COMMIT) on a file in the same directory with the
 * store's pragmas (WAL, same synchronous). ratio = ours / raw, so 1.0x
 * means an allocation costs no more than the cheapest possible commit.
 * Windows alternate ours / raw.
 */
import Database from "better-sqlite3";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { Ipam } from "../provider/core/ipam";
import { openStore } from "../provider/stores";
import { emit, int, log, measure, Measurement, measureSync, merge } from "./lib";

const DIR = process.env.BENCH_TMP || fs.mkdtempSync(path.join(os.tmpdir(), "ipam-bench-"));
const WINDOWS = int("BENCH_SQLITE_WINDOWS", 10);
const MAX_SECONDS = int("BENCH_SQLITE_MAX_SECONDS", 15);

async function run(sync: "full" | "normal", ops: number) {
  const oursFile = path.join(DIR, `ours-${sync}.db`);
  const rawFile = path.join(DIR, `raw-${sync}.db`);
  for (const f of [oursFile, rawFile]) for (const s of ["", "-wal", "-shm"]) fs.rmSync(f + s, { force: true });

  // Always explicit: the store's default has changed before (full, then normal).
  const store = openStore(`sqlite:${oursFile}?synchronous=${sync}`);
  const ipam = new Ipam(store);
  const pool = await ipam.createPool({ addressFamily: "ipv4", cidrs: ["10.0.0.0/8"] });

  const raw = new Database(rawFile);
  raw.pragma("busy_timeout = 30000");
  raw.pragma("journal_mode = WAL");
  raw.pragma(`synchronous = ${sync === "normal" ? "NORMAL" : "FULL"}`);
  raw.exec("CREATE TABLE allocations (id TEXT PRIMARY KEY, pool_id TEXT NOT NULL, start TEXT NOT NULL, prefix INTEGER NOT NULL, body TEXT NOT NULL)");
  const insert = raw.prepare("INSERT INTO allocations (id, pool_id, start, prefix, body) VALUES (?, ?, ?, ?, ?)");
  const body = JSON.stringify({ ipamPoolAllocationId: "ipam-pool-alloc-" + "0".repeat(32), ipamPoolId: pool.ipamPoolId, resourceType: "custom" });
  let n = 0;
  const rawOp = () => {
    raw.exec("BEGIN IMMEDIATE");
    insert.run(`ipam-pool-alloc-${(n++).toString(16).padStart(32, "0")}`, pool.ipamPoolId, n.toString(16).padStart(32, "0"), 24, body);
    raw.exec("COMMIT");
  };

  const per = Math.max(1, Math.floor(ops / WINDOWS));
  const ours: Measurement[] = [];
  const theirs: Measurement[] = [];
  let first = "";
  let last = "";
  for (let w = 0; w < WINDOWS; w++) {
    ours.push(await measure(async () => {
      last = (await ipam.allocate({ ipamPoolId: pool.ipamPoolId, netmaskLength: 24 })).cidr;
      first ||= last;
    }, per, 1, MAX_SECONDS / WINDOWS));
    theirs.push(measureSync(rawOp, per, 1, MAX_SECONDS / WINDOWS));
  }
  await store.close();
  raw.close();
  const o = merge(ours);
  const b = merge(theirs);
  log(`sqlite ${sync}: ours ${o.rate.toFixed(0)}/s (last ${last}), raw commit ${b.rate.toFixed(0)}/s`);
  return { synchronous: sync, ours: { ...o, firstCidr: first, lastCidr: last, file: oursFile }, raw: { ...b, file: rawFile } };
}

async function main(): Promise<void> {
  const full = await run("full", int("BENCH_SQLITE_FULL_OPS", 4_000));
  const normal = await run("normal", int("BENCH_SQLITE_NORMAL_OPS", 40_000));
  emit({
    workload: "/24 allocations from an empty 10.0.0.0/8, one committed transaction each, alternating windows ours/raw",
    directory: DIR,
    betterSqlite3: require("better-sqlite3/package.json").version as string,
    full, normal,
  });
  if (!process.env.BENCH_TMP) fs.rmSync(DIR, { recursive: true, force: true });
}

main().catch((e) => { console.error(e); process.exit(1); });
