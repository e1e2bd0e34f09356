/**
 * Calls in flight at once on one store (the seed: "an allocation with strong
 * consistency ... will not overlap"). The outcome is checked, never the timing:
 * whatever the interleaving, first fit must end with the lowest blocks taken.
 */
import { BACKENDS, byAddress, cidrsOf, codeOf, useBackend } from "../support/backends";

describe.each(BACKENDS)("concurrent calls on $name", (backend) => {
  const h = useBackend(backend);

  test("concurrent allocations get distinct blocks, together the lowest ones", async () => {
    const id = (await h.ipam.createPool({ addressFamily: "ipv4", cidrs: ["10.0.0.0/23"] })).ipamPoolId;
    const got = await Promise.all(Array.from({ length: 24 }, () => h.ipam.allocate({ ipamPoolId: id, netmaskLength: 28 })));
    const want = Array.from({ length: 24 }, (_, i) => `10.0.${i >> 4}.${(i & 15) * 16}/28`);
    expect(got.map((a) => a.cidr).sort(byAddress)).toEqual(want);
    expect(await cidrsOf(h.ipam, id)).toEqual(want);
    expect((await h.ipam.utilization(id)).allocated).toBe(String(24 * 16));
  });

  test("nested pools, allocations and Elastic IPs taken at once from one source never overlap", async () => {
    const id = (await h.ipam.createPool({ addressFamily: "ipv4", cidrs: ["10.0.0.0/22"] })).ipamPoolId;
    const calls: Promise<unknown>[] = [];
    for (let i = 0; i < 6; i++) {
      calls.push(h.ipam.createPool({ addressFamily: "ipv4", sourceIpamPoolId: id, netmaskLength: 26 }));
      calls.push(h.ipam.allocate({ ipamPoolId: id, netmaskLength: 27 }));
      calls.push(h.ipam.allocateAddress({ ipamPoolId: id }));
    }
    await Promise.all(calls);
    const blocks = (await h.ipam.listAllocations(id)).map((a) => a.cidr).sort(byAddress);
    expect(blocks.length).toBe(18);
    const ranges = blocks.map((c) => {
      const [addr, p] = c.split("/");
      const start = addr.split(".").reduce((s, o) => s * 256 + Number(o), 0);
      return [start, start + 2 ** (32 - Number(p)) - 1];
    });
    for (let i = 1; i < ranges.length; i++) expect(ranges[i][0]).toBeGreaterThan(ranges[i - 1][1]);
    expect((await h.ipam.utilization(id)).allocated).toBe(String(6 * 64 + 6 * 32 + 6));
  });

  test("the same ClientToken sent at once allocates once", async () => {
    const id = (await h.ipam.createPool({ addressFamily: "ipv4", cidrs: ["10.0.0.0/24"] })).ipamPoolId;
    const got = await Promise.all(Array.from({ length: 6 }, () => h.ipam.allocate({ ipamPoolId: id, netmaskLength: 26, clientToken: "once" })));
    for (const a of got) expect(a).toEqual(got[0]);
    expect(await h.ipam.listAllocations(id)).toEqual([got[0]]);
    const pools = await Promise.all(Array.from({ length: 4 }, () => h.ipam.createPool({ addressFamily: "ipv4", cidrs: ["10.9.0.0/16"], clientToken: "one-pool" })));
    for (const p of pools) expect(p).toEqual(pools[0]);
    expect((await h.ipam.listPools()).length).toBe(2);
  });

  test("a release and an allocation at once leave a consistent pool", async () => {
    const id = (await h.ipam.createPool({ addressFamily: "ipv4", cidrs: ["10.0.0.0/24"] })).ipamPoolId;
    const held = await Promise.all(Array.from({ length: 4 }, () => h.ipam.allocate({ ipamPoolId: id, netmaskLength: 26 })));
    await Promise.all([
      ...held.slice(0, 2).map((a) => h.ipam.release({ ipamPoolId: id, ipamPoolAllocationId: a.ipamPoolAllocationId })),
      h.ipam.allocate({ ipamPoolId: id, netmaskLength: 27 }).catch((e) => e.code),
    ]);
    const u = await h.ipam.utilization(id);
    const left = await h.ipam.listAllocations(id);
    const allocated = left.reduce((s, a) => s + 2 ** (32 - Number(a.cidr.split("/")[1])), 0);
    expect(u.allocated).toBe(String(allocated));
    expect(BigInt(u.allocated) + BigInt(u.free)).toBe(256n);
    expect(left.filter((a) => a.cidr.endsWith("/26")).map((a) => a.cidr).sort(byAddress)).toEqual(held.slice(2).map((a) => a.cidr).sort(byAddress));
  });

  test("one Elastic IP released twice at once: one release wins, the other answers InvalidAllocationID.NotFound", async () => {
    const id = (await h.ipam.createPool({ addressFamily: "ipv4", cidrs: ["198.51.100.0/28"] })).ipamPoolId;
    for (let round = 0; round < 5; round++) {
      const eip = await h.ipam.allocateAddress({ ipamPoolId: id });
      const outcomes = await Promise.all([0, 1, 2].map(() => h.ipam.releaseAddress({ allocationId: eip.allocationId }).then(() => "released", (e) => codeOf(Promise.reject(e)))));
      expect(outcomes.sort()).toEqual(["InvalidAllocationID.NotFound", "InvalidAllocationID.NotFound", "released"]);
    }
    expect(await h.ipam.listAllocations(id)).toEqual([]);
  });
});
