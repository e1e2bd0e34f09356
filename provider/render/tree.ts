/** The `pools` view: the pool tree as aligned text lines, and the same tree as JSON data. */
import { formatCidr } from "../core/cidr";
import { bar, columns, formatCount, formatPercent, paint, rulesText, safe, Style, toneOf } from "./format";
import type { AllocationView, Inventory, PlanView, PoolNode } from "./inventory";

export interface TreeOptions {
  style: Style;
  /** Allocations listed per pool before "... N more"; Infinity lists all. */
  limit: number;
  now: number;
}

/** How long until an epoch ms, "23h", "5m". */
export function untilText(ms: number, now: number): string {
  const s = Math.max(0, Math.round((ms - now) / 1000));
  return s >= 7200 ? `${Math.round(s / 3600)}h` : s >= 120 ? `${Math.round(s / 60)}m` : `${s}s`;
}

function allocationLabel(a: AllocationView): string {
  return safe(a.name ?? a.resourceId ?? a.description ?? a.ipamPoolAllocationId);
}

export function planLabel(p: PlanView, now: number): string {
  return p.state === "planned" ? `planned, steers plans for ${untilText(p.expiresAt, now)}` : p.state;
}

/** One line per pool, nested pool and allocation, drawn as a tree. */
export function renderPools(roots: PoolNode[], opts: TreeOptions): string {
  const { style } = opts;
  const rows: string[][] = [];
  const walk = (n: PoolNode, lead: string, branch: string) => {
    const u = n.usage;
    rows.push([
      `${branch}${paint(style, "bold", safe(n.name))}`,
      n.pool.cidrs.join(", ") || "(no CIDRs)",
      safe(n.pool.locale ?? ""),
      rulesText(n.pool),
      bar(style, u.percent),
      paint(style, toneOf(u.percent), formatPercent(u.percent)),
      `${formatCount(u.allocated)} / ${formatCount(u.total)}`,
      paint(style, "dim", n.name === n.pool.ipamPoolId ? "" : n.pool.ipamPoolId),
    ]);
    const own = n.allocations.filter((a) => !(a.childPoolId && n.children.some((c) => c.pool.ipamPoolId === a.childPoolId)));
    const shown = own.slice(0, opts.limit);
    const items: (() => void)[] = [];
    const more = own.length - shown.length;
    const count = n.children.length + shown.length + n.plans.length + (more > 0 ? 1 : 0);
    let i = 0;
    const next = () => {
      const last = ++i === count;
      return { branch: `${lead}${last ? "└─ " : "├─ "}`, lead: `${lead}${last ? "   " : "│  "}` };
    };
    for (const c of n.children) items.push(() => { const b = next(); walk(c, b.lead, b.branch); });
    for (const a of shown) {
      items.push(() => {
        const b = next();
        rows.push([
          `${b.branch}${allocationLabel(a)}`, a.cidr, a.resourceType, safe(a.description && a.description !== a.name ? a.description : ""),
          "", "", formatCount(a.size), paint(style, "dim", a.ipamPoolAllocationId),
        ]);
      });
    }
    for (const p of n.plans) {
      items.push(() => {
        const b = next();
        rows.push([`${b.branch}${paint(style, "cyan", safe(p.name))}`, p.cidrs.join(", "), paint(style, "cyan", planLabel(p, opts.now)), "", "", "", "", paint(style, "dim", p.key)]);
      });
    }
    if (more > 0) items.push(() => { const b = next(); rows.push([`${b.branch}${paint(style, "dim", `... ${formatCount(BigInt(more))} more allocations (--all lists them)`)}`]); });
    for (const f of items) f();
  };
  for (const r of roots) walk(r, "", "");
  if (!rows.length) return "no pools\n";
  return `${columns(rows, [false, false, false, false, false, true, true]).join("\n")}\n`;
}

export interface PoolJson {
  ipamPoolId: string;
  name: string;
  key?: string;
  addressFamily: string;
  cidrs: string[];
  sourceIpamPoolId?: string;
  ipamScopeId?: string;
  poolDepth: number;
  locale?: string;
  description?: string;
  tags: Record<string, string>;
  allocationMinNetmaskLength?: number;
  allocationMaxNetmaskLength?: number;
  allocationDefaultNetmaskLength?: number;
  /** Addresses, as decimal strings (IPv6 counts exceed 2^53). */
  total: string;
  allocated: string;
  free: string;
  /** Percent allocated, two decimals. */
  utilization: number;
  freeBlocks: string[];
  allocations: (Omit<AllocationView, "block" | "size"> & { size: string })[];
  plans: PlanView[];
  children: PoolJson[];
}

export function poolJson(n: PoolNode): PoolJson {
  const p = n.pool;
  return {
    ipamPoolId: p.ipamPoolId, name: n.name, key: n.key, addressFamily: p.addressFamily, cidrs: p.cidrs, sourceIpamPoolId: p.sourceIpamPoolId,
    ipamScopeId: p.ipamScopeId, poolDepth: p.poolDepth, locale: p.locale, description: p.description, tags: p.tags ?? {},
    allocationMinNetmaskLength: p.allocationMinNetmaskLength, allocationMaxNetmaskLength: p.allocationMaxNetmaskLength,
    allocationDefaultNetmaskLength: p.allocationDefaultNetmaskLength,
    total: n.usage.total.toString(), allocated: n.usage.allocated.toString(), free: n.usage.free.toString(), utilization: n.usage.percent,
    freeBlocks: n.usage.freeBlocks.map((b) => formatCidr(n.family, b)),
    allocations: n.allocations.map(({ block: _b, size, ...a }) => ({ ...a, size: size.toString() })),
    plans: n.plans,
    children: n.children.map(poolJson),
  };
}

/** The `pools --json` document: the tree, and every plan reservation the store holds. */
export function renderPoolsJson(roots: PoolNode[], inv: Inventory): string {
  return `${JSON.stringify({ backend: inv.backend, store: inv.store, pools: roots.map(poolJson), plans: inv.plans }, null, 2)}\n`;
}

/** The `usage` table: one line per pool with its utilization. */
export function renderUsage(nodes: PoolNode[], style: Style, threshold?: number): string {
  const rows = nodes.map((n) => {
    const depth = depthOf(n);
    const over = threshold !== undefined && n.usage.percent > threshold;
    return [
      `${"  ".repeat(depth)}${paint(style, over ? "red" : "bold", safe(n.name))}`, n.pool.cidrs.join(", "), bar(style, n.usage.percent),
      paint(style, toneOf(n.usage.percent), formatPercent(n.usage.percent)), `${formatCount(n.usage.allocated)} / ${formatCount(n.usage.total)}`,
      over ? paint(style, "red", `above ${threshold}%`) : "",
    ];
  });
  return rows.length ? `${columns(rows, [false, false, false, true, true]).join("\n")}\n` : "no pools\n";
}

function depthOf(n: PoolNode): number {
  let d = 0;
  for (let p = n.parent; p; p = p.parent) d++;
  return d;
}
