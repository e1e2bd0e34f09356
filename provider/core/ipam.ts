/**
 * The allocator: the seeds' IPAM semantics over any Store. Each public
 * method is one store transaction; it validates everything before writing,
 * and a throw rolls back whatever was written.
 */
import { randomBytes } from "node:crypto";
import {
  blockRange, blockSize, familyBits, formatAddress, formatCidr, intersectRanges, overlaps, parseAddress, parseCidr,
  Range, subtractRanges, Block,
} from "./cidr";
import { IpamError } from "./errors";
import {
  ALLOCATE, ALLOCATE_ADDRESS, CREATE_POOL, DELETE_POOL, PREVIEW_ADDRESS, PROVISION_CIDR, readInput, RELEASE, RELEASE_ADDRESS,
  requiredId, TAG_ADDRESS, UPDATE_ALLOCATION, UPDATE_POOL,
} from "./inputs";
import { quote } from "./quote";
import type { AddressRecord, AllocationRecord, PoolRecord, Tags } from "./model";
import {
  checkClientToken, checkDescription, checkFamily, checkNetmask, checkNetmaskRules, checkRequiredTags,
  checkStrategy, checkTags, checkWithinRules, mismatchError, requestFingerprint,
} from "./rules";
import { checkScopeFree, checkScopeId, DEFAULT_SCOPE_ID, inheritScope, scopeOf, topLevelCidrs } from "./scopes";
import { findFirstFitAnywhere, findFit, freeContaining, give, rootOf, searchRegions, take } from "./space";
import type { Store, StoreTx } from "./store";
import type {
  AddressInfo, AllocateAddressInput, AllocateInput, AllocationInfo, CreatePoolInput, PoolInfo, ProvisionCidrInput,
  ReleaseInput, UpdatePoolInput, Utilization,
} from "./types";

export const MAX_POOL_DEPTH = 10;

/**
 * How the core's own callers (nested pools, the planner's scratch pools) allocate: as a
 * carve-out, resource type ipam-pool, exempt from the pool's required tags and released
 * only by them. A symbol passed beside the input, never read from it: a user cannot make
 * an allocation that skips the tags and can never be released.
 */
export const CARVE_OUT: unique symbol = Symbol("ipam carve-out");
export type CarveOut = typeof CARVE_OUT;

const hex = (bytes: number) => randomBytes(bytes).toString("hex");
export const newPoolId = () => `ipam-pool-${hex(9).slice(0, 17)}`;
// Allocation ids: 64 random bits per process and a counter; unique across processes
// without paying for randomBytes on every allocation (it was 13% of an allocation's CPU).
const allocationPrefix = `ipam-pool-alloc-${hex(8)}`;
let allocationCounter = 0;
export const newAllocationId = () => allocationPrefix + (allocationCounter++).toString(16).padStart(16, "0");
export const newAddressId = () => `eipalloc-${hex(9).slice(0, 17)}`;

export function poolInfo(p: PoolRecord): PoolInfo {
  const { cidrs, sourceAllocationIds: _ids, ...rest } = p;
  return { ...rest, ipamScopeId: scopeOf(p), cidrs: cidrs.map((c) => formatCidr(p.addressFamily, c)) };
}

function allocationInfo(pool: PoolRecord, a: AllocationRecord): AllocationInfo {
  const { start, prefix, ...rest } = a;
  return { ...rest, cidr: formatCidr(pool.addressFamily, { start, prefix }) };
}

const dryRunError = () => new IpamError("DryRunOperation", "Request would have succeeded, but DryRun flag is set; nothing was changed.");

/** A validated allocation request: either an explicit block or a netmask length and search regions. */
interface Placement {
  pool: PoolRecord;
  explicit?: Block;
  length: number;
}

interface PlacementRequest {
  explicit?: Block;
  length?: number;
  what: string;
  checkRules: boolean;
  allowed?: Block[];
  disallowed?: Block[];
  /** Space promised to other resources' plans: skipped like disallowed, but not the caller's restriction. */
  excluded?: Block[];
}

function checkPoolId(id: unknown): string | undefined {
  if (id === undefined) return undefined;
  if (typeof id !== "string" || !/^ipam-pool-[0-9a-f]{17}$/.test(id)) {
    throw new IpamError("InvalidParameterValue", `ipamPoolId ${quote(id)} is not a pool id (ipam-pool- and 17 hex digits).`);
  }
  return id;
}

export class Ipam {
  constructor(readonly store: Store) {}

  /** Runs fn in the caller's transaction when given one (the planner composes operations), else in a new one. */
  private run<T>(tx: StoreTx | undefined, fn: (tx: StoreTx) => Promise<T>): Promise<T> {
    return tx ? fn(tx) : this.store.transaction(fn);
  }

