/**
 * plugin-preview-overhead and plugin-up-overhead: the same plan (1 pool + 500
 * allocations, IPAM_BENCH_N) as a YAML program on the provider plugin, run by
 * the plain `pulumi` CLI, against the dynamic resources' program
 * (bench/engine/ipam) through the runner, alternately in one run (ratio =
 * plugin / dynamic; target <= 0.8). Also the state per allocation in each
 * (`pulumi stack export`). Needs `make plugin`. Appends to bench/results.json.
 */
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";

const ROOT = path.resolve(__dirname, "..");
const RUN = path.join(ROOT, "dist/provider/cli/run.js");
const ROUNDS = Number(process.env.IPAM_BENCH_ROUNDS ?? 3);
const N = Number(process.env.IPAM_BENCH_N ?? 500);

type Project = { kind: "plugin" | "dynamic"; dir: string; env: NodeJS.ProcessEnv };

function project(kind: Project["kind"]): Project {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `bench-${kind}-`));
  if (kind === "plugin") {
    const allocations = Array.from({ length: N }, (_, i) => `  a${i}:\n    type: ipam:IpamPoolAllocation\n    properties: { ipamPoolId: "\${pool.ipamPoolId}" }\n`).join("");
    fs.writeFileSync(path.join(dir, "Pulumi.yaml"), `name: bench-plugin\nruntime: yaml\nresources:\n  pool:\n    type: ipam:IpamPool\n    properties: { addressFamily: ipv4, cidrs: ["10.0.0.0/8"], allocationDefaultNetmaskLength: 24 }\n${allocations}`);
  } else {
    for (const f of ["Pulumi.yaml", "index.ts"]) fs.copyFileSync(path.join(__dirname, "engine", "ipam", f), path.join(dir, f));
    fs.symlinkSync(path.join(ROOT, "node_modules"), path.join(dir, "node_modules"));
  }
  fs.mkdirSync(path.join(dir, "state"));
  const env = { ...process.env, PULUMI_CONFIG_PASSPHRASE: "bench", PULUMI_BACKEND_URL: `file://${dir}/state`, PULUMI_IPAM_STORE: `sqlite:${dir}/ipam.db`, IPAM_BENCH_N: String(N), PULUMI_SKIP_UPDATE_CHECK: "true" };
  if (kind === "plugin") sh(dir, env, "pulumi", ["stack", "init", "dev", "--non-interactive"]);
  return { kind, dir, env };
}

function sh(cwd: string, env: NodeJS.ProcessEnv, cmd: string, args: string[]): string {
  const r = spawnSync(cmd, args, { cwd, env, encoding: "utf8", maxBuffer: 1 << 28 });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(" ")} in ${cwd} failed:\n${(r.stderr + r.stdout).slice(-2000)}`);
  return r.stdout;
}

function op(p: Project, what: "preview" | "up" | "destroy"): number {
  const t0 = process.hrtime.bigint();
  if (p.kind === "plugin") sh(p.dir, p.env, "pulumi", what === "preview" ? ["preview", "--non-interactive"] : [what, "--yes", "--skip-preview", "--non-interactive"]);
  else sh(p.dir, p.env, process.execPath, [RUN, p.dir, ...(what === "up" ? ["up", "--skip-preview"] : [what])]);
  return Number(process.hrtime.bigint() - t0) / 1e9;
}

/**
 * Bytes of `pulumi stack export` per allocation resource: the whole entry, and
 * what the provider decides (inputs and outputs; the engine adds the rest,
 * and the YAML host a Go stack trace of about 1.3 KB per resource).
 */
function stateBytes(p: Project): { total: number; provider: number } {
  const args = ["stack", "export", "--stack", "dev", "--cwd", p.dir];
  const resources = JSON.parse(sh(p.dir, p.env, "pulumi", args)).deployment.resources as { type: string; inputs?: unknown; outputs?: unknown }[];
  const mine = resources.filter((r) => r.type.endsWith("IpamPoolAllocation"));
  const avg = (f: (r: (typeof mine)[number]) => number) => Math.round(mine.reduce((s, r) => s + f(r), 0) / mine.length);
  return { total: avg((r) => JSON.stringify(r).length), provider: avg((r) => JSON.stringify(r.inputs ?? {}).length + JSON.stringify(r.outputs ?? {}).length) };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

function main(): void {
  const times = { plugin: { preview: [] as number[], up: [] as number[] }, dynamic: { preview: [] as number[], up: [] as number[] } };
  const bytes = { plugin: { total: 0, provider: 0 }, dynamic: { total: 0, provider: 0 } };
  for (let r = 0; r < ROUNDS; r++) {
    for (const kind of (r % 2 === 0 ? ["dynamic", "plugin"] : ["plugin", "dynamic"]) as Project["kind"][]) {
      const p = project(kind);
      times[kind].preview.push(op(p, "preview"));
      times[kind].up.push(op(p, "up"));
      bytes[kind] = stateBytes(p);
      op(p, "destroy");
      fs.rmSync(p.dir, { recursive: true, force: true });
    }
  }
  const runs = (xs: number[]) => xs.map((x) => x.toFixed(2)).join(", ");
  const rows = (["preview", "up"] as const).map((o) => {
    const ours = median(times.plugin[o]), baseline = median(times.dynamic[o]);
    return {
      name: `plugin-${o}-overhead`, ours: +ours.toFixed(2), baseline: +baseline.toFixed(2), unit: "s (median wall clock)", ratio: +(ours / baseline).toFixed(3),
      target: "<= 0.8x", notes: `pulumi ${o} of 1 pool + ${N} allocations, ${ROUNDS} rounds in alternating order; YAML on the plugin: ${runs(times.plugin[o])} s; TypeScript on the dynamic resources (runner): ${runs(times.dynamic[o])} s.`,
    };
  });
  rows.push({
    name: "plugin-state-per-allocation", ours: bytes.plugin.provider, baseline: bytes.dynamic.provider, unit: "bytes of inputs + outputs in pulumi stack export", ratio: +(bytes.plugin.provider / bytes.dynamic.provider).toFixed(3),
    target: "< 1x", notes: `one IpamPoolAllocation's inputs and outputs, JSON, averaged over the stack; whole entries: plugin ${bytes.plugin.total} B (of which the YAML host's Go stack trace about 1.3 KB), dynamic ${bytes.dynamic.total} B`,
  });
  for (const r of rows) console.log(`${r.name}: ${r.ours} vs ${r.baseline} = ${r.ratio}x (target ${r.target})`);
  const out = path.join(__dirname, "results.json");
  const prior = fs.existsSync(out) ? (JSON.parse(fs.readFileSync(out, "utf8")) as { name: string }[]) : [];
  fs.writeFileSync(out, JSON.stringify([...prior.filter((x) => !x.name.startsWith("plugin-")), ...rows], null, 2) + "\n");
}

main();
