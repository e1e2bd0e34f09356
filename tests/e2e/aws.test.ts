/**
 * examples/aws through the real Pulumi CLI with the AWS backend, against
 * fakecloud (EC2 IPAM) and moto (Elastic IPs) behind tests/support/aws/ec2-shim.ts:
 * preview plans every CIDR without touching EC2, up allocates exactly those,
 * refresh reads them back, a kill -9 of up followed by a re-run leaves nothing
 * in EC2 that the stack does not own, and destroy leaves EC2 empty.
 *
 * The provider process finds the backend through the environment, as a user's
 * would: PULUMI_IPAM_BACKEND=aws, PULUMI_IPAM_ENDPOINT (the shim),
 * PULUMI_IPAM_SCOPE_ID (an IPAM made in beforeAll), AWS_* test credentials.
 */
import {
  CreateIpamCommand, DescribeAddressesCommand, DescribeIpamPoolsCommand, EC2Client, GetIpamPoolAllocationsCommand,
} from "@aws-sdk/client-ec2";
import * as path from "node:path";
import { contains, parseCidr } from "../../provider/core/cidr";
import { fakecloudInstalled, fakecloudMissingReason, startAwsEmulators, type AwsEmulators } from "../support/aws/emulators";
import { cleanup, exportState, expectDisjoint, failure, previewPlans, project, type Project, reapPlugins, repairCheckpoint, ROOT, run, start } from "../support/pulumi";

const EXAMPLE = path.join(ROOT, "examples/aws");
const ALLOCATIONS = ["vpc-east-app", "vpc-east-data", "vpc-west-app", "vpc-west-edge", "v6-east", "v6-west"];
const POOLS = ["corp", "corp-us-east-1", "corp-eu-west-1", "corp-v6", "public"];
const RESOURCES = POOLS.length + ALLOCATIONS.length + 1;

const ipamResources = (p: Project) => exportState(p).filter((r) => r.type.startsWith("pulumi-nodejs:dynamic/ipam:"));
const byName = (p: Project) => Object.fromEntries(ipamResources(p).map((r) => [r.urn.split("::").pop(), r]));

/** What EC2 holds: every pool, its allocations, every Elastic IP. */
async function cloud(ec2: EC2Client) {
  const pools = (await ec2.send(new DescribeIpamPoolsCommand({}))).IpamPools ?? [];
  const allocations: { pool: string; id: string; cidr: string; type: string; resourceId?: string }[] = [];
  for (const p of pools) {
    let NextToken: string | undefined;
    do {
      const out = await ec2.send(new GetIpamPoolAllocationsCommand({ IpamPoolId: p.IpamPoolId, NextToken }));
      for (const a of out.IpamPoolAllocations ?? []) allocations.push({ pool: p.IpamPoolId!, id: a.IpamPoolAllocationId!, cidr: a.Cidr!, type: a.ResourceType!, resourceId: a.ResourceId });
      NextToken = out.NextToken;
    } while (NextToken);
  }
  const addresses = (await ec2.send(new DescribeAddressesCommand({}))).Addresses ?? [];
  return { pools: pools.map((p) => p.IpamPoolId!), allocations, addresses: addresses.map((a) => a.AllocationId!) };
}

/** Everything in EC2 that no resource of the stack owns, and ids the stack holds twice. */
async function audit(p: Project, ec2: EC2Client) {
  const state = ipamResources(p);
  const ids = state.map((r) => r.id as string);
  const of = (t: string) => new Set(state.filter((r) => r.type.endsWith(`:${t}`)).map((r) => r.id as string));
  const pools = of("IpamPool");
  const allocations = of("IpamPoolAllocation");
  const addresses = of("ElasticIp");
  const c = await cloud(ec2);
  const leaked = [
    ...c.pools.filter((id) => !pools.has(id)).map((id) => `pool ${id}`),
    ...c.allocations.filter((a) => !(a.type === "ipam-pool" ? pools.has(a.resourceId!) : a.type === "eip" ? addresses.has(a.resourceId!) : allocations.has(a.id)))
      .map((a) => `${a.type} ${a.cidr} ${a.id}`),
    ...c.addresses.filter((id) => !addresses.has(id)).map((id) => `address ${id}`),
  ];
  const missing = [...pools].filter((id) => !c.pools.includes(id)).concat([...allocations].filter((id) => !c.allocations.some((a) => a.id === id)));
  return { leaked, missing, duplicated: ids.filter((id, i) => ids.indexOf(id) !== i), managed: state.length };
}