  /** Like run, for work that only reads: no write lock, so it never waits for a writer elsewhere. */
  private read<T>(tx: StoreTx | undefined, fn: (tx: StoreTx) => Promise<T>): Promise<T> {
    return tx ? fn(tx) : this.store.read(fn);
  }

  // ---- pools ----

  async createPool(input: CreatePoolInput, outer?: StoreTx): Promise<PoolInfo> {
    input = readInput(input, "createPool", CREATE_POOL);
    const token = checkClientToken(input.clientToken);
    const family = checkFamily(input.addressFamily);
    const rules = checkNetmaskRules(family, input as unknown as Record<string, unknown>);
    const givenScope = checkScopeId(input.ipamScopeId);
    const base: PoolRecord = {
      ipamPoolId: checkPoolId(input.ipamPoolId) ?? newPoolId(), addressFamily: family, poolDepth: 1,
      ipamScopeId: givenScope ?? DEFAULT_SCOPE_ID,
      sourceIpamPoolId: input.sourceIpamPoolId || undefined,
      locale: input.locale || undefined,
      description: checkDescription(input.description),
      tags: checkTags(input.tags, "tags"),
      ...rules,
      allocationResourceTags: checkTags(input.allocationResourceTags, "allocationResourceTags"),
      allocationStrategy: checkStrategy(input.allocationStrategy),
      cidrs: [], sourceAllocationIds: [],
    };
    const cidrs = input.cidrs ?? [];
    if (!Array.isArray(cidrs)) throw new IpamError("InvalidParameterValue", "cidrs must be a list of CIDR strings.");
    const parsed = cidrs.map((c, i) => parseCidr(family, c, `cidrs[${i}]`));
    if (input.netmaskLength !== undefined && !base.sourceIpamPoolId) {
      throw new IpamError("InvalidParameterCombination", "netmaskLength carves a CIDR out of a source pool; give sourceIpamPoolId, or give cidrs for a top-level pool.");
    }
    if (input.netmaskLength !== undefined && parsed.length > 0) {
      throw new IpamError("InvalidParameterCombination", "give either cidrs or netmaskLength for a nested pool, not both.");
    }
    checkNetmask(family, input.netmaskLength, "netmaskLength", "IllegalParam.CidrMask");
    const fp = token ? requestFingerprint(input) : "";
    return this.run(outer, async (tx) => {
      // A top-level pool takes its scope's lock before its token is read: a concurrent create with the same
      // token then waits, and finds the token (a replay) rather than the first one's CIDRs (a conflict).
      if (!base.sourceIpamPoolId) await tx.lockPools([scopeOf(base)]);
      if (token) {
        const prior = await this.replay(tx, `CreateIpamPool:${token}`, fp, input.dryRun);
        if (prior) return prior as PoolInfo;
      }
      const pool = { ...base, cidrs: [] as Block[], sourceAllocationIds: [] as string[] };
      if (await tx.getPool(pool.ipamPoolId)) {
        throw new IpamError("InvalidParameterValue", `pool ${pool.ipamPoolId} already exists; a planned pool id is used once.`);
      }
      if (pool.sourceIpamPoolId) {
        await tx.lockPools([pool.sourceIpamPoolId]);
        const source = await this.mustPool(tx, pool.sourceIpamPoolId);
        if (source.addressFamily !== family) {
          throw new IpamError("InvalidParameterCombination", `source pool ${source.ipamPoolId} is ${source.addressFamily}; a nested pool has its source's addressFamily.`);
        }
        pool.ipamScopeId = inheritScope(givenScope, source.ipamPoolId, scopeOf(source));
        pool.poolDepth = source.poolDepth + 1;
        if (pool.poolDepth > MAX_POOL_DEPTH) {
          throw new IpamError("QuotaExceeded.IpamPoolQuotaDepth", `pools nest at most ${MAX_POOL_DEPTH} deep and ${source.ipamPoolId} is at depth ${source.poolDepth}; take this pool's space from a shallower pool.`);
        }
      }
      await tx.putPool(pool);
      for (const [i, b] of parsed.entries()) await this.provisionBlock(tx, pool, { explicit: b }, `cidrs[${i}]`);
      if (input.netmaskLength !== undefined) await this.provisionBlock(tx, pool, { length: input.netmaskLength }, "netmaskLength");
      if (input.dryRun) throw dryRunError();
      const info = poolInfo(pool);
      if (token) await tx.putToken({ key: `CreateIpamPool:${token}`, fingerprint: fp, result: JSON.stringify(info) });
      return info;
    });
  }

