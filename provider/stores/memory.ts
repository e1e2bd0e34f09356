/**
 * In-memory store: the reference implementation of the Store contract and
 * the one the in-process benchmarks use. Writes are undone in reverse order
 * when a transaction throws.
 */
import BTree from "sorted-btree";
import type { Block } from "../core/cidr";
import type { AddressRecord, AllocationRecord, PoolRecord, ReservationHold, ReservationRecord, ReservedSegment, TokenRecord } from "../core/model";
import { readOnlyTx, type Store, type StoreTx } from "../core/store";
import { AllocationTable } from "./memory-allocations";
import { Mutex } from "./mutex";

const cmp = (a: bigint, b: bigint) => (a < b ? -1 : a > b ? 1 : 0);
const clone = <T>(v: T): T => structuredClone(v);
/**
 * Pools are read on every operation: copy what the core mutates (the CIDR
 * lists) and share the rest. structuredClone here cost a quarter of an
 * allocation and gave every allocation record its own copy of the pool id.
 */
const copyPool = (p: PoolRecord): PoolRecord => ({ ...p, cidrs: [...p.cidrs], sourceAllocationIds: [...p.sourceAllocationIds] });

class MemoryTx implements StoreTx {
  readonly undo: (() => void)[] = [];
  constructor(private readonly s: MemoryStore) {}

  lockPools(): void {}

  getPool(id: string) { const p = this.s.pools.get(id); return p && copyPool(p); }
  putPool(pool: PoolRecord) {
    const old = this.s.pools.get(pool.ipamPoolId);
    this.s.pools.set(pool.ipamPoolId, copyPool(pool));
    this.undo.push(() => (old ? this.s.pools.set(pool.ipamPoolId, old) : this.s.pools.delete(pool.ipamPoolId)));
  }
  deletePool(id: string) {
    const old = this.s.pools.get(id);
    this.s.pools.delete(id);
    if (old) this.undo.push(() => this.s.pools.set(id, old));
  }
  countChildPools(id: string) { let n = 0; for (const p of this.s.pools.values()) if (p.sourceIpamPoolId === id) n++; return n; }
  listPools() { return [...this.s.pools.values()].map(copyPool); }

  private tree(poolId: string, prefix: number): BTree<bigint, true> {
    let byPrefix = this.s.free.get(poolId);
    if (!byPrefix) this.s.free.set(poolId, (byPrefix = new Map()));
    let t = byPrefix.get(prefix);
    if (!t) byPrefix.set(prefix, (t = new BTree<bigint, true>(undefined, cmp)));
    return t;
  }
  lowestFree(poolId: string, minPrefix: number, maxPrefix: number, from: bigint, to: bigint): Block | undefined {
    const byPrefix = this.s.free.get(poolId);
    if (!byPrefix) return undefined;
    let best: Block | undefined;
    for (let p = minPrefix; p <= maxPrefix; p++) {
      const t = byPrefix.get(p);
      const hit = t?.getPairOrNextHigher(from);
      if (hit && hit[0] <= to && (!best || hit[0] < best.start)) best = { start: hit[0], prefix: p };
    }
    return best;
  }
  hasFree(poolId: string, b: Block) { return this.s.free.get(poolId)?.get(b.prefix)?.has(b.start) ?? false; }
  addFree(poolId: string, b: Block) { this.tree(poolId, b.prefix).set(b.start, true); this.undo.push(() => this.tree(poolId, b.prefix).delete(b.start)); }
  removeFree(poolId: string, b: Block) {
    if (this.tree(poolId, b.prefix).delete(b.start)) this.undo.push(() => this.tree(poolId, b.prefix).set(b.start, true));
  }
  listFree(poolId: string): Block[] {
    const out: Block[] = [];
    for (const [prefix, t] of this.s.free.get(poolId) ?? []) for (const start of t.keys()) out.push({ start, prefix });
    return out;
  }

