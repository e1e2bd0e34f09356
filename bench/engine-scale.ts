/**
 * engine-scale-preview and engine-scale-up: `pulumi preview` and `pulumi up`
 * (the runner's up: its preview, then the update) of one pool with 500 and
 * 2,000 allocations (and 10,000 with IPAM_BENCH_LARGE=1, fast mode only),
 * on the real CLI and a local file backend, in one run; each in the default
 * mode and in fast mode (`up --fast`: only the final checkpoint is saved).
 * The ratio is time at 2,000 / time at 500: 4 is linear, the target is
 * <= 4.5. Also: the peak resident memory of the provider process (the
 * dynamic-provider host), the state's bytes per allocation, and the load
 * average, since this machine's 2 cores are shared. Appends its rows to
 * bench/results.json when it exists.
 */
import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";

const ROOT = path.resolve(__dirname, "..");
const RUN = path.join(ROOT, "dist/provider/cli/run.js");
const LARGE = process.env.IPAM_BENCH_LARGE === "1";
const SIZES = [500, 2000];

interface Project { dir: string; env: NodeJS.ProcessEnv }

function project(n: number): Project {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `bench-scale-${n}-`));
  for (const f of ["Pulumi.yaml", "index.ts"]) fs.copyFileSync(path.join(__dirname, "engine", "ipam", f), path.join(dir, f));
  fs.symlinkSync(path.join(ROOT, "node_modules"), path.join(dir, "node_modules"));
  fs.mkdirSync(path.join(dir, "state"));
  return {
    dir,
    env: { ...process.env, IPAM_BENCH_N: String(n), PULUMI_CONFIG_PASSPHRASE: "bench", PULUMI_BACKEND_URL: `file://${dir}/state`, PULUMI_IPAM_STORE: `sqlite:${dir}/ipam.db` },
  };
}

/** Peak resident set (VmHWM) of the provider processes started in `dir`, in MB, as last read. */
function providerPeakMb(dir: string, seen: Map<number, number>): void {
  for (const pid of fs.readdirSync("/proc").filter((d) => /^\d+$/.test(d))) {
    try {
      if (!fs.readlinkSync(`/proc/${pid}/cwd`).startsWith(dir)) continue;
      if (!fs.readFileSync(`/proc/${pid}/cmdline`, "utf8").includes("dynamic-provider")) continue;
      const hwm = /VmHWM:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, "utf8"));
      if (hwm) seen.set(Number(pid), Number(hwm[1]) / 1024);
    } catch { /* gone */ }
  }
}

/** Runs the runner with `args`; wall seconds and the provider's peak memory. */
async function timed(p: Project, args: string[]): Promise<{ seconds: number; providerMb: number }> {
  const t0 = process.hrtime.bigint();
  const child = spawn(process.execPath, [RUN, p.dir, ...args], { env: p.env, stdio: ["ignore", "ignore", "pipe"] });
  let stderr = "";
  child.stderr!.on("data", (d) => { stderr = (stderr + d).slice(-4000); });
  const peaks = new Map<number, number>();
  const poll = setInterval(() => providerPeakMb(p.dir, peaks), 250);
  const code = await new Promise<number>((resolve) => child.on("exit", (c) => resolve(c ?? -1)));
  clearInterval(poll);
  if (code !== 0) throw new Error(`${args.join(" ")} in ${p.dir} failed (${code}):\n${stderr}`);
  return { seconds: Number(process.hrtime.bigint() - t0) / 1e9, providerMb: Math.max(0, ...peaks.values()) };
}

/** Bytes of the stack's checkpoint per allocation. */
function checkpointBytesPer(p: Project, n: number): number {
  const dir = path.join(p.dir, "state", ".pulumi", "stacks", "bench-engine-ipam");
  return fs.statSync(path.join(dir, "dev.json")).size / n;
}

const load = () => os.loadavg().map((x) => x.toFixed(1)).join(" ");
const log = (m: string) => process.stderr.write(`[bench] ${m}\n`);

interface Run { n: number; fast: boolean; preview: number; up: number; again: number; providerMb: number; bytesPer: number; load: string }

