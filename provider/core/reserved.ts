/**
 * The index of reserved blocks: for each space (the pool whose addresses
 * plans take), which addresses live planned reservations hold, as disjoint
 * segments with a count of the reservations over them. It is to plans what
 * the free-block index is to allocations: a plan asks for the segments from
 * its candidate on instead of listing every sibling's reservation, so its
 * cost no longer grows with the number of siblings (it was O(N) per plan,
 * O(N^2) for N siblings).
 *
 * Counts make removal exact without reading other reservations: a sibling
 * that overlaps another (an explicit cidr, a plan kept past its expiry)
 * raises the count over the overlap, and removing either lowers it. Touching
 * segments of equal count are merged, so N contiguous siblings are one
 * segment and a plan skips all of them in one read.
 *
 * Indexed: every reservation that holds space in a pool (an allocation's,
 * an address's, a nested pool's carve-out), planned or held; a top-level
 * pool's plan holds space in its scope instead (scopes.ts). Held ones stay
 * (until the resource is forgotten) although their space is allocated too:
 * a commit then leaves the index as it was, so siblings committed in any
 * order never cut a run of plans into pieces a later plan would have to
 * step through one by one between allocated blocks. Expired plans stay
 * indexed until a plan in their space purges them, before it searches.
 */
import { blockRange, familyBits, familyOf, formatCidr, normalizeRanges, parseCidr, Range, rangeToBlocks } from "./cidr";
import type { ReservationRecord, ReservedSegment } from "./model";
import type { StoreTx } from "./store";

/** Segments read per look-up: a plan that meets one usually meets its neighbours next. */
const PAGE = 16;

/** Whether `r`'s CIDRs are in its space's index. */
export function indexed(r: ReservationRecord | undefined): r is ReservationRecord & { spacePoolId: string } {
  if (!r || !r.spacePoolId) return false;
  if (r.kind !== "pool") return true;
  try {
    return !!(JSON.parse(r.pool ?? "{}") as { sourceIpamPoolId?: string }).sourceIpamPoolId;
  } catch {
    return false;
  }
}

const rangeOf = (cidr: string): Range => {
  const family = familyOf(cidr);
  return blockRange(familyBits(family), parseCidr(family, cidr));
};

/** Spaces whose index is known to be complete, per planner (a migrated store builds each once). */
export class ReservedIndex {
  private readonly ready = new Set<string>();

  /** The index as one transaction sees it; `settled()` once that transaction committed. */
  in(tx: StoreTx): TxIndex {
    return new TxIndex(tx, this.ready);
  }
}

export class TxIndex {
  private readonly opened = new Set<string>();
  private readonly checked: string[] = [];

  constructor(private readonly tx: StoreTx, private readonly ready: Set<string>) {}

  /** Remembers the spaces this transaction found built, once it committed. */
  settled(): void {
    for (const s of this.checked) this.ready.add(s);
  }

  /** Locks the space's index for this transaction and builds it first if the store predates it. */
  private async open(space: string): Promise<void> {
    if (this.opened.has(space)) return;
    this.opened.add(space);
    await this.tx.lockReservations(space);
    if (this.ready.has(space)) return;
    if (await this.tx.takeReservedPending(space)) {
      for (const r of await this.tx.listReservations(space)) if (indexed(r) && r.spacePoolId === space) await this.apply(space, r.cidrs, 1);
    }
    this.checked.push(space);
  }

  /** Indexes a reservation just written (nothing when it is not an indexed one). */
  async add(r: ReservationRecord | undefined): Promise<void> {
    if (indexed(r)) await this.apply(r.spacePoolId, r.cidrs, 1);
  }

  /** Takes out a reservation about to be deleted or replaced. */
  async remove(r: ReservationRecord | undefined): Promise<void> {
    if (indexed(r)) await this.apply(r.spacePoolId, r.cidrs, -1);
  }

  /** Deletes the space's expired plans (not `except`'s, which its caller replaces). */
  async purge(space: string, now: number, except: string): Promise<void> {
    await this.open(space);
    for (const r of await this.tx.listExpiredReservations(space, now)) {
      if (r.key === except) continue;
      await this.remove(r);
      await this.tx.deleteReservation(r.key);
    }
  }

