/** Allocations (AllocateIpamPoolCidr, seed 000; CreateIpamPoolAllocation, seed 002): explicit CIDRs, netmask lengths, rules, first fit. */
import { BACKENDS, cidrsOf, codeOf, expectRejectedUnchanged, snapshot, useBackend } from "../support/backends";

describe.each(BACKENDS)("allocations on $name", (backend) => {
  const h = useBackend(backend);
  const pool16 = async (extra: Record<string, unknown> = {}) =>
    (await h.ipam.createPool({ addressFamily: "ipv4", cidrs: ["10.0.0.0/16"], ...extra })).ipamPoolId;

  describe("an explicit cidr", () => {
    test("inside the pool, aligned, free and within the rules is allocated as given", async () => {
      const id = await pool16({ allocationMinNetmaskLength: 20, allocationMaxNetmaskLength: 28 });
      const a = await h.ipam.allocate({ ipamPoolId: id, cidr: "10.0.3.0/24", description: "web", resourceId: "vpc-1", resourceType: "vpc" });
      expect(a).toMatchObject({ ipamPoolId: id, cidr: "10.0.3.0/24", description: "web", resourceId: "vpc-1", resourceType: "vpc" });
      expect(a.ipamPoolAllocationId).toMatch(/^ipam-pool-alloc-[0-9a-f]{32}$/);
      expect(await h.ipam.getAllocation(id, a.ipamPoolAllocationId)).toEqual(a);
      expect(await h.ipam.listAllocations(id)).toEqual([a]);
      const c = await h.ipam.allocate({ ipamPoolId: id, cidr: "10.0.255.240/28" });
      expect(c).toMatchObject({ cidr: "10.0.255.240/28", resourceType: "custom" });
    });

    test("with host bits set is IllegalParam.Cidr", async () => {
      const id = await pool16();
      await expectRejectedUnchanged(h.ipam, () => h.ipam.allocate({ ipamPoolId: id, cidr: "10.0.3.1/24" }), "IllegalParam.Cidr");
      await expectRejectedUnchanged(h.ipam, () => h.ipam.allocate({ ipamPoolId: id, cidr: "2001:db8::/64" }), "IllegalParam.Cidr");
      await expectRejectedUnchanged(h.ipam, () => h.ipam.allocate({ ipamPoolId: id, cidr: "10.0.300.0/24" }), "IllegalParam.Cidr");
    });

    test("outside every provisioned CIDR, or across two, is CidrUnavailableInPool", async () => {
      const id = (await h.ipam.createPool({ addressFamily: "ipv4", cidrs: ["10.0.0.0/25", "10.0.0.128/25"] })).ipamPoolId;
      for (const cidr of ["10.1.0.0/24", "10.0.0.0/24", "10.0.0.0/8", "9.255.255.255/32"]) {
        await expectRejectedUnchanged(h.ipam, () => h.ipam.allocate({ ipamPoolId: id, cidr }), "OperationDenied.CidrUnavailableInPool");
      }
    });

    test("overlapping an allocation is CidrUnavailableInPool", async () => {
      const id = await pool16();
      await h.ipam.allocate({ ipamPoolId: id, cidr: "10.0.3.0/24" });
      for (const cidr of ["10.0.3.0/24", "10.0.3.128/25", "10.0.3.7/32", "10.0.2.0/23", "10.0.0.0/16"]) {
        await expectRejectedUnchanged(h.ipam, () => h.ipam.allocate({ ipamPoolId: id, cidr }), "OperationDenied.CidrUnavailableInPool");
      }
      expect((await h.ipam.allocate({ ipamPoolId: id, cidr: "10.0.2.0/24" })).cidr).toBe("10.0.2.0/24");
    });

    test("with a mask outside the pool's rules is IllegalParam.CidrMask", async () => {
      const id = await pool16({ allocationMinNetmaskLength: 20, allocationMaxNetmaskLength: 28 });
      await expectRejectedUnchanged(h.ipam, () => h.ipam.allocate({ ipamPoolId: id, cidr: "10.0.0.0/18" }), "IllegalParam.CidrMask");
      await expectRejectedUnchanged(h.ipam, () => h.ipam.allocate({ ipamPoolId: id, cidr: "10.0.0.0/29" }), "IllegalParam.CidrMask");
    });

    test("with netmaskLength, allowedCidrs or disallowedCidrs is InvalidParameterCombination", async () => {
      const id = await pool16();
      await expectRejectedUnchanged(h.ipam, () => h.ipam.allocate({ ipamPoolId: id, cidr: "10.0.0.0/24", netmaskLength: 24 }), "InvalidParameterCombination");
      await expectRejectedUnchanged(h.ipam, () => h.ipam.allocate({ ipamPoolId: id, cidr: "10.0.0.0/24", allowedCidrs: ["10.0.0.0/20"] }), "InvalidParameterCombination");
      await expectRejectedUnchanged(h.ipam, () => h.ipam.allocate({ ipamPoolId: id, cidr: "10.0.0.0/24", disallowedCidrs: ["10.0.8.0/24"] }), "InvalidParameterCombination");
    });
  });

  describe("by netmask length", () => {
    test.each([33, -1, 2.5, 128])("netmaskLength %j in an ipv4 pool is IllegalParam.CidrMask", async (netmaskLength) => {
      const id = await pool16();
      await expectRejectedUnchanged(h.ipam, () => h.ipam.allocate({ ipamPoolId: id, netmaskLength }), "IllegalParam.CidrMask");
    });

    test("outside the pool's rules is IllegalParam.CidrMask", async () => {
      const id = await pool16({ allocationMinNetmaskLength: 20, allocationMaxNetmaskLength: 28 });
      await expectRejectedUnchanged(h.ipam, () => h.ipam.allocate({ ipamPoolId: id, netmaskLength: 19 }), "IllegalParam.CidrMask");
      await expectRejectedUnchanged(h.ipam, () => h.ipam.allocate({ ipamPoolId: id, netmaskLength: 29 }), "IllegalParam.CidrMask");
      expect((await h.ipam.allocate({ ipamPoolId: id, netmaskLength: 28 })).cidr).toBe("10.0.0.0/28");
    });

    test("the pool's default applies when neither cidr nor netmaskLength is given; a given length overrides it", async () => {
      const id = await pool16({ allocationDefaultNetmaskLength: 24 });
      expect((await h.ipam.allocate({ ipamPoolId: id })).cidr).toBe("10.0.0.0/24");
      expect((await h.ipam.allocate({ ipamPoolId: id, netmaskLength: 26 })).cidr).toBe("10.0.1.0/26");
      expect((await h.ipam.allocate({ ipamPoolId: id })).cidr).toBe("10.0.2.0/24");
    });

    test("neither cidr nor netmaskLength, and no default, is InvalidParameterCombination", async () => {
      const id = await pool16();
      await expectRejectedUnchanged(h.ipam, () => h.ipam.allocate({ ipamPoolId: id }), "InvalidParameterCombination");
      await expectRejectedUnchanged(h.ipam, () => h.ipam.previewNextCidr({ ipamPoolId: id }), "InvalidParameterCombination");
    });

    test("first fit gives the lowest aligned free block, deterministically", async () => {
      const id = await pool16();
      const got: string[] = [];
      for (const netmaskLength of [24, 26, 24, 25, 27, 20]) got.push((await h.ipam.allocate({ ipamPoolId: id, netmaskLength })).cidr);
      expect(got).toEqual(["10.0.0.0/24", "10.0.1.0/26", "10.0.2.0/24", "10.0.1.128/25", "10.0.1.64/27", "10.0.16.0/20"]);
      const first = (await h.ipam.listAllocations(id)).find((a) => a.cidr === "10.0.0.0/24")!;
      await h.ipam.release({ ipamPoolId: id, ipamPoolAllocationId: first.ipamPoolAllocationId });
      const next: string[] = [];
      for (const netmaskLength of [23, 24, 28, 27]) next.push((await h.ipam.allocate({ ipamPoolId: id, netmaskLength })).cidr);
      expect(next).toEqual(["10.0.4.0/23", "10.0.0.0/24", "10.0.1.96/28", "10.0.3.0/27"]);
    });

    test("first fit takes the lowest address across provisioned CIDRs, not the first listed", async () => {
      const id = (await h.ipam.createPool({ addressFamily: "ipv4", cidrs: ["10.2.0.0/24", "10.1.0.0/24"] })).ipamPoolId;
      expect((await h.ipam.allocate({ ipamPoolId: id, netmaskLength: 24 })).cidr).toBe("10.1.0.0/24");
      expect((await h.ipam.allocate({ ipamPoolId: id, netmaskLength: 25 })).cidr).toBe("10.2.0.0/25");
    });

    test("best fit takes the smallest free block that fits, the lowest among equals", async () => {
      const id = (await h.ipam.createPool({ addressFamily: "ipv4", cidrs: ["10.0.0.0/24"], allocationStrategy: "best-fit" })).ipamPoolId;
      await h.ipam.allocate({ ipamPoolId: id, cidr: "10.0.0.0/26" });
      await h.ipam.allocate({ ipamPoolId: id, cidr: "10.0.0.128/27" });
      // Free now: 10.0.0.64/26, 10.0.0.160/27, 10.0.0.192/26. First fit would give 10.0.0.64/27.
      expect(await h.ipam.previewNextCidr({ ipamPoolId: id, netmaskLength: 27 })).toBe("10.0.0.160/27");
      expect((await h.ipam.allocate({ ipamPoolId: id, netmaskLength: 27 })).cidr).toBe("10.0.0.160/27");
      expect((await h.ipam.allocate({ ipamPoolId: id, netmaskLength: 28 })).cidr).toBe("10.0.0.64/28");
      // Free now: 10.0.0.80/28, 10.0.0.96/27, 10.0.0.192/26.
      expect((await h.ipam.allocate({ ipamPoolId: id, netmaskLength: 26 })).cidr).toBe("10.0.0.192/26");
      expect((await h.ipam.allocate({ ipamPoolId: id, netmaskLength: 29, disallowedCidrs: ["10.0.0.80/28"] })).cidr).toBe("10.0.0.96/29");
      expect((await h.ipam.allocate({ ipamPoolId: id, netmaskLength: 29 })).cidr).toBe("10.0.0.104/29");
    });

    test("an invalid allocationStrategy is InvalidParameterValue", async () => {
      await expectRejectedUnchanged(h.ipam, () => h.ipam.createPool({ addressFamily: "ipv4", allocationStrategy: "worst-fit" as never }), "InvalidParameterValue");
    });
  });

  describe("allowedCidrs and disallowedCidrs", () => {
    test("allowedCidrs limit where the block may go", async () => {
      const id = await pool16();
      expect((await h.ipam.allocate({ ipamPoolId: id, netmaskLength: 24, allowedCidrs: ["10.0.8.0/21"] })).cidr).toBe("10.0.8.0/24");
      expect((await h.ipam.allocate({ ipamPoolId: id, netmaskLength: 24, allowedCidrs: ["10.0.200.0/24", "10.0.100.0/24"] })).cidr).toBe("10.0.100.0/24");
      // Two adjacent allowed CIDRs admit a block spanning both.
      expect((await h.ipam.allocate({ ipamPoolId: id, netmaskLength: 23, allowedCidrs: ["10.0.20.0/24", "10.0.21.0/24"] })).cidr).toBe("10.0.20.0/23");
    });

    test("disallowedCidrs keep the block off those addresses", async () => {
      const id = await pool16();
      expect((await h.ipam.allocate({ ipamPoolId: id, netmaskLength: 24, disallowedCidrs: ["10.0.0.0/20"] })).cidr).toBe("10.0.16.0/24");
      expect((await h.ipam.allocate({ ipamPoolId: id, netmaskLength: 24, disallowedCidrs: ["10.0.0.128/25"] })).cidr).toBe("10.0.1.0/24");
      expect((await h.ipam.allocate({ ipamPoolId: id, netmaskLength: 24, allowedCidrs: ["10.0.0.0/22"], disallowedCidrs: ["10.0.0.0/24", "10.0.2.5/32"] })).cidr).toBe("10.0.3.0/24");
      expect(await cidrsOf(h.ipam, id)).toEqual(["10.0.1.0/24", "10.0.3.0/24", "10.0.16.0/24"]);
    });

    test("when every allowed address is disallowed it is AvailableCidrInsufficient (seed 002: no candidate left)", async () => {
      const id = await pool16();
      await expectRejectedUnchanged(h.ipam, () => h.ipam.allocate({ ipamPoolId: id, netmaskLength: 24, allowedCidrs: ["10.0.4.0/24"], disallowedCidrs: ["10.0.4.0/23"] }), "OperationDenied.AvailableCidrInsufficient");
      await expectRejectedUnchanged(h.ipam, () => h.ipam.allocate({ ipamPoolId: id, netmaskLength: 24, disallowedCidrs: ["10.0.0.0/17", "10.0.128.0/17"] }), "OperationDenied.AvailableCidrInsufficient");
    });

    test("allowed space with no aligned free fit is AvailableCidrInsufficient", async () => {
      const id = await pool16();
      await h.ipam.allocate({ ipamPoolId: id, cidr: "10.0.5.0/24" });
      await expectRejectedUnchanged(h.ipam, () => h.ipam.allocate({ ipamPoolId: id, netmaskLength: 24, allowedCidrs: ["10.0.0.0/25"] }), "OperationDenied.AvailableCidrInsufficient");
      await expectRejectedUnchanged(h.ipam, () => h.ipam.allocate({ ipamPoolId: id, netmaskLength: 24, allowedCidrs: ["10.0.5.0/24"] }), "OperationDenied.AvailableCidrInsufficient");
      await expectRejectedUnchanged(h.ipam, () => h.ipam.allocate({ ipamPoolId: id, netmaskLength: 23, allowedCidrs: ["10.0.4.0/23"], disallowedCidrs: ["10.0.0.0/24"] }), "OperationDenied.AvailableCidrInsufficient");
    });

    test("a malformed allowed or disallowed CIDR is IllegalParam.Cidr", async () => {
      const id = await pool16();
      await expectRejectedUnchanged(h.ipam, () => h.ipam.allocate({ ipamPoolId: id, netmaskLength: 24, allowedCidrs: ["10.0.0.1/16"] }), "IllegalParam.Cidr");
      await expectRejectedUnchanged(h.ipam, () => h.ipam.allocate({ ipamPoolId: id, netmaskLength: 24, disallowedCidrs: ["nonsense"] }), "IllegalParam.Cidr");
    });
  });

  describe("a full pool", () => {
    test("is AvailableCidrInsufficient, also when the free addresses are scattered", async () => {
      const id = (await h.ipam.createPool({ addressFamily: "ipv4", cidrs: ["10.0.0.0/24"] })).ipamPoolId;
      await h.ipam.allocate({ ipamPoolId: id, cidr: "10.0.0.0/26" });
      await h.ipam.allocate({ ipamPoolId: id, cidr: "10.0.0.128/26" });
      await expectRejectedUnchanged(h.ipam, () => h.ipam.allocate({ ipamPoolId: id, netmaskLength: 25 }), "OperationDenied.AvailableCidrInsufficient");
      await expectRejectedUnchanged(h.ipam, () => h.ipam.allocate({ ipamPoolId: id, netmaskLength: 16 }), "OperationDenied.AvailableCidrInsufficient");
      await h.ipam.allocate({ ipamPoolId: id, netmaskLength: 26 });
      await h.ipam.allocate({ ipamPoolId: id, netmaskLength: 26 });
      expect(await h.ipam.utilization(id)).toMatchObject({ allocated: "256", free: "0", freeBlocks: [] });
      await expectRejectedUnchanged(h.ipam, () => h.ipam.allocate({ ipamPoolId: id, netmaskLength: 32 }), "OperationDenied.AvailableCidrInsufficient");
      await expectRejectedUnchanged(h.ipam, () => h.ipam.previewNextCidr({ ipamPoolId: id, netmaskLength: 32 }), "OperationDenied.AvailableCidrInsufficient");
    });

    test("a pool with no CIDRs has no room", async () => {
      const id = (await h.ipam.createPool({ addressFamily: "ipv4" })).ipamPoolId;
      await expectRejectedUnchanged(h.ipam, () => h.ipam.allocate({ ipamPoolId: id, netmaskLength: 24 }), "OperationDenied.AvailableCidrInsufficient");
      await expectRejectedUnchanged(h.ipam, () => h.ipam.allocate({ ipamPoolId: id, cidr: "10.0.0.0/24" }), "OperationDenied.CidrUnavailableInPool");
    });
  });

  describe("previewNextCidr", () => {
    test("returns what the next allocate returns and changes nothing", async () => {
      const id = await pool16({ allocationDefaultNetmaskLength: 22 });
      await h.ipam.allocate({ ipamPoolId: id, cidr: "10.0.0.0/24" });
      for (const input of [{}, { netmaskLength: 24 }, { netmaskLength: 20, disallowedCidrs: ["10.0.16.0/20"] }, { netmaskLength: 26, allowedCidrs: ["10.0.9.0/24"] }]) {
        const before = await snapshot(h.ipam);
        const preview = await h.ipam.previewNextCidr({ ipamPoolId: id, ...input });
        expect(await h.ipam.previewNextCidr({ ipamPoolId: id, ...input })).toBe(preview);
        expect(await snapshot(h.ipam)).toEqual(before);
        expect((await h.ipam.allocate({ ipamPoolId: id, ...input })).cidr).toBe(preview);
      }
      expect(await cidrsOf(h.ipam, id)).toEqual(["10.0.0.0/24", "10.0.1.0/24", "10.0.4.0/22", "10.0.9.0/26", "10.0.32.0/20"]);
    });

    test("of an explicit cidr is that cidr when free, CidrUnavailableInPool when not", async () => {
      const id = await pool16();
      expect(await h.ipam.previewNextCidr({ ipamPoolId: id, cidr: "10.0.7.0/24" })).toBe("10.0.7.0/24");
      await h.ipam.allocate({ ipamPoolId: id, cidr: "10.0.7.0/24" });
      await expectRejectedUnchanged(h.ipam, () => h.ipam.previewNextCidr({ ipamPoolId: id, cidr: "10.0.7.0/25" }), "OperationDenied.CidrUnavailableInPool");
    });
  });

  describe("release", () => {
    test("frees the space and merges it back into the provisioned CIDRs", async () => {
      const id = (await h.ipam.createPool({ addressFamily: "ipv4", cidrs: ["10.0.0.0/24", "10.0.1.0/24"] })).ipamPoolId;
      const ids: string[] = [];
      for (const n of [26, 25, 28, 24, 30, 27]) ids.push((await h.ipam.allocate({ ipamPoolId: id, netmaskLength: n })).ipamPoolAllocationId);
      expect(await h.ipam.utilization(id)).toMatchObject({ total: "512", allocated: String(64 + 128 + 16 + 256 + 4 + 32), free: String(512 - 500) });
      for (const a of [ids[2], ids[0], ids[5], ids[3], ids[1], ids[4]]) await h.ipam.release({ ipamPoolId: id, ipamPoolAllocationId: a });
      expect(await h.ipam.utilization(id)).toEqual({ ipamPoolId: id, total: "512", allocated: "0", free: "512", freeBlocks: ["10.0.0.0/24", "10.0.1.0/24"] });
      expect(await h.ipam.listAllocations(id)).toEqual([]);
      expect((await h.ipam.allocate({ ipamPoolId: id, netmaskLength: 24 })).cidr).toBe("10.0.0.0/24");
    });

    test("with a cidr other than the allocation's is InvalidParameterValue; with its own it releases", async () => {
      const id = await pool16();
      const a = await h.ipam.allocate({ ipamPoolId: id, netmaskLength: 24 });
      await expectRejectedUnchanged(h.ipam, () => h.ipam.release({ ipamPoolId: id, ipamPoolAllocationId: a.ipamPoolAllocationId, cidr: "10.0.1.0/24" }), "InvalidParameterValue");
      await h.ipam.release({ ipamPoolId: id, ipamPoolAllocationId: a.ipamPoolAllocationId, cidr: a.cidr });
      expect(await codeOf(h.ipam.getAllocation(id, a.ipamPoolAllocationId))).toBe("InvalidIpamPoolAllocationId.NotFound");
    });

    test("of an unknown, released, or other pool's allocation is InvalidIpamPoolAllocationId.NotFound", async () => {
      const id = await pool16();
      const other = (await h.ipam.createPool({ addressFamily: "ipv4", cidrs: ["10.1.0.0/16"] })).ipamPoolId;
      const a = await h.ipam.allocate({ ipamPoolId: id, netmaskLength: 24 });
      const b = await h.ipam.allocate({ ipamPoolId: id, netmaskLength: 24 });
      await h.ipam.release({ ipamPoolId: id, ipamPoolAllocationId: a.ipamPoolAllocationId });
      for (const [pool, alloc] of [[id, "ipam-pool-alloc-0123"], [id, a.ipamPoolAllocationId], [other, b.ipamPoolAllocationId]]) {
        await expectRejectedUnchanged(h.ipam, () => h.ipam.release({ ipamPoolId: pool, ipamPoolAllocationId: alloc }), "InvalidIpamPoolAllocationId.NotFound");
      }
      expect(await codeOf(h.ipam.getAllocation(other, b.ipamPoolAllocationId))).toBe("InvalidIpamPoolAllocationId.NotFound");
    });

    test("of a nested pool's carve-out is OperationDenied.ResourceTypeIsNotCustom", async () => {
      const id = await pool16();
      const child = await h.ipam.createPool({ addressFamily: "ipv4", sourceIpamPoolId: id, netmaskLength: 20 });
      const [carve] = await h.ipam.listAllocations(id);
      expect(carve).toMatchObject({ cidr: child.cidrs[0], resourceType: "ipam-pool", resourceId: child.ipamPoolId });
      await expectRejectedUnchanged(h.ipam, () => h.ipam.release({ ipamPoolId: id, ipamPoolAllocationId: carve.ipamPoolAllocationId }), "OperationDenied.ResourceTypeIsNotCustom");
    });
  });
});
