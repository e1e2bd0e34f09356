/**
 * For the command line tool's tests: running `pulumi-ipam` as a process
 * (from the sources, through ts-node, so no build is needed), a store seeded
 * through the planner with nested IPv4 and IPv6 pools (so every resource has
 * a plan reservation, hence a name), and a brute-force bitmap of a pool's
 * addresses to check the tool's numbers against: it shares no code with
 * provider/ (addresses through ip-num).
 */
import { spawn, spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import { IPv4, IPv6 } from "ip-num";
import { Ipam } from "../../provider/core/ipam";
import { Planner } from "../../provider/core/plan";
import type { AllocateInput, CreatePoolInput } from "../../provider/core/types";
import { openStore } from "../../provider/stores";
import { MemoryStore } from "../../provider/stores/memory";

export const ROOT = path.resolve(__dirname, "../..");

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** The environment without PULUMI_IPAM_* (the tests say what they want). */
export function cleanEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith("PULUMI_IPAM_")) env[k] = v;
  return { ...env, NO_COLOR: "", TS_NODE_TRANSPILE_ONLY: "true", ...extra };
}

export function runCli(args: string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv; input?: string } = {}): CliResult {
  const r = spawnSync(process.execPath, ["-r", require.resolve("ts-node/register/transpile-only"), path.join(ROOT, "provider/cli/main.ts"), ...args], {
    // ts-node reads the tsconfig.json of the directory it runs in: ours, wherever the command runs.
    cwd: opts.cwd ?? ROOT, env: { ...(opts.env ?? cleanEnv()), TS_NODE_PROJECT: path.join(ROOT, "tsconfig.json") }, input: opts.input, encoding: "utf8", timeout: 120_000, maxBuffer: 256 * 1024 * 1024,
  });
  if (r.error) throw r.error;
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

/** The same, without blocking this process (a server it runs can answer the command meanwhile). */
export function runCliAsync(args: string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ["-r", require.resolve("ts-node/register/transpile-only"), path.join(ROOT, "provider/cli/main.ts"), ...args], {
      cwd: opts.cwd ?? ROOT, env: { ...(opts.env ?? cleanEnv()), TS_NODE_PROJECT: path.join(ROOT, "tsconfig.json") }, stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "", stderr = "";
    child.stdout.on("data", (d) => { stdout += d; });
    child.stderr.on("data", (d) => { stderr += d; });
    const timer = setTimeout(() => child.kill("SIGKILL"), 120_000);
    child.on("error", reject);
    child.on("close", (code) => { clearTimeout(timer); resolve({ code: code ?? -1, stdout, stderr }); });
  });
}

export const key = (kind: string, name: string, stack = "dev") => `urn:pulumi:${stack}::cli-test::pulumi-nodejs:dynamic/ipam:${kind}::${name}`;

export interface SeededPool {
  id: string;
  family: "ipv4" | "ipv6";
  cidrs: string[];
  /** Every allocation the API returned for it (nested pools' CIDRs included), as the seed got them. */
  used: string[];
}

export interface Seeded {
  pools: Record<string, SeededPool>;
  /** Allocations by resource name: their CIDR and id as the API returned them. */
  allocations: Record<string, { cidr: string; id: string; pool: string }>;
  /** The live (not committed) plan: its name, pool and CIDR. */
  planned: { name: string; pool: string; cidr: string };
  eip: { name: string; publicIp: string; allocationId: string; pool: string };
}

/**
 * corp 10.0.0.0/16 (/16-/28) → east /18 (us-east-1) with vpc-a /20, vpc-b /22, vpc-c /24 and a
 * live plan vpc-planned /21; west /18 (eu-west-1) with vpc-w /19; a direct allocation dc-1 /18.
 * v6 fd00:10::/48 → v6-east /52 with v6-a /56 and v6-b /60; a direct v6-direct /56.
 * public 198.51.100.0/28 with the Elastic IP nat.
 */
