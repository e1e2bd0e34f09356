/**
 * examples/alicloud through the real Pulumi CLI with ipam:backend alicloud,
 * against the Alibaba Cloud contract server running in a process of its own
 * (the provider process reaches it over HTTP, as it would reach Alibaba):
 * preview plans every CIDR, up reserves exactly those, refresh notices what
 * changed outside Pulumi, kill -9 of up and a re-run leave nothing leaked or
 * duplicated (Alibaba's reservations compared with the stack state), destroy
 * removes everything.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { blockRange, parseCidr } from "../../provider/core/cidr";
import { ContractServerProcess, spawnContractServer, vpcIpam, vpcIpamList } from "../support/alicloud/launch";
import { cleanup, exportState, plannedByName, project, Project, reapPlugins, ROOT, run, start, expectDisjoint, repairCheckpoint, failure } from "../support/pulumi";

const EXAMPLE = path.join(ROOT, "examples/alicloud");
const REGION = "cn-hangzhou";
const OTHER = "cn-shanghai";
const ALLOCATIONS = ["vpc-east-app", "vpc-east-data", "vpc-west-app", "vpc-west-edge", "v6-east", "v6-west"];
const POOLS = ["corp", `corp-${REGION}`, `corp-${OTHER}`, "corp-v6"];
const TRIALS = Number(process.env.IPAM_ALICLOUD_CRASH_TRIALS ?? 4);

let server: ContractServerProcess;
let scopeId: string;

beforeAll(async () => {
  server = await spawnContractServer();
  const ipam = await vpcIpam(server, "CreateIpam", { RegionId: REGION, IpamName: "e2e", OperatingRegionList: [REGION, OTHER] });
  scopeId = ipam.PrivateDefaultScopeId;
}, 120_000);
afterAll(async () => {
  await server?.stop();
});

function alicloudProject(source = EXAMPLE): Project {
  return project(source, {
    PULUMI_IPAM_BACKEND: "alicloud",
    PULUMI_IPAM_ENDPOINT: `http://${server.endpoint}`,
    PULUMI_IPAM_REGION: REGION,
    PULUMI_IPAM_SCOPE_ID: scopeId,
    ALIBABA_CLOUD_ACCESS_KEY_ID: server.accessKeyId,
    ALIBABA_CLOUD_ACCESS_KEY_SECRET: server.accessKeySecret,
  });
}

const ours = (p: Project) => exportState(p).filter((r) => r.type.startsWith("pulumi-nodejs:dynamic/ipam:"));
const byName = (p: Project, name: string) => ours(p).find((r) => r.urn.endsWith(`::${name}`));

/**
 * Alibaba's side against the stack: every pool of the scope and every
 * reservation in it must belong to exactly one resource in the state, and
 * every resource in the state must exist in Alibaba.
 */
async function audit(p: Project): Promise<{ leaked: string[]; missing: string[]; duplicated: string[]; managed: number }> {
  const state = ours(p);
  const ids = state.map((r) => r.id as string);
  const duplicated = ids.filter((id, i) => ids.indexOf(id) !== i);
  const poolIds = new Set(state.filter((r) => r.type.endsWith(":IpamPool")).map((r) => r.id));
  const allocationIds = new Set(state.filter((r) => r.type.endsWith(":IpamPoolAllocation")).map((r) => r.id));
  const leaked: string[] = [];
  const seenPools = new Set<string>();
  const seenAllocations = new Set<string>();
  for (const pool of await vpcIpamList(server, "ListIpamPools", "IpamPools", { RegionId: REGION, IpamScopeId: scopeId })) {
    seenPools.add(pool.IpamPoolId);
    if (!poolIds.has(pool.IpamPoolId)) leaked.push(`pool ${pool.IpamPoolId} (${pool.IpamPoolName})`);
    const region = pool.PoolRegionId || REGION;
    for (const a of await vpcIpamList(server, "ListIpamPoolAllocations", "IpamPoolAllocations", { RegionId: region, IpamPoolId: pool.IpamPoolId })) {
      seenAllocations.add(a.IpamPoolAllocationId);
      const owned = a.ResourceType === "IpamPool" ? poolIds.has(a.ResourceId) : allocationIds.has(a.IpamPoolAllocationId);
      if (!owned) leaked.push(`${a.ResourceType} ${a.Cidr} ${a.IpamPoolAllocationId} in ${pool.IpamPoolId}`);
    }
  }
  const missing = [...[...poolIds].filter((id) => !seenPools.has(id)), ...[...allocationIds].filter((id) => !seenAllocations.has(id))];
  return { leaked, missing, duplicated, managed: state.length };
}

/** How many pools and Custom reservations the scope holds in Alibaba. */
async function madeInAlibaba(): Promise<number> {
  const pools = await vpcIpamList(server, "ListIpamPools", "IpamPools", { RegionId: REGION, IpamScopeId: scopeId });
  let n = pools.length;
  for (const pool of pools) {
    const rows = await vpcIpamList(server, "ListIpamPoolAllocations", "IpamPoolAllocations", { RegionId: pool.PoolRegionId || REGION, IpamPoolId: pool.IpamPoolId }).catch(() => []);
    n += rows.filter((a) => a.ResourceType === "Custom").length;
  }
  return n;
}


