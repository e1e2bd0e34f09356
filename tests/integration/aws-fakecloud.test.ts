/**
 * Probe of fakecloud's EC2 IPAM and Elastic IP actions through
 * @aws-sdk/client-ec2, without the shim: what matches the AWS API reference
 * and every difference ("differs from AWS:"), as listed in
 * docs/emulators-aws.md. If a fakecloud upgrade changes one of these, this
 * file says which, and the doc and the shim (tests/support/aws/ec2-shim.ts)
 * follow.
 */
import * as E from "@aws-sdk/client-ec2";
import { fakecloudInstalled, fakecloudMissingReason, startAwsEmulators, type AwsEmulators } from "../support/aws/emulators";

async function failure(p: Promise<unknown>): Promise<{ code: string; status?: number; message: string }> {
  try {
    await p;
  } catch (e) {
    const x = e as { name: string; Code?: string; message: string; $metadata?: { httpStatusCode?: number } };
    return { code: x.Code ?? x.name, status: x.$metadata?.httpStatusCode, message: x.message };
  }
  throw new Error("expected the call to fail");
}

const withFakecloud = fakecloudInstalled() ? describe : describe.skip;
withFakecloud(`fakecloud: EC2 IPAM and Elastic IPs${fakecloudInstalled() ? "" : ` — skipped: ${fakecloudMissingReason()}`}`, () => {
  let emu: AwsEmulators;
  let ec2: E.EC2Client;
  let scope: string;
  beforeAll(async () => {
    emu = await startAwsEmulators({ fakecloud: true });
    ec2 = new E.EC2Client({ region: emu.region, endpoint: emu.fakecloudEndpoint!, credentials: emu.credentials, maxAttempts: 1 });
    const ipam = await ec2.send(new E.CreateIpamCommand({ OperatingRegions: [{ RegionName: "us-east-1" }] }));
    scope = ipam.Ipam!.PrivateDefaultScopeId!;
  }, 120_000);
  afterAll(async () => {
    ec2?.destroy();
    await emu?.stop();
  });

  const pool = async (extra: Partial<E.CreateIpamPoolCommandInput> = {}) =>
    (await ec2.send(new E.CreateIpamPoolCommand({ IpamScopeId: scope, AddressFamily: "ipv4", ...extra }))).IpamPool!;
  const allocations = async (id: string) => (await ec2.send(new E.GetIpamPoolAllocationsCommand({ IpamPoolId: id }))).IpamPoolAllocations ?? [];

  test("CreateIpam: ipam-… id with private and public default scopes", async () => {
    const out = await ec2.send(new E.CreateIpamCommand({ OperatingRegions: [{ RegionName: "us-east-1" }] }));
    expect(out.Ipam!.IpamId).toMatch(/^ipam-/);
    expect(out.Ipam!.PrivateDefaultScopeId).toMatch(/^ipam-scope-/);
    expect(out.Ipam!.PublicDefaultScopeId).toMatch(/^ipam-scope-/);
  });

  test("CreateIpamPool: id, family, description and tags echoed, create-complete at once", async () => {
    const p = await pool({ Description: "top", TagSpecifications: [{ ResourceType: "ipam-pool", Tags: [{ Key: "Name", Value: "top" }] }] });
    expect(p.IpamPoolId).toMatch(/^ipam-pool-[0-9a-f]+$/);
    expect(p).toMatchObject({ AddressFamily: "ipv4", Description: "top", State: "create-complete", PoolDepth: 1 });
    expect(p.Tags).toEqual([{ Key: "Name", Value: "top" }]);
  });

  test("differs from AWS: CreateIpamPool drops Locale, the netmask rules, AllocationResourceTags and SourceIpamPoolId (PoolDepth always 1)", async () => {
    const parent = await pool();
    const p = await pool({
      Locale: "us-east-1", SourceIpamPoolId: parent.IpamPoolId, AllocationMinNetmaskLength: 16, AllocationMaxNetmaskLength: 28,
      AllocationDefaultNetmaskLength: 24, AllocationResourceTags: [{ Key: "env", Value: "prod" }],
    });
    for (const got of [p, (await ec2.send(new E.DescribeIpamPoolsCommand({}))).IpamPools!.find((x) => x.IpamPoolId === p.IpamPoolId)!]) {
      expect(got.Locale).toBeUndefined();
      expect(got.SourceIpamPoolId).toBeUndefined();
      expect(got.PoolDepth).toBe(1);
      expect(got.AllocationMinNetmaskLength).toBeUndefined();
      expect(got.AllocationMaxNetmaskLength).toBeUndefined();
      expect(got.AllocationDefaultNetmaskLength).toBeUndefined();
      expect(got.AllocationResourceTags ?? []).toEqual([]);
    }
  });

  test("differs from AWS: CreateIpamPool ignores ClientToken (a second pool) and DryRun (the pool is made)", async () => {
    const a = await pool({ ClientToken: "same-token" });
    const b = await pool({ ClientToken: "same-token" });
    expect(b.IpamPoolId).not.toBe(a.IpamPoolId);
    const dry = await pool({ DryRun: true });
    expect(dry.IpamPoolId).toMatch(/^ipam-pool-/);
  });

  test("differs from AWS: DescribeIpamPools ignores IpamPoolIds (lists every pool) and answers an unknown id without InvalidIpamPoolId.NotFound", async () => {
    const a = await pool();
    await pool();
    const one = await ec2.send(new E.DescribeIpamPoolsCommand({ IpamPoolIds: [a.IpamPoolId!] }));
    expect(one.IpamPools!.length).toBeGreaterThan(1);
    const unknown = await ec2.send(new E.DescribeIpamPoolsCommand({ IpamPoolIds: ["ipam-pool-0123456789abcdef0"] }));
    expect(unknown.IpamPools!.some((x) => x.IpamPoolId === "ipam-pool-0123456789abcdef0")).toBe(false);
  });

  test("ProvisionIpamPoolCidr → provisioned at once, GetIpamPoolCidrs lists it; Deprovision → deprovisioned and gone", async () => {
    const p = (await pool()).IpamPoolId!;
    const prov = await ec2.send(new E.ProvisionIpamPoolCidrCommand({ IpamPoolId: p, Cidr: "10.0.0.0/16" }));
    expect(prov.IpamPoolCidr).toMatchObject({ Cidr: "10.0.0.0/16", State: "provisioned" });
    expect((await ec2.send(new E.GetIpamPoolCidrsCommand({ IpamPoolId: p }))).IpamPoolCidrs!.map((c) => [c.Cidr, c.State])).toEqual([["10.0.0.0/16", "provisioned"]]);
    const dep = await ec2.send(new E.DeprovisionIpamPoolCidrCommand({ IpamPoolId: p, Cidr: "10.0.0.0/16" }));
    expect(dep.IpamPoolCidr).toMatchObject({ Cidr: "10.0.0.0/16", State: "deprovisioned" });
    expect((await ec2.send(new E.GetIpamPoolCidrsCommand({ IpamPoolId: p }))).IpamPoolCidrs ?? []).toEqual([]);
  });

  test("differs from AWS: ProvisionIpamPoolCidr ignores ClientToken (the same CIDR listed twice)", async () => {
    const p = (await pool()).IpamPoolId!;
    for (let i = 0; i < 2; i++) await ec2.send(new E.ProvisionIpamPoolCidrCommand({ IpamPoolId: p, Cidr: "10.7.0.0/16", ClientToken: "prov-token" }));
    expect((await ec2.send(new E.GetIpamPoolCidrsCommand({ IpamPoolId: p }))).IpamPoolCidrs!.map((c) => c.Cidr)).toEqual(["10.7.0.0/16", "10.7.0.0/16"]);
  });

  test("differs from AWS: a nested pool's ProvisionIpamPoolCidr takes nothing from its source; without Cidr it provisions 10.0.0.0/16", async () => {
    const parent = (await pool()).IpamPoolId!;
    await ec2.send(new E.ProvisionIpamPoolCidrCommand({ IpamPoolId: parent, Cidr: "10.0.0.0/8" }));
    const child = (await pool({ SourceIpamPoolId: parent })).IpamPoolId!;
    await ec2.send(new E.ProvisionIpamPoolCidrCommand({ IpamPoolId: child, Cidr: "10.1.0.0/16" }));
    expect(await allocations(parent)).toEqual([]);
    const byLength = await ec2.send(new E.ProvisionIpamPoolCidrCommand({ IpamPoolId: child, NetmaskLength: 20 }));
    expect(byLength.IpamPoolCidr!.Cidr).toBe("10.0.0.0/16");
  });

  test("AllocateIpamPoolCidr with Cidr: recorded with an ipam-pool-alloc- id, resource type custom; ReleaseIpamPoolAllocation removes it", async () => {
    const p = (await pool()).IpamPoolId!;
    await ec2.send(new E.ProvisionIpamPoolCidrCommand({ IpamPoolId: p, Cidr: "10.2.0.0/16" }));
    const a = (await ec2.send(new E.AllocateIpamPoolCidrCommand({ IpamPoolId: p, Cidr: "10.2.1.0/24" }))).IpamPoolAllocation!;
    expect(a).toMatchObject({ Cidr: "10.2.1.0/24", ResourceType: "custom" });
    expect(a.IpamPoolAllocationId).toMatch(/^ipam-pool-alloc-/);
    expect((await allocations(p)).map((x) => x.IpamPoolAllocationId)).toEqual([a.IpamPoolAllocationId]);
    const r = await ec2.send(new E.ReleaseIpamPoolAllocationCommand({ IpamPoolId: p, IpamPoolAllocationId: a.IpamPoolAllocationId, Cidr: a.Cidr }));
    expect(r.Success).toBe(true);
    expect(await allocations(p)).toEqual([]);
  });

  test("differs from AWS: AllocateIpamPoolCidr checks nothing — overlap, outside the pool, unknown pool — and ignores ClientToken and Description", async () => {
    const p = (await pool()).IpamPoolId!;
    await ec2.send(new E.ProvisionIpamPoolCidrCommand({ IpamPoolId: p, Cidr: "10.3.0.0/16" }));
    const a = await ec2.send(new E.AllocateIpamPoolCidrCommand({ IpamPoolId: p, Cidr: "10.3.0.0/24", ClientToken: "t1", Description: "kept?" }));
    const again = await ec2.send(new E.AllocateIpamPoolCidrCommand({ IpamPoolId: p, Cidr: "10.3.0.0/24", ClientToken: "t1", Description: "kept?" }));
    expect(again.IpamPoolAllocation!.IpamPoolAllocationId).not.toBe(a.IpamPoolAllocation!.IpamPoolAllocationId);
    expect(a.IpamPoolAllocation!.Description).toBeUndefined();
    expect((await allocations(p)).map((x) => x.Description)).toEqual([undefined, undefined]);
    expect((await ec2.send(new E.AllocateIpamPoolCidrCommand({ IpamPoolId: p, Cidr: "10.3.0.0/25" }))).IpamPoolAllocation!.Cidr).toBe("10.3.0.0/25");
    expect((await ec2.send(new E.AllocateIpamPoolCidrCommand({ IpamPoolId: p, Cidr: "192.168.0.0/24" }))).IpamPoolAllocation!.Cidr).toBe("192.168.0.0/24");
    const unknown = await ec2.send(new E.AllocateIpamPoolCidrCommand({ IpamPoolId: "ipam-pool-0123456789abcdef0", Cidr: "10.0.0.0/24" }));
    expect(unknown.IpamPoolAllocation!.IpamPoolAllocationId).toMatch(/^ipam-pool-alloc-/);
  });

  test("differs from AWS: without Cidr (NetmaskLength, PreviewNextCidr, AllowedCidrs…) it allocates 10.0.0.0/24 every time, a preview included", async () => {
    const p = (await pool()).IpamPoolId!;
    await ec2.send(new E.ProvisionIpamPoolCidrCommand({ IpamPoolId: p, Cidr: "172.16.0.0/16" }));
    const byLength = await ec2.send(new E.AllocateIpamPoolCidrCommand({ IpamPoolId: p, NetmaskLength: 20 }));
    expect(byLength.IpamPoolAllocation!.Cidr).toBe("10.0.0.0/24");
    const preview = await ec2.send(new E.AllocateIpamPoolCidrCommand({ IpamPoolId: p, NetmaskLength: 26, PreviewNextCidr: true, DisallowedCidrs: ["10.0.0.0/8"] }));
    expect(preview.IpamPoolAllocation!.Cidr).toBe("10.0.0.0/24");
    expect(await allocations(p)).toHaveLength(2); // AWS: the preview allocates nothing
  });

  test("differs from AWS: GetIpamPoolAllocations ignores IpamPoolAllocationId (lists all; an unknown id is no error)", async () => {
    const p = (await pool()).IpamPoolId!;
    await ec2.send(new E.AllocateIpamPoolCidrCommand({ IpamPoolId: p, Cidr: "10.4.0.0/24" }));
    await ec2.send(new E.AllocateIpamPoolCidrCommand({ IpamPoolId: p, Cidr: "10.4.1.0/24" }));
    const out = await ec2.send(new E.GetIpamPoolAllocationsCommand({ IpamPoolId: p, IpamPoolAllocationId: "ipam-pool-alloc-0" }));
    expect(out.IpamPoolAllocations).toHaveLength(2);
  });

  test("GetIpamPoolAllocations pages: MaxResults 1000–100000 (else InvalidParameterValue), NextToken while more remain", async () => {
    const p = (await pool()).IpamPoolId!;
    for (let i = 0; i < 1003; i += 25) {
      await Promise.all(Array.from({ length: Math.min(25, 1003 - i) }, (_, k) =>
        ec2.send(new E.AllocateIpamPoolCidrCommand({ IpamPoolId: p, Cidr: `10.5.${Math.floor((i + k) / 16)}.${((i + k) % 16) * 16}/28` }))));
    }
    expect(await failure(ec2.send(new E.GetIpamPoolAllocationsCommand({ IpamPoolId: p, MaxResults: 5 })))).toMatchObject({ code: "InvalidParameterValue", status: 400 });
    const first = await ec2.send(new E.GetIpamPoolAllocationsCommand({ IpamPoolId: p, MaxResults: 1000 }));
    expect(first.IpamPoolAllocations).toHaveLength(1000);
    expect(first.NextToken).toBeTruthy();
    const second = await ec2.send(new E.GetIpamPoolAllocationsCommand({ IpamPoolId: p, MaxResults: 1000, NextToken: first.NextToken }));
    expect(second.IpamPoolAllocations).toHaveLength(3);
    expect(second.NextToken).toBeUndefined();
  }, 60_000);

  test("differs from AWS: ReleaseIpamPoolAllocation of an unknown allocation or pool succeeds; it only requires Cidr to be present", async () => {
    const r = await ec2.send(new E.ReleaseIpamPoolAllocationCommand({ IpamPoolId: "ipam-pool-0123456789abcdef0", IpamPoolAllocationId: "ipam-pool-alloc-0", Cidr: "0.0.0.0/0" }));
    expect(r.Success).toBe(true);
  });

  test("differs from AWS: DeleteIpamPool deletes a pool that still has CIDRs and allocations, and answers an unknown pool with success", async () => {
    const p = (await pool()).IpamPoolId!;
    await ec2.send(new E.ProvisionIpamPoolCidrCommand({ IpamPoolId: p, Cidr: "10.6.0.0/16" }));
    await ec2.send(new E.AllocateIpamPoolCidrCommand({ IpamPoolId: p, Cidr: "10.6.0.0/24" }));
    const del = await ec2.send(new E.DeleteIpamPoolCommand({ IpamPoolId: p }));
    expect(del.IpamPool!.IpamPoolId).toBe(p);
    expect((await ec2.send(new E.DescribeIpamPoolsCommand({}))).IpamPools!.some((x) => x.IpamPoolId === p)).toBe(false);
    expect(await allocations(p)).toEqual([]);
    const unknown = await ec2.send(new E.DeleteIpamPoolCommand({ IpamPoolId: "ipam-pool-0123456789abcdef0" }));
    expect(unknown.IpamPool!.IpamPoolId).toBe("ipam-pool-0123456789abcdef0");
  });

  test("differs from AWS: ModifyIpamPool applies only Description (netmask rules and required tags are not kept)", async () => {
    const p = (await pool({ Description: "before" })).IpamPoolId!;
    const out = await ec2.send(new E.ModifyIpamPoolCommand({ IpamPoolId: p, Description: "after", AllocationDefaultNetmaskLength: 24, AddAllocationResourceTags: [{ Key: "env", Value: "prod" }] }));
    expect(out.IpamPool).toMatchObject({ Description: "after" });
    expect(out.IpamPool!.AllocationDefaultNetmaskLength).toBeUndefined();
    expect(out.IpamPool!.AllocationResourceTags ?? []).toEqual([]);
  });

  test("validation fakecloud does: unknown AddressFamily → InvalidParameterValue; a missing IpamPoolId → an error", async () => {
    expect(await failure(ec2.send(new E.CreateIpamPoolCommand({ IpamScopeId: scope, AddressFamily: "ipv5" as "ipv4" })))).toMatchObject({ code: "InvalidParameterValue", status: 400 });
    const missing = await failure(ec2.send(new E.GetIpamPoolCidrsCommand({ IpamPoolId: "" })));
    expect(missing.status).toBe(400);
  });

  describe("Elastic IPs", () => {
    test("AllocateAddress: eipalloc- id, a 52.x.y.z address, PublicIpv4Pool amazon, NetworkBorderGroup; tags and the tag: filter work; ReleaseAddress of an unknown id is InvalidAllocationID.NotFound", async () => {
      const a = await ec2.send(new E.AllocateAddressCommand({ Domain: "vpc", TagSpecifications: [{ ResourceType: "elastic-ip", Tags: [{ Key: "k", Value: "v1" }] }] }));
      expect(a.AllocationId).toMatch(/^eipalloc-/);
      expect(a.PublicIp).toMatch(/^52\.\d+\.\d+\.\d+$/);
      expect(a).toMatchObject({ Domain: "vpc", PublicIpv4Pool: "amazon", NetworkBorderGroup: "us-east-1" });
      const found = await ec2.send(new E.DescribeAddressesCommand({ Filters: [{ Name: "tag:k", Values: ["v1"] }] }));
      expect(found.Addresses!.map((x) => x.AllocationId)).toEqual([a.AllocationId]);
      await ec2.send(new E.ReleaseAddressCommand({ AllocationId: a.AllocationId }));
      expect(await failure(ec2.send(new E.ReleaseAddressCommand({ AllocationId: a.AllocationId })))).toMatchObject({ code: "InvalidAllocationID.NotFound", status: 400 });
    });

    test("differs from AWS: AllocateAddress ignores Address and IpamPoolId (an unknown pool included) and DryRun", async () => {
      const a = await ec2.send(new E.AllocateAddressCommand({ Domain: "vpc", Address: "198.51.100.7", IpamPoolId: "ipam-pool-0123456789abcdef0" }));
      expect(a.PublicIp).not.toBe("198.51.100.7");
      expect(a.PublicIpv4Pool).toBe("amazon");
      const dry = await ec2.send(new E.AllocateAddressCommand({ Domain: "vpc", DryRun: true }));
      expect(dry.AllocationId).toMatch(/^eipalloc-/);
    });

    test("differs from AWS: DescribeAddresses of an unknown AllocationId is an empty list, not InvalidAllocationID.NotFound", async () => {
      const out = await ec2.send(new E.DescribeAddressesCommand({ AllocationIds: ["eipalloc-0123456789abcdef0"] }));
      expect(out.Addresses ?? []).toEqual([]);
    });
  });
});