  getAllocation(id: string) { return this.s.allocations.get(id); }
  putAllocation(a: AllocationRecord) {
    const old = this.s.allocations.put(a);
    this.undo.push(() => { this.s.allocations.delete(a.ipamPoolAllocationId); if (old) this.s.allocations.put(old); });
  }
  deleteAllocation(id: string) {
    const old = this.s.allocations.delete(id);
    if (old) this.undo.push(() => this.s.allocations.put(old));
  }
  listAllocations(poolId: string) { return this.s.allocations.list(poolId); }
  countAllocations(poolId: string) { return this.s.allocations.count(poolId); }

  getAddress(id: string) { const a = this.s.addresses.get(id); return a && clone(a); }
  putAddress(a: AddressRecord) {
    const old = this.s.addresses.get(a.allocationId);
    this.s.addresses.set(a.allocationId, clone(a));
    this.undo.push(() => (old ? this.s.addresses.set(a.allocationId, old) : this.s.addresses.delete(a.allocationId)));
  }
  deleteAddress(id: string) {
    const old = this.s.addresses.get(id);
    this.s.addresses.delete(id);
    if (old) this.undo.push(() => this.s.addresses.set(id, old));
  }

  getToken(key: string) { return this.s.tokens.get(key); }
  putToken(t: TokenRecord) { this.s.tokens.set(t.key, { ...t }); this.undo.push(() => this.s.tokens.delete(t.key)); }

  getReservation(key: string) { const r = this.s.reservations.get(key); return r && clone(r); }
  putReservation(r: ReservationRecord) {
    const old = this.s.reservations.get(r.key);
    this.s.reservations.set(clone(r));
    this.undo.push(() => (old ? this.s.reservations.set(old) : this.s.reservations.delete(r.key)));
  }
  deleteReservation(key: string) {
    const old = this.s.reservations.get(key);
    this.s.reservations.delete(key);
    if (old) this.undo.push(() => this.s.reservations.set(old));
  }
  listReservations(spacePoolId: string) {
    return this.s.reservations.inSpace(spacePoolId).sort((a, b) => (a.key < b.key ? -1 : 1)).map(clone);
  }
  listReservationHolds(spacePoolId: string) {
    const out: ReservationHold[] = [];
    for (const r of this.s.reservations.inSpace(spacePoolId)) if (r.expiresAt !== 0) out.push({ key: r.key, cidrs: [...r.cidrs], expiresAt: r.expiresAt });
    return out.sort((a, b) => (a.key < b.key ? -1 : 1));
  }
  listExpiredReservations(spacePoolId: string, now: number) { return this.s.reservations.expired(spacePoolId, now).map(clone); }
  getPoolReservation(ipamPoolId: string) { const r = this.s.reservations.ofPlannedPool(ipamPoolId); return r && clone(r); }

  lockReservations(): void {}
  private segments(space: string): BTree<bigint, ReservedSegment> {
    let t = this.s.reserved.get(space);
    if (!t) this.s.reserved.set(space, (t = new BTree<bigint, ReservedSegment>(undefined, cmp)));
    return t;
  }
  reservedFrom(spacePoolId: string, from: bigint, limit: number): ReservedSegment[] {
    const out: ReservedSegment[] = [];
    const t = this.s.reserved.get(spacePoolId);
    if (!t) return out;
    for (const [, g] of t.entries(from)) {
      if (out.length >= limit) break;
      out.push({ ...g });
    }
    return out;
  }
  putReserved(spacePoolId: string, g: ReservedSegment) {
    const t = this.segments(spacePoolId);
    const old = t.get(g.last);
    t.set(g.last, { ...g });
    this.undo.push(() => (old ? t.set(g.last, old) : t.delete(g.last)));
  }
  deleteReserved(spacePoolId: string, last: bigint) {
    const t = this.segments(spacePoolId);
    const old = t.get(last);
    if (old && t.delete(last)) this.undo.push(() => t.set(last, old));
  }
  takeReservedPending(): boolean { return false; } // never migrated: built as it goes
}

