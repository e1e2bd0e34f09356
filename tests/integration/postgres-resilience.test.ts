/**
 * The PostgreSQL store under a server that goes away: 4 processes allocate
 * from one pool in a loop (every other call with a ClientToken) while the
 * test kills their connections (pg_terminate_backend) and then restarts the
 * server (`pg_ctl restart`, fast shutdown: "terminating connection due to
 * administrator command"). A server of its own, so no other test file sees
 * the restart.
 *
 * Checked afterwards: no process crashed (each ran to its end and exited 0,
 * nothing on stderr about an unhandled error), nothing acknowledged is lost
 * (every ok is in the store, with its CIDR), no two allocations overlap,
 * every failed call failed with ServiceUnavailable.StoreConnectionLost, and
 * the calls made after the restart succeed (new connections).
 *
 * And, one connection cut at a time at a chosen statement: before COMMIT a
 * transaction is run again unseen; during COMMIT it is run again when it has
 * a ClientToken and otherwise fails with StoreConnectionLost; a server that
 * stays away is StoreConnectionLost after retryTimeMs.
 */
import { ChildProcess, execFileSync, spawn } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { Client, type Pool, type PoolClient } from "pg";
import { IpamError } from "../../provider/core/errors";
import { Ipam } from "../../provider/core/ipam";
import { PostgresStore, STORE_CONNECTION_LOST } from "../../provider/stores/postgres";
import { checkPool, ipv4Span, overlapsAmong } from "../support/invariants";
import { freshPgDatabase } from "../support/pg";
import { type Line, startTogether, Worker } from "../support/workers";

const ROOT = path.join(__dirname, "../..");
const PG_SH = path.join(ROOT, "scripts/pg.sh");
const WORKER = path.join(ROOT, "tests/support/allocate-until-worker.ts");
const WORKERS = 4;
/** Each worker stops by itself after this long even if the test never says stop. */
const STOP_AFTER_MS = 100_000;

const procs: ChildProcess[] = [];
let dir: string | undefined;

