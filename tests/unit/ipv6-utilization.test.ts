/** IPv6 pools, the edges of both address spaces, and utilization arithmetic. */
import { BACKENDS, byAddress, expectRejectedUnchanged, useBackend } from "../support/backends";
import type { Utilization } from "../../provider/core/types";

/** allocated + free = total, and the free blocks count exactly the free addresses. */
function expectAddsUp(u: Utilization, bits: number): void {
  expect(BigInt(u.allocated) + BigInt(u.free)).toBe(BigInt(u.total));
  const sum = u.freeBlocks.reduce((s, c) => s + (1n << BigInt(bits - Number(c.split("/")[1]))), 0n);
  expect(sum).toBe(BigInt(u.free));
  expect([...u.freeBlocks].sort(byAddress)).toEqual(u.freeBlocks);
}

describe.each(BACKENDS)("IPv6 on $name", (backend) => {
  const h = useBackend(backend);
  const v6 = async (cidrs: string[], extra: Record<string, unknown> = {}) =>
    (await h.ipam.createPool({ addressFamily: "ipv6", cidrs, ...extra })).ipamPoolId;

  test("/64s from 2001:db8::/32 come in order, formatted as RFC 5952", async () => {
    const id = await v6(["2001:db8::/32"], { allocationDefaultNetmaskLength: 64 });
    const got: string[] = [];
    for (let i = 0; i < 3; i++) got.push((await h.ipam.allocate({ ipamPoolId: id })).cidr);
    expect(got).toEqual(["2001:db8::/64", "2001:db8:0:1::/64", "2001:db8:0:2::/64"]);
    const u = await h.ipam.utilization(id);
    expect(u).toMatchObject({ total: (1n << 96n).toString(), allocated: (3n << 64n).toString() });
    expect(u.freeBlocks.slice(0, 4)).toEqual(["2001:db8:0:3::/64", "2001:db8:0:4::/62", "2001:db8:0:8::/61", "2001:db8:0:10::/60"]);
    expect(u.freeBlocks.at(-1)).toBe("2001:db8:8000::/33");
    expectAddsUp(u, 128);
  });

  test("explicit CIDRs in any valid spelling are stored and shown canonically", async () => {
    const id = await v6(["2001:db8::/32"]);
    const a = await h.ipam.allocate({ ipamPoolId: id, cidr: "2001:DB8:0:FF00::/56" });
    const b = await h.ipam.allocate({ ipamPoolId: id, cidr: "2001:0db8:0000:0000:0000:0000:0000:0000/64" });
    expect([a.cidr, b.cidr]).toEqual(["2001:db8:0:ff00::/56", "2001:db8::/64"]);
    await expectRejectedUnchanged(h.ipam, () => h.ipam.allocate({ ipamPoolId: id, cidr: "2001:db8:0:ff80::/57" }), "OperationDenied.CidrUnavailableInPool");
    await expectRejectedUnchanged(h.ipam, () => h.ipam.allocate({ ipamPoolId: id, cidr: "2001:db9::/64" }), "OperationDenied.CidrUnavailableInPool");
    await expectRejectedUnchanged(h.ipam, () => h.ipam.allocate({ ipamPoolId: id, cidr: "2001:db8::1/64" }), "IllegalParam.Cidr");
    await expectRejectedUnchanged(h.ipam, () => h.ipam.allocate({ ipamPoolId: id, cidr: "10.0.0.0/8" }), "IllegalParam.Cidr");
  });

  test("release takes the allocation's own CIDR in any spelling, and no other", async () => {
    const id = await v6(["2001:db8::/32"]);
    const a = await h.ipam.allocate({ ipamPoolId: id, netmaskLength: 64 });
    const b = await h.ipam.allocate({ ipamPoolId: id, netmaskLength: 64 });
    await expectRejectedUnchanged(h.ipam, () => h.ipam.release({ ipamPoolId: id, ipamPoolAllocationId: a.ipamPoolAllocationId, cidr: b.cidr }), "InvalidParameterValue");
    await expectRejectedUnchanged(h.ipam, () => h.ipam.release({ ipamPoolId: id, ipamPoolAllocationId: a.ipamPoolAllocationId, cidr: "2001:db8::/63" }), "InvalidParameterValue");
    await expectRejectedUnchanged(h.ipam, () => h.ipam.release({ ipamPoolId: id, ipamPoolAllocationId: a.ipamPoolAllocationId, cidr: "2001:db8::1/64" }), "IllegalParam.Cidr");
    await h.ipam.release({ ipamPoolId: id, ipamPoolAllocationId: a.ipamPoolAllocationId, cidr: "2001:0DB8:0:0::/64" });
    await h.ipam.release({ ipamPoolId: id, ipamPoolAllocationId: b.ipamPoolAllocationId, cidr: "2001:db8:0:1:0:0:0:0/64" });
    expect(await h.ipam.utilization(id)).toMatchObject({ allocated: "0", freeBlocks: ["2001:db8::/32"] });
  });

  test("netmask lengths run 0..128", async () => {
    const id = await v6(["2001:db8::/120"]);
    await expectRejectedUnchanged(h.ipam, () => h.ipam.allocate({ ipamPoolId: id, netmaskLength: 129 }), "IllegalParam.CidrMask");
    expect((await h.ipam.allocate({ ipamPoolId: id, netmaskLength: 128 })).cidr).toBe("2001:db8::/128");
    expect((await h.ipam.allocate({ ipamPoolId: id, netmaskLength: 128 })).cidr).toBe("2001:db8::1/128");
    expect((await h.ipam.allocate({ ipamPoolId: id, netmaskLength: 126 })).cidr).toBe("2001:db8::4/126");
    await expectRejectedUnchanged(h.ipam, () => h.ipam.allocate({ ipamPoolId: id, netmaskLength: 119 }), "OperationDenied.AvailableCidrInsufficient");
  });

  test("rules, allowed and disallowed CIDRs, and nesting work as for IPv4", async () => {
    const id = await v6(["2001:db8::/32"], { allocationMinNetmaskLength: 40, allocationMaxNetmaskLength: 64 });
    await expectRejectedUnchanged(h.ipam, () => h.ipam.allocate({ ipamPoolId: id, netmaskLength: 65 }), "IllegalParam.CidrMask");
    const child = await h.ipam.createPool({ addressFamily: "ipv6", sourceIpamPoolId: id, netmaskLength: 48 });
    expect(child.cidrs).toEqual(["2001:db8::/48"]);
    const next = await h.ipam.createPool({ addressFamily: "ipv6", sourceIpamPoolId: id, netmaskLength: 48 });
    expect(next.cidrs).toEqual(["2001:db8:1::/48"]);
    const a = await h.ipam.allocate({ ipamPoolId: id, netmaskLength: 48, allowedCidrs: ["2001:db8:ff00::/40"], disallowedCidrs: ["2001:db8:ff00::/48"] });
    expect(a.cidr).toBe("2001:db8:ff01::/48");
    await expectRejectedUnchanged(h.ipam, () => h.ipam.allocate({ ipamPoolId: id, netmaskLength: 48, allowedCidrs: ["2001:db8:ff00::/48"], disallowedCidrs: ["2001:db8:ff00::/40"] }), "OperationDenied.AvailableCidrInsufficient");
    expect((await h.ipam.allocate({ ipamPoolId: child.ipamPoolId, netmaskLength: 64 })).cidr).toBe("2001:db8::/64");
    await h.ipam.deletePool({ ipamPoolId: next.ipamPoolId });
    expect((await h.ipam.listAllocations(id)).map((x) => x.cidr).sort(byAddress)).toEqual(["2001:db8::/48", "2001:db8:ff01::/48"]);
  });

  test("::/0 counts 2^128 addresses and splits at 8000::", async () => {
    const id = await v6(["::/0"]);
    expect((await h.ipam.utilization(id)).total).toBe((1n << 128n).toString());
    expect((await h.ipam.allocate({ ipamPoolId: id, netmaskLength: 1 })).cidr).toBe("::/1");
    expect((await h.ipam.allocate({ ipamPoolId: id, netmaskLength: 128 })).cidr).toBe("8000::/128");
    expect((await h.ipam.allocate({ ipamPoolId: id, cidr: "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff/128" })).cidr).toBe("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff/128");
    const u = await h.ipam.utilization(id);
    expect(u.allocated).toBe(((1n << 127n) + 2n).toString());
    expectAddsUp(u, 128);
  });
});