export async function seedStore(url: string): Promise<Seeded> {
  const store = openStore(url);
  const ipam = new Ipam(store);
  const planner = new Planner(ipam, () => new MemoryStore());
  const out: Seeded = { pools: {}, allocations: {}, planned: { name: "", pool: "", cidr: "" }, eip: { name: "", publicIp: "", allocationId: "", pool: "" } };
  try {
    const pool = async (name: string, spec: CreatePoolInput) => {
      const plan = await planner.planPool(key("IpamPool", name), spec);
      const info = await planner.commitPool(key("IpamPool", name), spec, plan);
      out.pools[name] = { id: info.ipamPoolId, family: info.addressFamily as "ipv4" | "ipv6", cidrs: info.cidrs, used: [] };
      const source = Object.values(out.pools).find((p) => p.id === spec.sourceIpamPoolId);
      source?.used.push(...info.cidrs);
      return info.ipamPoolId;
    };
    const alloc = async (name: string, poolName: string, req: Omit<AllocateInput, "ipamPoolId">) => {
      const r = { ...req, ipamPoolId: out.pools[poolName].id };
      const plan = await planner.planAllocation(key("IpamPoolAllocation", name), r);
      const a = await planner.commitAllocation(key("IpamPoolAllocation", name), r, plan);
      out.pools[poolName].used.push(a.cidr);
      out.allocations[name] = { cidr: a.cidr, id: a.ipamPoolAllocationId, pool: poolName };
    };
    const corp = await pool("corp", { addressFamily: "ipv4", cidrs: ["10.0.0.0/16"], allocationMinNetmaskLength: 16, allocationMaxNetmaskLength: 28, tags: { owner: "network-team" }, description: "corporate" });
    await pool("east", { addressFamily: "ipv4", sourceIpamPoolId: corp, netmaskLength: 18, locale: "us-east-1", allocationDefaultNetmaskLength: 22 });
    await pool("west", { addressFamily: "ipv4", sourceIpamPoolId: corp, netmaskLength: 18, locale: "eu-west-1" });
    await alloc("vpc-a", "east", { netmaskLength: 20, resourceType: "vpc", description: "app", resourceTags: { env: "prod", owner: "team-app" } });
    await alloc("vpc-b", "east", { netmaskLength: 22, resourceType: "vpc" });
    await alloc("vpc-c", "east", { netmaskLength: 24, resourceType: "subnet", resourceTags: { env: "dev" } });
    await alloc("vpc-w", "west", { netmaskLength: 19, resourceType: "vpc" });
    // Not through the planner: an allocation with no resource name, named by its resourceId.
    const dc = await ipam.allocate({ ipamPoolId: corp, cidr: "10.0.128.0/18", resourceId: "dc-1", description: "legacy data centre" });
    out.pools.corp.used.push(dc.cidr);
    out.allocations["dc-1"] = { cidr: dc.cidr, id: dc.ipamPoolAllocationId, pool: "corp" };
    const planned = await planner.planAllocation(key("IpamPoolAllocation", "vpc-planned"), { ipamPoolId: out.pools.east.id, netmaskLength: 21 });
    out.planned = { name: "vpc-planned", pool: "east", cidr: planned.cidrs[0] };
    const v6 = await pool("v6", { addressFamily: "ipv6", cidrs: ["fd00:10::/48"], allocationDefaultNetmaskLength: 56 });
    await pool("v6-east", { addressFamily: "ipv6", sourceIpamPoolId: v6, netmaskLength: 52, locale: "us-east-1" });
    await alloc("v6-a", "v6-east", { netmaskLength: 56 });
    await alloc("v6-b", "v6-east", { netmaskLength: 60 });
    await alloc("v6-direct", "v6", {});
    const pub = await pool("public", { addressFamily: "ipv4", cidrs: ["198.51.100.0/28"], description: "Elastic IPs" });
    const req = { ipamPoolId: pub, tags: { role: "nat" } };
    const ep = await planner.planAddress(key("ElasticIp", "nat"), req);
    const eip = await planner.commitAddress(key("ElasticIp", "nat"), req, ep);
    out.pools.public.used.push(`${eip.publicIp}/32`);
    out.eip = { name: "nat", publicIp: eip.publicIp, allocationId: eip.allocationId, pool: "public" };
  } finally {
    await store.close();
  }
  return out;
}

const value = (addr: string) => (addr.includes(":") ? IPv6.fromString(addr).getValue() : IPv4.fromString(addr).getValue());

/**
 * A pool's addresses as a bitmap of cells of /cellPrefix (every allocation
 * must be at least that large), marked used by `used`; counts by scanning.
 */
export class Bitmap {
  readonly cells: Uint8Array;
  private readonly base: bigint;
  private readonly cellBits: bigint;
  readonly bits: number;
  readonly prefix: number;

  constructor(cidr: string, readonly cellPrefix: number, used: string[]) {
    const [addr, p] = cidr.split("/");
    this.bits = addr.includes(":") ? 128 : 32;
    this.prefix = Number(p);
    this.base = value(addr);
    this.cellBits = BigInt(this.bits - cellPrefix);
    this.cells = new Uint8Array(2 ** (cellPrefix - this.prefix));
    for (const u of used) {
      const [a, q] = u.split("/");
      if (Number(q) > cellPrefix) throw new Error(`${u} is smaller than a /${cellPrefix} cell`);
      const first = Number((value(a) - this.base) >> this.cellBits);
      const n = 2 ** (cellPrefix - Number(q));
      for (let i = first; i < first + n; i++) this.cells[i] = 1;
    }
  }

  private get cellSize(): bigint { return 1n << this.cellBits; }

  total(): bigint { return BigInt(this.cells.length) * this.cellSize; }

  allocated(): bigint {
    let n = 0;
    for (const c of this.cells) n += c;
    return BigInt(n) * this.cellSize;
  }

  /** How many aligned /n blocks are wholly free, trying each one. */
  fits(n: number): bigint {
    if (n > this.cellPrefix) {
      let freeCells = 0;
      for (const c of this.cells) if (!c) freeCells++;
      return BigInt(freeCells) << BigInt(n - this.cellPrefix);
    }
    const span = 2 ** (this.cellPrefix - n);
    let count = 0n;
    outer: for (let i = 0; i < this.cells.length; i += span) {
      for (let j = i; j < i + span; j++) if (this.cells[j]) continue outer;
      count++;
    }
    return count;
  }
}

/** The SHA-256 of a SQLite store's file (and whether its -wal holds anything), to show a command wrote nothing. */
export function sqliteFingerprint(url: string): string {
  const file = url.slice("sqlite:".length).split("?")[0];
  const wal = `${file}-wal`;
  const walSize = fs.existsSync(wal) ? fs.statSync(wal).size : 0;
  return `${createHash("sha256").update(fs.readFileSync(file)).digest("hex")} wal=${walSize}`;
}
