/**
 * The address plan as the Terraform export writes it: every pool, CIDR
 * allocation and Elastic IP the Pulumi resources use, each with its CIDRs
 * pinned, read from the store in one read-only transaction. Planned
 * reservations (a preview, not yet applied) and held ones (created) both
 * count; expired plans no longer steer anything and are left out.
 *
 * The local backend's store holds the truth for what exists (pools,
 * allocations, addresses, also those made outside Pulumi); a cloud backend's
 * store holds only the plans, so what exists is asked of the cloud, for the
 * ids the import blocks need. Nothing here loads CDKTF: this is plain data.
 */
import type { Backend, BackendKind } from "../../backends/backend";
import { formatCidr } from "../../core/cidr";
import { IpamError } from "../../core/errors";
import type { Ipam } from "../../core/ipam";
import type { AddressRecord, AllocationRecord, PoolRecord, ReservationRecord, Tags } from "../../core/model";
import { quote } from "../../core/quote";
import { DEFAULT_SCOPE_ID } from "../../core/scopes";
import type { StoreTx } from "../../core/store";
import type { AllocateInput, AllocationInfo, PoolInfo } from "../../core/types";

/** planned: reserved by a preview, not yet created; held: exists. */
export type State = "planned" | "held";

interface Named {
  /** The resource's name in its Pulumi program (the plan key's last part), or its id when no Pulumi resource holds it. */
  name: string;
  /** The plan key (the resource's URN) when a Pulumi resource holds or plans it. */
  key?: string;
  state: State;
}

/** A pool as the allocator describes it (PoolInfo), its scope always resolved; depth and strategy have no Terraform field. */
export interface ExportPool extends Named, Omit<PoolInfo, "poolDepth" | "allocationStrategy" | "ipamScopeId"> {
  ipamScopeId: string;
}

export interface ExportAllocation extends Named {
  ipamPoolId: string;
  cidr: string;
  description?: string;
  disallowedCidrs?: string[];
  /** Held in a cloud: the allocation's id there (the import block's `<allocation-id>_<pool-id>`). */
  ipamPoolAllocationId?: string;
}

export interface ExportAddress extends Named {
  ipamPoolId: string;
  publicIp: string;
  tags?: Tags;
  /** Held in a cloud: the Elastic IP's allocation id (eipalloc-...). */
  allocationId?: string;
}

export interface ExportPlan {
  backend: BackendKind;
  region?: string;
  /** The scope new top-level pools go in (ipam:scopeId), when configured. */
  scopeId?: string;
  pools: ExportPool[];
  allocations: ExportAllocation[];
  addresses: ExportAddress[];
  /** Pools that something exported takes from but that are not exported themselves (another stack's, or made outside Pulumi in a cloud). */
  externalPools: string[];
  /** What could not be exported exactly (for example a cloud allocation whose id was not found); printed as warnings. */
  notes: string[];
}

export interface ReadOptions {
  /** Only the resources of this Pulumi stack (the plan keys' stack). */
  stack?: string;
  /** Epoch ms: plans that expired before it are left out. */
  now?: number;
  backendKind: BackendKind;
  region?: string;
  scopeId?: string;
}

/** urn:pulumi:<stack>::<project>::<type>::<name> */
export function parseKey(key: string): { stack: string; project: string; type: string; name: string } | undefined {
  const m = /^urn:pulumi:([^:]+)::([^:]+)::(.+)::([^]*)$/.exec(key);
  return m ? { stack: m[1], project: m[2], type: m[3], name: m[4] } : undefined;
}

const nameOf = (key: string) => parseKey(key)?.name ?? key;

const parseJson = <T>(text: string | undefined): T | undefined => {
  if (!text) return undefined;
  try { return JSON.parse(text) as T; } catch { return undefined; }
};

const nonEmpty = (t: Tags | undefined): Tags => (t && typeof t === "object" ? t : {});

/** Every reservation reached from the scopes and pools the store knows: a top-level pool's plan is kept under its scope, everything else under the pool it takes space from. */
async function allReservations(tx: StoreTx, seeds: string[]): Promise<ReservationRecord[]> {
  const queue = [...new Set(seeds)];
  const seen = new Set(queue);
  const found = new Map<string, ReservationRecord>();
  while (queue.length) {
    const space = queue.shift()!;
    for (const r of await tx.listReservations(space)) {
      if (found.has(r.key)) continue;
      found.set(r.key, r);
      if (r.kind === "pool" && !seen.has(r.ipamPoolId)) { seen.add(r.ipamPoolId); queue.push(r.ipamPoolId); }
    }
  }
  return [...found.values()].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
}

interface Raw {
  reservations: ReservationRecord[];
  pools: PoolRecord[];
  /** Local store: each pool's allocations, and for Elastic IPs their address records. */
  allocations: { pool: PoolRecord; a: AllocationRecord; address?: AddressRecord }[];
}