  async provisionPoolCidr(input: ProvisionCidrInput, outer?: StoreTx): Promise<PoolInfo> {
    input = readInput(input, "provisionPoolCidr", PROVISION_CIDR);
    return this.run(outer, async (tx) => {
      await tx.lockPools([input.ipamPoolId]);
      const pool = await this.mustPool(tx, input.ipamPoolId);
      if ((input.cidr === undefined) === (input.netmaskLength === undefined)) {
        throw new IpamError("InvalidParameterCombination", "give exactly one of cidr or netmaskLength to provision.");
      }
      if (input.netmaskLength !== undefined && !pool.sourceIpamPoolId) {
        throw new IpamError("InvalidParameterCombination", "netmaskLength is only for nested pools; give cidr for a top-level pool.");
      }
      const length = checkNetmask(pool.addressFamily, input.netmaskLength, "netmaskLength", "IllegalParam.CidrMask");
      const explicit = input.cidr !== undefined ? parseCidr(pool.addressFamily, input.cidr) : undefined;
      await this.provisionBlock(tx, pool, explicit ? { explicit } : { length }, "cidr");
      if (input.dryRun) throw dryRunError();
      return poolInfo(pool);
    });
  }

  /** Adds one provisioned CIDR to `pool` (carving it from the source pool when nested) and saves the pool. */
  private async provisionBlock(tx: StoreTx, pool: PoolRecord, want: { explicit?: Block; length?: number }, what: string): Promise<void> {
    const bits = familyBits(pool.addressFamily);
    let block = want.explicit;
    if (pool.sourceIpamPoolId) {
      // The carve-out writes the source pool's free blocks, so it must hold the
      // source's lock: provisionPoolCidr locks only the nested pool, and without
      // this a concurrent allocation in the source (PostgreSQL, another process)
      // could pick the same free block (overlap) or fail with "chosen block is not free".
      await tx.lockPools([pool.sourceIpamPoolId]);
      const source = await this.mustPool(tx, pool.sourceIpamPoolId);
      const place = await this.placement(tx, source, { explicit: want.explicit, length: want.length ?? want.explicit?.prefix, what, checkRules: true });
      const rec = await this.commitAllocation(tx, place, { resourceId: pool.ipamPoolId, resourceType: "ipam-pool" });
      block = { start: rec.start, prefix: rec.prefix };
      pool.sourceAllocationIds.push(rec.ipamPoolAllocationId);
    }
    if (!block) throw new Error("internal: no block to provision");
    for (const c of pool.cidrs) {
      if (blockRange(bits, c)[0] <= blockRange(bits, block)[1] && blockRange(bits, block)[0] <= blockRange(bits, c)[1]) {
        throw new IpamError("InvalidParameterValue", `${what} ${formatCidr(pool.addressFamily, block)} overlaps ${formatCidr(pool.addressFamily, c)}, already provisioned to ${pool.ipamPoolId}; provision a CIDR that does not overlap.`);
      }
    }
    if (!pool.sourceIpamPoolId) {
      // Under the scope's lock, so that two concurrent creators cannot both take the space (PostgreSQL:
      // an advisory lock; the other stores lock the whole store per transaction).
      const scope = scopeOf(pool);
      await tx.lockPools([scope]);
      checkScopeFree(pool.addressFamily, block, scope, topLevelCidrs(await tx.listPools(), scope, pool.ipamPoolId), what);
    }
    const order = pool.cidrs.concat(block).map((c, i) => ({ c, id: pool.sourceAllocationIds[i] }));
    order.sort((a, b) => (a.c.start < b.c.start ? -1 : 1));
    pool.cidrs = order.map((o) => o.c);
    if (pool.sourceIpamPoolId) pool.sourceAllocationIds = order.map((o) => o.id);
    await tx.addFree(pool.ipamPoolId, block);
    await tx.putPool(pool);
  }

  async updatePool(input: UpdatePoolInput, outer?: StoreTx): Promise<PoolInfo> {
    input = readInput(input, "updatePool", UPDATE_POOL);
    return this.run(outer, async (tx) => {
      await tx.lockPools([input.ipamPoolId]);
      const pool = await this.mustPool(tx, input.ipamPoolId);
      const merged = { ...pool };
      for (const k of ["allocationMinNetmaskLength", "allocationMaxNetmaskLength", "allocationDefaultNetmaskLength"] as const) {
        if (k in input) merged[k] = input[k];
      }
      Object.assign(merged, checkNetmaskRules(pool.addressFamily, merged as unknown as Record<string, unknown>));
      if ("description" in input) merged.description = checkDescription(input.description);
      if ("tags" in input) merged.tags = checkTags(input.tags, "tags");
      if ("allocationResourceTags" in input) merged.allocationResourceTags = checkTags(input.allocationResourceTags, "allocationResourceTags");
      if (input.dryRun) throw dryRunError();
      await tx.putPool(merged);
      return poolInfo(merged);
    });
  }

