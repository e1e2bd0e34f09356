/**
 * The `map` picture's layout, shared by the SVG and the HTML renderers:
 * each provisioned CIDR of the pools drawn is one panel, its address space
 * laid along a Hilbert curve (hilbert.ts), so every allocation is one square
 * or 2:1 rectangle in its own colour and a nested pool is a framed region
 * holding its own allocations. Free space is the panel's grey; live plans
 * are dashed outlines. Colours go to owners in address order, so the same
 * store draws the same picture.
 */
import { Block, blockRange, formatCidr, parseCidr } from "../core/cidr";
import { formatCount, rulesText } from "./format";
import { blockRect, rootShape } from "./hilbert";
import { AllocationView, PlanView, PoolNode } from "./inventory";

export const FREE_COLOR = "#e9ecef";
export const PANEL = 1000;
const GAP = 70;
/** Smallest drawn side, in panel units: an allocation far smaller than a pixel still shows as a dot. */
export const MIN_SIDE = 1.5;
/** Legend rows at most; the rest are counted ("... and N more owners"). */
export const LEGEND_MAX = 60;

const PALETTE = [
  "#4e79a7", "#f28e2b", "#e15759", "#59a14f", "#b07aa1", "#edc948", "#76b7b2", "#ff9da7", "#9c755f", "#17becf",
  "#1f5fa0", "#c0392b", "#2e8b57", "#8e44ad", "#d35400", "#b8860b", "#008080", "#c71585", "#556b2f", "#4b0082",
];

/** The i-th owner's colour: the palette, then hues a golden angle apart. */
export function colorOf(i: number): string {
  if (i < PALETTE.length) return PALETTE[i];
  const h = ((i - PALETTE.length) * 137.508) % 360;
  return hslHex(h, 0.55, 0.45 + ((i * 7) % 3) * 0.07);
}

function hslHex(h: number, s: number, l: number): string {
  const k = (n: number) => (n + h / 30) % 12;
  const a = s * Math.min(l, 1 - l);
  const f = (n: number) => l - a * Math.max(-1, Math.min(k(n) - 3, Math.min(9 - k(n), 1)));
  return `#${[f(0), f(8), f(4)].map((v) => Math.round(v * 255).toString(16).padStart(2, "0")).join("")}`;
}

export interface Shape {
  kind: "pool" | "allocation" | "plan";
  x: number;
  y: number;
  w: number;
  h: number;
  color: string;
  /** Pool id the shape belongs to (a pool: its own). */
  poolId: string;
  /** Allocation id, pool id, or plan key. */
  id: string;
  cidr: string;
  /** What it draws, for its label and tooltip (made when written: 100k tooltips are not kept). */
  of: { allocation: AllocationView; pool: PoolNode } | { child: PoolNode } | { plan: PlanView };
  owner: string;
  /** A pool's label goes here: its last quarter, which first-fit allocations reach last. */
  labelBox?: { x: number; y: number; w: number; h: number };
}

export interface Panel {
  x: number;
  y: number;
  w: number;
  h: number;
  title: string;
  poolId: string;
}

export interface LegendEntry {
  owner: string;
  color: string;
  kind: "pool" | "allocation";
  count: number;
  addresses: bigint;
}

export interface PoolBox {
  id: string;
  name: string;
  /** Parent's id, if drawn. */
  parent?: string;
  box: { x: number; y: number; w: number; h: number };
}

export interface MapLayout {
  title: string;
  width: number;
  height: number;
  panels: Panel[];
  /** The shapes in drawing order, made afresh on each iteration. */
  events(): Iterable<MapEvent>;
  /** The first LEGEND_MAX owners in address order (a map may have 100k of them). */
  legend: LegendEntry[];
  /** How many more owners are drawn than the legend lists. */
  legendMore: number;
  pools: PoolBox[];
  /** Allocations drawn (carve-outs of nested pools count as pools). */
  allocationCount: number;
}

export interface MapOptions {
  /** Called every few thousand shapes (progress on a terminal). */
  onProgress?: (done: number, total: number) => void;
}

