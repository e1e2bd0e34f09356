/** Elastic IP addresses from an IPAM pool (AllocateAddress with IpamPoolId, seed 004). */
import { BACKENDS, cidrsOf, codeOf, expectRejectedUnchanged, useBackend } from "../support/backends";

describe.each(BACKENDS)("Elastic IPs on $name", (backend) => {
  const h = useBackend(backend);
  const pool = async (cidr = "203.0.113.0/24", extra: Record<string, unknown> = {}) =>
    (await h.ipam.createPool({ addressFamily: "ipv4", cidrs: [cidr], ...extra })).ipamPoolId;

  test("addresses come lowest free first, one after another", async () => {
    const id = await pool();
    await h.ipam.allocate({ ipamPoolId: id, cidr: "203.0.113.4/30" });
    const ips: string[] = [];
    for (let i = 0; i < 6; i++) ips.push((await h.ipam.allocateAddress({ ipamPoolId: id })).publicIp);
    expect(ips).toEqual(["203.0.113.0", "203.0.113.1", "203.0.113.2", "203.0.113.3", "203.0.113.8", "203.0.113.9"]);
  });

  test("an address is a /32 eip allocation of the pool, readable by its allocationId", async () => {
    const id = await pool();
    const eip = await h.ipam.allocateAddress({ ipamPoolId: id, tags: { Name: "nat" } });
    expect(eip).toMatchObject({ publicIp: "203.0.113.0", ipamPoolId: id, tags: { Name: "nat" } });
    expect(eip.allocationId).toMatch(/^eipalloc-[0-9a-f]{17}$/);
    expect(await h.ipam.getAddress(eip.allocationId)).toEqual(eip);
    expect(await h.ipam.getAllocation(id, eip.ipamPoolAllocationId)).toMatchObject({
      cidr: "203.0.113.0/32", resourceType: "eip", resourceId: eip.allocationId,
    });
    expect(await h.ipam.utilization(id)).toMatchObject({ allocated: "1", free: "255" });
  });

  test("a given address is allocated as given", async () => {
    const id = await pool();
    expect((await h.ipam.allocateAddress({ ipamPoolId: id, address: "203.0.113.77" })).publicIp).toBe("203.0.113.77");
    expect((await h.ipam.allocateAddress({ ipamPoolId: id, address: "203.0.113.255" })).publicIp).toBe("203.0.113.255");
    expect(await cidrsOf(h.ipam, id)).toEqual(["203.0.113.77/32", "203.0.113.255/32"]);
  });

  test("an address in use, by an Elastic IP or a CIDR allocation, is CidrUnavailableInPool", async () => {
    const id = await pool();
    await h.ipam.allocateAddress({ ipamPoolId: id, address: "203.0.113.77" });
    await h.ipam.allocate({ ipamPoolId: id, cidr: "203.0.113.128/25" });
    for (const address of ["203.0.113.77", "203.0.113.200", "198.51.100.1"]) {
      await expectRejectedUnchanged(h.ipam, () => h.ipam.allocateAddress({ ipamPoolId: id, address }), "OperationDenied.CidrUnavailableInPool");
    }
    await expectRejectedUnchanged(h.ipam, () => h.ipam.allocate({ ipamPoolId: id, cidr: "203.0.113.64/26" }), "OperationDenied.CidrUnavailableInPool");
  });

  test("a malformed address is IllegalParam.Cidr; bad tags are InvalidParameterValue", async () => {
    const id = await pool();
    for (const address of ["203.0.113.256", "203.0.113.0/32", "2001:db8::1", ""]) {
      await expectRejectedUnchanged(h.ipam, () => h.ipam.allocateAddress({ ipamPoolId: id, address }), "IllegalParam.Cidr");
    }
    await expectRejectedUnchanged(h.ipam, () => h.ipam.allocateAddress({ ipamPoolId: id, tags: { "aws:name": "x" } }), "InvalidParameterValue");
  });

  test("an ipv6 pool is InvalidParameterCombination", async () => {
    const id = (await h.ipam.createPool({ addressFamily: "ipv6", cidrs: ["2001:db8::/64"] })).ipamPoolId;
    await expectRejectedUnchanged(h.ipam, () => h.ipam.allocateAddress({ ipamPoolId: id }), "InvalidParameterCombination");
    await expectRejectedUnchanged(h.ipam, () => h.ipam.allocateAddress({ ipamPoolId: id, address: "2001:db8::1" }), "InvalidParameterCombination");
  });

  test("the pool's netmask rules govern CIDRs, not Elastic IPs", async () => {
    const id = await pool("203.0.113.0/24", { allocationMinNetmaskLength: 24, allocationMaxNetmaskLength: 28 });
    expect((await h.ipam.allocateAddress({ ipamPoolId: id })).publicIp).toBe("203.0.113.0");
    await expectRejectedUnchanged(h.ipam, () => h.ipam.allocate({ ipamPoolId: id, netmaskLength: 32 }), "IllegalParam.CidrMask");
  });

  test("a full pool is AvailableCidrInsufficient", async () => {
    const id = await pool("203.0.113.252/30");
    for (let i = 0; i < 4; i++) await h.ipam.allocateAddress({ ipamPoolId: id });
    await expectRejectedUnchanged(h.ipam, () => h.ipam.allocateAddress({ ipamPoolId: id }), "OperationDenied.AvailableCidrInsufficient");
    expect(await h.ipam.utilization(id)).toMatchObject({ total: "4", allocated: "4", freeBlocks: [] });
  });

  test("releaseAddress frees the address for the next allocation", async () => {
    const id = await pool();
    const a = await h.ipam.allocateAddress({ ipamPoolId: id });
    const b = await h.ipam.allocateAddress({ ipamPoolId: id });
    await h.ipam.releaseAddress({ allocationId: a.allocationId });
    expect(await codeOf(h.ipam.getAddress(a.allocationId))).toBe("InvalidAllocationID.NotFound");
    expect(await codeOf(h.ipam.getAllocation(id, a.ipamPoolAllocationId))).toBe("InvalidIpamPoolAllocationId.NotFound");
    expect((await h.ipam.allocateAddress({ ipamPoolId: id })).publicIp).toBe("203.0.113.0");
    await h.ipam.releaseAddress({ allocationId: b.allocationId });
    expect(await h.ipam.utilization(id)).toMatchObject({ allocated: "1", freeBlocks: ["203.0.113.1/32", "203.0.113.2/31", "203.0.113.4/30", "203.0.113.8/29", "203.0.113.16/28", "203.0.113.32/27", "203.0.113.64/26", "203.0.113.128/25"] });
  });

  test("an unknown or released allocationId is InvalidAllocationID.NotFound", async () => {
    const id = await pool();
    const a = await h.ipam.allocateAddress({ ipamPoolId: id });
    await h.ipam.releaseAddress({ allocationId: a.allocationId });
    for (const allocationId of [a.allocationId, "eipalloc-0123456789abcdef0"]) {
      await expectRejectedUnchanged(h.ipam, () => h.ipam.releaseAddress({ allocationId }), "InvalidAllocationID.NotFound");
    }
    expect(await codeOf(h.ipam.getAddress("eipalloc-0123456789abcdef0"))).toBe("InvalidAllocationID.NotFound");
  });

  test("an Elastic IP's pool allocation is released through releaseAddress only; it holds its pool", async () => {
    const id = await pool();
    const a = await h.ipam.allocateAddress({ ipamPoolId: id });
    await expectRejectedUnchanged(h.ipam, () => h.ipam.release({ ipamPoolId: id, ipamPoolAllocationId: a.ipamPoolAllocationId }), "OperationDenied.ResourceTypeIsNotCustom");
    await expectRejectedUnchanged(h.ipam, () => h.ipam.deletePool({ ipamPoolId: id }), "DependencyViolation");
    await h.ipam.releaseAddress({ allocationId: a.allocationId });
    await h.ipam.deletePool({ ipamPoolId: id });
    expect(await h.ipam.listPools()).toEqual([]);
  });
});