  async getPool(ipamPoolId: string, outer?: StoreTx): Promise<PoolInfo> {
    ipamPoolId = requiredId(ipamPoolId, "ipamPoolId")!;
    return this.read(outer, async (tx) => poolInfo(await this.mustPool(tx, ipamPoolId)));
  }

  async listPools(): Promise<PoolInfo[]> {
    return this.store.read(async (tx) => (await tx.listPools()).map(poolInfo));
  }

  /** Deletes an empty pool; a nested pool's CIDRs go back to its source. */
  async deletePool(input: { ipamPoolId: string; dryRun?: boolean }, outer?: StoreTx): Promise<void> {
    input = readInput(input, "deletePool", DELETE_POOL);
    return this.run(outer, async (tx) => {
      await tx.lockPools([input.ipamPoolId]);
      const pool = await this.mustPool(tx, input.ipamPoolId);
      const children = await tx.countChildPools(pool.ipamPoolId);
      const allocations = await tx.countAllocations(pool.ipamPoolId);
      if (children > 0 || allocations > 0) {
        throw new IpamError("DependencyViolation", `pool ${pool.ipamPoolId} still has ${allocations} allocation(s) and ${children} nested pool(s); release and delete them first.`);
      }
      if (input.dryRun) throw dryRunError();
      if (pool.sourceIpamPoolId) {
        await tx.lockPools([pool.sourceIpamPoolId]);
        const source = await this.mustPool(tx, pool.sourceIpamPoolId);
        for (const id of pool.sourceAllocationIds) await this.freeAllocation(tx, source, id);
      }
      for (const c of pool.cidrs) await tx.removeFree(pool.ipamPoolId, c);
      await tx.deletePool(pool.ipamPoolId);
    });
  }

  // ---- allocations ----

  async allocate(input: AllocateInput, outer?: StoreTx, as?: CarveOut): Promise<AllocationInfo> {
    input = readInput(input, "allocate", ALLOCATE);
    const token = checkClientToken(input.clientToken);
    const fp = token ? requestFingerprint(input) : "";
    return this.run(outer, async (tx) => {
      await tx.lockPools([input.ipamPoolId]);
      const pool = await this.mustPool(tx, input.ipamPoolId);
      const place = await this.validateAllocation(pool, input, as);
      if (token) {
        const prior = await this.replay(tx, `AllocateIpamPoolCidr:${token}`, fp, input.dryRun);
        if (prior) return prior as AllocationInfo;
      }
      const found = await this.placement(tx, pool, place);
      if (input.dryRun) throw dryRunError();
      const rec = await this.commitAllocation(tx, found, {
        description: input.description, resourceId: input.resourceId, resourceType: as === CARVE_OUT ? "ipam-pool" : input.resourceType ?? "custom",
        resourceTags: input.resourceTags,
      });
      const info = allocationInfo(pool, rec);
      if (token) await tx.putToken({ key: `AllocateIpamPoolCidr:${token}`, fingerprint: fp, result: JSON.stringify(info) });
      return info;
    });
  }

  /** What allocate() with the same input would return now, without allocating. */
  async previewNextCidr(input: AllocateInput, outer?: StoreTx, as?: CarveOut): Promise<string> {
    input = readInput(input, "previewNextCidr", ALLOCATE);
    return this.read(outer, async (tx) => {
      const pool = await this.mustPool(tx, input.ipamPoolId);
      const found = await this.placement(tx, pool, await this.validateAllocation(pool, input, as));
      return formatCidr(pool.addressFamily, found.explicit!);
    });
  }

  /** What allocate() checks before it looks for space: the request against the pool's rules, its required tags included. Reads the pool only. */
  async checkAllocation(input: AllocateInput, outer?: StoreTx): Promise<void> {
    input = readInput(input, "allocate", ALLOCATE);
    checkClientToken(input.clientToken);
    return this.read(outer, async (tx) => {
      await this.validateAllocation(await this.mustPool(tx, input.ipamPoolId), input);
    });
  }

