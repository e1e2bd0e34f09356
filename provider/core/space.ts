/**
 * Free-space operations over a pool's maximal aligned free blocks.
 * Invariant (kept by every function here): the free blocks of a pool are
 * disjoint, each lies inside one provisioned CIDR, and no two buddies inside
 * the same provisioned CIDR are both free (they would have been merged).
 * Hence any free aligned /L lies inside exactly one free block of prefix <= L.
 */
import { Block, blockSize, enclosing, Range, rangeToBlocks } from "./cidr";
import type { AllocationStrategy, PoolRecord } from "./model";
import type { StoreTx } from "./store";

function minRootPrefix(pool: PoolRecord): number {
  let m = Number.MAX_SAFE_INTEGER;
  for (const c of pool.cidrs) m = Math.min(m, c.prefix);
  return m;
}

/** The provisioned CIDR holding `b`, if any. */
export function rootOf(bits: number, pool: PoolRecord, b: Block): Block | undefined {
  for (const c of pool.cidrs) {
    if (c.prefix <= b.prefix && enclosing(bits, b.start, c.prefix) === c.start) return c;
  }
  return undefined;
}

/** The free block containing `b` (prefix <= b.prefix), if `b` is entirely free. */
export async function freeContaining(tx: StoreTx, bits: number, pool: PoolRecord, b: Block): Promise<Block | undefined> {
  const root = rootOf(bits, pool, b);
  if (!root) return undefined;
  for (let p = b.prefix; p >= root.prefix; p--) {
    const cand = { start: enclosing(bits, b.start, p), prefix: p };
    if (await tx.hasFree(pool.ipamPoolId, cand)) return cand;
  }
  return undefined;
}

/**
 * Finds where a /length would go inside `regions` (aligned blocks, ascending):
 * the lowest address (first fit) or the smallest fitting free block, lowest
 * first (best fit). Returns the chosen /length block, or undefined.
 */
export async function findFit(
  tx: StoreTx, bits: number, pool: PoolRecord, length: number, regions: Block[], strategy: AllocationStrategy,
): Promise<Block | undefined> {
  const lo = minRootPrefix(pool);
  let best: { at: bigint; size: number } | undefined;
  for (const r of regions) {
    if (r.prefix > length) continue;
    const end = r.start + blockSize(bits, r.prefix) - 1n;
    let found: { at: bigint; size: number } | undefined;
    if (strategy === "first-fit") {
      const inner = r.prefix < length ? await tx.lowestFree(pool.ipamPoolId, Math.max(r.prefix + 1, lo), length, r.start, end) : undefined;
      if (inner) found = { at: inner.start, size: inner.prefix };
      // A free block holding the whole region beats any block inside it: its address is r.start.
      const outer = await freeContaining(tx, bits, pool, r);
      if (outer) found = { at: r.start, size: outer.prefix };
    } else {
      for (let p = length; p > r.prefix && !found; p--) {
        const inner = await tx.lowestFree(pool.ipamPoolId, p, p, r.start, end);
        if (inner) found = { at: inner.start, size: p };
      }
      if (!found) {
        const outer = await freeContaining(tx, bits, pool, r);
        if (outer) found = { at: r.start, size: outer.prefix };
      }
    }
    if (!found) continue;
    if (!best) best = found;
    else if (strategy === "first-fit" ? found.at < best.at : found.size > best.size || (found.size === best.size && found.at < best.at)) best = found;
    // Regions ascend, so under first fit the first hit is the lowest.
    if (strategy === "first-fit") break;
  }
  return best && { start: best.at, prefix: length };
}

/**
 * Fast path for an unrestricted first-fit search: one look-up over every
 * prefix. Returns the chosen block and the free block holding it.
 */
export async function findFirstFitAnywhere(tx: StoreTx, bits: number, pool: PoolRecord, length: number): Promise<{ found: Block; holder: Block } | undefined> {
  const lo = minRootPrefix(pool);
  if (lo > length) return undefined;
  const max = (1n << BigInt(bits)) - 1n;
  const f = await tx.lowestFree(pool.ipamPoolId, lo, length, 0n, max);
  return f && { found: { start: f.start, prefix: length }, holder: f };
}

/** Marks `target` used: removes the free block holding it and frees the buddies split off on the way down. */
export async function take(tx: StoreTx, bits: number, pool: PoolRecord, holder: Block, target: Block): Promise<void> {
  await tx.removeFree(pool.ipamPoolId, holder);
  for (let p = holder.prefix + 1; p <= target.prefix; p++) {
    const half = blockSize(bits, p);
    const mine = enclosing(bits, target.start, p);
    const buddy = (mine - enclosing(bits, target.start, p - 1)) === 0n ? mine + half : mine - half;
    await tx.addFree(pool.ipamPoolId, { start: buddy, prefix: p });
  }
}

/** Returns `b` to free space, merging with free buddies up to its provisioned CIDR. */
export async function give(tx: StoreTx, bits: number, pool: PoolRecord, b: Block): Promise<void> {
  const root = rootOf(bits, pool, b);
  if (!root) throw new Error(`internal: ${b.start}/${b.prefix} is outside every provisioned CIDR of ${pool.ipamPoolId}`);
  let cur = b;
  while (cur.prefix > root.prefix) {
    const size = blockSize(bits, cur.prefix);
    const parent = enclosing(bits, cur.start, cur.prefix - 1);
    const buddy = { start: parent === cur.start ? cur.start + size : parent, prefix: cur.prefix };
    if (!(await tx.hasFree(pool.ipamPoolId, buddy))) break;
    await tx.removeFree(pool.ipamPoolId, buddy);
    cur = { start: parent, prefix: cur.prefix - 1 };
  }
  await tx.addFree(pool.ipamPoolId, cur);
}

/** Regions to search: provisioned CIDRs, narrowed to allowed, minus disallowed; as aligned blocks ascending. */
export function searchRegions(bits: number, ranges: Range[]): Block[] {
  return ranges.flatMap(([f, t]) => rangeToBlocks(bits, f, t));
}
