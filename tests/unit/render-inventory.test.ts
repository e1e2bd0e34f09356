/**
 * The numbers the tool shows (provider/render/inventory.ts, free.ts) against
 * brute force on small pools, and the tree, names and look-ups it builds
 * from an inventory.
 */
import fc from "fast-check";
import { formatCidr, parseCidr } from "../../provider/core/cidr";
import type { PoolInfo } from "../../provider/core/types";
import { defaultLengths, freeData } from "../../provider/render/free";
import { findPool, fitCount, flatten, Inventory, locate, PlanView, poolTree, usageOf } from "../../provider/render/inventory";

const BASE = (10n << 24n) | (1n << 16n); // 10.1.0.0

/** Random disjoint aligned blocks inside a /24 at 10.1.0.0, from (prefix, slot) draws: later ones that overlap are dropped. */
const blocks = fc.array(fc.tuple(fc.integer({ min: 24, max: 32 }), fc.nat()), { maxLength: 20 }).map((draws) => {
  const used = new Uint8Array(256);
  const out: { start: bigint; prefix: number }[] = [];
  for (const [prefix, slot] of draws) {
    const size = 2 ** (32 - prefix);
    const off = (slot % (256 / size)) * size;
    if (used.subarray(off, off + size).some((x) => x)) continue;
    used.fill(1, off, off + size);
    out.push({ start: BASE + BigInt(off), prefix });
  }
  return { out, used };
});

describe("usage and fit counts against a bitmap of a /24", () => {
  test("allocated, free, maximal free blocks and every /N count", () => {
    fc.assert(fc.property(blocks, ({ out, used }) => {
      const u = usageOf(32, [{ start: BASE, prefix: 24 }], out);
      const allocated = used.reduce((s, x) => s + x, 0);
      expect(u.total).toBe(256n);
      expect(u.allocated).toBe(BigInt(allocated));
      expect(u.percent).toBeCloseTo((allocated / 256) * 100, 1);
      // The free blocks are aligned, cover exactly the free addresses, and are maximal (no two buddies both free).
      const free = new Uint8Array(256);
      for (const b of u.freeBlocks) {
        const off = Number(b.start - BASE), size = 2 ** (32 - b.prefix);
        expect(off % size).toBe(0);
        for (let i = off; i < off + size; i++) { expect(free[i]).toBe(0); free[i] = 1; }
      }
      for (let i = 0; i < 256; i++) expect(free[i]).toBe(used[i] ? 0 : 1);
      const starts = new Set(u.freeBlocks.map((b) => `${b.start}/${b.prefix}`));
      for (const b of u.freeBlocks) if (b.prefix > 24) expect(starts.has(`${b.start ^ (1n << BigInt(32 - b.prefix))}/${b.prefix}`)).toBe(false);
      for (let n = 24; n <= 32; n++) {
        const size = 2 ** (32 - n);
        let brute = 0;
        for (let off = 0; off < 256; off += size) if (!used.subarray(off, off + size).some((x) => x)) brute++;
        expect(fitCount(u.freeBlocks, n)).toBe(BigInt(brute));
      }
    }), { numRuns: 300 });
  });
});

const T = "pulumi-nodejs:dynamic/ipam:";
const pool = (id: string, cidrs: string[], extra: Partial<PoolInfo> = {}): PoolInfo => ({
  ipamPoolId: id, addressFamily: cidrs[0].includes(":") ? "ipv6" : "ipv4", poolDepth: 1, tags: {}, allocationResourceTags: {}, allocationStrategy: "first-fit", cidrs, ...extra,
});
const plan = (stack: string, kind: PlanView["kind"], name: string, ipamPoolId: string, cidrs: string[], state: PlanView["state"] = "held"): PlanView => ({
  key: `urn:pulumi:${stack}::p::${T}${kind === "pool" ? "IpamPool" : kind === "address" ? "ElasticIp" : "IpamPoolAllocation"}::${name}`,
  name, kind, ipamPoolId, spacePoolId: ipamPoolId, cidrs, state, expiresAt: state === "held" ? 0 : Date.now() + 3600_000,
});
const A = "ipam-pool-aaaaaaaaaaaaaaaaa", B = "ipam-pool-bbbbbbbbbbbbbbbbb", C = "ipam-pool-ccccccccccccccccc", D = "ipam-pool-ddddddddddddddddd";

function inventory(): Inventory {
  return {
    backend: "local", now: Date.now(),
    pools: [
      pool(B, ["10.0.0.0/18"], { sourceIpamPoolId: A, poolDepth: 2, locale: "us-east-1" }),
      pool(A, ["10.0.0.0/16"]),
      pool(C, ["fd00::/48"]),
      pool(D, ["10.0.0.0/16"], { ipamScopeId: "ipam-scope-other", tags: { Name: "other-scope" } }),
    ],
    allocations: {
      [A]: [
        { ipamPoolAllocationId: "ipam-pool-alloc-2", ipamPoolId: A, cidr: "10.0.128.0/17", resourceType: "custom", resourceId: "dc" },
        { ipamPoolAllocationId: "ipam-pool-alloc-1", ipamPoolId: A, cidr: "10.0.0.0/18", resourceType: "ipam-pool", resourceId: B },
      ],
      [B]: [{ ipamPoolAllocationId: "ipam-pool-alloc-3", ipamPoolId: B, cidr: "10.0.0.0/20", resourceType: "vpc", resourceTags: { owner: "team-a" } }],
      [C]: [{ ipamPoolAllocationId: "ipam-pool-alloc-4", ipamPoolId: C, cidr: "fd00::/56", resourceType: "custom" }],
    },
    plans: [
      plan("dev", "pool", "corp", A, ["10.0.0.0/16"]), plan("prod", "pool", "corp", D, ["10.0.0.0/16"]),
      plan("dev", "pool", "east", B, ["10.0.0.0/18"]), plan("dev", "allocation", "vpc", B, ["10.0.0.0/20"]),
      plan("dev", "allocation", "next", B, ["10.0.16.0/20"], "planned"), plan("dev", "pool", "v6", C, ["fd00::/48"]),
    ],
  };
}

