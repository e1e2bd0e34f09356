/**
 * The index of reserved blocks (provider/core/reserved.ts), on every store:
 * after any sequence of plans, re-plans, commits, forgets and expiries, the
 * index is exactly the coverage of the indexed reservations, planned and held (segments
 * disjoint, counts right, touching neighbours of different counts), and
 * every fresh plan is the CIDR the earlier algorithm gave, the allocator's
 * choice skipping every other live plan listed in full; in a created pool
 * and in one only planned.
 */
import { blockRange, familyBits, familyOf, parseCidr } from "../../provider/core/cidr";
import { IpamError } from "../../provider/core/errors";
import { CARVE_OUT, Ipam } from "../../provider/core/ipam";
import type { ReservationRecord, ReservedSegment } from "../../provider/core/model";
import { Planner } from "../../provider/core/plan";
import { indexed } from "../../provider/core/reserved";
import type { Store } from "../../provider/core/store";
import { MemoryStore } from "../../provider/stores/memory";
import { BACKENDS, useBackend } from "../support/backends";

const KEYS = Array.from({ length: 12 }, (_v, i) => `urn:pulumi:dev::p::pulumi-nodejs:dynamic/ipam:IpamPoolAllocation::a${i}`);

/** Every segment of a space, ascending. */
async function segmentsOf(store: Store, space: string): Promise<ReservedSegment[]> {
  return store.read(async (tx) => tx.reservedFrom(space, 0n, 1_000_000));
}

/** The segments the indexed reservations of a space should make: coverage counts, touching equal counts merged. */
function expectedSegments(reservations: ReservationRecord[]): ReservedSegment[] {
  const edges = new Map<bigint, number>();
  for (const r of reservations.filter((x) => indexed(x))) {
    for (const c of r.cidrs) {
      const [s, e] = blockRange(familyBits(familyOf(c)), parseCidr(familyOf(c), c));
      edges.set(s, (edges.get(s) ?? 0) + 1);
      edges.set(e + 1n, (edges.get(e + 1n) ?? 0) - 1);
    }
  }
  const points = [...edges.keys()].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  const out: ReservedSegment[] = [];
  let count = 0;
  for (const [i, p] of points.entries()) {
    count += edges.get(p)!;
    const next = points[i + 1];
    if (count <= 0 || next === undefined) continue;
    const prev = out[out.length - 1];
    if (prev && prev.last + 1n === p && prev.count === count) prev.last = next - 1n;
    else out.push({ start: p, last: next - 1n, count });
  }
  return out;
}

async function checkIndex(store: Store, space: string): Promise<void> {
  const rows = await store.read(async (tx) => tx.listReservations(space));
  expect(await segmentsOf(store, space)).toEqual(expectedSegments(rows));
}

/** What planning gave before the index: the allocator's choice with every other live plan of the pool skipped. */
async function referencePlan(ipam: Ipam, store: Store, pool: string, key: string, netmaskLength: number, now: number, planned?: { cidrs: string[] }): Promise<string> {
  const others = (await store.read(async (tx) => tx.listReservations(pool))).filter((r) => r.key !== key && r.expiresAt > now).flatMap((r) => r.cidrs);
  if (!planned) return ipam.previewNextCidr({ ipamPoolId: pool, netmaskLength, excludedCidrs: others });
  // A pool not created yet: as the planner's scratch copy did, others' plans allocated in a copy of it.
  const scratch = new Ipam(new MemoryStore());
  const copy = await scratch.createPool({ addressFamily: "ipv4", cidrs: planned.cidrs, allocationMaxNetmaskLength: 28 });
  for (const c of others) await scratch.allocate({ ipamPoolId: copy.ipamPoolId, cidr: c }, undefined, CARVE_OUT).catch(() => undefined);
  return scratch.previewNextCidr({ ipamPoolId: copy.ipamPoolId, netmaskLength });
}

