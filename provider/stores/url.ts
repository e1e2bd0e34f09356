/**
 * Store URLs, read without opening anything: which store, and its options.
 * Every message that shows a URL shows it through describeUrl(), which hides
 * passwords, so a mistyped scheme or a bad parameter never puts a secret in
 * an error, a log or a CI transcript.
 */
import { IpamError } from "../core/errors";
import { quote } from "../core/quote";
import type { SqliteOptions } from "./sqlite";

/** SQLite keeps its busy timeout in a C int. */
export const MAX_BUSY_TIMEOUT_MS = 2 ** 31 - 1;

export type StoreUrl =
  | { kind: "memory" }
  | { kind: "postgres"; url: string }
  | { kind: "sqlite"; file: string; options: SqliteOptions };

const ACCEPTED = "sqlite:<path>, postgres://user@host:port/db, postgresql://... or memory:";
const SQLITE_PARAMS = ["synchronous", "busyTimeoutMs"];

/**
 * The URL with any password replaced by ***: the userinfo's (`user:pw@`, up
 * to the last @ before the query, so that an unescaped @ in the password
 * hides it all) and every query parameter whose name ends in "password".
 * Works on text that is no valid URL (a mistyped one is exactly when it is
 * shown): `ipam:pw@host` without a scheme is hidden too. Errs towards hiding
 * more: a sqlite: path alone is left as it is, having no userinfo.
 */
export function redactUrl(url: string): string {
  const userinfo = url.startsWith("sqlite:") ? url : url.replace(/^([A-Za-z][A-Za-z0-9+.-]*:\/\/)?([^?#]*)@/, (m, scheme: string | undefined, info: string) => {
    const colon = info.indexOf(":");
    // No colon: a user name alone, nothing to hide.
    return colon < 0 ? m : `${scheme ?? ""}${info.slice(0, colon)}:***@`;
  });
  // Also libpq's "host=h password=pw" form, quoted values included.
  return userinfo.replace(/(^|[?&;\s])([^=&;?#\s]*password)\s*=\s*(?:'(?:[^'\\]|\\.)*'?|[^&;#\s]*)/gi, "$1$2=***");
}

/** A URL as an error message shows it: passwords hidden, control characters escaped, long ones cut. */
export function describeUrl(url: unknown): string {
  return quote(typeof url === "string" ? redactUrl(url) : url);
}

export function parseStoreUrl(url: unknown): StoreUrl {
  if (typeof url !== "string") {
    throw new IpamError("InvalidParameterValue", `store URL ${describeUrl(url)} is a ${url === null ? "null" : typeof url}, not a string; use ${ACCEPTED}.`);
  }
  if (url === "memory:") return { kind: "memory" };
  if (url.startsWith("postgres://") || url.startsWith("postgresql://")) return { kind: "postgres", url };
  if (url.startsWith("sqlite:")) return parseSqlite(url);
  const scheme = /^[A-Za-z][A-Za-z0-9+.-]*:/.exec(url)?.[0];
  const what = scheme ? `its scheme ${quote(scheme)} is not one of sqlite:, postgres://, postgresql://, memory:` : "it has no scheme";
  throw new IpamError("InvalidParameterValue", `store URL ${describeUrl(url)} is not supported: ${what}; use ${ACCEPTED}.`);
}

function parseSqlite(url: string): StoreUrl {
  const rest = url.slice("sqlite:".length);
  const q = rest.indexOf("?");
  // sqlite:///abs/path is the file /abs/path, as in SQLAlchemy-style URLs.
  const file = (q < 0 ? rest : rest.slice(0, q)).replace(/^\/\/(?=\/)/, "");
  if (!file) throw new IpamError("InvalidParameterValue", `store URL ${describeUrl(url)} names no file; use sqlite:<path>, e.g. sqlite:./.pulumi-ipam/ipam.db.`);
  const options: SqliteOptions = {};
  const seen = new Set<string>();
  for (const [name, value] of new URLSearchParams(q < 0 ? "" : rest.slice(q + 1))) {
    const bad = (why: string) => new IpamError("InvalidParameterValue", `store URL ${describeUrl(url)}: ${why}`);
    if (!SQLITE_PARAMS.includes(name)) throw bad(`unknown parameter ${quote(name)}; a sqlite: URL takes ${SQLITE_PARAMS.map((p) => `?${p}=`).join(" and ")} only.`);
    if (seen.has(name)) throw bad(`parameter ${name} is given more than once; give it once.`);
    seen.add(name);
    if (name === "synchronous") {
      if (value !== "full" && value !== "normal") throw bad(`synchronous must be full or normal, not ${quote(value)}.`);
      options.synchronous = value;
    } else {
      const ms = /^\d{1,10}$/.test(value) ? Number(value) : NaN;
      if (!(ms <= MAX_BUSY_TIMEOUT_MS)) throw bad(`busyTimeoutMs must be a whole number of milliseconds from 0 to ${MAX_BUSY_TIMEOUT_MS}, not ${quote(value)}.`);
      options.busyTimeoutMs = ms;
    }
  }
  return { kind: "sqlite", file, options };
}
