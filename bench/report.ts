/**
 * Turns the JSON the benchmarks left in <dir> into one line per comparison,
 * `<name>: <ours> vs <baseline> = <ratio>x` (ratio > 1: ours is better),
 * and the same as [{name, ours, baseline, unit, ratio, target, notes}] in
 * <results.json>; every raw measurement goes to <details.json>.
 * Usage: report.ts <dir> <results.json> <details.json>
 */
import * as fs from "node:fs";
import * as path from "node:path";

interface Rate { rate: number; cpuRate: number; ops: number; seconds: number; cappedByTime: boolean; prefill?: number; firstCidr?: string; lastCidr?: string }
type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const [dir, resultsFile, detailsFile] = process.argv.slice(2);
const read = (name: string): Json | undefined => {
  const f = path.join(dir, name);
  if (!fs.existsSync(f) || fs.statSync(f).size === 0) return undefined;
  return JSON.parse(fs.readFileSync(f, "utf8"));
};

/** Three significant figures, at least integer precision. */
const num = (v: number): number => (Math.abs(v) >= 100 ? Math.round(v) : Number(v.toPrecision(3)));
const ratioOf = (v: number): number => Number(v.toFixed(2));
const span = (r: Rate) => `${r.ops} ops in ${r.seconds.toFixed(1)} s${r.cappedByTime ? " (capped by time)" : ""}, ${r.firstCidr ?? "?"} .. ${r.lastCidr ?? "?"}`;

interface Row { name: string; ours: number; baseline: number; unit: string; ratio: number; target: string; notes: string }
const rows: Row[] = [];
const missing: string[] = [];
const add = (name: string, ours: number, baseline: number, ratio: number, unit: string, target: string, notes: string) =>
  rows.push({ name, ours: num(ours), baseline: num(baseline), unit, ratio: ratioOf(ratio), target, notes });

const core = read("core.json");
const goMem = read("goipam-memory.json");
const goVerify = read("goipam-verify.json");
if (core && goMem) {
  const o: Rate = core.ours;
  const b: Rate = goMem as Rate;
  add("core-vs-go-ipam", o.rate, b.rate, o.rate / b.rate, "allocations/s (wall clock, median window)", ">= 10x",
    `/24s from 10.0.0.0/8 holding ${o.prefill} /24s, in memory. ours: Ipam.allocate on openStore("memory:"), ${span(o)}. ` +
    `go-ipam: github.com/metal-stack/go-ipam ${goMem.goIpamVersion} AcquireChildPrefix on goipam.New (in-memory storage), ${goMem.goVersion}: ${span(b)}. ` +
    `go-ipam prefill: synthetic state of ${goMem.prefill} AcquireChildPrefix calls given to its Load() (real calls would take hours: each rebuilds an IP set of all children); ` +
    `verify run: state of ${goVerify?.prefill ?? "?"} real calls == synthetic state, same next CIDR: ${goVerify?.verifyOk ?? "not run"}. ` +
    `CPU-time rates: ours ${num(o.cpuRate)}/s, go-ipam ${num(b.cpuRate)}/s (ratio ${ratioOf(o.cpuRate / b.cpuRate)}).`);
} else missing.push("core-vs-go-ipam");

if (core) {
  const o: Rate = core.ours;
  const b: Rate = core.ipnum;
  add("core-vs-ip-num-pool", o.rate, b.rate, o.rate / b.rate, "allocations/s (wall clock, median window)", ">= 100x",
    `/24s from 10.0.0.0/8, both prefilled with ${b.prefill} real calls (ip-num prefill took ${core.ipnum.prefillSeconds.toFixed(1)} s), measured at the same fill over the next ${b.ops} each ` +
    `in alternating windows, same process; no extrapolation. ip-num ${core.ipnum.version} ${core.ipnum.api}: ${span(b)}; ours: ${span(o)}. ` +
    `ip-num keeps only free ranges (no allocation records, ids or metadata), so its cost does not grow with the fill. ` +
    `CPU-time rates: ours ${num(o.cpuRate)}/s, ip-num ${num(b.cpuRate)}/s (ratio ${ratioOf(o.cpuRate / b.cpuRate)}).`);
} else missing.push("core-vs-ip-num-pool");