describe.each(BACKENDS)("index of reserved blocks on $name", (backend) => {
  const h = useBackend(backend);

  test.each([["a created pool", true], ["a pool only planned", false]])("random plans, commits, forgets and expiries in %s: the index stays exact and plans equal the full-listing ones", async (_what, created) => {
    let seed = created ? 11 : 29;
    const rand = (n: number) => ((seed = (seed * 1103515245 + 12345) % 2 ** 31), seed % n);
    const planner = new Planner(h.ipam, () => new MemoryStore());
    let pool: string;
    let planned: { cidrs: string[] } | undefined;
    if (created) {
      pool = (await h.ipam.createPool({ addressFamily: "ipv4", cidrs: ["10.0.0.0/20"], allocationMaxNetmaskLength: 28 })).ipamPoolId;
    } else {
      const p = await planner.planPool("urn:pool", { addressFamily: "ipv4", cidrs: ["10.0.0.0/20"], allocationMaxNetmaskLength: 28 });
      pool = p.ipamPoolId;
      planned = { cidrs: p.cidrs };
    }
    let now = 1_000_000;
    const nonces = new Map<string, string>();
    const committed = new Map<string, string>();
    let fresh = 0;
    for (let step = 0; step < 160; step++) {
      const key = KEYS[rand(KEYS.length)];
      const op = rand(10);
      now += rand(4) * 100;
      if (op < 5 || !nonces.has(key)) {
        const netmaskLength = [24, 24, 26, 23][rand(4)];
        const prior = await h.store.read(async (tx) => tx.getReservation(key));
        const want = await referencePlan(h.ipam, h.store, pool, key, netmaskLength, now, planned).catch((e: unknown) => e);
        const got = await planner.planAllocation(key, { ipamPoolId: pool, netmaskLength }, { now, ttlMs: 300 + rand(3) * 400 }).catch((e: unknown) => e as Error);
        if (got instanceof IpamError) {
          expect(want).toBeInstanceOf(IpamError);
          expect(got.code).toBe((want as IpamError).code);
        } else if (got instanceof Error) {
          throw got;
        } else if (got.nonce !== prior?.nonce) {
          // A fresh choice (not a kept plan): the same as listing every sibling.
          fresh++;
          expect(got.cidrs).toEqual([want]);
        }
        if (!(got instanceof Error)) nonces.set(key, got.nonce);
      } else if (op < 7 && created && !committed.has(key)) {
        const r = await h.store.read(async (tx) => tx.getReservation(key));
        if (r && r.expiresAt !== 0) {
          const a = await planner.commitAllocation(key, { ipamPoolId: pool }, { cidrs: r.cidrs, nonce: r.nonce, ipamPoolId: pool, clientToken: `tok-${key.slice(-3)}-${r.nonce}` }).catch(() => undefined);
          if (a) committed.set(key, a.ipamPoolAllocationId);
        }
      } else if (op < 8) {
        // An explicit CIDR may overlap other plans (in a created pool): counts above 1.
        const cidr = `10.0.${rand(16)}.0/24`;
        const r = await planner.planAllocation(key, { ipamPoolId: pool, cidr }, { now, ttlMs: 500 }).catch(() => undefined);
        if (r) nonces.set(key, r.nonce);
      } else {
        const id = committed.get(key);
        if (id) await h.ipam.release({ ipamPoolId: pool, ipamPoolAllocationId: id });
        committed.delete(key);
        await planner.forget(key, nonces.get(key)!);
        nonces.delete(key);
      }
      await checkIndex(h.store, pool);
    }
    expect(fresh).toBeGreaterThan(20);
    // Expired plans, once a plan in the space purges them, leave the index.
    const later = now + 10_000;
    await planner.planAllocation(KEYS[0], { ipamPoolId: pool, netmaskLength: 28 }, { now: later, ttlMs: 1000 });
    const left = (await h.store.read(async (tx) => tx.listReservations(pool))).filter((r) => r.expiresAt !== 0);
    expect(left.map((r) => r.key)).toEqual([KEYS[0]]);
    await checkIndex(h.store, pool);
  });

  test("N contiguous siblings are one segment; commits leave it whole, a forget in the middle splits it, the last empties it", async () => {
    const planner = new Planner(h.ipam, () => new MemoryStore());
    const pool = (await h.ipam.createPool({ addressFamily: "ipv4", cidrs: ["10.0.0.0/16"], allocationDefaultNetmaskLength: 24 })).ipamPoolId;
    const plans = [];
    for (const key of KEYS) plans.push(await planner.planAllocation(key, { ipamPoolId: pool }));
    expect(plans.map((p) => p.cidrs[0])).toEqual(KEYS.map((_k, i) => `10.0.${i}.0/24`));
    expect(await segmentsOf(h.store, pool)).toEqual([{ start: 0x0a000000n, last: 0x0a000000n + BigInt(KEYS.length * 256 - 1), count: 1 }]);
    const whole = await segmentsOf(h.store, pool);
    for (const i of [7, 2, 9]) await planner.commitAllocation(KEYS[i], { ipamPoolId: pool }, plans[i]);
    expect(await segmentsOf(h.store, pool)).toEqual(whole);
    await planner.forget(KEYS[5], plans[5].nonce);
    expect((await segmentsOf(h.store, pool)).map((g) => [g.start - 0x0a000000n, g.last - 0x0a000000n])).toEqual([[0n, 5n * 256n - 1n], [6n * 256n, BigInt(KEYS.length * 256 - 1)]]);
    for (const [i, key] of KEYS.entries()) if (i !== 5) await planner.forget(key, plans[i].nonce);
    expect(await segmentsOf(h.store, pool)).toEqual([]);
  });
});

