/**
 * The memory store's allocation records, packed: a slot per allocation in
 * typed arrays (start as two 64-bit halves, prefix, type, pool index), and
 * the rare fields (description, resource id, tags) in a sparse map. Ids the
 * core minted in this process ("ipam-pool-alloc-" + a per-process prefix + a
 * counter) are keyed by their counter, other ids by their text; counters
 * are dense from 0, so the counter-to-slot index is a typed array too. About
 * 30 bytes per allocation instead of about 290 as one object each (measured
 * at 1M allocations: heap snapshot and bench/growth.ts).
 */
import type { AllocationRecord, ResourceType } from "../core/model";

const TYPES: ResourceType[] = ["custom", "ipam-pool", "vpc", "subnet", "eip", "ec2-public-ipv4-pool"];
const MINTED = /^ipam-pool-alloc-([0-9a-f]{16})([0-9a-f]{16})$/;
const LOW64 = (1n << 64n) - 1n;
const EMPTY = -2;
const NAMED = -1;
const DENSE_LIMIT = 2 ** 28;

type Extra = Pick<AllocationRecord, "description" | "resourceId" | "resourceTags">;

export class AllocationTable {
  private cap = 1024;
  private hi = new BigUint64Array(this.cap);
  private lo = new BigUint64Array(this.cap);
  private prefix = new Uint8Array(this.cap);
  private type = new Uint8Array(this.cap);
  private pool = new Uint32Array(this.cap);
  /** Each slot's key: its counter, NAMED (see keyName) or EMPTY. */
  private keyNum = new Float64Array(this.cap).fill(EMPTY);
  private readonly keyName = new Map<number, string>();
  /** Slots ever used: slots at or above it are unused. */
  private used = 0;
  /** Slot + 1 of each live row: by counter below DENSE_LIMIT (0 = none), else by map; by text for other ids. */
  private mintedSlot = new Uint32Array(1024);
  private readonly mintedFar = new Map<number, number>();
  private readonly named = new Map<string, number>();
  private readonly extra = new Map<number, Extra>();
  private readonly freeSlots: number[] = [];
  private mintPrefix: string | undefined;
  private readonly poolIds: string[] = [];
  private readonly poolIndex = new Map<string, number>();
  private readonly counts = new Map<number, number>();

  private key(id: string): number | string {
    const m = MINTED.exec(id);
    if (m) {
      this.mintPrefix ??= m[1];
      if (m[1] === this.mintPrefix) return parseInt(m[2], 16);
    }
    return id;
  }

  private slotOf(id: string): number | undefined {
    const k = this.key(id);
    const s = typeof k === "string" ? this.named.get(k) : k < DENSE_LIMIT ? (k < this.mintedSlot.length ? this.mintedSlot[k] : 0) : this.mintedFar.get(k);
    return s ? s - 1 : undefined;
  }

  private setMinted(k: number, slotPlusOne: number): void {
    if (k >= DENSE_LIMIT) {
      if (slotPlusOne) this.mintedFar.set(k, slotPlusOne); else this.mintedFar.delete(k);
      return;
    }
    if (k >= this.mintedSlot.length) {
      let n = this.mintedSlot.length;
      while (n <= k) n *= 2;
      const b = new Uint32Array(n);
      b.set(this.mintedSlot);
      this.mintedSlot = b;
    }
    this.mintedSlot[k] = slotPlusOne;
  }

  private poolNumber(poolId: string): number {
    let n = this.poolIndex.get(poolId);
    if (n === undefined) { n = this.poolIds.length; this.poolIds.push(poolId); this.poolIndex.set(poolId, n); }
    return n;
  }

  private grow(): void {
    this.cap *= 2;
    const grow = <T extends BigUint64Array | Uint8Array | Uint32Array | Float64Array>(a: T, make: (n: number) => T) => { const b = make(this.cap); b.set(a as never); return b; };
    this.hi = grow(this.hi, (n) => new BigUint64Array(n));
    this.lo = grow(this.lo, (n) => new BigUint64Array(n));
    this.prefix = grow(this.prefix, (n) => new Uint8Array(n));
    this.type = grow(this.type, (n) => new Uint8Array(n));
    this.pool = grow(this.pool, (n) => new Uint32Array(n));
    this.keyNum = grow(this.keyNum, (n) => new Float64Array(n).fill(EMPTY));
  }

  private read(slot: number): AllocationRecord {
    const k = this.keyNum[slot];
    const id = k === NAMED ? this.keyName.get(slot)! : `ipam-pool-alloc-${this.mintPrefix}${k.toString(16).padStart(16, "0")}`;
    const rec: AllocationRecord = {
      ipamPoolAllocationId: id, ipamPoolId: this.poolIds[this.pool[slot]],
      start: (this.hi[slot] << 64n) | this.lo[slot], prefix: this.prefix[slot], resourceType: TYPES[this.type[slot]],
    };
    const x = this.extra.get(slot);
    return x ? { ...rec, ...x } : rec;
  }

  get(id: string): AllocationRecord | undefined {
    const s = this.slotOf(id);
    return s === undefined ? undefined : this.read(s);
  }

  /** Inserts or replaces; returns the record it replaced. */
  put(a: AllocationRecord): AllocationRecord | undefined {
    const old = this.get(a.ipamPoolAllocationId);
    if (old) this.delete(a.ipamPoolAllocationId);
    const slot = this.freeSlots.pop() ?? this.used++;
    if (slot >= this.cap) this.grow();
    const k = this.key(a.ipamPoolAllocationId);
    if (typeof k === "number") {
      this.keyNum[slot] = k;
      this.setMinted(k, slot + 1);
    } else {
      this.keyNum[slot] = NAMED;
      this.keyName.set(slot, k);
      this.named.set(k, slot + 1);
    }
    this.hi[slot] = a.start >> 64n;
    this.lo[slot] = a.start & LOW64;
    this.prefix[slot] = a.prefix;
    this.type[slot] = Math.max(0, TYPES.indexOf(a.resourceType));
    const p = this.poolNumber(a.ipamPoolId);
    this.pool[slot] = p;
    this.counts.set(p, (this.counts.get(p) ?? 0) + 1);
    const { description, resourceId, resourceTags } = a;
    if (description !== undefined || resourceId !== undefined || resourceTags !== undefined) {
      this.extra.set(slot, Object.fromEntries(Object.entries({ description, resourceId, resourceTags }).filter(([, v]) => v !== undefined)));
    }
    return old;
  }

  /** Deletes; returns the record it deleted. */
  delete(id: string): AllocationRecord | undefined {
    const slot = this.slotOf(id);
    if (slot === undefined) return undefined;
    const old = this.read(slot);
    const k = this.keyNum[slot];
    if (k === NAMED) {
      this.named.delete(this.keyName.get(slot)!);
      this.keyName.delete(slot);
    } else {
      this.setMinted(k, 0);
    }
    this.keyNum[slot] = EMPTY;
    this.extra.delete(slot);
    const p = this.pool[slot];
    this.counts.set(p, (this.counts.get(p) ?? 1) - 1);
    this.freeSlots.push(slot);
    return old;
  }

  list(poolId: string): AllocationRecord[] {
    const p = this.poolIndex.get(poolId);
    const out: AllocationRecord[] = [];
    if (p === undefined) return out;
    for (let s = 0; s < this.used; s++) if (this.keyNum[s] !== EMPTY && this.pool[s] === p) out.push(this.read(s));
    return out;
  }

  count(poolId: string): number {
    const p = this.poolIndex.get(poolId);
    return p === undefined ? 0 : this.counts.get(p) ?? 0;
  }
}
