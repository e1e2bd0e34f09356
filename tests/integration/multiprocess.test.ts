/**
 * Several Node processes allocate from ONE pool tree at the same time, on one
 * SQLite file and on one PostgreSQL database: /24 and /26 from a /16, /26 and
 * /27 from a nested pool carved out of it, CIDRs provisioned into a second
 * nested pool by netmaskLength, releases, Elastic IPs (and their release),
 * and ClientTokens sent by two processes at once (one allocation) and
 * retried by one process (same allocation).
 *
 * Afterwards the parent reads the store and checks: no two live allocations
 * overlap (among what the workers were told and what listAllocations says),
 * nothing acknowledged is lost, nothing unacknowledged appears, and every
 * pool's utilization adds up.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { Ipam } from "../../provider/core/ipam";
import type { AddressInfo, AllocationInfo, PoolInfo } from "../../provider/core/types";
import { openStore } from "../../provider/stores";
import { checkPool, ipv4Span, overlapsAmong, PoolReport, Span } from "../support/invariants";
import { freshPgDatabase } from "../support/pg";
import type { Op } from "../support/ipam-worker";
import { killAllWorkers, Line, startTogether, startWorker, Worker } from "../support/workers";

const WORKERS = 6;
const ROUNDS = 8;

afterAll(() => killAllWorkers());

interface Tree {
  top: PoolInfo;
  child: PoolInfo;
  child2: PoolInfo;
}

async function makeTree(url: string): Promise<Tree> {
  const store = openStore(url);
  const ipam = new Ipam(store);
  try {
    const top = await ipam.createPool({ addressFamily: "ipv4", cidrs: ["10.0.0.0/16"], description: "shared top" });
    const child = await ipam.createPool({ addressFamily: "ipv4", sourceIpamPoolId: top.ipamPoolId, netmaskLength: 20 });
    const child2 = await ipam.createPool({ addressFamily: "ipv4", sourceIpamPoolId: top.ipamPoolId });
    return { top, child, child2 };
  } finally {
    await store.close();
  }
}

/** Worker w's operations. Workers 2k and 2k+1 share the "pair" ClientTokens, with identical parameters. */
function planFor(w: number, t: Tree): Op[] {
  const ops: Op[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    ops.push({ op: "allocate", ref: `a${r}`, input: { ipamPoolId: t.top.ipamPoolId, netmaskLength: 24, description: `w${w} a${r}` } });
    ops.push({ op: "allocate", ref: `b${r}`, input: { ipamPoolId: t.top.ipamPoolId, netmaskLength: 26 } });
    ops.push({ op: "allocate", ref: `c${r}`, input: { ipamPoolId: t.child.ipamPoolId, netmaskLength: r % 2 ? 27 : 26 } });
    ops.push({
      op: "allocate", ref: `t${r}`,
      input: { ipamPoolId: t.top.ipamPoolId, netmaskLength: 25, description: `pair ${w >> 1} round ${r}`, clientToken: `pair-${w >> 1}-${r}` },
    });
    if (r % 2 === 0) ops.push({ op: "allocateAddress", ref: `e${r}`, input: { ipamPoolId: t.top.ipamPoolId, tags: { w: String(w) } } });
    if (r % 3 === 2) {
      ops.push({ op: "release", ref: `ra${r}`, of: `a${r - 1}` });
      ops.push({ op: "release", ref: `rc${r}`, of: `c${r - 2}` });
    }
    if (r % 4 === 2) ops.push({ op: "releaseAddress", ref: `re${r}`, of: `e${r - 2}` });
    if (w < 3 && r % 4 === 1) {
      ops.push({ op: "provision", ref: `p${r}`, input: { ipamPoolId: t.child2.ipamPoolId, netmaskLength: r % 8 === 1 ? 24 : 26 } });
    }
    if (r === 3) {
      // A retry by the same process: same token and parameters, so the same allocation.
      const input = { ipamPoolId: t.child.ipamPoolId, netmaskLength: 28, clientToken: `self-${w}` };
      ops.push({ op: "allocate", ref: "s1", input }, { op: "allocate", ref: "s2", input });
    }
  }
  return ops;
}