/** The shape's label text. */
export function labelOf(s: Shape): string {
  if ("allocation" in s.of) { const a = s.of.allocation; return `${a.name ?? a.resourceId ?? a.description ?? ""} ${a.cidr}`.trim(); }
  if ("child" in s.of) return `${s.of.child.name} ${s.cidr}`;
  return `${s.of.plan.name} (planned)`;
}

/** The shape's tooltip, lines separated by \n. */
export function tipOf(s: Shape): string {
  if ("allocation" in s.of) return allocationTip(s.of.allocation, s.of.pool);
  if ("child" in s.of) return poolTip(s.of.child);
  return `${s.of.plan.name}  ${s.cidr}\nplanned, not yet allocated\n${s.of.plan.key}`;
}

function allocationTip(a: AllocationView, pool: PoolNode): string {
  return [
    `${a.name ?? a.ipamPoolAllocationId}  ${a.cidr}`,
    `${a.resourceType}${a.resourceId ? ` ${a.resourceId}` : ""}${a.description && a.description !== a.name ? ` "${a.description}"` : ""}`,
    `${formatCount(a.size)} addresses in ${pool.name}`,
    ...(Object.keys(a.resourceTags ?? {}).length ? [`tags ${Object.entries(a.resourceTags!).map(([k, v]) => `${k}=${v}`).join(", ")}`] : []),
    a.ipamPoolAllocationId,
  ].join("\n");
}

function poolTip(n: PoolNode): string {
  const u = n.usage;
  return [
    `${n.name}  ${n.pool.cidrs.join(", ")}`,
    [n.pool.locale, rulesText(n.pool)].filter(Boolean).join(", ") || "pool",
    `${u.percent.toFixed(1)}% allocated: ${formatCount(u.allocated)} of ${formatCount(u.total)}`,
    n.pool.ipamPoolId,
  ].join("\n");
}

const inside = (bits: number, outer: Block, b: Block) => {
  const [of, ot] = blockRange(bits, outer), [bf, bt] = blockRange(bits, b);
  return of <= bf && bt <= ot;
};

/** What the renderers get, in drawing order: a pool opens (its area), its contents, then it closes (its frame on top). */
export type MapEvent = { open: Shape } | { shape: Shape } | { close: Shape };

/**
 * The layout of the given pools (each with its nested pools), one panel per
 * provisioned CIDR. The panels, pools' boxes and legend are computed here;
 * the shapes are made again, in the same order, each time `events()` is
 * iterated, so a map of 100k allocations never holds 100k shapes.
 */
