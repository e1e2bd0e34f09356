/**
 * The quickstart's address plan in Node.js, Python and Go on the generated
 * SDKs and the provider plugin (examples/nodejs, examples/python,
 * examples/go), each run through its language's Automation API inline host
 * (the language hosts are not served here) on a file backend and a SQLite
 * store of its own: preview plans every CIDR, up allocates exactly them, a
 * second preview shows no change, destroy returns every address. Then the
 * two faces, the plugin and the Node dynamic resources, on one store.
 * examples/yaml has its own test (yaml.test.ts).
 */
import { spawn, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { contains, familyBits, familyOf, parseCidr } from "../../provider/core/cidr";
import { cleanup, exportState, expectDisjoint, failure, project, Project, ROOT, withIpam } from "../support/pulumi";

const CACHE = process.env.PULUMI_IPAM_CACHE ?? path.join(os.homedir(), ".cache/pulumi-ipam");
const RUN = path.join(ROOT, "dist/provider/cli/run.js");
const NODE_SDK = path.join(ROOT, "node_modules/@pulumi-ipam/ipam");
const PYTHON = path.join(CACHE, "sdk/python-venv/bin/python");
const GO_INLINE = path.join(CACHE, "examples/ipam-go-inline");
const VPCS: Record<string, { pool: string; prefix: number }> = {
  "vpc-east-app": { pool: "corp-us-east-1", prefix: 20 }, "vpc-east-data": { pool: "corp-us-east-1", prefix: 22 },
  "vpc-west-app": { pool: "corp-eu-west-1", prefix: 20 }, "vpc-west-edge": { pool: "corp-eu-west-1", prefix: 24 },
  "v6-east": { pool: "corp-v6", prefix: 56 }, "v6-west": { pool: "corp-v6", prefix: 56 },
};
const TIMEOUT = 300_000;

/** A prerequisite `make` installs: fails naming the target, never skips. */
function need(ok: boolean, what: string, target: string): void {
  if (!ok) throw new Error(`${what}: run \`make ${target}\` first`);
}

/** The newest modification time under the paths (files and directories, node_modules skipped). */
function newest(...paths: string[]): number {
  let t = 0;
  const walk = (p: string): void => {
    const s = fs.statSync(p);
    t = Math.max(t, s.mtimeMs);
    if (s.isDirectory()) for (const e of fs.readdirSync(p)) if (e !== "node_modules") walk(path.join(p, e));
  };
  for (const p of paths) walk(p);
  return t;
}

/** Built from `sources` no earlier than their last change. */
function built(artifact: string, ...sources: string[]): boolean {
  return fs.existsSync(artifact) && fs.statSync(artifact).mtimeMs >= newest(...sources);
}

function needEngine(): void {
  need(spawnSync("pulumi", ["version"], { encoding: "utf8" }).status === 0, "the pulumi CLI is not on PATH", "pulumi");
  const plugins = spawnSync("pulumi", ["plugin", "ls", "--json"], { encoding: "utf8" });
  need(JSON.parse(plugins.stdout || "[]").some((p: any) => p.name === "ipam" && p.kind === "resource"), "the ipam plugin is not installed", "plugin");
  need(fs.existsSync(RUN), `${RUN} is missing`, "build");
}

function needNodeSdk(): void {
  need(built(NODE_SDK, path.join(ROOT, "sdk/nodejs")), "the Node.js SDK is not installed in node_modules/@pulumi-ipam/ipam, or older than sdk/nodejs", "examples");
}

/** How each language's program is run: its inline runner's command line. All print the same JSON. */
interface Language { name: string; source: string; prerequisites(): void; command(p: Project, args: string[]): [string, string[]] }

const LANGUAGES: Language[] = [
  {
    name: "nodejs", source: path.join(ROOT, "examples/nodejs"),
    prerequisites: needNodeSdk,
    command: (p, args) => [process.execPath, [RUN, p.dir, ...args, "--json"]],
  },
  {
    name: "python", source: path.join(ROOT, "examples/python"),
    prerequisites: () => {
      need(fs.existsSync(PYTHON), `${PYTHON} is missing`, "examples");
      const where = spawnSync(PYTHON, ["-c", "import os, pulumi_ipam; print(os.path.dirname(pulumi_ipam.__file__))"], { encoding: "utf8" });
      need(where.status === 0, "pulumi_ipam is not installed in the venv", "examples");
      need(built(where.stdout.trim(), path.join(ROOT, "sdk/python/pulumi_ipam")), "the venv's pulumi_ipam is older than sdk/python", "examples");
    },
    command: (p, args) => [PYTHON, [path.join(p.dir, "run_inline.py"), ...args]],
  },
  {
    name: "go", source: path.join(ROOT, "examples/go"),
    prerequisites: () => need(built(GO_INLINE, path.join(ROOT, "examples/go"), path.join(ROOT, "sdk/go")),
      `${GO_INLINE} is missing or older than examples/go and sdk/go`, "examples"),
    command: (p, args) => [GO_INLINE, ["--dir", p.dir, ...args]],
  },
];

interface Result { code: number; stdout: string; stderr: string }

/** Runs a command; its JSON result, or a failure with the engine's error lines first. */
function json(what: string, r: Result): any {
  if (r.code !== 0) throw new Error(failure(what, r));
  return JSON.parse(r.stdout);
}

function runSync(cmd: [string, string[]], env: NodeJS.ProcessEnv): Result {
  const r = spawnSync(cmd[0], cmd[1], { env, encoding: "utf8", timeout: 240_000 });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

function runAsync(cmd: [string, string[]], env: NodeJS.ProcessEnv): Promise<Result> {
  return new Promise((resolve) => {
    const child = spawn(cmd[0], cmd[1], { env, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "", stderr = "";
    child.stdout.on("data", (d) => { stdout += d; });
    child.stderr.on("data", (d) => { stderr += d; });
    child.on("close", (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
}

/** The checked inputs of each IPAM resource (either face) in a preview's steps, by resource name. */
function plannedByName(preview: any): Record<string, any> {
  const out: Record<string, any> = {};
  for (const s of preview.steps) {
    if (s.type.startsWith("ipam:index:") || s.type.startsWith("pulumi-nodejs:dynamic/ipam:")) out[s.urn.split("::").pop()] = { op: s.op, ...s.inputs };
  }
  return out;
}

const inside = (outer: string, inner: string) => {
  const fam = familyOf(outer);
  return familyOf(inner) === fam && contains(familyBits(fam), parseCidr(fam, outer), parseCidr(fam, inner));
};

/** The two regional pools' planned CIDRs. */
function regional(planned: Record<string, any>): string[] {
  return [...planned["corp-us-east-1"].cidrs, ...planned["corp-eu-west-1"].cidrs];
}

describe.each(LANGUAGES)("examples/$name on the plugin, through the Automation API inline host", (lang) => {
  let p: Project;
  let planned: Record<string, any>;
  const go = (args: string[]) => json(`${lang.name} ${args.join(" ")}`, runSync(lang.command(p, args), p.env));

  beforeAll(() => {
    needEngine();
    lang.prerequisites();
    p = project(lang.source);
    fs.mkdirSync(path.join(p.dir, "state"), { recursive: true });
  });
  afterAll(() => { if (p) cleanup(p); });

  test("preview plans every CIDR: the expected shapes, inside their pools, none overlapping", () => {
    const preview = go(["preview"]);
    expect(preview.changeSummary).toEqual({ create: 13 });
    planned = plannedByName(preview);
    for (const [name, v] of Object.entries(VPCS)) {
      expect(planned[name].op).toBe("create");
      expect(planned[name].cidr).toMatch(new RegExp(`^[0-9a-f.:]+/${v.prefix}$`));
      expect(planned[name].ipamPoolId).toBe(planned[v.pool].ipamPoolId);
      const pool = v.pool === "corp-v6" ? "fd00:10::/48" : planned[v.pool].cidrs[0];
      expect(inside(pool, planned[name].cidr) ? "" : `${planned[name].cidr} is outside ${pool}`).toBe("");
    }
    expect(regional(planned).map((c) => (inside("10.0.0.0/8", c) && c.endsWith("/12")) || c)).toEqual([true, true]);
    expectDisjoint(regional(planned));
    expectDisjoint(Object.keys(VPCS).map((n) => planned[n].cidr));
    for (const n of ["corp", "corp-us-east-1", "corp-eu-west-1", "corp-v6", "public"]) expect(planned[n].ipamPoolId).toMatch(/^ipam-pool-[0-9a-f]{17}$/);
    expect(planned["nat-gateway"].publicIp).toBe("198.51.100.0");
  }, TIMEOUT);

  test("up allocates exactly what preview showed", async () => {
    const up = go(["up"]);
    expect(up.summary).toEqual({ create: 13 });
    const o = up.outputs;
    expect(o.vpcCidrs).toEqual(Object.fromEntries(Object.keys(VPCS).slice(0, 4).map((n) => [n, planned[n].cidr])));
    expect(o.ipv6Cidrs).toEqual([planned["v6-east"].cidr, planned["v6-west"].cidr]);
    expect(o.regionalCidrs).toEqual([planned["corp-us-east-1"].cidrs, planned["corp-eu-west-1"].cidrs]);
    expect(o.natPublicIp).toBe(planned["nat-gateway"].publicIp);
    // The store holds these allocations and no others: per pool, its allocations' CIDRs.
    const pools = ["corp", "corp-us-east-1", "corp-eu-west-1", "corp-v6"];
    const inStore = await withIpam(p, async (ipam) => Object.fromEntries(await Promise.all(pools.map(async (n) =>
      [n, (await ipam.listAllocations(planned[n].ipamPoolId)).map((a) => a.cidr).sort()] as const))));
    const expected: Record<string, string[]> = { corp: [...regional(planned)].sort() };
    for (const [name, v] of Object.entries(VPCS)) (expected[v.pool] ??= []).push(planned[name].cidr);
    for (const n of pools) expected[n].sort();
    expect(inStore).toEqual(expected);
  }, TIMEOUT);

  test("a second preview shows no change", () => {
    const again = go(["preview", "--expect-no-changes"]);
    expect(again.changeSummary).toEqual({ same: 13 });
    expect(again.steps.filter((s: any) => s.op !== "same")).toEqual([]);
  }, TIMEOUT);

  test("destroy returns every address and deletes every pool", async () => {
    // (run.js prints no JSON for destroy: the store and the state tell.)
    const r = runSync(lang.command(p, ["destroy"]), p.env);
    if (r.code !== 0) throw new Error(failure(`${lang.name} destroy`, r));
    expect(await withIpam(p, (ipam) => ipam.listPools())).toEqual([]);
    expect(exportState(p).filter((r) => r.type.startsWith("ipam:"))).toEqual([]);
  }, TIMEOUT);
});

describe("a program on the plugin and one on the dynamic resources sharing one store", () => {
  const SIZES = [24, 26, 22, 25, 24, 23];
  let plugin: Project, dynamic: Project;
  let poolId: string;
  const specs = (face: string) => SIZES.map((netmaskLength, i) => ({ kind: "IpamPoolAllocation", name: `${face}-${i}`, args: { ipamPoolId: poolId, netmaskLength, description: face } }));
  const command = (p: Project, args: string[]): [string, string[]] => [process.execPath, [RUN, p.dir, ...args, "--json"]];
  const names = (face: string) => SIZES.map((_, i) => `${face}-${i}`);

  beforeAll(async () => {
    needEngine();
    needNodeSdk();
    plugin = project(path.join(ROOT, "tests/e2e/programs/custom-plugin"));
    // One store: the plugin project's. One top-level pool in it, made outside Pulumi (two programs' own top-level
    // pools in one scope could not overlap, so they could not both take 10.0.0.0/8).
    dynamic = project(path.join(ROOT, "tests/e2e/programs/custom"), { PULUMI_IPAM_STORE: plugin.env.PULUMI_IPAM_STORE });
    for (const p of [plugin, dynamic]) fs.mkdirSync(path.join(p.dir, "state"), { recursive: true });
    poolId = (await withIpam(plugin, (ipam) => ipam.createPool({ addressFamily: "ipv4", cidrs: ["10.20.0.0/18"], description: "shared" }))).ipamPoolId;
    plugin.env.IPAM_TEST_PROGRAM = JSON.stringify(specs("plugin"));
    dynamic.env.IPAM_TEST_PROGRAM = JSON.stringify(specs("dynamic"));
  });
  afterAll(() => { for (const p of [plugin, dynamic]) if (p) cleanup(p); });

  test("previews plan disjoint CIDRs across the two programs; concurrent ups allocate them, none overlapping", async () => {
    const plans = [plugin, dynamic].map((p, i) => {
      const planned = plannedByName(json(`preview ${i}`, runSync(command(p, ["preview"]), p.env)));
      return names(i === 0 ? "plugin" : "dynamic").map((n) => planned[n].cidr as string);
    });
    expectDisjoint(plans.flat());
    const [a, b] = await Promise.all([plugin, dynamic].map((p) => runAsync(command(p, ["up"]), p.env)));
    const outputs = [json("up on the plugin", a).outputs.results, json("up on the dynamic resources", b).outputs.results];
    const allocated = await withIpam(plugin, (ipam) => ipam.listAllocations(poolId));
    expect(allocated).toHaveLength(2 * SIZES.length);
    expectDisjoint(allocated.map((x) => x.cidr));
    for (const [i, face] of ["plugin", "dynamic"].entries()) {
      const mine = allocated.filter((x) => x.description === face).map((x) => x.cidr).sort();
      expect(names(face).map((n) => outputs[i][n]).sort()).toEqual(mine);
      // Each program got what its preview showed, the other program's plans notwithstanding.
      expect(names(face).map((n) => outputs[i][n])).toEqual(plans[i]);
      expect(names(face).map((n) => outputs[i][n].split("/")[1])).toEqual(SIZES.map(String));
    }
    expect(allocated.filter((x) => !inside("10.20.0.0/18", x.cidr))).toEqual([]);
  }, TIMEOUT);

  test("destroying both returns every allocation to the shared pool", async () => {
    const [a, b] = await Promise.all([plugin, dynamic].map((p) => runAsync(command(p, ["destroy"]), p.env)));
    for (const [what, r] of [["plugin", a], ["dynamic", b]] as const) if (r.code !== 0) throw new Error(failure(`destroy ${what}`, r));
    expect(await withIpam(plugin, (ipam) => ipam.listAllocations(poolId))).toEqual([]);
  }, TIMEOUT);
});