  async getAllocation(ipamPoolId: string, ipamPoolAllocationId: string, outer?: StoreTx): Promise<AllocationInfo> {
    ipamPoolId = requiredId(ipamPoolId, "ipamPoolId")!;
    ipamPoolAllocationId = requiredId(ipamPoolAllocationId, "ipamPoolAllocationId")!;
    return this.read(outer, async (tx) => {
      const pool = await this.mustPool(tx, ipamPoolId);
      const a = await tx.getAllocation(ipamPoolAllocationId);
      if (!a || a.ipamPoolId !== ipamPoolId) throw notFoundAllocation(ipamPoolId, ipamPoolAllocationId);
      return allocationInfo(pool, a);
    });
  }

  async listAllocations(ipamPoolId: string, outer?: StoreTx): Promise<AllocationInfo[]> {
    ipamPoolId = requiredId(ipamPoolId, "ipamPoolId")!;
    return this.read(outer, async (tx) => {
      const pool = await this.mustPool(tx, ipamPoolId);
      return (await tx.listAllocations(ipamPoolId)).map((a) => allocationInfo(pool, a));
    });
  }

  /** Releases a custom allocation; a nested pool's carve-out only with CARVE_OUT (the planner's scratch pools). */
  async release(input: ReleaseInput, outer?: StoreTx, as?: CarveOut): Promise<void> {
    input = readInput(input, "release", RELEASE);
    return this.run(outer, async (tx) => {
      await tx.lockPools([input.ipamPoolId]);
      const pool = await this.mustPool(tx, input.ipamPoolId);
      const a = await tx.getAllocation(input.ipamPoolAllocationId);
      if (!a || a.ipamPoolId !== pool.ipamPoolId) throw notFoundAllocation(input.ipamPoolId, input.ipamPoolAllocationId);
      // Compare values, not text: "2001:DB8::/64" and "2001:db8:0:0::/64" are the allocation 2001:db8::/64.
      const given = input.cidr === undefined ? undefined : parseCidr(pool.addressFamily, input.cidr);
      if (given && (given.start !== a.start || given.prefix !== a.prefix)) {
        throw new IpamError("InvalidParameterValue", `allocation ${a.ipamPoolAllocationId} holds ${formatCidr(pool.addressFamily, a)}, not ${input.cidr}; give its own cidr.`);
      }
      if ((a.resourceType === "ipam-pool" && as !== CARVE_OUT) || a.resourceType === "eip") {
        throw new IpamError("OperationDenied.ResourceTypeIsNotCustom", `allocation ${a.ipamPoolAllocationId} belongs to ${a.resourceType} ${a.resourceId}; ${a.resourceType === "eip" ? "release the Elastic IP" : "delete the nested pool"} instead.`);
      }
      if (input.dryRun) throw dryRunError();
      await this.freeAllocation(tx, pool, a.ipamPoolAllocationId);
    });
  }

  /** Updates what an allocation says about itself; its CIDR never changes in place. */
  async updateAllocation(input: { ipamPoolId: string; ipamPoolAllocationId: string; description?: string; resourceTags?: Tags }, outer?: StoreTx): Promise<AllocationInfo> {
    input = readInput(input, "updateAllocation", UPDATE_ALLOCATION);
    return this.run(outer, async (tx) => {
      await tx.lockPools([input.ipamPoolId]);
      const pool = await this.mustPool(tx, input.ipamPoolId);
      const a = await tx.getAllocation(input.ipamPoolAllocationId);
      if (!a || a.ipamPoolId !== pool.ipamPoolId) throw notFoundAllocation(input.ipamPoolId, input.ipamPoolAllocationId);
      const tags = checkTags(input.resourceTags, "resourceTags");
      if (a.resourceType !== "ipam-pool") checkRequiredTags(pool, tags);
      const next: AllocationRecord = { ...a, description: checkDescription(input.description) };
      if (Object.keys(tags).length) next.resourceTags = tags; else delete next.resourceTags;
      if (next.description === undefined) delete next.description;
      await tx.putAllocation(next);
      return allocationInfo(pool, next);
    });
  }

  /** An allocation by id alone (import), or undefined. */
  async findAllocation(ipamPoolAllocationId: string, outer?: StoreTx): Promise<AllocationInfo | undefined> {
    ipamPoolAllocationId = requiredId(ipamPoolAllocationId, "ipamPoolAllocationId")!;
    return this.read(outer, async (tx) => {
      const a = await tx.getAllocation(ipamPoolAllocationId);
      if (!a) return undefined;
      return allocationInfo(await this.mustPool(tx, a.ipamPoolId), a);
    });
  }

