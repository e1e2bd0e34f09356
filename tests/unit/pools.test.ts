/** Pools (CreateIpamPool, seeds 001 and 003): address family, provisioned CIDRs, nesting, netmask rules, deletion. */
import { BACKENDS, codeOf, expectRejectedUnchanged, snapshot, useBackend } from "../support/backends";

describe.each(BACKENDS)("pools on $name", (backend) => {
  const h = useBackend(backend);

  describe("address family and provisioned CIDRs", () => {
    test.each(["ipv5", "", "IPv4x"])("addressFamily %j is InvalidParameterValue", async (addressFamily) => {
      await expectRejectedUnchanged(h.ipam, () => h.ipam.createPool({ addressFamily, cidrs: ["10.0.0.0/16"] }), "InvalidParameterValue");
    });

    test("a top-level pool keeps its CIDRs sorted and counts their addresses", async () => {
      const pool = await h.ipam.createPool({ addressFamily: "ipv4", cidrs: ["10.1.0.0/16", "10.0.0.0/16"], description: "plan" });
      expect(pool).toMatchObject({ addressFamily: "ipv4", poolDepth: 1, cidrs: ["10.0.0.0/16", "10.1.0.0/16"], allocationStrategy: "first-fit" });
      expect(pool.ipamPoolId).toMatch(/^ipam-pool-[0-9a-f]{17}$/);
      expect(await h.ipam.getPool(pool.ipamPoolId)).toEqual(pool);
      expect(await h.ipam.listPools()).toEqual([pool]);
      expect(await h.ipam.utilization(pool.ipamPoolId)).toEqual({
        ipamPoolId: pool.ipamPoolId, total: "131072", allocated: "0", free: "131072", freeBlocks: ["10.0.0.0/16", "10.1.0.0/16"],
      });
    });

    test.each([
      ["host bits set", "ipv4", "10.0.0.1/16"],
      ["an IPv6 CIDR in an ipv4 pool", "ipv4", "2001:db8::/32"],
      ["an IPv4 CIDR in an ipv6 pool", "ipv6", "10.0.0.0/8"],
      ["no prefix", "ipv4", "10.0.0.0"],
      ["a prefix beyond 32", "ipv4", "10.0.0.0/33"],
      ["IPv6 host bits set", "ipv6", "2001:db8::1/64"],
    ])("%s is IllegalParam.Cidr", async (_what, addressFamily, cidr) => {
      await expectRejectedUnchanged(h.ipam, () => h.ipam.createPool({ addressFamily, cidrs: [cidr] }), "IllegalParam.Cidr");
    });

    test.each([
      ["cidrs that are not a list", { cidrs: "10.0.0.0/16" as never }],
      ["a tag key starting with aws:", { tags: { "aws:owner": "me" } }],
      ["a tag value that is not a string", { tags: { owner: 7 as never } }],
      ["an allocationResourceTags key that is empty", { allocationResourceTags: { "": "x" } }],
      ["a description over 255 characters", { description: "d".repeat(256) }],
    ])("%s is InvalidParameterValue", async (_what, input) => {
      await expectRejectedUnchanged(h.ipam, () => h.ipam.createPool({ addressFamily: "ipv4", ...input }), "InvalidParameterValue");
    });

    test("provisioned CIDRs that overlap each other are InvalidParameterValue", async () => {
      await expectRejectedUnchanged(h.ipam, () => h.ipam.createPool({ addressFamily: "ipv4", cidrs: ["10.0.0.0/16", "10.0.128.0/17"] }), "InvalidParameterValue");
      const pool = await h.ipam.createPool({ addressFamily: "ipv4", cidrs: ["10.0.0.0/16"] });
      await expectRejectedUnchanged(h.ipam, () => h.ipam.provisionPoolCidr({ ipamPoolId: pool.ipamPoolId, cidr: "10.0.0.0/8" }), "InvalidParameterValue");
    });

    test("provisionPoolCidr adds a CIDR; it takes exactly one of cidr or netmaskLength", async () => {
      const pool = await h.ipam.createPool({ addressFamily: "ipv4", cidrs: ["10.0.0.0/24"] });
      const grown = await h.ipam.provisionPoolCidr({ ipamPoolId: pool.ipamPoolId, cidr: "10.0.1.0/24" });
      expect(grown.cidrs).toEqual(["10.0.0.0/24", "10.0.1.0/24"]);
      expect((await h.ipam.utilization(pool.ipamPoolId)).total).toBe("512");
      const id = pool.ipamPoolId;
      await expectRejectedUnchanged(h.ipam, () => h.ipam.provisionPoolCidr({ ipamPoolId: id }), "InvalidParameterCombination");
      await expectRejectedUnchanged(h.ipam, () => h.ipam.provisionPoolCidr({ ipamPoolId: id, cidr: "10.0.2.0/24", netmaskLength: 24 }), "InvalidParameterCombination");
      // netmaskLength carves from a source pool; a top-level pool has none.
      await expectRejectedUnchanged(h.ipam, () => h.ipam.provisionPoolCidr({ ipamPoolId: id, netmaskLength: 24 }), "InvalidParameterCombination");
      await expectRejectedUnchanged(h.ipam, () => h.ipam.provisionPoolCidr({ ipamPoolId: "ipam-pool-0000000000000000a", cidr: "10.9.0.0/24" }), "InvalidIpamPoolId.NotFound");
    });
  });

  describe("nested pools", () => {
    test("a nested pool's CIDR is carved out of its source and shows there", async () => {
      const parent = await h.ipam.createPool({ addressFamily: "ipv4", cidrs: ["10.0.0.0/16"] });
      const child = await h.ipam.createPool({ addressFamily: "ipv4", sourceIpamPoolId: parent.ipamPoolId, cidrs: ["10.0.4.0/22"] });
      expect(child).toMatchObject({ sourceIpamPoolId: parent.ipamPoolId, poolDepth: 2, cidrs: ["10.0.4.0/22"] });
      const carved = await h.ipam.listAllocations(parent.ipamPoolId);
      expect(carved).toEqual([expect.objectContaining({ cidr: "10.0.4.0/22", resourceType: "ipam-pool", resourceId: child.ipamPoolId })]);
      expect(await h.ipam.utilization(parent.ipamPoolId)).toMatchObject({
        total: "65536", allocated: "1024", free: "64512",
        freeBlocks: ["10.0.0.0/22", "10.0.8.0/21", "10.0.16.0/20", "10.0.32.0/19", "10.0.64.0/18", "10.0.128.0/17"],
      });
      expect(await h.ipam.utilization(child.ipamPoolId)).toMatchObject({ total: "1024", allocated: "0", freeBlocks: ["10.0.4.0/22"] });
    });

    test("a nested pool by netmaskLength takes the lowest free block of the source", async () => {
      const parent = await h.ipam.createPool({ addressFamily: "ipv4", cidrs: ["10.0.0.0/16"] });
      await h.ipam.allocate({ ipamPoolId: parent.ipamPoolId, cidr: "10.0.0.0/24" });
      const a = await h.ipam.createPool({ addressFamily: "ipv4", sourceIpamPoolId: parent.ipamPoolId, netmaskLength: 20 });
      const b = await h.ipam.createPool({ addressFamily: "ipv4", sourceIpamPoolId: parent.ipamPoolId, netmaskLength: 24 });
      expect(a.cidrs).toEqual(["10.0.16.0/20"]);
      expect(b.cidrs).toEqual(["10.0.1.0/24"]);
      const grown = await h.ipam.provisionPoolCidr({ ipamPoolId: b.ipamPoolId, netmaskLength: 24 });
      expect(grown.cidrs).toEqual(["10.0.1.0/24", "10.0.2.0/24"]);
      const given = await h.ipam.provisionPoolCidr({ ipamPoolId: b.ipamPoolId, cidr: "10.0.128.0/24" });
      expect(given.cidrs).toEqual(["10.0.1.0/24", "10.0.2.0/24", "10.0.128.0/24"]);
      expect(await h.ipam.utilization(b.ipamPoolId)).toMatchObject({ total: "768", freeBlocks: ["10.0.1.0/24", "10.0.2.0/24", "10.0.128.0/24"] });
      const inSource = (await h.ipam.listAllocations(parent.ipamPoolId)).filter((x) => x.resourceId === b.ipamPoolId).map((x) => x.cidr).sort();
      expect(inSource).toEqual(["10.0.1.0/24", "10.0.128.0/24", "10.0.2.0/24"]);
      await expectRejectedUnchanged(h.ipam, () => h.ipam.provisionPoolCidr({ ipamPoolId: b.ipamPoolId, cidr: "10.0.128.0/25" }), "OperationDenied.CidrUnavailableInPool");
    });

    test("a child carve overlapping another allocation or outside the source is CidrUnavailableInPool", async () => {
      const parent = await h.ipam.createPool({ addressFamily: "ipv4", cidrs: ["10.0.0.0/16"] });
      await h.ipam.createPool({ addressFamily: "ipv4", sourceIpamPoolId: parent.ipamPoolId, cidrs: ["10.0.4.0/22"] });
      const src = parent.ipamPoolId;
      await expectRejectedUnchanged(h.ipam, () => h.ipam.createPool({ addressFamily: "ipv4", sourceIpamPoolId: src, cidrs: ["10.0.5.0/24"] }), "OperationDenied.CidrUnavailableInPool");
      await expectRejectedUnchanged(h.ipam, () => h.ipam.createPool({ addressFamily: "ipv4", sourceIpamPoolId: src, cidrs: ["10.0.0.0/21"] }), "OperationDenied.CidrUnavailableInPool");
      await expectRejectedUnchanged(h.ipam, () => h.ipam.createPool({ addressFamily: "ipv4", sourceIpamPoolId: src, cidrs: ["10.1.0.0/24"] }), "OperationDenied.CidrUnavailableInPool");
    });

    test("a child carve obeys the source's netmask rules", async () => {
      const parent = await h.ipam.createPool({ addressFamily: "ipv4", cidrs: ["10.0.0.0/16"], allocationMinNetmaskLength: 20, allocationMaxNetmaskLength: 24 });
      const src = parent.ipamPoolId;
      await expectRejectedUnchanged(h.ipam, () => h.ipam.createPool({ addressFamily: "ipv4", sourceIpamPoolId: src, netmaskLength: 26 }), "IllegalParam.CidrMask");
      await expectRejectedUnchanged(h.ipam, () => h.ipam.createPool({ addressFamily: "ipv4", sourceIpamPoolId: src, cidrs: ["10.0.0.0/18"] }), "IllegalParam.CidrMask");
      await expectRejectedUnchanged(h.ipam, () => h.ipam.createPool({ addressFamily: "ipv4", sourceIpamPoolId: src, netmaskLength: 33 }), "IllegalParam.CidrMask");
    });

    test("pools nest 10 deep; the 11th level is QuotaExceeded.IpamPoolQuotaDepth", async () => {
      let pool = await h.ipam.createPool({ addressFamily: "ipv4", cidrs: ["10.0.0.0/8"] });
      for (let depth = 2; depth <= 10; depth++) {
        pool = await h.ipam.createPool({ addressFamily: "ipv4", sourceIpamPoolId: pool.ipamPoolId, netmaskLength: 8 + depth });
        expect(pool.poolDepth).toBe(depth);
      }
      expect(pool.cidrs).toEqual(["10.0.0.0/18"]);
      const deepest = pool.ipamPoolId;
      await expectRejectedUnchanged(h.ipam, () => h.ipam.createPool({ addressFamily: "ipv4", sourceIpamPoolId: deepest, netmaskLength: 19 }), "QuotaExceeded.IpamPoolQuotaDepth");
      await expectRejectedUnchanged(h.ipam, () => h.ipam.createPool({ addressFamily: "ipv4", sourceIpamPoolId: deepest }), "QuotaExceeded.IpamPoolQuotaDepth");
    });

    test("a source of the other family is InvalidParameterCombination; an unknown one InvalidIpamPoolId.NotFound", async () => {
      const v4 = await h.ipam.createPool({ addressFamily: "ipv4", cidrs: ["10.0.0.0/16"] });
      await expectRejectedUnchanged(h.ipam, () => h.ipam.createPool({ addressFamily: "ipv6", sourceIpamPoolId: v4.ipamPoolId, netmaskLength: 64 }), "InvalidParameterCombination");
      await expectRejectedUnchanged(h.ipam, () => h.ipam.createPool({ addressFamily: "ipv6", sourceIpamPoolId: v4.ipamPoolId }), "InvalidParameterCombination");
      await expectRejectedUnchanged(h.ipam, () => h.ipam.createPool({ addressFamily: "ipv4", sourceIpamPoolId: "ipam-pool-0123456789abcdef0", netmaskLength: 24 }), "InvalidIpamPoolId.NotFound");
    });

    test("netmaskLength needs a source pool, and excludes cidrs", async () => {
      const parent = await h.ipam.createPool({ addressFamily: "ipv4", cidrs: ["10.0.0.0/16"] });
      await expectRejectedUnchanged(h.ipam, () => h.ipam.createPool({ addressFamily: "ipv4", netmaskLength: 24 }), "InvalidParameterCombination");
      await expectRejectedUnchanged(h.ipam, () => h.ipam.createPool({ addressFamily: "ipv4", sourceIpamPoolId: parent.ipamPoolId, netmaskLength: 24, cidrs: ["10.0.0.0/24"] }), "InvalidParameterCombination");
    });
  });

  describe("netmask rules", () => {
    test.each([
      ["ipv4", { allocationMinNetmaskLength: -1 }],
      ["ipv4", { allocationMaxNetmaskLength: 33 }],
      ["ipv4", { allocationDefaultNetmaskLength: 33 }],
      ["ipv4", { allocationMinNetmaskLength: 1.5 }],
      ["ipv6", { allocationMaxNetmaskLength: 129 }],
      ["ipv6", { allocationDefaultNetmaskLength: -1 }],
      ["ipv4", { allocationMinNetmaskLength: 24, allocationMaxNetmaskLength: 24 }],
      ["ipv4", { allocationMinNetmaskLength: 25, allocationMaxNetmaskLength: 24 }],
      ["ipv4", { allocationMinNetmaskLength: 16, allocationMaxNetmaskLength: 24, allocationDefaultNetmaskLength: 28 }],
      ["ipv4", { allocationMinNetmaskLength: 16, allocationMaxNetmaskLength: 24, allocationDefaultNetmaskLength: 8 }],
      ["ipv4", { allocationMinNetmaskLength: 16, allocationDefaultNetmaskLength: 12 }],
    ])("%s %j is InvalidParameterValue", async (addressFamily, rules) => {
      await expectRejectedUnchanged(h.ipam, () => h.ipam.createPool({ addressFamily, ...rules }), "InvalidParameterValue");
    });

    test("rules at the ends of the ranges are accepted", async () => {
      const v4 = await h.ipam.createPool({ addressFamily: "ipv4", allocationMinNetmaskLength: 0, allocationMaxNetmaskLength: 32, allocationDefaultNetmaskLength: 32 });
      const v6 = await h.ipam.createPool({ addressFamily: "ipv6", allocationMinNetmaskLength: 0, allocationMaxNetmaskLength: 128, allocationDefaultNetmaskLength: 64 });
      expect(v4).toMatchObject({ allocationMinNetmaskLength: 0, allocationMaxNetmaskLength: 32, allocationDefaultNetmaskLength: 32 });
      expect(v6).toMatchObject({ allocationMinNetmaskLength: 0, allocationMaxNetmaskLength: 128, allocationDefaultNetmaskLength: 64 });
    });

    test("updatePool checks the merged rules and then enforces them", async () => {
      const pool = await h.ipam.createPool({ addressFamily: "ipv4", cidrs: ["10.0.0.0/16"], allocationMinNetmaskLength: 16, allocationMaxNetmaskLength: 28 });
      const id = pool.ipamPoolId;
      await expectRejectedUnchanged(h.ipam, () => h.ipam.updatePool({ ipamPoolId: id, allocationMaxNetmaskLength: 16 }), "InvalidParameterValue");
      await expectRejectedUnchanged(h.ipam, () => h.ipam.updatePool({ ipamPoolId: id, allocationDefaultNetmaskLength: 30 }), "InvalidParameterValue");
      await expectRejectedUnchanged(h.ipam, () => h.ipam.updatePool({ ipamPoolId: "ipam-pool-0123456789abcdef0", description: "x" }), "InvalidIpamPoolId.NotFound");
      const updated = await h.ipam.updatePool({ ipamPoolId: id, allocationMaxNetmaskLength: 24, allocationDefaultNetmaskLength: 20, description: "narrow" });
      expect(updated).toMatchObject({ allocationMinNetmaskLength: 16, allocationMaxNetmaskLength: 24, allocationDefaultNetmaskLength: 20, description: "narrow" });
      expect(await h.ipam.getPool(id)).toEqual(updated);
      await expectRejectedUnchanged(h.ipam, () => h.ipam.allocate({ ipamPoolId: id, netmaskLength: 26 }), "IllegalParam.CidrMask");
      expect((await h.ipam.allocate({ ipamPoolId: id })).cidr).toBe("10.0.0.0/20");
    });

    test("allocationResourceTags must be on every allocation, with the same values", async () => {
      const pool = await h.ipam.createPool({ addressFamily: "ipv4", cidrs: ["10.0.0.0/16"], allocationResourceTags: { team: "net" } });
      expect(pool.allocationResourceTags).toEqual({ team: "net" });
      const id = pool.ipamPoolId;
      await expectRejectedUnchanged(h.ipam, () => h.ipam.allocate({ ipamPoolId: id, netmaskLength: 24 }), "InvalidParameterValue");
      await expectRejectedUnchanged(h.ipam, () => h.ipam.allocate({ ipamPoolId: id, netmaskLength: 24, resourceTags: { team: "web" } }), "InvalidParameterValue");
      await expectRejectedUnchanged(h.ipam, () => h.ipam.allocate({ ipamPoolId: id, cidr: "10.0.1.0/24", resourceTags: { other: "net" } }), "InvalidParameterValue");
      const a = await h.ipam.allocate({ ipamPoolId: id, netmaskLength: 24, resourceTags: { team: "net", env: "prod" } });
      expect(a).toMatchObject({ cidr: "10.0.0.0/24", resourceTags: { team: "net", env: "prod" } });
    });
  });

  describe("deletePool", () => {
    test("a pool with allocations or nested pools is DependencyViolation", async () => {
      const parent = await h.ipam.createPool({ addressFamily: "ipv4", cidrs: ["10.0.0.0/16"] });
      const child = await h.ipam.createPool({ addressFamily: "ipv4", sourceIpamPoolId: parent.ipamPoolId, netmaskLength: 20 });
      const a = await h.ipam.allocate({ ipamPoolId: child.ipamPoolId, netmaskLength: 24 });
      await expectRejectedUnchanged(h.ipam, () => h.ipam.deletePool({ ipamPoolId: parent.ipamPoolId }), "DependencyViolation");
      await expectRejectedUnchanged(h.ipam, () => h.ipam.deletePool({ ipamPoolId: child.ipamPoolId }), "DependencyViolation");
      await h.ipam.release({ ipamPoolId: child.ipamPoolId, ipamPoolAllocationId: a.ipamPoolAllocationId });
      await h.ipam.deletePool({ ipamPoolId: child.ipamPoolId });
      await h.ipam.deletePool({ ipamPoolId: parent.ipamPoolId });
      expect(await h.ipam.listPools()).toEqual([]);
    });

    test("deleting a nested pool returns its CIDRs to the source, merged", async () => {
      const parent = await h.ipam.createPool({ addressFamily: "ipv4", cidrs: ["10.0.0.0/16"] });
      const before = await snapshot(h.ipam);
      const child = await h.ipam.createPool({ addressFamily: "ipv4", sourceIpamPoolId: parent.ipamPoolId, cidrs: ["10.0.64.0/18", "10.0.0.0/24"] });
      expect(child.cidrs).toEqual(["10.0.0.0/24", "10.0.64.0/18"]);
      expect((await h.ipam.utilization(parent.ipamPoolId)).allocated).toBe(String(256 + 16384));
      await h.ipam.deletePool({ ipamPoolId: child.ipamPoolId });
      expect(await snapshot(h.ipam)).toEqual(before);
      expect(await h.ipam.utilization(parent.ipamPoolId)).toMatchObject({ allocated: "0", freeBlocks: ["10.0.0.0/16"] });
      expect(await codeOf(h.ipam.getPool(child.ipamPoolId))).toBe("InvalidIpamPoolId.NotFound");
    });

    test("an unknown pool is InvalidIpamPoolId.NotFound everywhere", async () => {
      const id = "ipam-pool-0123456789abcdef0";
      await h.ipam.createPool({ addressFamily: "ipv4", cidrs: ["10.0.0.0/16"] });
      await expectRejectedUnchanged(h.ipam, () => h.ipam.deletePool({ ipamPoolId: id }), "InvalidIpamPoolId.NotFound");
      await expectRejectedUnchanged(h.ipam, () => h.ipam.allocate({ ipamPoolId: id, netmaskLength: 24 }), "InvalidIpamPoolId.NotFound");
      await expectRejectedUnchanged(h.ipam, () => h.ipam.previewNextCidr({ ipamPoolId: id, netmaskLength: 24 }), "InvalidIpamPoolId.NotFound");
      await expectRejectedUnchanged(h.ipam, () => h.ipam.allocateAddress({ ipamPoolId: id }), "InvalidIpamPoolId.NotFound");
      await expectRejectedUnchanged(h.ipam, () => h.ipam.release({ ipamPoolId: id, ipamPoolAllocationId: "ipam-pool-alloc-0" }), "InvalidIpamPoolId.NotFound");
      const reads = [() => h.ipam.getPool(id), () => h.ipam.listAllocations(id), () => h.ipam.utilization(id), () => h.ipam.getAllocation(id, "x"), () => h.ipam.getPool("")];
      for (const read of reads) expect(await codeOf(read())).toBe("InvalidIpamPoolId.NotFound");
    });
  });
});
