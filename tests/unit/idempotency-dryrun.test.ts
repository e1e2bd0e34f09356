/** ClientToken (idempotency) and DryRun, as seeds 000-004 describe them. */
import { BACKENDS, codeOf, expectRejectedUnchanged, snapshot, useBackend } from "../support/backends";

describe.each(BACKENDS)("ClientToken on $name", (backend) => {
  const h = useBackend(backend);
  const pool = async (cidr = "10.0.0.0/24") => (await h.ipam.createPool({ addressFamily: "ipv4", cidrs: [cidr] })).ipamPoolId;

  test("allocate: the same token and parameters return the first result and allocate once", async () => {
    const id = await pool();
    const first = await h.ipam.allocate({ ipamPoolId: id, netmaskLength: 26, clientToken: "req-1" });
    const again = await h.ipam.allocate({ ipamPoolId: id, netmaskLength: 26, clientToken: "req-1" });
    expect(again).toEqual(first);
    expect(await h.ipam.listAllocations(id)).toEqual([first]);
    expect((await h.ipam.allocate({ ipamPoolId: id, netmaskLength: 26, clientToken: "req-2" })).cidr).toBe("10.0.0.64/26");
  });

  test("allocate: a retry still gets its result when the pool has filled up since", async () => {
    const id = await pool();
    const first = await h.ipam.allocate({ ipamPoolId: id, netmaskLength: 25, clientToken: "t" });
    await h.ipam.allocate({ ipamPoolId: id, netmaskLength: 25 });
    expect(await h.ipam.allocate({ ipamPoolId: id, netmaskLength: 25, clientToken: "t" })).toEqual(first);
  });

  test("allocate: the same token with other parameters is IdempotentParameterMismatch", async () => {
    const id = await pool();
    const other = await pool("10.1.0.0/24");
    await h.ipam.allocate({ ipamPoolId: id, netmaskLength: 26, clientToken: "req-1" });
    await expectRejectedUnchanged(h.ipam, () => h.ipam.allocate({ ipamPoolId: id, netmaskLength: 27, clientToken: "req-1" }), "IdempotentParameterMismatch");
    await expectRejectedUnchanged(h.ipam, () => h.ipam.allocate({ ipamPoolId: id, netmaskLength: 26, description: "x", clientToken: "req-1" }), "IdempotentParameterMismatch");
    await expectRejectedUnchanged(h.ipam, () => h.ipam.allocate({ ipamPoolId: other, netmaskLength: 26, clientToken: "req-1" }), "IdempotentParameterMismatch");
  });

  test.each([["non-ASCII", "tökén"], ["65 characters", "a".repeat(65)], ["a control character", "a\nb"]])("a %s token is InvalidParameterValue", async (_what, clientToken) => {
    const id = await pool();
    await expectRejectedUnchanged(h.ipam, () => h.ipam.allocate({ ipamPoolId: id, netmaskLength: 26, clientToken }), "InvalidParameterValue");
    await expectRejectedUnchanged(h.ipam, () => h.ipam.createPool({ addressFamily: "ipv4", clientToken }), "InvalidParameterValue");
    await expectRejectedUnchanged(h.ipam, () => h.ipam.allocateAddress({ ipamPoolId: id, clientToken }), "InvalidParameterValue");
  });

  test("a 64-character ASCII token is accepted", async () => {
    const id = await pool();
    const token = "123e4567-e89b-12d3-a456-426655440000".padEnd(64, "x");
    const a = await h.ipam.allocate({ ipamPoolId: id, netmaskLength: 26, clientToken: token });
    expect(await h.ipam.allocate({ ipamPoolId: id, netmaskLength: 26, clientToken: token })).toEqual(a);
  });

  test("createPool: the same token returns the same pool; other parameters are IdempotentParameterMismatch", async () => {
    const input = { addressFamily: "ipv4", cidrs: ["10.0.0.0/16"], clientToken: "pool-1" };
    const first = await h.ipam.createPool(input);
    expect(await h.ipam.createPool(input)).toEqual(first);
    expect(await h.ipam.listPools()).toEqual([first]);
    await expectRejectedUnchanged(h.ipam, () => h.ipam.createPool({ ...input, cidrs: ["10.1.0.0/16"] }), "IdempotentParameterMismatch");
  });

  test("allocateAddress: the same token returns the same address; tokens are per operation", async () => {
    const id = await pool("203.0.113.0/24");
    const eip = await h.ipam.allocateAddress({ ipamPoolId: id, clientToken: "same" });
    expect(await h.ipam.allocateAddress({ ipamPoolId: id, clientToken: "same" })).toEqual(eip);
    await expectRejectedUnchanged(h.ipam, () => h.ipam.allocateAddress({ ipamPoolId: id, address: "203.0.113.9", clientToken: "same" }), "IdempotentParameterMismatch");
    const cidr = await h.ipam.allocate({ ipamPoolId: id, netmaskLength: 28, clientToken: "same" });
    expect(cidr.cidr).toBe("203.0.113.16/28");
    expect((await h.ipam.listAllocations(id)).length).toBe(2);
  });
});