export function layoutMap(nodes: PoolNode[], opts: MapOptions = {}): MapLayout {
  // By owner: its colour's index, count and addresses; entries become legend rows only for the first LEGEND_MAX.
  const owners = new Map<string, { index: number; owner: string; kind: LegendEntry["kind"]; count: number; addresses: bigint }>();
  const pools: PoolBox[] = [];
  const panels: Panel[] = [];
  let total = 0;
  const countAll = (n: PoolNode) => { total += n.allocations.length; n.children.forEach(countAll); };
  nodes.forEach(countAll);
  const roots = nodes.flatMap((n) => n.roots.map((root) => ({ node: n, root })));
  const cols = roots.length > 1 ? 2 : 1;
  const boxes = new Map<string, PoolBox>();
  const grow = (id: string, name: string, parent: string | undefined, r: { x: number; y: number; w: number; h: number }) => {
    const b = boxes.get(id);
    if (!b) { const box = { id, name, parent, box: { ...r } }; boxes.set(id, box); pools.push(box); return; }
    const x0 = Math.min(b.box.x, r.x), y0 = Math.min(b.box.y, r.y);
    b.box = { x: x0, y: y0, w: Math.max(b.box.x + b.box.w, r.x + r.w) - x0, h: Math.max(b.box.y + b.box.h, r.y + r.h) - y0 };
  };
  let allocationCount = 0;
  // Panels in rows of `cols`.
  let y = GAP, rowH = 0;
  const placed = roots.map(({ node, root }, i) => {
    const shape = rootShape(node.bits, root);
    const px = (i % cols) * (PANEL + GAP), w = PANEL * shape.w, h = PANEL * shape.h;
    if (i % cols === 0 && i > 0) { y += rowH + GAP; rowH = 0; }
    rowH = Math.max(rowH, h);
    panels.push({ x: px, y, w, h, title: `${node.name}  ${formatCidr(node.family, root)}`, poolId: node.pool.ipamPoolId });
    grow(node.pool.ipamPoolId, node.name, node.parent?.pool.ipamPoolId, { x: px, y, w, h });
    return { node, root, px, py: y };
  });

  function* walk(first: boolean): Generator<MapEvent> {
    let done = 0;
    const colorFor = (owner: string, kind: LegendEntry["kind"], size: bigint) => {
      let e = owners.get(`${kind} ${owner}`);
      if (!e) { e = { index: owners.size, owner, kind, count: 0, addresses: 0n }; owners.set(`${kind} ${owner}`, e); }
      if (first) { e.count++; e.addresses += size; }
      return colorOf(e.index);
    };
    for (const { node, root, px, py } of placed) {
      const place = (b: Block) => {
        const r = blockRect(node.bits, root, b);
        let rx = px + r.x * PANEL, ry = py + r.y * PANEL, rw = r.w * PANEL, rh = r.h * PANEL;
        if (rw < MIN_SIDE) { rx -= (MIN_SIDE - rw) / 2; rw = MIN_SIDE; }
        if (rh < MIN_SIDE) { ry -= (MIN_SIDE - rh) / 2; rh = MIN_SIDE; }
        return { x: rx, y: ry, w: rw, h: rh };
      };
      const draw = function* (n: PoolNode): Generator<MapEvent> {
        for (const a of n.allocations) {
          if (!inside(n.bits, root, a.block)) continue;
          const child = a.childPoolId ? n.children.find((c) => c.pool.ipamPoolId === a.childPoolId) : undefined;
          if (first && !child) {
            // The first pass only counts: no geometry for 100k allocations.
            allocationCount++;
            colorFor(a.owner, "allocation", a.size);
            continue;
          }
          const r = place(a.block);
          if (child) {
            const quarter = a.block.prefix + 2 <= n.bits ? place({ start: a.block.start + 3n * (a.size / 4n), prefix: a.block.prefix + 2 }) : r;
            const shape: Shape = { kind: "pool", ...r, color: colorFor(child.name, "pool", a.size), poolId: child.pool.ipamPoolId, id: child.pool.ipamPoolId, cidr: a.cidr, of: { child }, owner: child.name, labelBox: quarter };
            if (first) grow(child.pool.ipamPoolId, child.name, n.pool.ipamPoolId, r);
            yield { open: shape };
            yield* draw(child);
            yield { close: shape };
          } else {
            yield { shape: { kind: "allocation", ...r, color: colorFor(a.owner, "allocation", a.size), poolId: n.pool.ipamPoolId, id: a.ipamPoolAllocationId, cidr: a.cidr, of: { allocation: a, pool: n }, owner: a.owner } };
          }
          if (!first && ++done % 5000 === 0) opts.onProgress?.(done, total);
        }
        for (const p of n.plans) {
          for (const cidr of p.cidrs) {
            const b = tryBlock(n, cidr);
            if (!b || !inside(n.bits, root, b)) continue;
            yield { shape: { kind: "plan", ...place(b), color: "#333333", poolId: n.pool.ipamPoolId, id: p.key, cidr, of: { plan: p }, owner: p.name } };
          }
        }
      };
      yield* draw(node);
    }
    if (!first) opts.onProgress?.(total, total);
  }
  for (const _ of walk(true)) { /* the first pass counts owners and sizes the pools' boxes */ }
  const legend: LegendEntry[] = [];
  for (const e of owners.values()) {
    if (legend.length === LEGEND_MAX) break;
    legend.push({ owner: e.owner, color: colorOf(e.index), kind: e.kind, count: e.count, addresses: e.addresses });
  }
  const width = cols * PANEL + (cols - 1) * GAP;
  return {
    title: nodes.map((n) => n.name).join(", "), width, height: y + rowH, panels, events: () => walk(false), legend, legendMore: owners.size - legend.length, pools, allocationCount,
  };
}

function tryBlock(n: PoolNode, cidr: string): Block | undefined {
  try {
    return parseCidr(n.family, cidr);
  } catch {
    return undefined;
  }
}