/**
 * One read-only transaction: never waits for a writer, and cannot change the store. `cloudPools`: on a
 * cloud backend the pools and scopes its API lists, under which plans made in pools that Pulumi did not
 * create are kept.
 */
async function readStore(ipam: Ipam, opts: ReadOptions, cloudPools: PoolInfo[]): Promise<Raw> {
  return ipam.store.read(async (tx) => {
    const pools = await tx.listPools();
    const seeds = [DEFAULT_SCOPE_ID, ...(opts.scopeId ? [opts.scopeId] : []), ...[...pools, ...cloudPools].flatMap((p) => [p.ipamScopeId ?? DEFAULT_SCOPE_ID, p.ipamPoolId])];
    const reservations = await allReservations(tx, seeds);
    const allocations: Raw["allocations"] = [];
    for (const pool of pools) {
      for (const a of await tx.listAllocations(pool.ipamPoolId)) {
        // A nested pool's carve-outs are that pool's provisioned CIDRs, exported with it.
        if (a.resourceType === "ipam-pool") continue;
        const address = a.resourceType === "eip" && a.resourceId ? await tx.getAddress(a.resourceId) : undefined;
        allocations.push({ pool, a, address });
      }
    }
    return { reservations, pools, allocations };
  });
}

/**
 * The plan to export. `backend` is asked (aws only) for the ids of what
 * exists, which the store does not keep for a cloud.
 */
