/**
 * The backends every conformance test runs on (as go-ipam's testWithBackends):
 * the in-memory store, SQLite on a temporary file, and PostgreSQL on a fresh
 * database of the run's server. Plus the helpers the tests share: the error
 * code of a failing call, and a snapshot of everything the store holds, to
 * show a failing call changed nothing.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { Client } from "pg";
import { IpamError, IpamErrorCode } from "../../provider/core/errors";
import { Ipam } from "../../provider/core/ipam";
import type { Store } from "../../provider/core/store";
import type { AllocationInfo, PoolInfo, Utilization } from "../../provider/core/types";
import { openStore } from "../../provider/stores";
import { freshPgDatabase } from "./pg";

export interface Backend {
  name: "memory" | "sqlite" | "postgres";
  /** A URL of a new, empty store. */
  create(): Promise<string>;
  /** Frees what create() made, after every store on it is closed. */
  destroy(url: string): Promise<void>;
}

export function tmpSqliteUrl(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "ipam-test-"));
  return `sqlite:${path.join(dir, "ipam.db")}`;
}

export function removeSqlite(url: string): void {
  fs.rmSync(path.dirname(url.slice("sqlite:".length).split("?")[0]), { recursive: true, force: true });
}

/** A new database on the run's server; named by a counter so that two in the same millisecond differ. */
let databases = 0;
async function createPgDatabase(): Promise<string> {
  const base = process.env.IPAM_TEST_PG_URL;
  if (!base) return freshPgDatabase("unit"); // throws the helpful message
  const name = `unit_${process.pid}_${++databases}_${Math.random().toString(36).slice(2, 8)}`;
  await admin(base, (c) => c.query(`CREATE DATABASE ${name}`));
  return base.replace(/\/[^/]*$/, `/${name}`);
}

/**
 * Drops a test database once its store's connections are gone. pg's Pool.end()
 * resolves before the server has seen every connection close, so the drop is
 * retried while the server still reports the database in use (55006); forcing
 * it instead would kill connections that are closing and make them throw.
 */
async function dropPgDatabase(url: string): Promise<void> {
  const name = url.slice(url.lastIndexOf("/") + 1);
  for (let attempt = 1; ; attempt++) {
    try {
      await admin(process.env.IPAM_TEST_PG_URL!, (c) => c.query(`DROP DATABASE IF EXISTS ${name}`));
      return;
    } catch (e) {
      if ((e as { code?: string }).code !== "55006" || attempt >= 200) throw e;
      await new Promise((r) => setTimeout(r, 10));
    }
  }
}

async function admin(url: string, fn: (c: Client) => Promise<unknown>): Promise<void> {
  const c = new Client({ connectionString: url });
  await c.connect();
  try {
    await fn(c);
  } finally {
    await c.end();
  }
}

export const BACKENDS: Backend[] = [
  { name: "memory", create: async () => "memory:", destroy: async () => undefined },
  { name: "sqlite", create: async () => tmpSqliteUrl(), destroy: async (url) => removeSqlite(url) },
  { name: "postgres", create: createPgDatabase, destroy: dropPgDatabase },
];

export interface Harness {
  ipam: Ipam;
  store: Store;
  url: string;
  /** Closes the store and opens a new one on the same URL (what a new process would see). */
  reopen(): Promise<Ipam>;
}

/** Gives each test of the enclosing describe a new, empty store of `backend`. */
export function useBackend(backend: Backend): Harness {
  const h = {} as Harness;
  beforeEach(async () => {
    h.url = await backend.create();
    h.store = openStore(h.url);
    h.ipam = new Ipam(h.store);
    h.reopen = async () => {
      await h.store.close();
      h.store = openStore(h.url);
      h.ipam = new Ipam(h.store);
      return h.ipam;
    };
  });
  afterEach(async () => {
    await h.store.close();
    await backend.destroy(h.url);
  });
  return h;
}

/** The IpamError code a call fails with; fails the test when the call succeeds or throws anything else. */
export async function codeOf(call: Promise<unknown>): Promise<IpamErrorCode> {
  try {
    await call;
  } catch (e) {
    if (e instanceof IpamError) return e.code;
    throw e;
  }
  throw new Error("expected the call to fail with an IpamError, but it succeeded");
}

export interface PoolState {
  pool: PoolInfo;
  allocations: AllocationInfo[];
  utilization: Utilization;
}

/** Everything observable through the API, in a fixed order (stores need not list in the same order). */
export async function snapshot(ipam: Ipam): Promise<PoolState[]> {
  const pools = (await ipam.listPools()).sort((a, b) => a.ipamPoolId.localeCompare(b.ipamPoolId));
  const out: PoolState[] = [];
  for (const pool of pools) {
    const allocations = (await ipam.listAllocations(pool.ipamPoolId)).sort((a, b) => a.ipamPoolAllocationId.localeCompare(b.ipamPoolAllocationId));
    out.push({ pool, allocations, utilization: await ipam.utilization(pool.ipamPoolId) });
  }
  return out;
}

/** Asserts `call` fails with `code` and that the store is exactly as it was before. */
export async function expectRejectedUnchanged(ipam: Ipam, call: () => Promise<unknown>, code: IpamErrorCode): Promise<void> {
  const before = await snapshot(ipam);
  expect(await codeOf(call())).toBe(code);
  expect(await snapshot(ipam)).toEqual(before);
}

/** The CIDRs of a pool's allocations, ascending by address as written (for small, same-length cases). */
export async function cidrsOf(ipam: Ipam, ipamPoolId: string): Promise<string[]> {
  return (await ipam.listAllocations(ipamPoolId)).map((a) => a.cidr).sort(byAddress);
}

/** Orders CIDR strings by address then prefix, for IPv4 and IPv6 alike. */
export function byAddress(a: string, b: string): number {
  const key = (c: string) => {
    const [addr, p] = c.split("/");
    const v = addr.includes(":") ? BigInt(`0x${expandV6(addr)}`) : addr.split(".").reduce((s, o) => (s << 8n) + BigInt(o), 0n);
    return [v, Number(p)] as const;
  };
  const [va, pa] = key(a), [vb, pb] = key(b);
  return va < vb ? -1 : va > vb ? 1 : pa - pb;
}

function expandV6(addr: string): string {
  const [head, tail] = addr.split("::");
  const h = head ? head.split(":") : [];
  const t = tail !== undefined && tail ? tail.split(":") : [];
  const groups = tail === undefined ? h : [...h, ...Array(8 - h.length - t.length).fill("0"), ...t];
  return groups.map((g) => g.padStart(4, "0")).join("");
}
