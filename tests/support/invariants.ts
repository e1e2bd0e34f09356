/**
 * Whole-store checks for the integration tests, written independently of the
 * allocator's own CIDR code (a bug there must not hide a bug here): IPv4
 * CIDRs are parsed by hand into [first, last] address ranges.
 */
import type { Ipam } from "../../provider/core/ipam";
import type { AllocationInfo } from "../../provider/core/types";

export interface Span {
  lo: bigint;
  hi: bigint;
  label: string;
}

export function ipv4Span(cidr: string, label = cidr): Span {
  const m = /^(\d+)\.(\d+)\.(\d+)\.(\d+)\/(\d+)$/.exec(cidr);
  if (!m) throw new Error(`not an IPv4 CIDR: ${cidr}`);
  const addr = m.slice(1, 5).reduce((acc, o) => acc * 256n + BigInt(o), 0n);
  const len = Number(m[5]);
  const size = 1n << BigInt(32 - len);
  if (addr % size !== 0n) throw new Error(`${cidr} is not aligned`);
  return { lo: addr, hi: addr + size - 1n, label };
}

export const spanSize = (s: Span) => s.hi - s.lo + 1n;

/** Pairs of overlapping spans (same label = same thing, not an overlap). */
export function overlapsAmong(spans: Span[]): [string, string][] {
  const sorted = [...spans].sort((a, b) => (a.lo < b.lo ? -1 : a.lo > b.lo ? 1 : 0));
  const out: [string, string][] = [];
  // Sweep keeping the span reaching furthest so far: any later span starting at or before its end overlaps it.
  let reach: Span | undefined;
  for (const s of sorted) {
    if (reach && s.lo <= reach.hi && s.label !== reach.label) out.push([reach.label, s.label]);
    if (!reach || s.hi > reach.hi) reach = s;
  }
  return out;
}

export function inside(s: Span, roots: Span[]): boolean {
  return roots.some((r) => r.lo <= s.lo && s.hi <= r.hi);
}

export interface PoolReport {
  poolId: string;
  cidrs: string[];
  allocations: AllocationInfo[];
  problems: string[];
}

/**
 * Checks one pool as the store has it: allocations and free blocks lie inside
 * the provisioned CIDRs and overlap nothing, and utilization adds up
 * (allocated = sum of allocations, free = sum of free blocks, total = both).
 * Returns what it read and a list of problems (empty when all is well).
 */
export async function checkPool(ipam: Ipam, poolId: string): Promise<PoolReport> {
  const pool = await ipam.getPool(poolId);
  const allocations = await ipam.listAllocations(poolId);
  const util = await ipam.utilization(poolId);
  const problems: string[] = [];
  const roots = pool.cidrs.map((c) => ipv4Span(c));
  const allocSpans = allocations.map((a) => ipv4Span(a.cidr, `alloc ${a.ipamPoolAllocationId} ${a.cidr}`));
  const freeSpans = util.freeBlocks.map((c) => ipv4Span(c, `free ${c}`));

  for (const [a, b] of overlapsAmong(roots)) problems.push(`provisioned CIDRs overlap: ${a} / ${b}`);
  for (const s of [...allocSpans, ...freeSpans]) if (!inside(s, roots)) problems.push(`${s.label} is outside ${pool.cidrs.join(",")}`);
  for (const [a, b] of overlapsAmong([...allocSpans, ...freeSpans])) problems.push(`overlap: ${a} / ${b}`);
  if (new Set(allocations.map((a) => a.ipamPoolAllocationId)).size !== allocations.length) problems.push("duplicate allocation ids");

  const total = roots.reduce((s, r) => s + spanSize(r), 0n);
  const allocated = allocSpans.reduce((s, r) => s + spanSize(r), 0n);
  const free = freeSpans.reduce((s, r) => s + spanSize(r), 0n);
  if (util.total !== total.toString()) problems.push(`utilization total ${util.total} != provisioned ${total}`);
  if (util.allocated !== allocated.toString()) problems.push(`utilization allocated ${util.allocated} != sum of allocations ${allocated}`);
  if (util.free !== free.toString()) problems.push(`utilization free ${util.free} != sum of free blocks ${free}`);
  if (allocated + free !== total) problems.push(`allocated ${allocated} + free ${free} != total ${total}`);
  return { poolId, cidrs: pool.cidrs, allocations, problems };
}