describe.each(BACKENDS.filter((b) => b.name !== "memory"))("a store from before the index on $name", (backend) => {
  const h = useBackend(backend);

  test("the plans live at the migration are indexed on first use: new plans skip them", async () => {
    const planner = new Planner(h.ipam, () => new MemoryStore());
    const pool = (await h.ipam.createPool({ addressFamily: "ipv4", cidrs: ["10.0.0.0/16"], allocationDefaultNetmaskLength: 24 })).ipamPoolId;
    const before = [];
    for (const key of KEYS.slice(0, 3)) before.push((await planner.planAllocation(key, { ipamPoolId: pool })).cidrs[0]);
    // As a store migrated from version 5 is: the plans are there, their index is not, the space is pending.
    await h.store.transaction(async (tx) => {
      for (const g of await tx.reservedFrom(pool, 0n, 100)) await tx.deleteReserved(pool, g.last);
    });
    await rawPending(h.url, pool);
    await h.reopen();
    const again = new Planner(h.ipam, () => new MemoryStore());
    expect((await again.planAllocation(KEYS[3], { ipamPoolId: pool })).cidrs).toEqual(["10.0.3.0/24"]);
    expect(before).toEqual(["10.0.0.0/24", "10.0.1.0/24", "10.0.2.0/24"]);
    await checkIndex(h.store, pool);
    // Built once: the pending mark is gone.
    expect(await h.store.transaction(async (tx) => tx.takeReservedPending(pool))).toBe(false);
  });
});

/** Marks a space pending as migration 6 does, beside the store (its own connection). */
async function rawPending(url: string, pool: string): Promise<void> {
  if (url.startsWith("sqlite:")) {
    const Database = (await import("better-sqlite3")).default;
    const db = new Database(url.slice("sqlite:".length).split("?")[0]);
    try { db.prepare("INSERT INTO ipam_reserved_pending (pool_id) VALUES (?)").run(pool); } finally { db.close(); }
    return;
  }
  const { Client } = await import("pg");
  const c = new Client({ connectionString: url });
  await c.connect();
  try { await c.query("INSERT INTO ipam_reserved_pending (pool_id) VALUES ($1)", [pool]); } finally { await c.end(); }
}
