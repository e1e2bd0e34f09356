/**
 * For the provider plugin's in-process tests: resource URNs as the engine
 * sends them, a fresh SQLite store per test, and the store's rows read beside
 * the provider (a read-only connection of its own), so a test sees what was
 * written without going through the code under test.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import Database from "better-sqlite3";
import { AddressFamily, formatCidr } from "../../provider/core/cidr";
import type { AllocationRecord } from "../../provider/core/model";
import { envName, CONFIG_KEYS } from "../../provider/runtime/config";
import { decodeAllocation } from "../../provider/stores/sql";

export type Kind = "IpamPool" | "IpamPoolAllocation" | "ElasticIp";

/** A resource's URN in stack dev of project proj, as the engine sends it with every call. */
export const urn = (kind: Kind, name: string) => `urn:pulumi:dev::proj::ipam:index:${kind}::${name}`;

const made: string[] = [];

/** A new, empty SQLite store file (not yet created: the store makes it when opened), in a directory of its own. */
export function freshStore(): { url: string; file: string; dir: string } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "ipam-plugin-"));
  made.push(dir);
  const file = path.join(dir, "ipam.db");
  return { url: `sqlite:${file}`, file, dir };
}

/** Removes every directory freshStore() made in this test file. */
export function removeFreshStores(): void {
  for (const dir of made.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
}

/** Unsets every PULUMI_IPAM_* and PULUMI_CONFIG variable (they override Configure); returns a function restoring them. */
export function isolateEnv(): () => void {
  const names = [...CONFIG_KEYS.map(envName), "PULUMI_CONFIG"];
  const saved = Object.fromEntries(names.map((n) => [n, process.env[n]]));
  for (const n of names) delete process.env[n];
  return () => {
    for (const [n, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[n];
      else process.env[n] = v;
    }
  };
}

/** Reads a store file's rows on a connection of its own, opened at the first read (the provider creates the file). */
export class StoreFile {
  private opened?: Database.Database;
  constructor(private readonly file: string) {}
  private get db(): Database.Database {
    return (this.opened ??= new Database(this.file, { readonly: true, fileMustExist: true }));
  }

  /** Every row of every table (but those named), sorted: equal dumps mean nothing at all changed. */
  dump(except: string[] = []): string {
    const tables = (this.db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name").pluck().all() as string[]).filter((t) => !except.includes(t));
    return tables.map((t) => `## ${t}\n${(this.db.prepare(`SELECT * FROM "${t}"`).all() as unknown[]).map((r) => JSON.stringify(r)).sort().join("\n")}`).join("\n");
  }

  /** The plan reservations by key (the plugin's keys are URNs). */
  reservations(): Map<string, { kind: string; cidrs: string[]; nonce: string; expiresAt: number }> {
    const rows = this.db.prepare("SELECT key, body FROM ipam_reservations").all() as { key: string; body: string }[];
    return new Map(rows.map((r) => [r.key, JSON.parse(r.body)]));
  }

  count(table: "ipam_pools" | "ipam_allocations" | "ipam_addresses" | "ipam_reservations"): number {
    return this.db.prepare(`SELECT count(*) FROM ${table}`).pluck().get() as number;
  }

  /** An allocation as stored, with its CIDR in text. */
  allocation(id: string, family: AddressFamily = "ipv4"): (AllocationRecord & { cidr: string }) | undefined {
    const row = this.db.prepare("SELECT start, prefix, body FROM ipam_allocations WHERE id = ?").get(id) as { start: string; prefix: number; body: string } | undefined;
    if (!row) return undefined;
    const a = decodeAllocation(row);
    return { ...a, cidr: formatCidr(family, { start: a.start, prefix: a.prefix }) };
  }

  close(): void {
    this.opened?.close();
  }
}
