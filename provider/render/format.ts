/** Small text helpers the renderers share: counts, bars, colours, columns. */
import type { PoolInfo } from "../core/types";

/** Thousands separators up to a million; then k/M/G/... with three digits; past 10^21 a power of two. */
export function formatCount(n: bigint): string {
  if (n < 1_000_000n) return n.toString().replace(/\B(?=(\d{3})+(?!\d))/g, ",");
  const units = ["M", "G", "T", "P", "E", "Z"];
  let scale = 1_000_000n;
  for (const u of units) {
    if (n < scale * 1000n) {
      const v = Number((n * 1000n) / scale) / 1000;
      return `${v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v.toFixed(2)}${u}`;
    }
    scale *= 1000n;
  }
  const log2 = n.toString(2).length - 1;
  return (1n << BigInt(log2)) === n ? `2^${log2}` : `~2^${(log2 + Math.log2(Number(n >> BigInt(log2 - 52)) / 2 ** 52)).toFixed(1)}`;
}

export function formatPercent(p: number): string {
  return `${p.toFixed(p > 0 && p < 0.1 ? 2 : 1)}%`;
}

/** The pool's netmask rules, "/12-/28 default /20", or "" when it has none. */
export function rulesText(p: Pick<PoolInfo, "allocationMinNetmaskLength" | "allocationMaxNetmaskLength" | "allocationDefaultNetmaskLength">): string {
  const min = p.allocationMinNetmaskLength, max = p.allocationMaxNetmaskLength, def = p.allocationDefaultNetmaskLength;
  const range = min !== undefined || max !== undefined ? `/${min ?? "0"}-/${max ?? "any"}` : "";
  return [range, def !== undefined ? `default /${def}` : ""].filter(Boolean).join(" ");
}

export interface Style {
  /** ANSI colours (a terminal) or none (piped, NO_COLOR). */
  color: boolean;
  /** Unicode block characters for bars; ASCII otherwise. */
  unicode: boolean;
}

export const PLAIN: Style = { color: false, unicode: false };

const SGR = { bold: "1", dim: "2", red: "31", green: "32", yellow: "33", cyan: "36" } as const;
export type Tone = keyof typeof SGR;

export function paint(style: Style, tone: Tone, text: string): string {
  return style.color && text ? `\u001b[${SGR[tone]}m${text}\u001b[0m` : text;
}

/** green below 70%, yellow below 90%, red from 90%. */
export const toneOf = (percent: number): Tone => (percent >= 90 ? "red" : percent >= 70 ? "yellow" : "green");

/** A utilization bar of `width` cells; a used part too small for one cell still shows one when anything is used. */
export function bar(style: Style, percent: number, width = 20): string {
  let used = Math.round((percent / 100) * width);
  if (percent > 0 && used === 0) used = 1;
  if (percent < 100 && used === width) used = width - 1;
  const [full, empty] = style.unicode ? ["█", "░"] : ["#", "."];
  return `[${paint(style, toneOf(percent), full.repeat(used))}${empty.repeat(width - used)}]`;
}

/** Visible length (ANSI escapes excluded). */
export const visible = (s: string) => s.replace(/\u001b\[[0-9;]*m/g, "").length;

export const padEnd = (s: string, n: number) => s + " ".repeat(Math.max(0, n - visible(s)));
export const padStart = (s: string, n: number) => " ".repeat(Math.max(0, n - visible(s))) + s;

/** Rows of cells as aligned columns (right-aligned where `right[i]`), trailing spaces trimmed. */
export function columns(rows: string[][], right: boolean[] = []): string[] {
  const widths: number[] = [];
  for (const r of rows) r.forEach((c, i) => { widths[i] = Math.max(widths[i] ?? 0, visible(c)); });
  return rows.map((r) => r.map((c, i) => (right[i] ? padStart(c, widths[i]) : padEnd(c, widths[i]))).join("  ").trimEnd());
}

/** Text safe to print on a terminal: control characters (a tag value could hold an escape sequence) shown escaped. */
export function safe(text: string): string {
  return text.replace(/[\u0000-\u001f\u007f-\u009f]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`);
}

export function tagsText(tags: Record<string, string> | undefined): string {
  const e = Object.entries(tags ?? {});
  return e.length ? e.map(([k, v]) => `${safe(k)}=${safe(v)}`).join(", ") : "";
}