  /** The address allocateAddress would give now, skipping `excludedCidrs`. */
  async previewNextAddress(input: { ipamPoolId: string; address?: string; excludedCidrs?: string[] }, outer?: StoreTx): Promise<string> {
    input = readInput(input, "previewNextAddress", PREVIEW_ADDRESS);
    return this.read(outer, async (tx) => {
      const pool = await this.mustPool(tx, input.ipamPoolId);
      if (pool.addressFamily !== "ipv4") {
        throw new IpamError("InvalidParameterCombination", `pool ${pool.ipamPoolId} is ipv6; Elastic IP addresses come from ipv4 pools.`);
      }
      const explicit = input.address !== undefined ? { start: parseAddress("ipv4", input.address, "address"), prefix: 32 } : undefined;
      const excluded = (input.excludedCidrs ?? []).map((c) => parseCidr("ipv4", c, "excludedCidrs"));
      const found = await this.placement(tx, pool, { explicit, length: 32, what: "address", checkRules: false, excluded });
      return formatAddress("ipv4", found.explicit!.start);
    });
  }

  // ---- Elastic IP addresses ----

  async allocateAddress(input: AllocateAddressInput, outer?: StoreTx): Promise<AddressInfo> {
    input = readInput(input, "allocateAddress", ALLOCATE_ADDRESS);
    const token = checkClientToken(input.clientToken);
    const tags = checkTags(input.tags, "tags");
    const fp = token ? requestFingerprint(input) : "";
    return this.run(outer, async (tx) => {
      await tx.lockPools([input.ipamPoolId]);
      const pool = await this.mustPool(tx, input.ipamPoolId);
      if (pool.addressFamily !== "ipv4") {
        throw new IpamError("InvalidParameterCombination", `pool ${pool.ipamPoolId} is ipv6; Elastic IP addresses come from ipv4 pools.`);
      }
      const explicit = input.address !== undefined ? { start: parseAddress("ipv4", input.address, "address"), prefix: 32 } : undefined;
      if (token) {
        const prior = await this.replay(tx, `AllocateAddress:${token}`, fp, input.dryRun);
        if (prior) return prior as AddressInfo;
      }
      // Elastic IPs are single addresses: the pool's netmask rules govern CIDR allocations, not them.
      const found = await this.placement(tx, pool, { explicit, length: 32, what: "address", checkRules: false });
      if (input.dryRun) throw dryRunError();
      const allocationId = newAddressId();
      const rec = await this.commitAllocation(tx, found, { resourceId: allocationId, resourceType: "eip", resourceTags: tags });
      const address: AddressRecord = {
        allocationId, publicIp: formatAddress("ipv4", rec.start), ipamPoolId: pool.ipamPoolId,
        ipamPoolAllocationId: rec.ipamPoolAllocationId, tags,
      };
      await tx.putAddress(address);
      if (token) await tx.putToken({ key: `AllocateAddress:${token}`, fingerprint: fp, result: JSON.stringify(address) });
      return address;
    });
  }

  async getAddress(allocationId: string, outer?: StoreTx): Promise<AddressInfo> {
    allocationId = requiredId(allocationId, "allocationId")!;
    return this.read(outer, async (tx) => {
      const a = await tx.getAddress(allocationId);
      if (!a) throw notFoundAddress(allocationId);
      return a;
    });
  }

  async tagAddress(input: { allocationId: string; tags?: Tags }, outer?: StoreTx): Promise<AddressInfo> {
    input = readInput(input, "tagAddress", TAG_ADDRESS);
    const tags = checkTags(input.tags, "tags");
    return this.run(outer, async (tx) => {
      const a = await tx.getAddress(input.allocationId);
      if (!a) throw notFoundAddress(input.allocationId);
      const next = { ...a, tags };
      await tx.putAddress(next);
      return next;
    });
  }

  async releaseAddress(input: { allocationId: string; dryRun?: boolean }, outer?: StoreTx): Promise<void> {
    input = readInput(input, "releaseAddress", RELEASE_ADDRESS);
    return this.run(outer, async (tx) => {
      const a = await tx.getAddress(input.allocationId);
      if (!a) throw notFoundAddress(input.allocationId);
      await tx.lockPools([a.ipamPoolId]);
      // Read again under the pool's lock: a concurrent release may have won while this one waited for it.
      if (!(await tx.getAddress(input.allocationId))) throw notFoundAddress(input.allocationId);
      const pool = await this.mustPool(tx, a.ipamPoolId);
      if (input.dryRun) throw dryRunError();
      await this.freeAllocation(tx, pool, a.ipamPoolAllocationId);
      await tx.deleteAddress(a.allocationId);
    });
  }

  // ---- utilization ----