async function one(n: number, fast: boolean): Promise<Run> {
  const p = project(n);
  try {
    const before = load();
    const preview = await timed(p, ["preview"]);
    const up = await timed(p, fast ? ["up", "--fast"] : ["up"]);
    const again = await timed(p, ["preview", "--expect-no-changes"]);
    const r: Run = {
      n, fast, preview: preview.seconds, up: up.seconds, again: again.seconds, providerMb: Math.max(preview.providerMb, up.providerMb, again.providerMb),
      bytesPer: checkpointBytesPer(p, n), load: `${before} -> ${load()}`,
    };
    log(`${n} ${fast ? "fast" : "default"}: preview ${r.preview.toFixed(1)} s, up ${r.up.toFixed(1)} s, second preview ${r.again.toFixed(1)} s, provider ${r.providerMb.toFixed(0)} MB, ${r.bytesPer.toFixed(0)} B/allocation, load ${r.load}`);
    return r;
  } finally {
    fs.rmSync(p.dir, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  const runs: Run[] = [];
  for (const fast of [false, true]) for (const n of SIZES) runs.push(await one(n, fast));
  if (LARGE) runs.push(await one(10_000, true));
  const at = (n: number, fast: boolean) => runs.find((r) => r.n === n && r.fast === fast)!;
  const rows: Record<string, unknown>[] = [];
  for (const op of ["preview", "up"] as const) {
    for (const fast of [false, true]) {
      const small = at(500, fast), big = at(2000, fast);
      rows.push({
        name: `engine-scale-${op}${fast ? "-fast" : ""}`, ours: +big[op].toFixed(2), baseline: +small[op].toFixed(2), unit: "s (wall clock)",
        ratio: +(big[op] / small[op]).toFixed(2), target: "<= 4.5x (linear: 4x)",
        notes: `pulumi-ipam run ${op === "up" ? (fast ? "up --fast" : "up") : "preview"} (up includes its preview) of 1 pool + 2,000 vs + 500 allocations, `
          + `${fast ? "fast mode (final checkpoint only)" : "default mode (a checkpoint per step)"}; second preview ${big.again.toFixed(1)} vs ${small.again.toFixed(1)} s; `
          + `state ${big.bytesPer.toFixed(0)} B/allocation; provider peak ${big.providerMb.toFixed(0)} MB; load ${small.load} / ${big.load}.`,
      });
    }
  }
  if (LARGE) {
    const x = at(10_000, true);
    rows.push({
      name: "engine-scale-up-10k-fast", ours: +x.up.toFixed(1), baseline: 300, unit: "s (wall clock)", ratio: +(x.up / 300).toFixed(2), target: "< 300 s",
      notes: `pulumi-ipam run up --fast of 1 pool + 10,000 allocations (its preview ${x.preview.toFixed(1)} s included); first preview ${x.preview.toFixed(1)} s, second ${x.again.toFixed(1)} s; load ${x.load}.`,
    });
    rows.push({
      name: "engine-scale-rss-10k", ours: +x.providerMb.toFixed(0), baseline: 500, unit: "MB (peak resident, provider process)", ratio: +(x.providerMb / 500).toFixed(2), target: "< 500 MB",
      notes: `peak VmHWM of the dynamic-provider process over preview, up --fast and the second preview of 10,000 allocations; state ${x.bytesPer.toFixed(0)} B/allocation.`,
    });
  }
  for (const r of rows) console.log(`${r.name}: ${r.ours} vs ${r.baseline} = ${r.ratio}x`);
  const out = path.join(__dirname, "results.json");
  const prior = fs.existsSync(out) ? (JSON.parse(fs.readFileSync(out, "utf8")) as { name: string }[]) : [];
  fs.writeFileSync(out, JSON.stringify([...prior.filter((x) => !x.name.startsWith("engine-scale")), ...rows], null, 2) + "\n");
}

main().catch((e) => {
  process.stderr.write(`${e instanceof Error ? e.message : e}\n`);
  process.exit(1);
});
