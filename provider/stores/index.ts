/**
 * Opens a store from a URL: `sqlite:<path>` (default; `?synchronous=full` to
 * survive power loss as well as process crashes, at an fsync per commit;
 * `?busyTimeoutMs=<ms>` for how long to wait for another process's write
 * lock, 30000 by default), `postgres://...` / `postgresql://...`, or
 * `memory:` for tests and benchmarks. A URL it cannot use is
 * InvalidParameterValue, and its message never shows a password.
 */
import type { Store } from "../core/store";
import { MemoryStore } from "./memory";
import { parseStoreUrl } from "./url";

export { describeUrl, parseStoreUrl, redactUrl } from "./url";

export function openStore(url: string): Store {
  const u = parseStoreUrl(url);
  if (u.kind === "memory") return new MemoryStore();
  if (u.kind === "postgres") {
    const { PostgresStore } = require("./postgres") as typeof import("./postgres");
    return new PostgresStore(u.url);
  }
  const { SqliteStore } = require("./sqlite") as typeof import("./sqlite");
  return new SqliteStore(u.file, u.options);
}