  async utilization(ipamPoolId: string, outer?: StoreTx): Promise<Utilization> {
    ipamPoolId = requiredId(ipamPoolId, "ipamPoolId")!;
    return this.read(outer, async (tx) => {
      const pool = await this.mustPool(tx, ipamPoolId);
      const bits = familyBits(pool.addressFamily);
      const free = (await tx.listFree(ipamPoolId)).sort((a, b) => (a.start < b.start ? -1 : 1));
      const total = pool.cidrs.reduce((s, c) => s + blockSize(bits, c.prefix), 0n);
      const freeCount = free.reduce((s, c) => s + blockSize(bits, c.prefix), 0n);
      return {
        ipamPoolId, total: total.toString(), allocated: (total - freeCount).toString(), free: freeCount.toString(),
        freeBlocks: free.map((b) => formatCidr(pool.addressFamily, b)),
      };
    });
  }

  // ---- internals ----

  private async mustPool(tx: StoreTx, id: string): Promise<PoolRecord> {
    const p = typeof id === "string" && id ? await tx.getPool(id) : undefined;
    if (!p) throw new IpamError("InvalidIpamPoolId.NotFound", `IPAM pool ${quote(id)} does not exist; check ipamPoolId.`);
    return p;
  }

  private async replay(tx: StoreTx, key: string, fp: string, dryRun?: boolean): Promise<unknown> {
    const t = await tx.getToken(key);
    if (!t) return undefined;
    if (t.fingerprint !== fp) throw mismatchError(key);
    // A dry run answers DryRunOperation when it would succeed (seeds 000-004), a remembered result included.
    if (dryRun) throw dryRunError();
    return JSON.parse(t.result);
  }

  /** Checks an allocation request against the seed's parameter rules and the pool's rules; no reads. */
  private async validateAllocation(pool: PoolRecord, input: AllocateInput, as?: CarveOut): Promise<Placement & PlacementRequest> {
    const fam = pool.addressFamily;
    if (input.cidr !== undefined && input.netmaskLength !== undefined) {
      throw new IpamError("InvalidParameterCombination", "give either cidr or netmaskLength, not both.");
    }
    const restricted = (input.allowedCidrs?.length ?? 0) + (input.disallowedCidrs?.length ?? 0) > 0;
    if (input.cidr !== undefined && restricted) {
      // Seed 002: an input CIDR within the excluded ranges is CidrInExcludeCidrs. Otherwise seed 000:
      // AllowedCidrs and DisallowedCidrs are "only allowed if using netmask length for allocation".
      const explicit = parseCidr(fam, input.cidr);
      const bits = familyBits(fam);
      const hit = (input.disallowedCidrs ?? []).find((c, i) => overlaps(bits, parseCidr(fam, c, `disallowedCidrs[${i}]`), explicit));
      if (hit !== undefined) {
        throw new IpamError("OperationDenied.CidrInExcludeCidrs", `cidr ${input.cidr} is within disallowedCidrs (${hit}); choose a CIDR outside them.`);
      }
      throw new IpamError("InvalidParameterCombination", "allowedCidrs and disallowedCidrs apply only to allocations by netmaskLength; remove them or give netmaskLength instead of cidr.");
    }
    checkDescription(input.description);
    const tags = checkTags(input.resourceTags, "resourceTags");
    if (as !== CARVE_OUT) checkRequiredTags(pool, tags);
    if (input.cidr !== undefined) {
      const explicit = parseCidr(fam, input.cidr);
      return { pool, explicit, length: explicit.prefix, what: "cidr", checkRules: true };
    }
    const length = checkNetmask(fam, input.netmaskLength, "netmaskLength", "IllegalParam.CidrMask") ?? pool.allocationDefaultNetmaskLength;
    if (length === undefined) {
      throw new IpamError("InvalidParameterCombination", `pool ${pool.ipamPoolId} has no allocationDefaultNetmaskLength; give cidr or netmaskLength.`);
    }
    const allowed = (input.allowedCidrs ?? []).map((c, i) => parseCidr(fam, c, `allowedCidrs[${i}]`));
    const disallowed = (input.disallowedCidrs ?? []).map((c, i) => parseCidr(fam, c, `disallowedCidrs[${i}]`));
    const excluded = (input.excludedCidrs ?? []).map((c, i) => parseCidr(fam, c, `excludedCidrs[${i}]`));
    return { pool, length, what: "netmaskLength", checkRules: true, allowed, disallowed, excluded };
  }