describe("the pool tree", () => {
  test("nested pools under their source, names from held plans (or a Name tag), carve-outs tied to their pool, live plans listed", () => {
    const roots = poolTree(inventory());
    expect(roots.map((n) => n.name)).toEqual(["corp", "corp", "v6"]);
    const corp = roots[0];
    expect(corp.children.map((n) => n.name)).toEqual(["east"]);
    expect(corp.allocations.map((a) => [a.cidr, a.childPoolId ?? a.owner])).toEqual([["10.0.0.0/18", B], ["10.0.128.0/17", "dc"]]);
    expect(corp.usage.allocated).toBe(3n << 14n);
    const east = corp.children[0];
    expect(east.allocations[0]).toMatchObject({ name: "vpc", owner: "team-a" });
    expect(east.plans.map((p) => p.name)).toEqual(["next"]);
    expect(east.usage.percent).toBe(25);
  });

  test("a backend that does not list a nested pool's CIDR as an allocation of its source: it is counted there all the same", () => {
    const inv = inventory();
    inv.allocations[A] = inv.allocations[A].filter((a) => a.resourceType !== "ipam-pool");
    const corp = poolTree(inv)[0];
    expect(corp.usage.allocated).toBe(3n << 14n);
    expect(corp.allocations.find((a) => a.cidr === "10.0.0.0/18")).toMatchObject({ resourceType: "ipam-pool", childPoolId: B });
  });

  test("findPool: by id, URN, CIDR, or name; a name two stacks use needs --stack or a URN; unknown: NotFound with the names", () => {
    const roots = poolTree(inventory());
    expect(findPool(roots, B).name).toBe("east");
    expect(findPool(roots, "east").pool.ipamPoolId).toBe(B);
    expect(findPool(roots, "fd00::/48").name).toBe("v6");
    expect(findPool(roots, `urn:pulumi:prod::p::${T}IpamPool::corp`).pool.ipamPoolId).toBe(D);
    expect(() => findPool(roots, "corp")).toThrow(/^InvalidParameterValue: 2 pools are named "corp"/);
    expect(findPool(roots, "corp", "prod").pool.ipamPoolId).toBe(D);
    expect(findPool(roots, "corp", "dev").pool.ipamPoolId).toBe(A);
    expect(() => findPool(roots, "west")).toThrow(/^InvalidIpamPoolId\.NotFound: .*the pools are corp, east, corp, v6/);
    expect(() => findPool(roots, "10.0.0.300/16")).toThrow(/^IllegalParam\.Cidr/);
  });

  test("locate: an address in both scopes' pools, its allocation; a planned CIDR's plan; a name", () => {
    const inv = inventory();
    const roots = poolTree(inv);
    const l = locate(roots, inv.plans, "10.0.1.2");
    expect(l.pools.map((p) => p.node.pool.ipamPoolId)).toEqual([A, B, D]);
    expect(l.allocations.map((a) => a.allocation.cidr)).toEqual(["10.0.0.0/20"]);
    expect(l.plans).toEqual([]);
    const p = locate(roots, inv.plans, "10.0.16.0/20");
    expect(p.allocations).toEqual([]);
    expect(p.plans.map((x) => x.name)).toEqual(["next"]);
    expect(locate(roots, inv.plans, "next").plans).toHaveLength(1);
    expect(() => locate(roots, inv.plans, "nothing")).toThrow(/^InvalidParameterValue/);
    expect(() => locate(roots, inv.plans, "ipam-pool-alloc-9")).toThrow(/^InvalidIpamPoolAllocationId\.NotFound/);
    expect(() => locate(roots, inv.plans, "fd00::/129")).toThrow(/^IllegalParam\.Cidr/);
  });

  test("free data: the default lengths span the largest free block on, within the rules; counts skip live plans apart", () => {
    const roots = poolTree(inventory());
    const east = flatten(roots).find((n) => n.name === "east")!;
    const lengths = defaultLengths(east);
    expect(lengths[0]).toBe(19);
    const d = freeData(east, [19, 20, 21]);
    // 10.0.0.0/18 less a /20: a /19 and a /20 free; the live plan holds the /20.
    expect(d.rows.map((r) => [r.length, r.fit, r.outsidePlans])).toEqual([[19, 1n, 1n], [20, 3n, 2n], [21, 6n, 4n]]);
    expect(d.blocks.map((b) => formatCidr("ipv4", b))).toEqual(["10.0.16.0/20", "10.0.32.0/19"]);
    expect(parseCidr("ipv4", d.planned[0].cidr)).toEqual({ start: (10n << 24n) + (16n << 8n), prefix: 20 });
  });
});
