/** The local quickstart through the real Pulumi CLI: preview plans, up allocates exactly the plan. */
import * as path from "node:path";
import { blockRange, parseCidr } from "../../provider/core/cidr";
import { cleanup, exportState, expectDisjoint, plannedByName, previewPlans, project, Project, ROOT, run, withIpam } from "../support/pulumi";

const QUICKSTART = path.join(ROOT, "examples/local-quickstart");
const ALLOCATIONS = ["vpc-east-app", "vpc-east-data", "vpc-west-app", "vpc-west-edge", "v6-east", "v6-west"];

describe("local quickstart, real Pulumi CLI on a file backend", () => {
  let p: Project;
  let planned: Record<string, any>;
  beforeAll(() => { p = project(QUICKSTART); });
  afterAll(() => cleanup(p));

  test("preview plans every CIDR, distinct among siblings, including in pools new in this program", () => {
    planned = previewPlans(p, ALLOCATIONS);
    const regional = [...planned["corp-us-east-1"].cidrs, ...planned["corp-eu-west-1"].cidrs];
    expectDisjoint(regional);
    for (const c of regional) expect(blockRange(32, parseCidr("ipv4", c))[0] >> 24n).toBe(10n);
    expect(planned["corp-us-east-1"].ipamPoolId).toMatch(/^ipam-pool-[0-9a-f]{17}$/);
    expect(planned["vpc-east-app"].ipamPoolId).toBe(planned["corp-us-east-1"].ipamPoolId);
    expect(planned["nat-gateway"].publicIp).toBe("198.51.100.0");
  });

  test("up allocates exactly what preview showed", async () => {
    const r = run(p, ["up", "--json"]);
    expect(r.code).toBe(0);
    const o = r.json.outputs;
    for (const n of ALLOCATIONS.slice(0, 4)) expect(o.vpcCidrs[n]).toBe(planned[n].cidr);
    expect(o.ipv6Cidrs).toEqual([planned["v6-east"].cidr, planned["v6-west"].cidr]);
    expect(o.regionalCidrs).toEqual([planned["corp-us-east-1"].cidrs, planned["corp-eu-west-1"].cidrs]);
    expect(o.natPublicIp).toBe(planned["nat-gateway"].publicIp);
    const inStore = await withIpam(p, async (ipam) => {
      const east = await ipam.listAllocations(planned["corp-us-east-1"].ipamPoolId);
      return east.map((a) => a.cidr).sort();
    });
    expect(inStore).toEqual([planned["vpc-east-app"].cidr, planned["vpc-east-data"].cidr].sort());
  });

  test("a second preview shows no change", () => {
    const r = run(p, ["preview", "--json", "--expect-no-changes"]);
    expect(r.code).toBe(0);
    expect(r.json.steps.every((s: any) => s.op === "same")).toBe(true);
  });

  test("refresh notices an allocation released outside Pulumi, and up allocates it again", async () => {
    const edge = exportState(p).find((x) => x.urn.endsWith("::vpc-west-edge"));
    await withIpam(p, (ipam) => ipam.release({ ipamPoolId: edge.outputs.ipamPoolId, ipamPoolAllocationId: edge.id }));
    expect(run(p, ["refresh"]).code).toBe(0);
    expect(exportState(p).find((x) => x.urn.endsWith("::vpc-west-edge"))).toBeUndefined();
    const pv = run(p, ["preview", "--json"]);
    expect(plannedByName(pv.json)["vpc-west-edge"].op).toBe("create");
    expect(run(p, ["up"]).code).toBe(0);
    const again = exportState(p).find((x) => x.urn.endsWith("::vpc-west-edge"));
    expect(again.outputs.cidr).toBe(plannedByName(pv.json)["vpc-west-edge"].cidr);
  });

  test("destroy returns every address and deletes every pool", async () => {
    expect(run(p, ["destroy"]).code).toBe(0);
    const left = await withIpam(p, async (ipam) => (await ipam.listPools()).length);
    expect(left).toBe(0);
    expect(exportState(p).filter((x) => x.type.startsWith("pulumi-nodejs:dynamic/ipam:"))).toEqual([]);
  });
});

describe("plan fidelity when resources register in another order", () => {
  let p: Project;
  beforeAll(() => { p = project(QUICKSTART); });
  afterAll(() => cleanup(p));

  test("up with a different registration order than preview allocates what preview showed", () => {
    const pv = run(p, ["preview", "--json"], { IPAM_SHUFFLE_SEED: "3" });
    expect(pv.code).toBe(0);
    const planned = plannedByName(pv.json);
    const up = run(p, ["up", "--json"], { IPAM_SHUFFLE_SEED: "11" });
    expect(up.code).toBe(0);
    for (const n of ALLOCATIONS.slice(0, 4)) expect(up.json.outputs.vpcCidrs[n]).toBe(planned[n].cidr);
    expect(run(p, ["destroy"]).code).toBe(0);
  });
});