describe.each(BACKENDS)("IPv4 edges and utilization on $name", (backend) => {
  const h = useBackend(backend);

  test("0.0.0.0/0 counts 2^32 addresses; 255.255.255.255 is formatted right", async () => {
    const id = (await h.ipam.createPool({ addressFamily: "ipv4", cidrs: ["0.0.0.0/0"] })).ipamPoolId;
    expect((await h.ipam.allocate({ ipamPoolId: id, netmaskLength: 1 })).cidr).toBe("0.0.0.0/1");
    expect((await h.ipam.allocate({ ipamPoolId: id, netmaskLength: 1 })).cidr).toBe("128.0.0.0/1");
    // In another scope: 0.0.0.0/0 holds all of IPv4 in the default one.
    const other = (await h.ipam.createPool({ addressFamily: "ipv4", cidrs: ["255.255.255.252/30"], ipamScopeId: "ipam-scope-edge" })).ipamPoolId;
    expect((await h.ipam.allocateAddress({ ipamPoolId: other, address: "255.255.255.255" })).publicIp).toBe("255.255.255.255");
    expect(await h.ipam.utilization(id)).toMatchObject({ total: "4294967296", allocated: "4294967296", free: "0" });
    expect(await h.ipam.utilization(other)).toMatchObject({ total: "4", free: "3", freeBlocks: ["255.255.255.252/31", "255.255.255.254/32"] });
  });

  test("utilization adds up through allocations, Elastic IPs, nested pools and releases", async () => {
    const id = (await h.ipam.createPool({ addressFamily: "ipv4", cidrs: ["10.0.0.0/22", "10.8.0.0/24"] })).ipamPoolId;
    const steps: (() => Promise<unknown>)[] = [
      () => h.ipam.allocate({ ipamPoolId: id, netmaskLength: 25 }),
      () => h.ipam.allocateAddress({ ipamPoolId: id }),
      () => h.ipam.createPool({ addressFamily: "ipv4", sourceIpamPoolId: id, netmaskLength: 23 }),
      () => h.ipam.allocate({ ipamPoolId: id, cidr: "10.8.0.64/26" }),
      () => h.ipam.allocate({ ipamPoolId: id, netmaskLength: 24 }),
    ];
    const allocated: number[] = [];
    for (const step of steps) {
      await step();
      const u = await h.ipam.utilization(id);
      expectAddsUp(u, 32);
      allocated.push(Number(u.allocated));
    }
    expect(allocated).toEqual([128, 129, 129 + 512, 129 + 512 + 64, 129 + 512 + 64 + 256]);
    expect(await h.ipam.utilization(id)).toEqual({
      ipamPoolId: id, total: "1280", allocated: "961", free: "319",
      freeBlocks: ["10.0.0.129/32", "10.0.0.130/31", "10.0.0.132/30", "10.0.0.136/29", "10.0.0.144/28", "10.0.0.160/27", "10.0.0.192/26", "10.8.0.0/26", "10.8.0.128/25"],
    });
    for (const a of await h.ipam.listAllocations(id)) {
      if (a.resourceType === "custom") await h.ipam.release({ ipamPoolId: id, ipamPoolAllocationId: a.ipamPoolAllocationId });
    }
    const u = await h.ipam.utilization(id);
    expectAddsUp(u, 32);
    expect(u.allocated).toBe(String(1 + 512));
  });
});