const sq = read("sqlite.json");
if (sq) {
  for (const [name, part, target] of [["sqlite-commit", sq.full, ">= 5000 allocations/s"], ["sqlite-commit-normal", sq.normal, ">= 5000 allocations/s"]] as const) {
    const o: Rate = part.ours;
    const b: Rate = part.raw;
    add(name, o.rate, b.rate, o.rate / b.rate, "committed allocations/s (baseline: raw better-sqlite3 commits/s)", target,
      `synchronous=${part.synchronous}, WAL. ours: one Ipam.allocate (one BEGIN IMMEDIATE..COMMIT) per /24 from an empty 10.0.0.0/8, ${span(o)}. ` +
      `baseline: better-sqlite3 ${sq.betterSqlite3} BEGIN IMMEDIATE; one INSERT of an allocation-sized row; COMMIT, same pragmas, file in the same directory, ` +
      `${b.ops} ops; windows alternate. ratio = ours / raw = the share of the storage's commit rate an allocation reaches. ` +
      `absolute: ${num(o.rate)} allocations/s vs the 5000/s target (${o.rate >= 5000 ? "met" : "not met"}).`);
  }
} else missing.push("sqlite-commit", "sqlite-commit-normal");

for (const [name, oursFile, goFile] of [["postgres-commit", "pg-ours-50k.json", "pg-goipam-50k.json"], ["postgres-commit-empty", "pg-ours-0.json", "pg-goipam-0.json"]] as const) {
  const o = read(oursFile);
  const b = read(goFile);
  if (!o || !b) { missing.push(name); continue; }
  add(name, o.rate, b.rate, o.rate / b.rate, "committed allocations/s (wall clock, median window)", ">= 10x",
    `/24s from 10.0.0.0/8 ${o.prefill ? `holding ${o.prefill} /24s` : "starting empty"}, one server started by scripts/pg.sh (fsync on), one database each. ` +
    `ours: PostgresStore, one allocate() transaction each, ${span(o as Rate)}${o.prefill ? `; prefill: ${o.prefillMethod}` : ""}. ` +
    `go-ipam ${b.goIpamVersion} NewPostgresStorage + AcquireChildPrefix (two commits per call: parent UPDATE, child INSERT), ${span(b as Rate)}` +
    `${b.prefill ? `; prefill: synthetic state COPYed into its prefixes table, checked with its Dump(): ${b.verifyOk}` : ""}. ` +
    `Window rates (first to last): ours ${(o.windowRates as number[]).map(num).join(", ")}; go-ipam ${(b.windowRates as number[]).map(num).join(", ")} ` +
    `(go-ipam reads, rebuilds and rewrites the parent with all its children on every call, so its cost grows with the fill).`);
}

const g = read("growth.json");
if (g) {
  const pts: Json[] = g.points;
  const first = pts[0];
  const lastP = pts[pts.length - 1];
  add("growth", lastP.costMicroseconds, first.costMicroseconds, first.costMicroseconds / lastP.costMicroseconds,
    `CPU µs/allocation at ${lastP.at} (ours) vs at ${first.at} (baseline)`, ">= 0.5",
    `/64s from 2001:db8::/32 in memory, one pool; cost@N = CPU time per allocation over allocations N/2..N (GC included, other processes excluded), after a warm-up on a throwaway store. ` +
    `CPU µs/allocation: ${pts.map((p) => `${p.at}: ${num(p.costMicroseconds)}`).join(", ")}; wall µs: ${pts.map((p) => `${p.at}: ${num(p.wallMicroseconds)}`).join(", ")}. ratio = cost@${first.at} / cost@${lastP.at}.`);
  const m = g.memory;
  const mb = m.rssBytes / 1e6;
  add("growth-rss", mb, 200, 200 / mb, `MB resident at ${m.allocations} allocations (after GC) vs the 200 MB target`, ">= 1",
    `process.memoryUsage().rss after 3x gc() at ${m.allocations} allocations: ${num(mb)} MB (heap used ${num(m.heapUsedBytes / 1e6)} MB, heap total ${num(m.heapTotalBytes / 1e6)} MB; ` +
    `process before the pool: rss ${num(m.baselineRssBytes / 1e6)} MB, heap used ${num(m.baselineHeapUsedBytes / 1e6)} MB; ~${m.bytesPerAllocation} heap bytes per allocation).`);
} else missing.push("growth", "growth-rss");

for (const r of rows) console.log(`${r.name}: ${r.ours} vs ${r.baseline} = ${r.ratio}x`);
fs.writeFileSync(resultsFile, JSON.stringify(rows, null, 2) + "\n");
const details: Json = {};
for (const f of fs.readdirSync(dir).filter((f) => f.endsWith(".json")).sort()) details[f] = read(f);
fs.writeFileSync(detailsFile, JSON.stringify(details, null, 2) + "\n");
if (missing.length) {
  console.error(`bench: no result for ${missing.join(", ")} (see the log above)`);
  process.exitCode = 1;
}