interface Acked {
  info: AllocationInfo;
  worker: number;
  tokens: Set<string>;
}

/** Everything the workers were told, minus what they released themselves. */
function collect(workers: Worker[]) {
  const allocations = new Map<string, Acked>();
  const released = new Set<string>();
  const addresses = new Map<string, AddressInfo>();
  const releasedAddresses = new Set<string>();
  const byToken = new Map<string, AllocationInfo[]>();
  const provisioned: PoolInfo[] = [];
  workers.forEach((w, i) => {
    for (const l of w.ok()) {
      if (l.op === "allocate") {
        const info = l.result as AllocationInfo;
        const seen = allocations.get(info.ipamPoolAllocationId);
        if (seen) {
          // Only a ClientToken may hand one allocation out twice.
          expect(l.token).toBeDefined();
          expect(seen.info).toEqual(info);
          seen.tokens.add(l.token as string);
        } else {
          allocations.set(info.ipamPoolAllocationId, { info, worker: i, tokens: new Set(l.token ? [l.token as string] : []) });
        }
        if (l.token) byToken.set(l.token as string, [...(byToken.get(l.token as string) ?? []), info]);
      } else if (l.op === "release") released.add(l.id as string);
      else if (l.op === "allocateAddress") addresses.set((l.result as AddressInfo).allocationId, l.result as AddressInfo);
      else if (l.op === "releaseAddress") releasedAddresses.add(l.id as string);
      else if (l.op === "provision") provisioned.push(l.result as PoolInfo);
    }
  });
  return { allocations, released, addresses, releasedAddresses, byToken, provisioned };
}

