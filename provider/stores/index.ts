/**
 * Opens a store from a URL: `sqlite:<path>` (default; add `?synchronous=full`
 * to survive power loss as well as process crashes, at an fsync per commit), `postgres://...` /
 * `postgresql://...`, or `memory:` for tests and benchmarks.
 */
import type { Store } from "../core/store";
import { MemoryStore } from "./memory";

export function openStore(url: string): Store {
  if (url === "memory:") return new MemoryStore();
  if (url.startsWith("postgres://") || url.startsWith("postgresql://")) {
    const { PostgresStore } = require("./postgres") as typeof import("./postgres");
    return new PostgresStore(url);
  }
  if (url.startsWith("sqlite:")) {
    const [file, query] = url.slice("sqlite:".length).split("?");
    const params = new URLSearchParams(query ?? "");
    const sync = params.get("synchronous");
    if (sync && sync !== "full" && sync !== "normal") throw new Error(`store URL ${url}: synchronous must be full or normal.`);
    const { SqliteStore } = require("./sqlite") as typeof import("./sqlite");
    return new SqliteStore(file.replace(/^\/\/(?=\/)/, ""), { synchronous: (sync ?? "normal") as "full" | "normal" });
  }
  throw new Error(`store URL ${JSON.stringify(url)} is not supported; use sqlite:<path>, postgres://user@host:port/db or memory:.`);
}
