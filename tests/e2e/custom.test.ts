/** Import, bad inputs failing at preview with the seed's code, and strict plans, through the real Pulumi CLI. */
import * as path from "node:path";
import Database from "better-sqlite3";
import { cleanup, exportState, project, Project, ROOT, run, withIpam } from "../support/pulumi";

const CUSTOM = path.join(ROOT, "tests/e2e/programs/custom");
const program = (specs: unknown[]) => ({ IPAM_TEST_PROGRAM: JSON.stringify(specs) });

function storeRows(p: Project): Record<string, number> {
  const db = new Database(p.store, { readonly: true });
  try {
    const n = (t: string) => (db.prepare(`SELECT count(*) AS n FROM ${t}`).get() as { n: number }).n;
    return { pools: n("ipam_pools"), allocations: n("ipam_allocations"), free: n("ipam_free"), reservations: n("ipam_reservations"), tokens: n("ipam_tokens") };
  } finally {
    db.close();
  }
}

describe("custom programs", () => {
  let p: Project;
  let poolId: string;
  beforeAll(async () => {
    p = project(CUSTOM);
    poolId = (await withIpam(p, (ipam) => ipam.createPool({
      addressFamily: "ipv4", cidrs: ["10.20.0.0/16"], allocationMinNetmaskLength: 20, allocationMaxNetmaskLength: 26,
    }))).ipamPoolId;
  });
  afterAll(() => cleanup(p));

  test.each([
    ["misaligned cidr", { ipamPoolId: () => poolId, cidr: "10.20.0.1/24" }, "IllegalParam.Cidr"],
    ["mask outside the pool's rules", { ipamPoolId: () => poolId, netmaskLength: 28 }, "IllegalParam.CidrMask"],
    ["wrong address family", { ipamPoolId: () => poolId, cidr: "2001:db8::/64" }, "IllegalParam.Cidr"],
    ["unknown pool", { ipamPoolId: () => "ipam-pool-0123456789abcdef0", netmaskLength: 24 }, "InvalidIpamPoolId.NotFound"],
    ["no netmask and no default", { ipamPoolId: () => poolId }, "InvalidParameterCombination"],
  ])("%s fails at preview with the seed's code and writes nothing", (_name, args, code) => {
    const before = storeRows(p);
    const resolved = Object.fromEntries(Object.entries(args).map(([k, v]) => [k, typeof v === "function" ? v() : v]));
    const r = run(p, ["preview"], program([{ kind: "IpamPoolAllocation", name: "bad", args: resolved }]));
    expect(r.code).not.toBe(0);
    expect(r.stdout + r.stderr).toContain(code);
    expect(storeRows(p)).toEqual(before);
  });

  test("import by allocation id adopts an allocation made outside Pulumi; destroy releases it", async () => {
    const a = await withIpam(p, (ipam) => ipam.allocate({ ipamPoolId: poolId, cidr: "10.20.64.0/20", description: "legacy" }));
    const spec = [{ kind: "IpamPoolAllocation", name: "legacy", args: { ipamPoolId: poolId, ipamPoolAllocationId: a.ipamPoolAllocationId, description: "legacy" } }];
    const up = run(p, ["up", "--json"], program(spec));
    expect(up.stderr).toBe("");
    expect(up.code).toBe(0);
    expect(up.json.outputs.results.legacy).toBe("10.20.64.0/20");
    const imported = exportState(p).find((x) => x.urn.endsWith("::legacy"));
    expect(imported.id).toBe(a.ipamPoolAllocationId);
    expect(await withIpam(p, (ipam) => ipam.listAllocations(poolId))).toHaveLength(1);
    expect(run(p, ["preview", "--json", "--expect-no-changes"], program(spec)).code).toBe(0);
    expect(run(p, ["destroy"], program(spec)).code).toBe(0);
    const left = await withIpam(p, (ipam) => ipam.listAllocations(poolId));
    expect(left).toEqual([]);
  });

  test("strict plans: up fails before changing anything when the planned CIDR was taken since preview", async () => {
    const spec = [{ kind: "IpamPoolAllocation", name: "app", args: { ipamPoolId: poolId, netmaskLength: 24 } }];
    const pv = run(p, ["preview", "--json"], program(spec));
    const planned = pv.json.steps.find((s: any) => s.urn.endsWith("::app")).inputs.cidr;
    const intruder = await withIpam(p, (ipam) => ipam.allocate({ ipamPoolId: poolId, cidr: planned }));
    const before = storeRows(p);
    const strict = run(p, ["up"], { ...program(spec), PULUMI_IPAM_STRICT_PLAN: "true" });
    expect(strict.code).not.toBe(0);
    expect(strict.stdout + strict.stderr).toContain(`planned ${planned}`);
    expect(strict.stdout + strict.stderr).toContain("urn:pulumi:dev::ipam-e2e-custom::pulumi-nodejs:dynamic/ipam:IpamPoolAllocation::app");
    expect(storeRows(p).allocations).toBe(before.allocations);
    // Without strict, up proceeds and says which allocation moved, from what to what.
    const up = run(p, ["up", "--json"], program(spec));
    expect(up.code).toBe(0);
    const app = exportState(p).find((x) => x.urn.endsWith("::app"));
    expect(app.outputs.cidr).not.toBe(planned);
    expect(app.outputs.planNote).toContain(`planned ${planned}`);
    expect(app.outputs.planNote).toContain(app.outputs.cidr);
    expect(run(p, ["destroy"], program(spec)).code).toBe(0);
    await withIpam(p, (ipam) => ipam.release({ ipamPoolId: poolId, ipamPoolAllocationId: intruder.ipamPoolAllocationId }));
  });

  test("plan keys come from the URN: same-named children of components of different types get their own plans", async () => {
    const spec = ["Network", "Shared"].map((type) => ({
      kind: "IpamPoolAllocation", name: "vpc", parent: `${type}/main`, args: { ipamPoolId: poolId, netmaskLength: 24 },
    }));
    const pv = run(p, ["preview", "--json"], program(spec));
    expect(pv.code).toBe(0);
    const steps = pv.json.steps.filter((s: any) => s.urn.endsWith("ipam:IpamPoolAllocation::vpc"));
    expect(steps.map((s: any) => s.inputs.planKey).sort()).toEqual([
      "urn:pulumi:dev::ipam-e2e-custom::test:index:Network$pulumi-nodejs:dynamic/ipam:IpamPoolAllocation::vpc",
      "urn:pulumi:dev::ipam-e2e-custom::test:index:Shared$pulumi-nodejs:dynamic/ipam:IpamPoolAllocation::vpc",
    ]);
    // Each plan key is the resource's own URN, and the two plans are distinct CIDRs.
    for (const s of steps) expect(s.inputs.planKey).toBe(s.urn);
    expect(new Set(steps.map((s: any) => s.inputs.cidr)).size).toBe(2);
    const up = run(p, ["up", "--json"], program(spec));
    expect(up.code).toBe(0);
    expect([up.json.outputs.results["Network/main/vpc"], up.json.outputs.results["Shared/main/vpc"]].sort())
      .toEqual(steps.map((s: any) => s.inputs.cidr).sort());
    expect(run(p, ["destroy"], program(spec)).code).toBe(0);
  });

  test("a failed run prints the engine's error once, without the Automation API's wrapper or colour markup", () => {
    const r = run(p, ["preview"], program([{ kind: "IpamPoolAllocation", name: "bad", args: { ipamPoolId: poolId, netmaskLength: 28 } }]));
    expect(r.code).toBe(1);
    const all = r.stdout + r.stderr;
    expect(all).toContain("IllegalParam.CidrMask");
    expect(all).not.toMatch(/code: -?\d+\s+stdout:/);
    expect(all).not.toContain("<{%");
    expect(r.stderr.trim().split("\n")).toHaveLength(1);
    expect(all.split("IllegalParam.CidrMask").length - 1).toBe(1);
  });

  test("bad runner arguments: one line and exit 2", () => {
    const r = run(p, ["frobnicate"]);
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split("\n")).toHaveLength(1);
    expect(r.stderr).toContain("usage: pulumi-ipam run");
  });
});