const withFakecloud = fakecloudInstalled() ? describe : describe.skip;
withFakecloud(`examples/aws with the AWS backend on fakecloud + moto, real Pulumi CLI${fakecloudInstalled() ? "" : ` — skipped: ${fakecloudMissingReason()}`}`, () => {
  let emu: AwsEmulators;
  let ec2: EC2Client;
  let env: Record<string, string>;

  beforeAll(async () => {
    emu = await startAwsEmulators({ fakecloud: true });
    ec2 = new EC2Client({ region: emu.region, endpoint: emu.endpoint!, credentials: emu.credentials });
    const created = await ec2.send(new CreateIpamCommand({ OperatingRegions: [{ RegionName: "us-east-1" }, { RegionName: "eu-west-1" }] }));
    env = {
      ...emu.env, PULUMI_IPAM_BACKEND: "aws", PULUMI_IPAM_ENDPOINT: emu.endpoint!, PULUMI_IPAM_SCOPE_ID: created.Ipam!.PrivateDefaultScopeId!,
    };
  }, 120_000);
  afterAll(async () => {
    ec2?.destroy();
    await emu?.stop();
  });

  describe("preview, up, refresh, destroy", () => {
    let p: Project;
    let planned: Record<string, any>;
    beforeAll(() => { p = project(EXAMPLE, env); });
    afterAll(() => cleanup(p));

    test("preview plans every CIDR (pools not yet in EC2 included) and creates nothing in EC2", async () => {
      planned = previewPlans(p, ALLOCATIONS);
      expectDisjoint([...planned["corp-us-east-1"].cidrs, ...planned["corp-eu-west-1"].cidrs]);
      for (const [vpc, pool] of [["vpc-east-app", "corp-us-east-1"], ["vpc-west-edge", "corp-eu-west-1"]]) {
        const outer = parseCidr("ipv4", planned[pool].cidrs[0]);
        expect(contains(32, parseCidr("ipv4", "10.0.0.0/8"), outer)).toBe(true);
        expect(contains(32, outer, parseCidr("ipv4", planned[vpc].cidr))).toBe(true);
      }
      expect(planned["vpc-east-app"].cidr).toMatch(/\/20$/);
      expect(planned["vpc-west-edge"].cidr).toMatch(/\/24$/);
      expect(planned["corp-us-east-1"].ipamPoolId).toMatch(/^ipam-pool-[0-9a-f]{17}$/);
      expect(planned["nat-gateway"].publicIp).toBe("198.51.100.0");
      expect(await cloud(ec2)).toEqual({ pools: [], allocations: [], addresses: [] });
    });

    test("up allocates exactly what preview showed, in pools EC2 created", async () => {
      const r = run(p, ["up", "--json"]);
      if (r.code !== 0) throw new Error(failure(`up`, r));
      const o = r.json.outputs;
      for (const n of ALLOCATIONS.slice(0, 4)) expect(o.vpcCidrs[n]).toBe(planned[n].cidr);
      expect(o.ipv6Cidrs).toEqual([planned["v6-east"].cidr, planned["v6-west"].cidr]);
      expect(o.regionalCidrs).toEqual([planned["corp-us-east-1"].cidrs, planned["corp-eu-west-1"].cidrs]);
      expect(o.natPublicIp).toBe(planned["nat-gateway"].publicIp);
      // The pools have EC2's ids, not the planned ones, and hold the planned allocations.
      const c = await cloud(ec2);
      expect(c.pools.sort()).toEqual([o.poolIds.corp, ...o.poolIds.regional, o.poolIds.v6, o.poolIds.public].sort());
      expect(o.poolIds.regional[0]).not.toBe(planned["corp-us-east-1"].ipamPoolId);
      const inEast = c.allocations.filter((a) => a.pool === o.poolIds.regional[0]).map((a) => a.cidr).sort();
      expect(inEast).toEqual([planned["vpc-east-app"].cidr, planned["vpc-east-data"].cidr].sort());
      expect(c.allocations.filter((a) => a.pool === o.poolIds.corp).map((a) => [a.cidr, a.type]).sort())
        .toEqual([[planned["corp-eu-west-1"].cidrs[0], "ipam-pool"], [planned["corp-us-east-1"].cidrs[0], "ipam-pool"]].sort());
      expect(await audit(p, ec2)).toEqual({ leaked: [], missing: [], duplicated: [], managed: RESOURCES });
    });

    test("a second preview shows no change", () => {
      const r = run(p, ["preview", "--json", "--expect-no-changes"]);
      expect(r.code).toBe(0);
      expect(r.json.steps.every((s: any) => s.op === "same")).toBe(true);
    });

    test("refresh reads every pool, allocation and address back from EC2 unchanged", () => {
      const before = byName(p);
      const r = run(p, ["refresh"]);
      if (r.code !== 0) throw new Error(failure(`refresh`, r));
      const after = byName(p);
      expect(Object.keys(after).sort()).toEqual(Object.keys(before).sort());
      for (const n of ALLOCATIONS) expect([after[n].id, after[n].outputs.cidr, after[n].outputs.description]).toEqual([before[n].id, before[n].outputs.cidr, before[n].outputs.description]);
      for (const n of POOLS) {
        const keep = ["ipamPoolId", "cidrs", "poolDepth", "sourceIpamPoolId", "locale", "description", "allocationDefaultNetmaskLength", "allocationResourceTags", "tags"];
        const pick = (o: any) => Object.fromEntries(keep.map((k) => [k, o[k]]));
        expect(pick(after[n].outputs)).toEqual(pick(before[n].outputs));
      }
      expect(after["nat-gateway"].outputs.publicIp).toBe(before["nat-gateway"].outputs.publicIp);
    });

    // EC2 keeps neither resourceType nor tags on an AllocateIpamPoolCidr allocation: read() keeps the
    // resource's own, so a refresh does not turn into replacements with new CIDRs.
    test("after refresh, a preview still shows no change", () => {
      const r = run(p, ["preview", "--json", "--expect-no-changes"]);
      if (r.code !== 0) throw new Error(failure("preview after refresh (wants changes)", r));
      expect(r.json.steps.every((s: any) => s.op === "same")).toBe(true);
    });

    test("destroy releases every allocation and address and deletes every pool in EC2", async () => {
      const r = run(p, ["destroy"]);
      if (r.code !== 0) throw new Error(failure(`destroy`, r));
      expect(ipamResources(p)).toEqual([]);
      expect(await cloud(ec2)).toEqual({ pools: [], allocations: [], addresses: [] });
    });
  });

  describe("kill -9 of up, then cancel and re-run", () => {
    let p: Project;
    beforeAll(() => { p = project(EXAMPLE, env); });
    afterAll(() => cleanup(p));

    // Killed right after the n-th creating call of each kind reached EC2 (through the shim's request log).
    const moments: [string, number][] = [["CreateIpamPool", 1], ["ProvisionIpamPoolCidr", 3], ["AllocateIpamPoolCidr", 2], ["AllocateAddress", 1]];
    test.each(moments)("killed after %s #%i: the re-run leaves 0 leaked, 0 duplicated, and destroy leaves EC2 empty", async (action, n) => {
      await emu.shim!.clear();
      const up = start(p, ["up"]);
      const deadline = Date.now() + 180_000;
      let reached = false;
      while (!reached && Date.now() < deadline) {
        reached = (await emu.shim!.requests()).filter((r) => r.action === action).length >= n;
        if (!reached) await new Promise((r) => setTimeout(r, 25));
      }
      up.kill();
      await up.done;
      reapPlugins(p);
      repairCheckpoint(p);
      expect(reached).toBe(true);
      const made = await cloud(ec2);
      expect(run(p, ["cancel"]).code).toBe(0);
      const again = run(p, ["up"]);
      if (again.code !== 0) throw new Error(failure(`re-run after kill at ${action} #${n}`, again));
      const a = await audit(p, ec2);
      process.stdout.write(`killed after ${action} #${n}: EC2 then held ${made.pools.length} pool(s), ${made.allocations.length} allocation(s), ${made.addresses.length} address(es); after the re-run ${a.managed} resources, leaked ${a.leaked.length}, duplicated ${a.duplicated.length}\n`);
      expect(a).toEqual({ leaked: [], missing: [], duplicated: [], managed: RESOURCES });
      expect(run(p, ["destroy"]).code).toBe(0);
      expect(await cloud(ec2)).toEqual({ pools: [], allocations: [], addresses: [] });
    }, 600_000);
  });
});
