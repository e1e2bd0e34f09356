/**
 * engine-preview-overhead and engine-up-overhead: `pulumi preview` and
 * `pulumi up` of 1 pool + 500 allocations against the same program built of
 * no-op dynamic resources, on the real CLI and a local file backend, run
 * alternately in this process (ratio = ours / baseline; target <= 1.15).
 * Prints the usual lines; appends to bench/results.json when it exists.
 */
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";

const ROOT = path.resolve(__dirname, "..");
const RUN = path.join(ROOT, "dist/provider/cli/run.js");
// Single runs on a shared 2-core machine vary by 10-20%: medians of 5 rounds, in alternating order.
const ROUNDS = Number(process.env.IPAM_BENCH_ROUNDS ?? 5);

function project(name: string): { dir: string; env: NodeJS.ProcessEnv } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `bench-${name}-`));
  for (const f of ["Pulumi.yaml", "index.ts"]) fs.copyFileSync(path.join(__dirname, "engine", name, f), path.join(dir, f));
  fs.symlinkSync(path.join(ROOT, "node_modules"), path.join(dir, "node_modules"));
  fs.mkdirSync(path.join(dir, "state"));
  return { dir, env: { ...process.env, PULUMI_CONFIG_PASSPHRASE: "bench", PULUMI_BACKEND_URL: `file://${dir}/state`, PULUMI_IPAM_STORE: `sqlite:${dir}/ipam.db` } };
}

function timed(p: { dir: string; env: NodeJS.ProcessEnv }, args: string[]): number {
  const t0 = process.hrtime.bigint();
  const r = spawnSync(process.execPath, [RUN, p.dir, ...args], { env: p.env, encoding: "utf8", maxBuffer: 1 << 28 });
  if (r.status !== 0) throw new Error(`${args.join(" ")} in ${p.dir} failed:\n${r.stderr.slice(-2000)}`);
  return Number(process.hrtime.bigint() - t0) / 1e9;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

function main(): void {
  const times: Record<string, Record<string, number[]>> = { ipam: { preview: [], up: [] }, noop: { preview: [], up: [] } };
  for (let r = 0; r < ROUNDS; r++) {
    // Alternate which goes first, so that neither always runs on caches the other warmed.
    for (const kind of r % 2 === 0 ? ["noop", "ipam"] : ["ipam", "noop"]) {
      const p = project(kind);
      times[kind].preview.push(timed(p, ["preview"]));
      times[kind].up.push(timed(p, ["up", "--skip-preview"]));
      timed(p, ["destroy"]);
      fs.rmSync(p.dir, { recursive: true, force: true });
    }
  }
  const rows = (["preview", "up"] as const).map((op) => {
    const ours = median(times.ipam[op]), baseline = median(times.noop[op]);
    const runs = (xs: number[]) => xs.map((x) => x.toFixed(2)).join(", ");
    return {
      name: `engine-${op}-overhead`, ours: +ours.toFixed(2), baseline: +baseline.toFixed(2), unit: "s (median wall clock)", ratio: +(ours / baseline).toFixed(3),
      target: "<= 1.15x", notes: `pulumi ${op} of 1 pool + 500 allocations, ${ROUNDS} rounds in alternating order; ours: ${runs(times.ipam[op])} s; no-op dynamic resources: ${runs(times.noop[op])} s.`,
    };
  });
  for (const r of rows) console.log(`${r.name}: ${r.ours} vs ${r.baseline} = ${r.ratio}x`);
  const out = path.join(__dirname, "results.json");
  const prior = fs.existsSync(out) ? (JSON.parse(fs.readFileSync(out, "utf8")) as { name: string }[]) : [];
  fs.writeFileSync(out, JSON.stringify([...prior.filter((x) => !x.name.startsWith("engine-")), ...rows], null, 2) + "\n");
}

main();