  /**
   * What `pick` chooses once it skips every live plan of the space. `pick`
   * gets the CIDRs to skip, starting with none; each round adds the
   * segments its answer overlapped (and the ones after them, read in the
   * same look-up), until an answer overlaps none. Every round adds at least
   * one segment, and an unconstrained first fit lands past a run of
   * contiguous siblings in one round.
   */
  async avoid(space: string, pick: (skip: string[]) => Promise<string>): Promise<string> {
    await this.open(space);
    const skipped: Range[] = [];
    let skip: string[] = [];
    for (;;) {
      const cidr = await pick(skip);
      const [first, last] = rangeOf(cidr);
      const page = await this.tx.reservedFrom(space, first, PAGE);
      if (!page.length || page[0].start > last) return cidr;
      for (const g of page) skipped.push([g.start, g.last]);
      const family = familyOf(cidr);
      const bits = familyBits(family);
      skip = normalizeRanges(skipped).flatMap(([f, t]) => rangeToBlocks(bits, f, t).map((b) => formatCidr(family, b)));
    }
  }

  /** The parts of `cidr` that live plans of the space hold, as CIDRs. */
  async overlapping(space: string, cidr: string): Promise<string[]> {
    await this.open(space);
    const [first, last] = rangeOf(cidr);
    const family = familyOf(cidr);
    const out: string[] = [];
    for (let from = first; from <= last;) {
      const page = await this.tx.reservedFrom(space, from, PAGE);
      for (const g of page) {
        if (g.start > last) return out;
        const f = g.start > first ? g.start : first, t = g.last < last ? g.last : last;
        out.push(...rangeToBlocks(familyBits(family), f, t).map((b) => formatCidr(family, b)));
      }
      if (page.length < PAGE) break;
      from = page[page.length - 1].last + 1n;
    }
    return out;
  }

  /** Adds `delta` to the count over each CIDR, splitting and merging segments as needed. */
  private async apply(space: string, cidrs: string[], delta: 1 | -1): Promise<void> {
    await this.open(space);
    for (const cidr of cidrs) await this.applyRange(space, rangeOf(cidr), delta);
  }

  private async applyRange(space: string, [s, e]: Range, delta: 1 | -1): Promise<void> {
    // The segments over [s, e] and the ones touching it, which may merge with what changes.
    const affected: ReservedSegment[] = [];
    let from = s > 0n ? s - 1n : 0n;
    for (;;) {
      const page = await this.tx.reservedFrom(space, from, PAGE);
      let more = page.length === PAGE;
      for (const g of page) {
        if (g.start > e + 1n) { more = false; break; }
        affected.push(g);
      }
      if (!more) break;
      from = page[page.length - 1].last + 1n;
    }
    const pieces: ReservedSegment[] = [];
    const push = (start: bigint, last: bigint, count: number) => {
      // A count below zero would be an index out of step with its reservations: clamped, never negative.
      if (start > last || count <= 0) return;
      const prev = pieces[pieces.length - 1];
      if (prev && prev.last + 1n === start && prev.count === count) prev.last = last;
      else pieces.push({ start, last, count });
    };
    let at = s;
    for (const g of affected) {
      if (g.last < s || g.start > e) { // touching [s, e], outside it
        if (g.start > e) { push(at, e, delta); at = e + 1n; }
        push(g.start, g.last, g.count);
        continue;
      }
      push(g.start, s - 1n, g.count);
      if (g.start > at) push(at, g.start - 1n, delta); // a gap inside [s, e]
      const lo = g.start > s ? g.start : s, hi = g.last < e ? g.last : e;
      push(lo, hi, g.count + delta);
      at = hi + 1n;
      push(e + 1n, g.last, g.count);
    }
    if (at <= e) push(at, e, delta);
    // Written as the difference: unchanged segments stay, a replaced last address is overwritten.
    const old = new Map(affected.map((g) => [g.last, g]));
    for (const p of pieces) {
      const o = old.get(p.last);
      old.delete(p.last);
      if (!o || o.start !== p.start || o.count !== p.count) await this.tx.putReserved(space, p);
    }
    for (const last of old.keys()) await this.tx.deleteReserved(space, last);
  }
}
