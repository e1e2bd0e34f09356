/** The `free` view: a pool's free blocks and how many /N still fit, for each N. */
import { Block, blockSize, formatCidr, parseCidr } from "../core/cidr";
import { columns, formatCount, formatPercent, paint, safe, Style } from "./format";
import { fitCount, outsidePlans, percentOf, PoolNode } from "./inventory";

export interface FitRow {
  length: number;
  /** Aligned /length blocks that fit in the free space. */
  fit: bigint;
  /** The same, skipping space that live plans of other resources hold (only when there are such plans). */
  outsidePlans?: bigint;
  /** Within the pool's allocationMin/MaxNetmaskLength (an allocation of another length is refused). */
  allowed: boolean;
}

export interface FreeData {
  node: PoolNode;
  blocks: Block[];
  rows: FitRow[];
  /** CIDRs live plans hold in the pool (not yet allocated). */
  planned: { name: string; cidr: string }[];
}

/**
 * Lengths worth showing: from the largest free block (or the pool's minimum
 * netmask) over 12 lengths or up to the pool's maximum, and the default length.
 */
export function defaultLengths(node: PoolNode): number[] {
  const p = node.pool;
  // A full pool: from its largest CIDR, every count 0.
  const largest = node.usage.freeBlocks.reduce((m, b) => Math.min(m, b.prefix), node.usage.freeBlocks.length ? node.bits : node.roots.reduce((m, r) => Math.min(m, r.prefix), node.bits));
  const lo = Math.max(largest, p.allocationMinNetmaskLength ?? 0);
  const hi = Math.min(p.allocationMaxNetmaskLength ?? node.bits, lo + 12, node.bits);
  const out: number[] = [];
  for (let n = lo; n <= hi; n++) out.push(n);
  const def = p.allocationDefaultNetmaskLength;
  if (def !== undefined && !out.includes(def)) out.push(def);
  return out.sort((a, b) => a - b);
}

export function freeData(node: PoolNode, lengths: number[]): FreeData {
  const blocks = node.usage.freeBlocks;
  const planned = node.plans.flatMap((p) => p.cidrs.map((cidr) => ({ name: p.name, cidr })));
  const plannedBlocks = planned.map((p) => parseCidr(node.family, p.cidr));
  const unplanned = planned.length ? outsidePlans(node.bits, blocks, plannedBlocks) : undefined;
  const p = node.pool;
  const rows = lengths.map((length) => ({
    length,
    fit: fitCount(blocks, length),
    outsidePlans: unplanned && fitCount(unplanned, length),
    allowed: length >= (p.allocationMinNetmaskLength ?? 0) && length <= (p.allocationMaxNetmaskLength ?? node.bits),
  }));
  return { node, blocks, rows, planned };
}

export function renderFree(d: FreeData, style: Style, limit = Infinity): string {
  const { node } = d;
  const u = node.usage;
  const out: string[] = [];
  out.push(`${paint(style, "bold", safe(node.name))}  ${node.pool.cidrs.join(", ")}  free ${formatCount(u.free)} of ${formatCount(u.total)} addresses (${formatPercent(percentOf(u.free, u.total))})`);
  out.push("");
  out.push(`free blocks (${d.blocks.length}):`);
  const shown = d.blocks.slice(0, limit);
  out.push(...columns(shown.map((b) => [`  ${formatCidr(node.family, b)}`, formatCount(blockSize(node.bits, b.prefix))]), [false, true]));
  if (d.blocks.length > shown.length) out.push(paint(style, "dim", `  ... ${d.blocks.length - shown.length} more (--all lists them)`));
  if (!d.blocks.length) out.push("  none: the pool is full");
  out.push("");
  out.push("how many fit:");
  const planned = d.planned.length > 0;
  const header = ["  length", "fit", ...(planned ? ["outside live plans"] : []), ""];
  const rows = d.rows.map((r) => [
    `  /${r.length}`, formatCount(r.fit), ...(planned ? [formatCount(r.outsidePlans ?? 0n)] : []),
    r.allowed ? "" : paint(style, "dim", "(outside the pool's netmask rules)"),
  ]);
  out.push(...columns([header, ...rows], [false, true, true]));
  if (planned) {
    out.push("");
    out.push("held by live plans (not yet allocated):");
    out.push(...columns(d.planned.map((p) => [`  ${p.cidr}`, safe(p.name)])));
  }
  return `${out.join("\n")}\n`;
}

export function renderFreeJson(d: FreeData): string {
  const { node } = d;
  return `${JSON.stringify({
    ipamPoolId: node.pool.ipamPoolId, name: node.name, cidrs: node.pool.cidrs,
    total: node.usage.total.toString(), allocated: node.usage.allocated.toString(), free: node.usage.free.toString(),
    freeBlocks: d.blocks.map((b) => formatCidr(node.family, b)),
    fit: d.rows.map((r) => ({ length: r.length, fit: r.fit.toString(), ...(r.outsidePlans !== undefined ? { outsidePlans: r.outsidePlans.toString() } : {}), allowed: r.allowed })),
    planned: d.planned,
  }, null, 2)}\n`;
}