describe("examples/alicloud: real Pulumi CLI, provider process -> contract server over HTTP", () => {
  let p: Project;
  let planned: Record<string, any>;
  beforeAll(() => { p = alicloudProject(); });
  afterAll(() => cleanup(p));

  test("preview plans every CIDR (nested pools, reservations) before anything exists in Alibaba", async () => {
    const r = run(p, ["preview", "--json"]);
    if (r.code !== 0) throw new Error(failure("preview", r));
    planned = plannedByName(r.json);
    for (const n of ALLOCATIONS) expect(planned[n].cidr).toMatch(/^[0-9a-f.:]+\/\d+$/);
    expectDisjoint(ALLOCATIONS.map((n) => planned[n].cidr));
    const regional = [...planned[`corp-${REGION}`].cidrs, ...planned[`corp-${OTHER}`].cidrs];
    expect(regional.map((c: string) => c.split("/")[1])).toEqual(["12", "12"]);
    expectDisjoint(regional);
    for (const c of regional) expect(blockRange(32, parseCidr("ipv4", c))[0] >> 24n).toBe(10n);
    expect(planned["vpc-east-app"].ipamPoolId).toBe(planned[`corp-${REGION}`].ipamPoolId);
    expect(planned["vpc-east-data"].cidr).toMatch(/\/22$/);
    expect(planned["v6-east"].cidr).toMatch(/^fd00:10:.*\/56$/);
    expect(await vpcIpamList(server, "ListIpamPools", "IpamPools", { RegionId: REGION, IpamScopeId: scopeId })).toEqual([]);
  });

  test("up reserves exactly what preview showed; Alibaba holds exactly the stack's pools and reservations", async () => {
    const r = run(p, ["up", "--json"]);
    if (r.code !== 0) throw new Error(failure("up", r));
    const o = r.json.outputs;
    for (const n of ALLOCATIONS.slice(0, 4)) expect(o.vpcCidrs[n]).toBe(planned[n].cidr);
    expect(o.ipv6Cidrs).toEqual([planned["v6-east"].cidr, planned["v6-west"].cidr]);
    expect(o.regionalCidrs).toEqual([planned[`corp-${REGION}`].cidrs, planned[`corp-${OTHER}`].cidrs]);
    // Real Alibaba ids, not the planned ones.
    expect(o.poolIds.corp).toMatch(/^ipam-pool-[a-z0-9]+$/);
    expect(o.poolIds.corp).not.toBe(planned.corp.ipamPoolId);
    const inAlibaba = await vpcIpamList(server, "ListIpamPoolAllocations", "IpamPoolAllocations", { RegionId: OTHER, IpamPoolId: o.poolIds.regional[1] });
    expect(inAlibaba.map((a) => a.Cidr).sort()).toEqual([planned["vpc-west-app"].cidr, planned["vpc-west-edge"].cidr].sort());
    expect(inAlibaba.every((a) => a.ResourceType === "Custom" && a.RegionId === OTHER)).toBe(true);
    expect(await audit(p)).toEqual({ leaked: [], missing: [], duplicated: [], managed: POOLS.length + ALLOCATIONS.length });
  });

  test("a second preview shows no change", () => {
    const r = run(p, ["preview", "--json", "--expect-no-changes"]);
    if (r.code !== 0) throw new Error(failure("preview", r));
    expect(r.json.steps.every((s: any) => s.op === "same")).toBe(true);
  });

  test("refresh keeps what Alibaba still has; a reservation deleted outside Pulumi leaves the stack, and up reserves the CIDR preview plans", async () => {
    const before = ours(p).map((r) => [r.urn, r.outputs.cidr ?? r.outputs.cidrs]);
    const quiet = run(p, ["refresh"]);
    if (quiet.code !== 0) throw new Error(failure("refresh", quiet));
    expect(ours(p).map((r) => [r.urn, r.outputs.cidr ?? r.outputs.cidrs])).toEqual(before);
    expect(run(p, ["preview", "--expect-no-changes"]).code).toBe(0);

    const edge = byName(p, "vpc-west-edge");
    await vpcIpam(server, "DeleteIpamPoolAllocation", { RegionId: OTHER, IpamPoolAllocationId: edge.id });
    const r = run(p, ["refresh"]);
    if (r.code !== 0) throw new Error(failure("refresh", r));
    expect(byName(p, "vpc-west-edge")).toBeUndefined();
    const pv = run(p, ["preview", "--json"]);
    const again = plannedByName(pv.json)["vpc-west-edge"];
    expect(again.op).toBe("create");
    const up = run(p, ["up"]);
    if (up.code !== 0) throw new Error(failure("up", up));
    expect(byName(p, "vpc-west-edge").outputs.cidr).toBe(again.cidr);
    expect(await audit(p)).toMatchObject({ leaked: [], missing: [], duplicated: [] });
  });

  test("destroy deletes every reservation and pool in Alibaba", async () => {
    const r = run(p, ["destroy"]);
    if (r.code !== 0) throw new Error(failure("destroy", r));
    expect(ours(p)).toEqual([]);
    expect(await vpcIpamList(server, "ListIpamPools", "IpamPools", { RegionId: REGION, IpamScopeId: scopeId })).toEqual([]);
  });
});