afterAll(() => {
  for (const p of procs) if (p.exitCode === null && p.signalCode === null) p.kill("SIGKILL");
  if (dir) {
    execFileSync("bash", [PG_SH, "stop", path.join(dir, "data")]);
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

/** pg_ctl as scripts/pg.sh runs it: as the postgres user when we are root. */
function pgCtl(dataDir: string, ...args: string[]): void {
  const bin = fs.readdirSync("/usr/lib/postgresql").sort((a, b) => Number(a) - Number(b)).map((v) => `/usr/lib/postgresql/${v}/bin/pg_ctl`).filter((f) => fs.existsSync(f)).pop();
  if (!bin) throw new Error("pg_ctl not found; run 'make postgres'");
  const cmd = [bin, "-D", dataDir, "-l", path.join(dataDir, "server.log"), ...args];
  if (process.getuid?.() === 0) execFileSync("runuser", ["-u", "postgres", "--", ...cmd], { stdio: "pipe" });
  else execFileSync(cmd[0], cmd.slice(1), { stdio: "pipe" });
}

function startLoop(url: string, cfg: { poolId: string; netmaskLength: number; tokenPrefix: string; stopAfterMs: number }): Worker {
  const proc = spawn(process.execPath, ["-r", "ts-node/register/transpile-only", WORKER, url, JSON.stringify(cfg)], { cwd: ROOT, stdio: ["pipe", "pipe", "pipe"], env: { ...process.env } });
  procs.push(proc);
  return new Worker(proc);
}

const oks = (w: Worker) => w.lines.filter((l) => l.ev === "ok").length;

/** Waits until every worker has at least `n(w)` acknowledged calls, or fails after `ms` saying where each is. */
async function untilAll(workers: Worker[], n: (w: Worker, i: number) => number, what: string, ms = 60_000): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_r, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: not reached in ${ms} ms; oks ${workers.map(oks)}; last lines ${JSON.stringify(workers.map((w) => w.lines.slice(-2)))}`)), ms);
  });
  try {
    const targets = workers.map((w, i) => n(w, i));
    await Promise.race([Promise.all(workers.map((w, i) => w.until((ls) => ls.filter((l) => l.ev === "ok").length >= targets[i], what))), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

async function terminateBackends(url: string): Promise<number> {
  const admin = new Client({ connectionString: url.replace(/\/[^/]*$/, "/postgres") });
  await admin.connect();
  try {
    const r = await admin.query("SELECT count(pg_terminate_backend(pid))::int AS n FROM pg_stat_activity WHERE datname = 'ipam' AND pid <> pg_backend_pid()");
    return (r.rows[0] as { n: number }).n;
  } finally {
    await admin.end();
  }
}

test("pg_terminate_backend and pg_ctl restart under 4 allocating processes: none crashes, nothing lost or overlapping, failures only StoreConnectionLost", async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "ipam-pg-restart-"));
  const dataDir = path.join(dir, "data");
  const url = execFileSync("bash", [PG_SH, "start", dataDir], { encoding: "utf8" }).trim();

  // This process keeps a store open across the restart too: its idle connections die under it.
  const store = new PostgresStore(url);
  const ipam = new Ipam(store);
  const pool = await ipam.createPool({ addressFamily: "ipv4", cidrs: ["10.0.0.0/8"] });
  const workers = Array.from({ length: WORKERS }, (_v, i) => startLoop(url, { poolId: pool.ipamPoolId, netmaskLength: 24, tokenPrefix: `w${i}-`, stopAfterMs: STOP_AFTER_MS }));
  await startTogether(workers);
  await untilAll(workers, () => 20, "20 allocations each");

  // Dropped connections: every backend of the database killed, three times, while the workers run.
  let killed = 0;
  for (let round = 0; round < 3; round++) {
    killed += await terminateBackends(url);
    await untilAll(workers, (w) => oks(w) + 5, `5 more allocations each after pg_terminate_backend round ${round}`);
  }
  expect(killed).toBeGreaterThan(0);

  // A server restart: fast shutdown ends every session, then the server is away until it is back up.
  const log = path.join(dataDir, "server.log");
  const logFrom = fs.statSync(log).size;
  const restartAt = Date.now();
  pgCtl(dataDir, "-m", "fast", "-w", "-t", "60", "restart");
  const upAt = Date.now();
  // The restart ended the sessions of every process (each has at least one connection open while it loops).
  const restartLog = fs.readFileSync(log, "utf8").slice(logFrom);
  expect(restartLog).toMatch(/fast shutdown request/);
  expect((restartLog.match(/terminating connection due to administrator command/g) ?? []).length).toBeGreaterThanOrEqual(WORKERS);
  await untilAll(workers, (w) => oks(w) + 20, "20 more allocations each after the restart");
  // This process's own store reconnects too.
  expect((await ipam.getPool(pool.ipamPoolId)).cidrs).toEqual(["10.0.0.0/8"]);

  for (const w of workers) w.proc.stdin!.write("stop\n");
  const exits = await Promise.all(workers.map((w) => w.exit));

  // 0 crashed: each ran to its end, exit 0, no fatal or unparsable line, no unhandled error on stderr.
  expect(exits).toEqual(workers.map(() => ({ code: 0, signal: null })));
  for (const w of workers) {
    expect(w.lines.filter((l) => l.ev === "fatal" || l.ev === "garbage")).toEqual([]);
    expect(w.lines.some((l) => l.ev === "done")).toBe(true);
    expect(w.stderr).not.toMatch(/Unhandled|uncaught|terminating connection/i);
  }

  // Every failed call failed with the named, retryable error.
  const all: (Line & { w: number })[] = workers.flatMap((w, i) => w.lines.map((l) => ({ ...l, w: i })));
  const errors = all.filter((l) => l.ev === "error");
  expect(errors.filter((l) => l.code !== STORE_CONNECTION_LOST)).toEqual([]);
  // A call with a ClientToken is always safe to run again, so none of those failed.
  expect(errors.filter((l) => l.token !== undefined)).toEqual([]);

  // Calls after the restart succeeded: on new connections.
  const acked = all.filter((l) => l.ev === "ok");
  expect(acked.filter((l) => (l.at as number) > upAt + 50).length).toBeGreaterThanOrEqual(WORKERS * 20);
  const spanning = all.filter((l) => (l.ev === "ok" || l.ev === "error") && (l.at as number) - (l.ms as number) <= restartAt && (l.at as number) >= restartAt);

  // 0 lost: every acknowledged allocation is in the store with its CIDR; 0 overlaps among all the store holds.
  const report = await checkPool(ipam, pool.ipamPoolId);
  expect(report.problems).toEqual([]);
  const stored = new Map(report.allocations.map((a) => [a.ipamPoolAllocationId, a.cidr]));
  expect(acked.filter((l) => stored.get(l.id as string) !== l.cidr)).toEqual([]);
  expect(overlapsAmong(report.allocations.map((a) => ipv4Span(a.cidr, a.ipamPoolAllocationId)))).toEqual([]);
  // Acknowledged ids are distinct (a token replay returns the same id only to the one caller of that token).
  expect(new Set(acked.map((l) => l.id)).size).toBe(acked.length);
  // Whatever is in the store and was not acknowledged can only come from a failed call without a token (its COMMIT was cut).
  const failedUntokened = errors.filter((l) => l.token === undefined).length;
  expect(report.allocations.length - acked.length).toBeGreaterThanOrEqual(0);
  expect(report.allocations.length - acked.length).toBeLessThanOrEqual(failedUntokened);

  console.log(`postgres-resilience: ${acked.length} allocations acknowledged, ${errors.length} failed with ${STORE_CONNECTION_LOST}, ` +
    `${killed} backends terminated, restart took ${upAt - restartAt} ms, ${spanning.length} calls were in flight when it began (longest ${Math.max(0, ...spanning.map((l) => l.ms as number))} ms)`);
  await store.close();
}, 240_000);

/**
 * Destroys the socket of the store's client right after it sends the next
 * statement matching `match` (once per arm()), before any answer can be read.
 */
function cutter(store: PostgresStore, match: (text: string) => boolean) {
  const ctl = { armed: false, cuts: 0, begins: 0 };
  const pool = (store as unknown as { pool: Pool }).pool;
  const seen = new WeakSet<PoolClient>();
  pool.on("acquire", (c: PoolClient) => {
    if (seen.has(c)) return;
    seen.add(c);
    const original = c.query.bind(c) as (...a: unknown[]) => unknown;
    (c as unknown as { query: (...a: unknown[]) => unknown }).query = (...args: unknown[]) => {
      const q = args[0] as string | { text: string };
      const text = typeof q === "string" ? q : q.text;
      if (text === "BEGIN") ctl.begins++;
      const p = original(...args);
      if (ctl.armed && match(text)) {
        ctl.armed = false;
        ctl.cuts++;
        setImmediate(() => (c as unknown as { connection: { stream: { destroy: () => void } } }).connection.stream.destroy());
      }
      return p;
    };
  });
  return ctl;
}

describe("one connection cut at a chosen point", () => {
  let store: PostgresStore;
  let ipam: Ipam;
  let poolId: string;
  let url: string;
  beforeAll(async () => {
    url = await freshPgDatabase("ipam_cut");
    store = new PostgresStore(url, { max: 1 });
    ipam = new Ipam(store);
    poolId = (await ipam.createPool({ addressFamily: "ipv4", cidrs: ["10.0.0.0/16"] })).ipamPoolId;
  });
  afterAll(() => store.close());
  const count = async () => (await ipam.listAllocations(poolId)).length;

  test("cut before COMMIT: run again on a new connection, unseen by the caller, allocated once", async () => {
    const ctl = cutter(store, (t) => t === "BEGIN");
    const n0 = await count();
    ctl.armed = true;
    const begins0 = ctl.begins;
    const a = await ipam.allocate({ ipamPoolId: poolId, netmaskLength: 24 });
    expect(ctl.cuts).toBe(1);
    expect(ctl.begins - begins0).toBeGreaterThanOrEqual(2); // the cut attempt and the one that went through
    expect(await count()).toBe(n0 + 1);
    expect((await ipam.getAllocation(poolId, a.ipamPoolAllocationId)).cidr).toBe(a.cidr);
  });

  test("cut during COMMIT with a ClientToken: run again, which replays or makes it; one allocation either way", async () => {
    const ctl = cutter(store, (t) => t === "COMMIT");
    const n0 = await count();
    ctl.armed = true;
    const a = await ipam.allocate({ ipamPoolId: poolId, netmaskLength: 24, clientToken: "cut-commit-1" });
    expect(ctl.cuts).toBe(1);
    expect(await count()).toBe(n0 + 1);
    expect(await ipam.allocate({ ipamPoolId: poolId, netmaskLength: 24, clientToken: "cut-commit-1" })).toEqual(a);
  });

  test("cut during COMMIT without a token: StoreConnectionLost saying it may have been made; the store still works", async () => {
    const ctl = cutter(store, (t) => t === "COMMIT");
    const n0 = await count();
    ctl.armed = true;
    const e = await ipam.allocate({ ipamPoolId: poolId, netmaskLength: 24 }).catch((x: unknown) => x);
    expect(ctl.cuts).toBe(1);
    expect(e).toBeInstanceOf(IpamError);
    expect((e as IpamError).code).toBe(STORE_CONNECTION_LOST);
    expect((e as IpamError).message).toMatch(/may or may not have been made/);
    expect([n0, n0 + 1]).toContain(await count());
    // The next call gets a new connection.
    await ipam.allocate({ ipamPoolId: poolId, netmaskLength: 24 });
  });

  test("a server that stays away: StoreConnectionLost after retryTimeMs, not a hang or a raw error", async () => {
    // A port nothing listens on: bound and closed again.
    const net = await import("node:net");
    const port = await new Promise<number>((resolve) => {
      const srv = net.createServer().listen(0, "127.0.0.1", () => {
        const p = (srv.address() as { port: number }).port;
        srv.close(() => resolve(p));
      });
    });
    const away = new PostgresStore(`postgres://ipam@127.0.0.1:${port}/ipam`, { retryTimeMs: 800 });
    const t0 = Date.now();
    try {
      const e = await new Ipam(away).listPools().catch((x: unknown) => x);
      expect((e as IpamError).code).toBe(STORE_CONNECTION_LOST);
      expect((e as IpamError).message).toMatch(/nothing was changed/);
      expect(Date.now() - t0).toBeGreaterThanOrEqual(700);
      expect(Date.now() - t0).toBeLessThan(10_000);
    } finally {
      await away.close();
    }
  });
});