export async function readPlan(ipam: Ipam, backend: Backend | undefined, opts: ReadOptions): Promise<ExportPlan> {
  const now = opts.now ?? Date.now();
  const cloudPools = opts.backendKind !== "local" && backend?.listPools ? await backend.listPools() : [];
  const raw = await readStore(ipam, opts, cloudPools);
  const inStack = (key: string) => !opts.stack || parseKey(key)?.stack === opts.stack;
  const live = raw.reservations.filter((r) => (r.expiresAt === 0 || r.expiresAt > now) && inStack(r.key));
  if (opts.stack && !live.length) {
    const stacks = [...new Set(raw.reservations.map((r) => parseKey(r.key)?.stack).filter((s): s is string => !!s))].sort();
    throw new IpamError("InvalidParameterValue", `the store holds no plan of stack ${quote(opts.stack)}${stacks.length ? `; its stacks are ${stacks.join(", ")}` : "; it holds no plan of any stack"}.`);
  }
  const local = opts.backendKind === "local";
  const plan: ExportPlan = {
    backend: opts.backendKind, region: opts.region, scopeId: opts.scopeId, pools: [], allocations: [], addresses: [], externalPools: [], notes: [],
  };
  const scopeOr = (s: string | undefined) => s ?? (local ? DEFAULT_SCOPE_ID : opts.scopeId ?? DEFAULT_SCOPE_ID);

  // ---- pools ----
  const poolHolds = new Map(live.filter((r) => r.kind === "pool").map((r) => [r.ipamPoolId, r]));
  const storePools = new Map(raw.pools.map((p) => [p.ipamPoolId, p]));
  if (local) {
    for (const p of raw.pools) {
      const r = poolHolds.get(p.ipamPoolId);
      if (opts.stack && !r) continue;
      plan.pools.push({
        name: r ? nameOf(r.key) : p.ipamPoolId, key: r?.key, state: "held", ipamPoolId: p.ipamPoolId, addressFamily: p.addressFamily,
        sourceIpamPoolId: p.sourceIpamPoolId, ipamScopeId: scopeOr(p.ipamScopeId), locale: p.locale, description: p.description, tags: nonEmpty(p.tags),
        allocationMinNetmaskLength: p.allocationMinNetmaskLength, allocationMaxNetmaskLength: p.allocationMaxNetmaskLength,
        allocationDefaultNetmaskLength: p.allocationDefaultNetmaskLength, allocationResourceTags: nonEmpty(p.allocationResourceTags),
        cidrs: p.cidrs.map((b) => formatCidr(p.addressFamily, b)),
      });
    }
  }
  for (const r of live.filter((x) => x.kind === "pool")) {
    if (local && storePools.has(r.ipamPoolId)) continue; // exported from the store above
    if (local && r.expiresAt === 0) continue; // held, but the pool is gone: nothing to export
    let info = parseJson<PoolInfo>(r.pool);
    if (!local && r.expiresAt === 0 && backend) {
      // What exists in the cloud is the truth; the planned definition stands for what its API does not report.
      const real = await backend.getPool(r.ipamPoolId);
      if (!real) { plan.notes.push(`${r.key}: pool ${r.ipamPoolId} is held by the plan but no longer exists in the cloud; left out`); continue; }
      info = { ...info, ...definedOnly(real), ipamScopeId: real.ipamScopeId ?? info?.ipamScopeId } as PoolInfo;
    }
    if (!info) { plan.notes.push(`${r.key}: the plan keeps no pool definition; left out`); continue; }
    // A nested pool's plan is kept under its source, by the source's current id (renamed when a cloud assigned it).
    const source = info.sourceIpamPoolId ? r.spacePoolId ?? info.sourceIpamPoolId : undefined;
    plan.pools.push({
      name: nameOf(r.key), key: r.key, state: r.expiresAt === 0 ? "held" : "planned", ipamPoolId: r.ipamPoolId, addressFamily: info.addressFamily,
      sourceIpamPoolId: source, ipamScopeId: scopeOr(info.ipamScopeId), locale: info.locale, description: info.description, tags: nonEmpty(info.tags),
      allocationMinNetmaskLength: info.allocationMinNetmaskLength, allocationMaxNetmaskLength: info.allocationMaxNetmaskLength,
      allocationDefaultNetmaskLength: info.allocationDefaultNetmaskLength, allocationResourceTags: nonEmpty(info.allocationResourceTags),
      cidrs: r.expiresAt === 0 && info.cidrs?.length ? info.cidrs : r.cidrs,
    });
  }

  // ---- allocations and addresses ----
  const held = (kind: ReservationRecord["kind"], pool: string, cidr: string) =>
    live.find((r) => r.kind === kind && r.expiresAt === 0 && r.ipamPoolId === pool && r.cidrs[0] === cidr);
  if (local) {
    for (const { pool, a, address } of raw.allocations) {
      const cidr = formatCidr(pool.addressFamily, { start: a.start, prefix: a.prefix });
      if (address) {
        const r = held("address", pool.ipamPoolId, cidr);
        if (opts.stack && !r) continue;
        plan.addresses.push({ name: r ? nameOf(r.key) : address.allocationId, key: r?.key, state: "held", ipamPoolId: pool.ipamPoolId, publicIp: address.publicIp, tags: address.tags });
        continue;
      }
      if (a.resourceType === "eip") continue; // an address allocation without its address record: nothing to say
      const r = held("allocation", pool.ipamPoolId, cidr);
      if (opts.stack && !r) continue;
      const req = parseJson<AllocateInput>(r?.request);
      plan.allocations.push({
        name: r ? nameOf(r.key) : a.ipamPoolAllocationId, key: r?.key, state: "held", ipamPoolId: pool.ipamPoolId, cidr,
        description: a.description, disallowedCidrs: req?.disallowedCidrs,
      });
    }
  }
  const cloudAllocations = new Map<string, Promise<AllocationInfo[]>>();
  const listed = (pool: string) => {
    if (!cloudAllocations.has(pool)) cloudAllocations.set(pool, backend!.listAllocations(pool));
    return cloudAllocations.get(pool)!;
  };
  for (const r of live.filter((x) => x.kind === "allocation" || x.kind === "address")) {
    if (local && r.expiresAt === 0) continue; // exported from the store above (or gone)
    const state: State = r.expiresAt === 0 ? "held" : "planned";
    let found: AllocationInfo | undefined;
    if (state === "held" && backend && !local) {
      found = (await listed(r.ipamPoolId)).find((a) => a.cidr === r.cidrs[0]);
      if (!found) plan.notes.push(`${r.key}: ${r.cidrs[0]} is held by the plan but was not found in pool ${r.ipamPoolId}; exported without an import block`);
    }
    if (r.kind === "allocation") {
      const req = parseJson<AllocateInput>(r.request);
      plan.allocations.push({
        name: nameOf(r.key), key: r.key, state, ipamPoolId: r.ipamPoolId, cidr: r.cidrs[0], description: found?.description ?? req?.description,
        disallowedCidrs: req?.disallowedCidrs, ipamPoolAllocationId: found?.ipamPoolAllocationId,
      });
    } else {
      const req = parseJson<{ tags?: Tags }>(r.request);
      const allocationId = found?.resourceId?.startsWith("eipalloc-") ? found.resourceId : undefined;
      if (found && !allocationId) plan.notes.push(`${r.key}: the cloud does not say which Elastic IP holds ${r.cidrs[0]}; exported without an import block`);
      plan.addresses.push({
        name: nameOf(r.key), key: r.key, state, ipamPoolId: r.ipamPoolId, publicIp: r.cidrs[0].split("/")[0], tags: req?.tags, allocationId,
      });
    }
  }

  const exported = new Set(plan.pools.map((p) => p.ipamPoolId));
  const used = [...plan.pools.map((p) => p.sourceIpamPoolId), ...plan.allocations.map((a) => a.ipamPoolId), ...plan.addresses.map((a) => a.ipamPoolId)];
  plan.externalPools = [...new Set(used.filter((id): id is string => !!id && !exported.has(id)))].sort();
  return plan;
}

function definedOnly<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