describe("kill -9 of pulumi up, then cancel and re-run", () => {
  let p: Project;
  beforeAll(() => { p = alicloudProject(); });
  afterAll(() => cleanup(p));

  test(`${TRIALS} trials: Alibaba's reservations match the stack state after the re-run (0 leaked, 0 duplicated)`, async () => {
    let seed = Number(process.env.IPAM_CRASH_SEED ?? 20261123);
    const rand = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    const report: string[] = [];
    for (let t = 0; t < TRIALS; t++) {
      // Kill at a chosen point of the update: once Alibaba holds `target` of the program's pools and reservations.
      const target = 1 + Math.floor(rand() * (POOLS.length + ALLOCATIONS.length - 1));
      const t0 = Date.now();
      const up = start(p, ["up", "--skip-preview"]);
      let made = 0;
      while (!up.exited() && Date.now() - t0 < 180_000 && (made = await madeInAlibaba()) < target) await new Promise((r) => setTimeout(r, 20));
      const before = up.exited() ? await up.done : undefined;
      up.kill();
      const delay = Date.now() - t0;
      const code = await up.done;
      // An up that ended on its own before the kill must have succeeded; one still running at the deadline is a hang.
      if (before !== undefined && before !== 0) throw new Error(`trial ${t}: ${failure("up (before the kill)", { code: before, ...up.output() })}`);
      if (before === undefined && made < target) throw new Error(`trial ${t}: ${failure(`up (made ${made} of ${target} pools/reservations in ${delay} ms, then killed)`, { code, ...up.output() })}`);
      reapPlugins(p);
      repairCheckpoint(p);
      const atKill = await audit(p).catch(() => ({ leaked: [] as string[], managed: 0 }));
      const cancel = run(p, ["cancel"]);
      if (cancel.code !== 0) throw new Error(`trial ${t} (kill after ${delay} ms): ${failure("cancel", cancel)}`);
      const again = run(p, ["up"]);
      if (again.code !== 0) throw new Error(`trial ${t} (kill after ${delay} ms): ${failure("re-run", again)}`);
      const a = await audit(p);
      report.push(`trial ${t}: killed after ${delay} ms (${target} made in Alibaba) with ${atKill.managed}/${POOLS.length + ALLOCATIONS.length} resources in the stack and ${atKill.leaked.length} pool(s)/reservation(s) in Alibaba not yet in it; after re-run ${a.managed} resources, leaked ${a.leaked.length}, missing ${a.missing.length}, duplicated ${a.duplicated.length}`);
      expect(a).toEqual({ leaked: [], missing: [], duplicated: [], managed: POOLS.length + ALLOCATIONS.length });
      const d = run(p, ["destroy"]);
      if (d.code !== 0) throw new Error(failure("destroy", d));
      expect(await audit(p)).toEqual({ leaked: [], missing: [], duplicated: [], managed: 0 });
    }
    process.stdout.write(report.join("\n") + "\n");
  }, 1_800_000);
});

describe("an ElasticIp on the alicloud backend", () => {
  let p: Project;
  beforeAll(() => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "ipam-alicloud-eip-"));
    fs.writeFileSync(path.join(dir, "Pulumi.yaml"), "name: ipam-alicloud-eip\nruntime: nodejs\n");
    fs.writeFileSync(path.join(dir, "index.ts"), [
      'import * as ipam from "pulumi-ipam";',
      `const pool = new ipam.IpamPool("public", { addressFamily: "ipv4", cidrs: ["198.51.100.0/28"], locale: "${REGION}" });`,
      'export const ip = new ipam.ElasticIp("nat", { ipamPoolId: pool.ipamPoolId }).publicIp;',
    ].join("\n"));
    p = alicloudProject(dir);
    fs.rmSync(dir, { recursive: true, force: true });
  });
  afterAll(() => cleanup(p));

  test("preview already fails with UnsupportedOperation saying what Alibaba lacks and what to use instead; up changes nothing", async () => {
    const pools = async () => (await vpcIpamList(server, "ListIpamPools", "IpamPools", { RegionId: REGION, IpamScopeId: scopeId })).map((x) => x.IpamPoolId);
    const before = await pools();
    const pv = run(p, ["preview"]);
    expect(pv.code).not.toBe(0);
    expect(pv.stdout + pv.stderr).toMatch(/UnsupportedOperation: Alibaba Cloud cannot allocate an Elastic IP from an IPAM pool/);
    const r = run(p, ["up"]);
    expect(r.code).not.toBe(0);
    expect(r.stdout + r.stderr).toMatch(/UnsupportedOperation: Alibaba Cloud cannot allocate an Elastic IP from an IPAM pool/);
    expect(r.stdout + r.stderr).toContain("alicloud.ecs.EipAddress");
    expect(run(p, ["destroy"]).code).toBe(0);
    expect(await pools()).toEqual(before);
  });
});
