/**
 * Everything a store holds, as one string, read beside the store rather
 * than through the allocator: every row of every table (SQLite through its
 * own read connection, PostgreSQL through its own client), or every map of
 * the memory store. Two equal dumps mean a call changed nothing at all,
 * tokens and plan reservations included.
 */
import Database from "better-sqlite3";
import { Client } from "pg";
import type { Store } from "../../provider/core/store";
import { MemoryStore } from "../../provider/stores/memory";

export interface Dumper {
  dump(): Promise<string>;
  close(): Promise<void>;
}

const json = (v: unknown) => JSON.stringify(v, (_k, x) => (typeof x === "bigint" ? `${x}n` : x));
const sorted = (rows: string[]) => rows.sort().join("\n");

/** A dumper for `store`, opened on `url` (the URL the store was opened with). */
export async function dumperFor(store: Store, url: string): Promise<Dumper> {
  if (store instanceof MemoryStore) return { dump: async () => dumpMemory(store), close: async () => undefined };
  if (url.startsWith("sqlite:")) {
    const db = new Database(url.slice("sqlite:".length).split("?")[0], { readonly: true, fileMustExist: true });
    const tables = (db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name").pluck().all() as string[]);
    const reads = tables.map((t) => [t, db.prepare(`SELECT * FROM "${t}"`)] as const);
    return {
      dump: async () => reads.map(([t, s]) => `## ${t}\n${sorted((s.all() as unknown[]).map(json))}`).join("\n"),
      close: async () => { db.close(); },
    };
  }
  const client = new Client({ connectionString: url });
  await client.connect();
  const tables = (await client.query("SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' ORDER BY table_name")).rows
    .map((r) => r.table_name as string);
  // One round trip for every table: each row as its JSON text, tagged with its table.
  const sql = tables.map((t) => `SELECT '${t}' AS t, row_to_json(x)::text AS j FROM "${t}" x`).join(" UNION ALL ");
  return {
    dump: async () => {
      const rows = (await client.query(sql)).rows as { t: string; j: string }[];
      return tables.map((t) => `## ${t}\n${sorted(rows.filter((r) => r.t === t).map((r) => r.j))}`).join("\n");
    },
    close: () => client.end(),
  };
}

function dumpMemory(s: MemoryStore): string {
  const free: string[] = [];
  for (const [pool, byPrefix] of s.free) {
    // An empty tree is what a read leaves behind, not data.
    for (const [prefix, tree] of byPrefix) for (const start of tree.keys()) free.push(json([pool, prefix, start]));
  }
  const poolIds = (s.allocations as unknown as { poolIds: string[] }).poolIds;
  const allocations = poolIds.flatMap((p) => s.allocations.list(p)).map(json);
  const entries = (m: Iterable<[string, unknown]>) => [...m].map(json);
  const reserved = [...s.reserved].flatMap(([space, t]) => [...t.values()].map((g) => json([space, g])));
  return [
    `## pools\n${sorted(entries(s.pools))}`, `## free\n${sorted(free)}`, `## allocations\n${sorted(allocations)}`,
    `## addresses\n${sorted(entries(s.addresses))}`, `## tokens\n${sorted(entries(s.tokens))}`, `## reservations\n${sorted(entries(s.reservations))}`,
    `## reserved\n${sorted(reserved)}`,
  ].join("\n");
}
