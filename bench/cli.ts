/**
 * cli-pools / cli-pools-json / cli-map: the command line tool on a SQLite
 * store with 100,000 allocations (10.0.0.0/8, four nested /10 pools, 25,000
 * /26 allocations in each), each command run as a user runs it (node
 * dist/provider/cli/main.js, after `make build`), 3 times: the median wall
 * clock and the peak resident set size (the process's own maxRSS, read at
 * its exit) against the targets of 2 s and 200 MB.
 *
 *   node -r ts-node/register/transpile-only bench/cli.ts
 *
 * Prints the usual lines; appends to bench/results.json when it exists.
 * BENCH_CLI_ALLOCATIONS changes the count.
 */
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { Ipam } from "../provider/core/ipam";
import { openStore } from "../provider/stores";

const ROOT = path.resolve(__dirname, "..");
const MAIN = process.env.BENCH_CLI_MAIN ?? path.join(ROOT, "dist/provider/cli/main.js");
const N = Number(process.env.BENCH_CLI_ALLOCATIONS ?? 100_000);
const ROUNDS = 3;
const TARGET_S = 2, TARGET_MB = 200;

const log = (s: string) => process.stderr.write(`[bench cli] ${s}\n`);
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1];

async function seed(url: string): Promise<void> {
  const store = openStore(url);
  const ipam = new Ipam(store);
  const corp = await ipam.createPool({ addressFamily: "ipv4", cidrs: ["10.0.0.0/8"], allocationMaxNetmaskLength: 28 });
  const regions = [];
  for (const locale of ["us-east-1", "us-west-2", "eu-west-1", "ap-south-1"]) {
    regions.push(await ipam.createPool({ addressFamily: "ipv4", sourceIpamPoolId: corp.ipamPoolId, netmaskLength: 10, locale, allocationDefaultNetmaskLength: 26 }));
  }
  const per = Math.ceil(N / regions.length);
  let made = 0;
  for (const r of regions) {
    for (let done = 0; done < per && made < N;) {
      // Batches of 5,000 in one transaction each: seeding is not what is measured.
      const batch = Math.min(5000, per - done, N - made);
      await store.transaction(async (tx) => {
        for (let i = 0; i < batch; i++) await ipam.allocate({ ipamPoolId: r.ipamPoolId, resourceType: "vpc", description: `vpc-${made + i}` }, tx);
      });
      done += batch;
      made += batch;
    }
    log(`seeded ${made} allocations`);
  }
  await store.close();
}

/** Runs the tool once: wall seconds and peak RSS in MB (maxRSS at exit, through a preloaded hook). */
function timed(args: string[], dir: string): { seconds: number; mb: number; bytes: number } {
  const rssFile = path.join(dir, "rss");
  const hook = path.join(dir, "rss-hook.js");
  fs.writeFileSync(hook, `process.on("exit", () => require("fs").writeFileSync(${JSON.stringify(rssFile)}, String(process.resourceUsage().maxRSS)));\n`);
  const t0 = performance.now();
  const r = spawnSync(process.execPath, ["-r", hook, MAIN, ...args], { encoding: "utf8", maxBuffer: 1 << 30, env: { ...process.env, NO_COLOR: "1" } });
  const seconds = (performance.now() - t0) / 1000;
  if (r.status !== 0) throw new Error(`pulumi-ipam ${args.join(" ")} exited with ${r.status}: ${r.stderr}`);
  return { seconds, mb: Number(fs.readFileSync(rssFile, "utf8")) / 1024, bytes: r.stdout.length };
}

async function main(): Promise<void> {
  if (!fs.existsSync(MAIN)) throw new Error(`${MAIN} is missing: run make build first`);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "ipam-bench-cli-"));
  try {
    const url = `sqlite:${path.join(dir, "ipam.db")}`;
    log(`seeding ${N} allocations into ${url}`);
    await seed(url);
    const html = path.join(dir, "map.html");
    const commands: { name: string; args: string[]; what: string }[] = [
      { name: "cli-pools", args: ["pools", "--store", url], what: "pools (the tree, 50 allocations listed per pool)" },
      { name: "cli-pools-json", args: ["pools", "--json", "--store", url], what: "pools --json (every allocation)" },
      { name: "cli-map", args: ["map", "-o", html, "--store", url], what: "map -o map.html (every allocation drawn)" },
    ];
    const rows = [];
    for (const c of commands) {
      const runs = [];
      for (let i = 0; i < ROUNDS; i++) runs.push(timed(c.args, dir));
      const s = median(runs.map((r) => r.seconds)), mb = median(runs.map((r) => r.mb));
      const size = c.name === "cli-map" ? fs.statSync(html).size : runs[0].bytes;
      rows.push({
        name: c.name, ours: +s.toFixed(2), baseline: TARGET_S, unit: "s (median wall clock)", ratio: +(TARGET_S / s).toFixed(2),
        target: ">= 1 (under 2 s)", notes: `${c.what} on ${N} allocations; ${runs.map((r) => r.seconds.toFixed(2)).join(", ")} s; peak RSS ${mb.toFixed(0)} MB vs ${TARGET_MB} MB; output ${(size / 1e6).toFixed(1)} MB.`,
      });
      rows.push({
        name: `${c.name}-rss`, ours: +mb.toFixed(0), baseline: TARGET_MB, unit: "MB peak resident", ratio: +(TARGET_MB / mb).toFixed(2),
        target: ">= 1 (under 200 MB)", notes: `${c.what}: the process's maxRSS at exit, median of ${ROUNDS}.`,
      });
    }
    for (const r of rows) console.log(`${r.name}: ${r.ours} vs ${r.baseline} = ${r.ratio}x  (${r.notes})`);
    const out = path.join(__dirname, "results.json");
    if (fs.existsSync(out)) {
      const prior = JSON.parse(fs.readFileSync(out, "utf8")) as { name: string }[];
      fs.writeFileSync(out, JSON.stringify([...prior.filter((x) => !x.name.startsWith("cli-")), ...rows], null, 2) + "\n");
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((e) => {
  process.stderr.write(`${e instanceof Error ? e.stack : e}\n`);
  process.exit(1);
});
