/** The `show` view: what an address, CIDR, id or name belongs to. */
import { formatCidr } from "../core/cidr";
import { formatCount, paint, rulesText, safe, Style, tagsText } from "./format";
import type { Located } from "./inventory";
import { planLabel } from "./tree";

export function renderShow(l: Located, style: Style, now: number): string {
  const out: string[] = [];
  const head = l.block && l.family ? `${formatCidr(l.family, l.block)}` : l.query;
  out.push(paint(style, "bold", safe(head)));
  if (l.block && !l.pools.length) out.push("  in no pool");
  for (const [i, { node, contains }] of l.pools.entries()) {
    const p = node.pool;
    out.push(`  ${i === 0 ? "pool" : "in pool".padStart(4)}`.padEnd(14) + `${paint(style, "bold", safe(node.name))}  ${p.cidrs.join(", ")}  ${p.ipamPoolId}${contains ? "" : "  (overlaps only part)"}`);
    const facts = [p.locale && `locale ${safe(p.locale)}`, rulesText(p) && `rules ${rulesText(p)}`, p.description && `"${safe(p.description)}"`, tagsText(p.tags) && `tags ${tagsText(p.tags)}`];
    const f = facts.filter(Boolean).join(", ");
    if (f) out.push(`${" ".repeat(14)}${f}`);
  }
  for (const { node, allocation: a, contains } of l.allocations) {
    out.push(`  ${"allocation".padEnd(12)}${paint(style, "bold", safe(a.name ?? a.ipamPoolAllocationId))}  ${a.cidr}  ${a.ipamPoolAllocationId}${contains ? "" : "  (overlaps only part)"}`);
    const facts = [
      `in ${safe(node.name)}`, `type ${a.resourceType}`, a.resourceId && `resource ${safe(a.resourceId)}`, a.description && a.description !== a.name && `"${safe(a.description)}"`,
      tagsText(a.resourceTags) && `tags ${tagsText(a.resourceTags)}`, `${formatCount(a.size)} addresses`, a.key && `urn ${safe(a.key)}`,
    ];
    out.push(`${" ".repeat(14)}${facts.filter(Boolean).join(", ")}`);
  }
  if (l.block && l.pools.length && !l.allocations.length) out.push(`  ${"allocation".padEnd(12)}none: free in ${safe(l.pools[l.pools.length - 1].node.name)}`);
  for (const p of l.plans) {
    out.push(`  ${"plan".padEnd(12)}${paint(style, "cyan", safe(p.name))}  ${p.cidrs.join(", ")}  ${planLabel(p, now)}`);
    out.push(`${" ".repeat(14)}${[`${p.kind} in ${p.ipamPoolId}`, `urn ${safe(p.key)}`, p.replaced && `earlier planned ${p.replaced.join(", ")}`].filter(Boolean).join(", ")}`);
  }
  return `${out.join("\n")}\n`;
}

export function renderShowJson(l: Located): string {
  return `${JSON.stringify({
    query: l.query,
    cidr: l.block && l.family ? formatCidr(l.family, l.block) : undefined,
    pools: l.pools.map(({ node, contains }) => ({ ipamPoolId: node.pool.ipamPoolId, name: node.name, key: node.key, cidrs: node.pool.cidrs, locale: node.pool.locale, tags: node.pool.tags, contains })),
    allocations: l.allocations.map(({ node, allocation: { block: _b, size, ...a }, contains }) => ({ ...a, size: size.toString(), pool: node.name, contains })),
    plans: l.plans,
  }, null, 2)}\n`;
}