  /** Finds the block an allocation gets; throws the seed's code when there is none. Reads only. */
  private async placement(
    tx: StoreTx, pool: PoolRecord,
    req: PlacementRequest,
  ): Promise<Placement & { holder: Block }> {
    const fam = pool.addressFamily;
    const bits = familyBits(fam);
    const length = req.explicit?.prefix ?? req.length ?? pool.allocationDefaultNetmaskLength;
    if (length === undefined) throw new IpamError("InvalidParameterCombination", "give cidr or netmaskLength.");
    if (req.checkRules) checkWithinRules(pool, length, req.what);
    if (req.explicit) {
      const b = req.explicit;
      if (!rootOf(bits, pool, b)) {
        throw new IpamError("OperationDenied.CidrUnavailableInPool", `${formatCidr(fam, b)} is not inside any CIDR provisioned to pool ${pool.ipamPoolId} (${pool.cidrs.map((c) => formatCidr(fam, c)).join(", ") || "none"}); choose a CIDR inside them.`);
      }
      const holder = await freeContaining(tx, bits, pool, b);
      if (!holder) {
        throw new IpamError("OperationDenied.CidrUnavailableInPool", `${formatCidr(fam, b)} overlaps an existing allocation in pool ${pool.ipamPoolId}; choose a free CIDR or allocate by netmaskLength.`);
      }
      return { pool, explicit: b, length, holder };
    }
    let found: Block | undefined;
    const restricted = (req.allowed?.length ?? 0) + (req.disallowed?.length ?? 0) > 0;
    const excluded = req.excluded ?? [];
    if (!restricted && excluded.length === 0 && pool.allocationStrategy === "first-fit") {
      const fit = await findFirstFitAnywhere(tx, bits, pool, length);
      if (fit) return { pool, explicit: fit.found, length, holder: fit.holder };
    } else {
      const roots: Range[] = pool.cidrs.map((c) => blockRange(bits, c));
      const allowed = req.allowed?.length ? intersectRanges(roots, req.allowed.map((c) => blockRange(bits, c))) : roots;
      const userRanges = subtractRanges(allowed, (req.disallowed ?? []).map((c) => blockRange(bits, c)));
      if (restricted && userRanges.length === 0) {
        // Seed 002: no candidate left is "available CIDR is insufficient"; CidrInExcludeCidrs is for an input CIDR.
        throw new IpamError("OperationDenied.AvailableCidrInsufficient", `every address of pool ${pool.ipamPoolId} that allowedCidrs admits is in disallowedCidrs; narrow disallowedCidrs or widen allowedCidrs.`);
      }
      const ranges = subtractRanges(userRanges, excluded.map((c) => blockRange(bits, c)));
      found = await findFit(tx, bits, pool, length, searchRegions(bits, ranges), pool.allocationStrategy);
    }
    if (!found) {
      throw new IpamError("OperationDenied.AvailableCidrInsufficient", `pool ${pool.ipamPoolId} has no free /${length}${restricted ? " inside allowedCidrs and outside disallowedCidrs" : ""}; release allocations, provision more CIDRs, or ask for a longer netmaskLength.`);
    }
    const holder = await freeContaining(tx, bits, pool, found);
    if (!holder) throw new Error("internal: chosen block is not free");
    return { pool, explicit: found, length, holder };
  }

  private async commitAllocation(
    tx: StoreTx, place: Placement & { holder: Block },
    meta: { description?: string; resourceId?: string; resourceType: AllocationRecord["resourceType"]; resourceTags?: Tags },
  ): Promise<AllocationRecord> {
    const bits = familyBits(place.pool.addressFamily);
    const target = place.explicit!;
    await take(tx, bits, place.pool, place.holder, target);
    const rec: AllocationRecord = {
      ipamPoolAllocationId: newAllocationId(), ipamPoolId: place.pool.ipamPoolId, start: target.start, prefix: target.prefix,
      resourceType: meta.resourceType,
    };
    if (meta.description !== undefined) rec.description = meta.description;
    if (meta.resourceId !== undefined) rec.resourceId = meta.resourceId;
    if (meta.resourceTags && Object.keys(meta.resourceTags).length) rec.resourceTags = meta.resourceTags;
    await tx.putAllocation(rec);
    return rec;
  }

  private async freeAllocation(tx: StoreTx, pool: PoolRecord, id: string): Promise<void> {
    const a = await tx.getAllocation(id);
    if (!a) throw notFoundAllocation(pool.ipamPoolId, id);
    await give(tx, familyBits(pool.addressFamily), pool, a);
    await tx.deleteAllocation(id);
  }
}

function notFoundAllocation(poolId: string, id: string): IpamError {
  return new IpamError("InvalidIpamPoolAllocationId.NotFound", `allocation ${quote(id)} does not exist in pool ${quote(poolId)}; it may have been released already.`);
}

function notFoundAddress(id: string): IpamError {
  return new IpamError("InvalidAllocationID.NotFound", `Elastic IP allocation ${quote(id)} does not exist; it may have been released already.`);
}