async function runScenario(url: string): Promise<void> {
  const tree = await makeTree(url);
  const workers = Array.from({ length: WORKERS }, (_, w) => startWorker("plan", url, planFor(w, tree)));
  await startTogether(workers);
  await Promise.all(workers.map((w) => w.finished()));

  const failures: Line[] = workers.flatMap((w) => w.failures());
  expect(failures).toEqual([]);
  const got = collect(workers);
  const expectedOps = workers.reduce((n, _w, i) => n + planFor(i, tree).length, 0);
  expect(workers.reduce((n, w) => n + w.ok().length, 0)).toBe(expectedOps);

  // ClientTokens: every use of one token got the same allocation (pairs from two processes, retries from one).
  const pairTokens = [...got.byToken.keys()].filter((k) => k.startsWith("pair-"));
  expect(pairTokens).toHaveLength((WORKERS / 2) * ROUNDS);
  for (const [token, infos] of got.byToken) {
    expect(infos).toHaveLength(2);
    expect(new Set(infos.map((i) => i.ipamPoolAllocationId)).size).toBe(1);
    expect(new Set(infos.map((i) => i.cidr)).size).toBe(1);
    expect(token).toMatch(/^(pair|self)-/);
  }

  const store = openStore(url);
  const ipam = new Ipam(store);
  try {
    const reports: Record<string, PoolReport> = {};
    for (const p of [tree.top, tree.child, tree.child2]) reports[p.ipamPoolId] = await checkPool(ipam, p.ipamPoolId);
    for (const r of Object.values(reports)) expect(r.problems).toEqual([]);
    const top = reports[tree.top.ipamPoolId];
    const child = reports[tree.child.ipamPoolId];
    const child2 = reports[tree.child2.ipamPoolId];

    // Nested pools: each provisioned CIDR is exactly one ipam-pool allocation in the top pool.
    const poolAllocs = top.allocations.filter((a) => a.resourceType === "ipam-pool");
    expect(poolAllocs.map((a) => `${a.resourceId} ${a.cidr}`).sort()).toEqual(
      [...child.cidrs.map((c) => `${tree.child.ipamPoolId} ${c}`), ...child2.cidrs.map((c) => `${tree.child2.ipamPoolId} ${c}`)].sort(),
    );
    expect(child2.cidrs).toHaveLength(got.provisioned.length);
    for (const p of got.provisioned) for (const c of p.cidrs) expect(child2.cidrs).toContain(c);

    // Lost / phantom custom allocations: the store holds exactly the acknowledged, unreleased ones.
    const liveAcked = [...got.allocations.values()].filter((a) => !got.released.has(a.info.ipamPoolAllocationId));
    const storedCustom = [...top.allocations, ...child.allocations].filter((a) => a.resourceType === "custom");
    expect(storedCustom.map((a) => a.ipamPoolAllocationId).sort()).toEqual(liveAcked.map((a) => a.info.ipamPoolAllocationId).sort());
    const storedById = new Map(storedCustom.map((a) => [a.ipamPoolAllocationId, a]));
    for (const a of liveAcked) {
      expect(storedById.get(a.info.ipamPoolAllocationId)?.cidr).toBe(a.info.cidr);
      expect(storedById.get(a.info.ipamPoolAllocationId)?.ipamPoolId).toBe(a.info.ipamPoolId);
    }
    for (const id of got.released) {
      const owner = [...got.allocations.values()].find((a) => a.info.ipamPoolAllocationId === id)!;
      await expect(ipam.getAllocation(owner.info.ipamPoolId, id)).rejects.toMatchObject({ code: "InvalidIpamPoolAllocationId.NotFound" });
    }

    // Elastic IPs: each live one is a /32 eip allocation of the top pool, released ones are gone.
    const liveEips = [...got.addresses.values()].filter((a) => !got.releasedAddresses.has(a.allocationId));
    const storedEips = top.allocations.filter((a) => a.resourceType === "eip");
    expect(storedEips.map((a) => a.ipamPoolAllocationId).sort()).toEqual(liveEips.map((e) => e.ipamPoolAllocationId).sort());
    for (const e of liveEips) {
      expect(await ipam.getAddress(e.allocationId)).toEqual(e);
      expect(storedEips.find((a) => a.ipamPoolAllocationId === e.ipamPoolAllocationId)?.cidr).toBe(`${e.publicIp}/32`);
    }
    for (const id of got.releasedAddresses) {
      await expect(ipam.getAddress(id)).rejects.toMatchObject({ code: "InvalidAllocationID.NotFound" });
    }
    expect(got.releasedAddresses.size).toBeGreaterThan(0);
    expect(got.released.size).toBeGreaterThan(0);

    // No overlap among everything live, whether the workers were told it or the store lists it, level by level.
    const level = (poolIds: string[], extra: Span[]): Span[] => {
      const spans = new Map<string, Span>();
      for (const id of poolIds) for (const a of reports[id].allocations) spans.set(a.ipamPoolAllocationId, ipv4Span(a.cidr, a.ipamPoolAllocationId));
      for (const a of liveAcked) if (poolIds.includes(a.info.ipamPoolId)) spans.set(a.info.ipamPoolAllocationId, ipv4Span(a.info.cidr, a.info.ipamPoolAllocationId));
      return [...spans.values(), ...extra];
    };
    const eipSpans = liveEips.map((e) => ipv4Span(`${e.publicIp}/32`, e.ipamPoolAllocationId));
    expect(overlapsAmong(level([tree.top.ipamPoolId], eipSpans))).toEqual([]);
    expect(overlapsAmong(level([tree.child.ipamPoolId], []))).toEqual([]);
    // Everything in the nested pool lies inside its provisioned CIDR.
    const childRoot = ipv4Span(child.cidrs[0]);
    for (const a of child.allocations) {
      const s = ipv4Span(a.cidr);
      expect(s.lo >= childRoot.lo && s.hi <= childRoot.hi).toBe(true);
    }
    // Sizes, so that the utilization check above is about a non-trivial state.
    expect(top.allocations.filter((a) => a.cidr.endsWith("/24") && a.resourceType === "custom").length).toBe(WORKERS * ROUNDS - WORKERS * 2);
    expect(child.allocations.length).toBeGreaterThan(WORKERS * 4);
  } finally {
    await store.close();
  }
}

describe("many processes on one store", () => {
  test("SQLite: 6 processes on one file", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "ipam-mp-"));
    try {
      await runScenario(`sqlite:${path.join(dir, "ipam.db")}`);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  test("PostgreSQL: 6 processes on one database", async () => {
    await runScenario(await freshPgDatabase("ipam_mp"));
  });
});