describe.each(BACKENDS.filter((b) => b.name !== "memory"))("ClientToken on $name across a reopen", (backend) => {
  const h = useBackend(backend);

  test("a token survives closing and reopening the store", async () => {
    const pool = await h.ipam.createPool({ addressFamily: "ipv4", cidrs: ["10.0.0.0/24"], clientToken: "p" });
    const a = await h.ipam.allocate({ ipamPoolId: pool.ipamPoolId, netmaskLength: 26, clientToken: "a" });
    const before = await snapshot(h.ipam);
    const ipam = await h.reopen();
    expect(await snapshot(ipam)).toEqual(before);
    expect(await ipam.createPool({ addressFamily: "ipv4", cidrs: ["10.0.0.0/24"], clientToken: "p" })).toEqual(pool);
    expect(await ipam.allocate({ ipamPoolId: pool.ipamPoolId, netmaskLength: 26, clientToken: "a" })).toEqual(a);
    expect(await codeOf(ipam.allocate({ ipamPoolId: pool.ipamPoolId, netmaskLength: 25, clientToken: "a" }))).toBe("IdempotentParameterMismatch");
    expect(await snapshot(ipam)).toEqual(before);
  });
});

describe.each(BACKENDS)("DryRun on $name", (backend) => {
  const h = useBackend(backend);

  /** A parent with one allocation, a nested pool, and an Elastic IP: something for every call to act on. */
  async function world() {
    const parent = await h.ipam.createPool({ addressFamily: "ipv4", cidrs: ["10.0.0.0/16"] });
    const alloc = await h.ipam.allocate({ ipamPoolId: parent.ipamPoolId, netmaskLength: 24 });
    const child = await h.ipam.createPool({ addressFamily: "ipv4", sourceIpamPoolId: parent.ipamPoolId, netmaskLength: 20 });
    const eip = await h.ipam.allocateAddress({ ipamPoolId: parent.ipamPoolId });
    return { parent: parent.ipamPoolId, alloc, child: child.ipamPoolId, eip };
  }

  test("a valid request fails with DryRunOperation and changes nothing", async () => {
    const w = await world();
    const calls: [string, () => Promise<unknown>][] = [
      ["createPool", () => h.ipam.createPool({ addressFamily: "ipv4", cidrs: ["10.9.0.0/16"], dryRun: true })],
      ["createPool nested", () => h.ipam.createPool({ addressFamily: "ipv4", sourceIpamPoolId: w.parent, netmaskLength: 22, dryRun: true })],
      ["provisionPoolCidr", () => h.ipam.provisionPoolCidr({ ipamPoolId: w.child, netmaskLength: 24, dryRun: true })],
      ["updatePool", () => h.ipam.updatePool({ ipamPoolId: w.parent, description: "new", dryRun: true })],
      ["allocate", () => h.ipam.allocate({ ipamPoolId: w.parent, netmaskLength: 24, dryRun: true })],
      ["allocate cidr", () => h.ipam.allocate({ ipamPoolId: w.parent, cidr: "10.0.200.0/24", dryRun: true })],
      ["allocateAddress", () => h.ipam.allocateAddress({ ipamPoolId: w.parent, dryRun: true })],
      ["release", () => h.ipam.release({ ipamPoolId: w.parent, ipamPoolAllocationId: w.alloc.ipamPoolAllocationId, dryRun: true })],
      ["releaseAddress", () => h.ipam.releaseAddress({ allocationId: w.eip.allocationId, dryRun: true })],
      ["deletePool", () => h.ipam.deletePool({ ipamPoolId: w.child, dryRun: true })],
    ];
    for (const [what, call] of calls) {
      const before = await snapshot(h.ipam);
      expect([what, await codeOf(call())]).toEqual([what, "DryRunOperation"]);
      expect(await snapshot(h.ipam)).toEqual(before);
    }
    expect(await h.ipam.getAddress(w.eip.allocationId)).toEqual(w.eip);
  });

  test("a dry run records no ClientToken", async () => {
    const w = await world();
    await expectRejectedUnchanged(h.ipam, () => h.ipam.allocate({ ipamPoolId: w.parent, netmaskLength: 24, clientToken: "k", dryRun: true }), "DryRunOperation");
    const a = await h.ipam.allocate({ ipamPoolId: w.parent, netmaskLength: 25, clientToken: "k" });
    expect(a.cidr).toBe("10.0.1.128/25"); // 10.0.1.0 is the Elastic IP
  });

  test("a dry run repeating a used ClientToken fails with DryRunOperation, not the remembered result", async () => {
    const w = await world();
    const pool = { addressFamily: "ipv4", cidrs: ["10.9.0.0/16"], clientToken: "p" };
    await h.ipam.createPool(pool);
    await h.ipam.allocate({ ipamPoolId: w.parent, netmaskLength: 24, clientToken: "a" });
    await h.ipam.allocateAddress({ ipamPoolId: w.parent, clientToken: "e" });
    await expectRejectedUnchanged(h.ipam, () => h.ipam.createPool({ ...pool, dryRun: true }), "DryRunOperation");
    await expectRejectedUnchanged(h.ipam, () => h.ipam.allocate({ ipamPoolId: w.parent, netmaskLength: 24, clientToken: "a", dryRun: true }), "DryRunOperation");
    await expectRejectedUnchanged(h.ipam, () => h.ipam.allocateAddress({ ipamPoolId: w.parent, clientToken: "e", dryRun: true }), "DryRunOperation");
    // With other parameters the real error still wins.
    await expectRejectedUnchanged(h.ipam, () => h.ipam.allocate({ ipamPoolId: w.parent, netmaskLength: 25, clientToken: "a", dryRun: true }), "IdempotentParameterMismatch");
  });

  test("a request with bad input fails with the real error code, not DryRunOperation", async () => {
    const w = await world();
    const cases: [() => Promise<unknown>, string][] = [
      [() => h.ipam.createPool({ addressFamily: "ipv5", dryRun: true }), "InvalidParameterValue"],
      [() => h.ipam.createPool({ addressFamily: "ipv4", allocationMinNetmaskLength: 28, allocationMaxNetmaskLength: 20, dryRun: true }), "InvalidParameterValue"],
      [() => h.ipam.createPool({ addressFamily: "ipv4", sourceIpamPoolId: w.parent, cidrs: ["10.0.0.0/24"], dryRun: true }), "OperationDenied.CidrUnavailableInPool"],
      [() => h.ipam.allocate({ ipamPoolId: w.parent, cidr: "10.0.0.0/25", dryRun: true }), "OperationDenied.CidrUnavailableInPool"],
      [() => h.ipam.allocate({ ipamPoolId: w.parent, netmaskLength: 8, dryRun: true }), "OperationDenied.AvailableCidrInsufficient"],
      [() => h.ipam.allocate({ ipamPoolId: w.parent, dryRun: true }), "InvalidParameterCombination"],
      [() => h.ipam.allocate({ ipamPoolId: w.parent, netmaskLength: 40, dryRun: true }), "IllegalParam.CidrMask"],
      [() => h.ipam.allocateAddress({ ipamPoolId: w.parent, address: w.eip.publicIp, dryRun: true }), "OperationDenied.CidrUnavailableInPool"],
      [() => h.ipam.release({ ipamPoolId: w.parent, ipamPoolAllocationId: "ipam-pool-alloc-none", dryRun: true }), "InvalidIpamPoolAllocationId.NotFound"],
      [() => h.ipam.release({ ipamPoolId: w.parent, ipamPoolAllocationId: w.eip.ipamPoolAllocationId, dryRun: true }), "OperationDenied.ResourceTypeIsNotCustom"],
      [() => h.ipam.releaseAddress({ allocationId: "eipalloc-none", dryRun: true }), "InvalidAllocationID.NotFound"],
      [() => h.ipam.deletePool({ ipamPoolId: w.parent, dryRun: true }), "DependencyViolation"],
      [() => h.ipam.deletePool({ ipamPoolId: "ipam-pool-none", dryRun: true }), "InvalidIpamPoolId.NotFound"],
    ];
    for (const [call, code] of cases) await expectRejectedUnchanged(h.ipam, call, code as never);
  });
});
