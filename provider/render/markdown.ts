/** The `report` view: a preview's IPAM changes as Markdown for a pull request comment. */
import { formatCount, formatPercent } from "./format";
import { percentOf } from "./inventory";

export interface ReportRow {
  urn: string;
  name: string;
  /** IpamPool, IpamPoolAllocation, ElasticIp. */
  kind: string;
  /** create, update, replace, delete, same, ... as the engine names them. */
  op: string;
  /** The planned (or, for a delete, the released) CIDRs; undefined when unknown until apply. */
  cidrs?: string[];
  /** The name of the pool it takes from (nested pools: their source). */
  pool?: string;
  note?: string;
}

export interface PoolChange {
  name: string;
  ipamPoolId: string;
  cidrs: string[];
  /** Undefined when the pool is new in this change (or not readable). */
  before?: { allocated: bigint; total: bigint };
  after: { allocated: bigint; total: bigint };
  isNew: boolean;
}

export interface ReportData {
  rows: ReportRow[];
  pools: PoolChange[];
  /** Footnotes (the store could not be read, unknown values). */
  notes: string[];
}

/** A table cell: pipes and newlines would break the row; HTML is not interpreted. */
export function cell(s: string): string {
  return s.replace(/\\/g, "\\\\").replace(/\|/g, "\\|").replace(/[\r\n]+/g, " ").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}

const code = (s: string) => `\`${s.replace(/`/g, "'")}\``;

function miniBar(percent: number, width = 10): string {
  let used = Math.round((percent / 100) * width);
  if (percent > 0 && used === 0) used = 1;
  return "█".repeat(used) + "░".repeat(width - used);
}

function usageText(u: { allocated: bigint; total: bigint }): string {
  return `${formatPercent(percentOf(u.allocated, u.total))} (${formatCount(u.allocated)} / ${formatCount(u.total)})`;
}

const OP_ORDER = ["create", "replace", "update", "delete", "same", "read", "refresh"];

export function renderMarkdown(d: ReportData): string {
  const counts = new Map<string, number>();
  for (const r of d.rows) counts.set(r.op, (counts.get(r.op) ?? 0) + 1);
  const changed = d.rows.filter((r) => r.op !== "same");
  const summary = [...counts.entries()].filter(([op]) => op !== "same")
    .sort((a, b) => OP_ORDER.indexOf(a[0]) - OP_ORDER.indexOf(b[0])).map(([op, k]) => `${k} to ${op}`).join(", ");
  const out: string[] = [`### pulumi-ipam: ${summary || "no changes to IPAM resources"}`, ""];
  if (changed.length) {
    out.push("| resource | kind | change | planned CIDR | pool | plan notes |", "|---|---|---|---|---|---|");
    for (const r of changed) {
      const cidrs = r.cidrs === undefined ? "_known after apply_" : r.cidrs.length ? r.cidrs.map(code).join(", ") : "";
      out.push(`| ${code(cell(r.name))} | ${cell(r.kind)} | ${cell(r.op)} | ${cidrs} | ${cell(r.pool ?? "")} | ${cell(r.note ?? "")} |`);
    }
    out.push("");
  }
  if (d.pools.length) {
    out.push("#### Pool utilization after this change", "", "| pool | CIDRs | now | after | |", "|---|---|---|---|---|");
    for (const p of d.pools) {
      const pct = percentOf(p.after.allocated, p.after.total);
      const delta = p.before ? p.after.allocated - p.before.allocated : undefined;
      const sign = delta === undefined || delta === 0n ? "" : delta > 0n ? ` +${formatCount(delta)}` : ` -${formatCount(-delta)}`;
      out.push(`| ${code(cell(p.name))} | ${p.cidrs.map(code).join(", ")} | ${p.before ? usageText(p.before) : p.isNew ? "new" : "?"} | ${usageText(p.after)}${sign} | ${miniBar(pct)} |`);
    }
    out.push("");
  }
  for (const n of d.notes) out.push(`_${cell(n)}_`);
  if (d.notes.length) out.push("");
  return `${out.join("\n").trimEnd()}\n`;
}