/**
 * Plan reservations by key, with the indexes the planner's reads need: by
 * space, by planned pool id, and by expiry within a space (so finding the
 * expired ones reads only those).
 */
class Reservations {
  private readonly byKey = new Map<string, ReservationRecord>();
  private readonly bySpace = new Map<string, Set<string>>();
  private readonly byPlannedPool = new Map<string, string>();
  private readonly byExpiry = new Map<string, BTree<string, string>>();

  get(key: string) { return this.byKey.get(key); }
  values() { return this.byKey.values(); }
  get size() { return this.byKey.size; }
  [Symbol.iterator]() { return this.byKey[Symbol.iterator](); }

  set(r: ReservationRecord): void {
    this.delete(r.key);
    this.byKey.set(r.key, r);
    if (r.spacePoolId) {
      let keys = this.bySpace.get(r.spacePoolId);
      if (!keys) this.bySpace.set(r.spacePoolId, (keys = new Set()));
      keys.add(r.key);
      if (r.expiresAt !== 0) {
        let t = this.byExpiry.get(r.spacePoolId);
        if (!t) this.byExpiry.set(r.spacePoolId, (t = new BTree<string, string>()));
        t.set(expiryKey(r), r.key);
      }
    }
    if (r.kind === "pool") this.byPlannedPool.set(r.ipamPoolId, r.key);
  }

  delete(key: string): void {
    const r = this.byKey.get(key);
    if (!r) return;
    this.byKey.delete(key);
    if (r.spacePoolId) {
      this.bySpace.get(r.spacePoolId)?.delete(key);
      if (r.expiresAt !== 0) this.byExpiry.get(r.spacePoolId)?.delete(expiryKey(r));
    }
    if (r.kind === "pool" && this.byPlannedPool.get(r.ipamPoolId) === key) this.byPlannedPool.delete(r.ipamPoolId);
  }

  inSpace(space: string): ReservationRecord[] {
    return [...(this.bySpace.get(space) ?? [])].map((k) => this.byKey.get(k)!);
  }

  ofPlannedPool(ipamPoolId: string): ReservationRecord | undefined {
    const k = this.byPlannedPool.get(ipamPoolId);
    return k === undefined ? undefined : this.byKey.get(k);
  }

  expired(space: string, now: number): ReservationRecord[] {
    const out: ReservationRecord[] = [];
    const t = this.byExpiry.get(space);
    if (!t) return out;
    for (const [k, key] of t.entries()) {
      if (Number(k.slice(0, 16)) > now) break;
      out.push(this.byKey.get(key)!);
    }
    return out;
  }
}

/** Sorts by expiry, then key: epoch ms fit 16 digits. */
const expiryKey = (r: ReservationRecord) => `${String(r.expiresAt).padStart(16, "0")}\n${r.key}`;

export class MemoryStore implements Store {
  readonly kind = "memory";
  readonly pools = new Map<string, PoolRecord>();
  readonly free = new Map<string, Map<number, BTree<bigint, true>>>();
  readonly allocations = new AllocationTable();
  readonly addresses = new Map<string, AddressRecord>();
  readonly tokens = new Map<string, TokenRecord>();
  readonly reservations = new Reservations();
  /** Per space, the index of reserved blocks: segments by last address. */
  readonly reserved = new Map<string, BTree<bigint, ReservedSegment>>();
  private readonly mutex = new Mutex();

  transaction<T>(fn: (tx: StoreTx) => Promise<T>): Promise<T> {
    return this.mutex.run(async () => {
      const tx = new MemoryTx(this);
      try {
        return await fn(tx);
      } catch (e) {
        for (let i = tx.undo.length - 1; i >= 0; i--) tx.undo[i]();
        throw e;
      }
    });
  }

  /** Under the same mutex as writers: a snapshot is what no writer is halfway through. */
  read<T>(fn: (tx: StoreTx) => Promise<T>): Promise<T> {
    return this.mutex.run(() => fn(readOnlyTx(new MemoryTx(this))));
  }

  async close(): Promise<void> {}
}
