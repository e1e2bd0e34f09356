/**
 * Quotes an input for an error message: a JSON-style string literal in which
 * nothing can break a log line or fake one (newlines, every control
 * character, DEL and C1, the line separators JSON leaves raw, bidi overrides
 * that reorder what a reader sees), cut to `max` characters so that a huge
 * input cannot bloat the message. Non-strings are shown as JSON would write
 * them (undefined, bigint and symbols by their names).
 */
const UNSAFE = /[\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069\ufeff]/g;

export function quote(v: unknown, max = 120): string {
  if (typeof v === "string") return literal(v, max);
  if (v === undefined || typeof v === "bigint" || typeof v === "symbol" || typeof v === "function") return JSON.stringify(cut(String(v), max)).slice(1, -1).replace(UNSAFE, escape);
  let json: string | undefined;
  try {
    json = JSON.stringify(v);
  } catch {
    json = undefined; // a cycle: say what it is, not what it holds
  }
  if (json === undefined) return Object.prototype.toString.call(v);
  // JSON of an object is already quoted inside; only its length and the raw separators need care.
  return cut(json, max).replace(UNSAFE, escape);
}

function literal(s: string, max: number): string {
  const points = Array.from(s);
  const shown = JSON.stringify(points.length <= max ? s : points.slice(0, max).join("")).replace(UNSAFE, escape);
  return points.length <= max ? shown : `${shown}…(${points.length - max} more characters)`;
}

/** The first `max` code points (never half a surrogate pair), marked when something was cut. */
function cut(s: string, max: number): string {
  const points = Array.from(s);
  return points.length <= max ? s : `${points.slice(0, max).join("")}…(${points.length - max} more characters)`;
}

function escape(c: string): string {
  return `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`;
}
