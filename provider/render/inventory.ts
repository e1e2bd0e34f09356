/**
 * What the command line tool shows, as plain data: the pools a backend
 * holds, their allocations and the plan reservations in the store, and the
 * numbers derived from them (the pool tree, utilization, free blocks, how
 * many /N still fit). Pure functions over that data, so every renderer and
 * every backend (local store, AWS, Alibaba) share one computation.
 *
 * Free space is computed from each pool's provisioned CIDRs minus its
 * allocations (a nested pool's CIDRs are allocations of type ipam-pool in
 * its source), not read from the local store's free table, so the cloud
 * backends get the same numbers from what their APIs list.
 */
import {
  AddressFamily, Block, blockEnd, blockRange, blockSize, familyBits, familyOf, formatCidr, parseAddress, parseCidr, rangeToBlocks,
  subtractRanges,
} from "../core/cidr";
import { IpamError } from "../core/errors";
import { quote } from "../core/quote";
import type { AllocationRecord } from "../core/model";
import type { AllocationInfo, PoolInfo } from "../core/types";

/** A plan reservation as the tools show it (provider/core/plan.ts keeps them). */
export interface PlanView {
  /** The resource's plan key: its URN. */
  key: string;
  /** The resource's name (the URN's last part). */
  name: string;
  kind: "pool" | "allocation" | "address";
  /** Allocation/address: the pool it takes from. Pool: the pool's own id. */
  ipamPoolId: string;
  /** The pool (or, for a top-level pool, the scope) whose space it holds. */
  spacePoolId?: string;
  cidrs: string[];
  /** held: the resource exists; committing: being created through a cloud API; planned: a live plan; expired: steers nothing. */
  state: "held" | "committing" | "planned" | "expired";
  /** Epoch ms; 0 when held. */
  expiresAt: number;
  /** What an earlier plan promised, when it could not be kept. */
  replaced?: string[];
}

export interface Inventory {
  /** local, aws or alicloud. */
  backend: string;
  /** The store's URL, passwords hidden; undefined when none was read. */
  store?: string;
  pools: PoolInfo[];
  /**
   * Allocations by pool id: as a backend lists them (a CIDR string), or the local store's records
   * as they are (start and prefix, no CIDR text): 100k allocations are neither copied nor parsed.
   */
  allocations: Record<string, (AllocationInfo | AllocationRecord)[]>;
  plans: PlanView[];
  /** Epoch ms the inventory was read at (plan expiry is judged against it). */
  now: number;
}

export interface Usage {
  total: bigint;
  allocated: bigint;
  free: bigint;
  /** Maximal aligned free blocks, ascending. */
  freeBlocks: Block[];
  /** allocated / total in percent, two decimals (0 for an empty pool). */
  percent: number;
}

export interface AllocationView extends AllocationInfo {
  block: Block;
  size: bigint;
  /** The resource's name, from its plan reservation (or the nested pool's name for a carve-out). */
  name?: string;
  key?: string;
  /** Whom the map colours it for: tag owner, else the resource name, else resourceId, description, id. */
  owner: string;
  /** A carve-out holding the nested pool with this id. */
  childPoolId?: string;
}

export interface PoolNode {
  pool: PoolInfo;
  family: AddressFamily;
  bits: number;
  /** The resource name from the pool's plan reservation, else its Name tag, else its id. */
  name: string;
  key?: string;
  roots: Block[];
  usage: Usage;
  /** Every allocation of the pool, carve-outs of nested pools included, ascending by address. */
  allocations: AllocationView[];
  children: PoolNode[];
  parent?: PoolNode;
  /** Live plans (not yet created) taking space in this pool. */
  plans: PlanView[];
}

export const planName = (key: string): string => key.split("::").pop() ?? key;
/** The stack of a URN key (urn:pulumi:<stack>::<project>::...). */
export const planStack = (key: string): string | undefined => /^urn:pulumi:([^:]+)::/.exec(key)?.[1];

export function canonCidr(cidr: string): string {
  const fam = familyOf(cidr);
  return formatCidr(fam, parseCidr(fam, cidr));
}

const byStart = (a: Block, b: Block) => (a.start < b.start ? -1 : a.start > b.start ? 1 : a.prefix - b.prefix);

/** Utilization of provisioned `roots` minus `used` blocks (overlaps and blocks outside the roots count once / not at all). */
export function usageOf(bits: number, roots: Block[], used: Block[]): Usage {
  const total = roots.reduce((s, c) => s + blockSize(bits, c.prefix), 0n);
  // One sweep over both in address order (no range per allocation: a pool may hold 100k of them).
  const sortedRoots = [...roots].sort(byStart);
  let sorted = true;
  for (let i = 1; i < used.length && sorted; i++) sorted = used[i - 1].start <= used[i].start;
  const blocks = sorted ? used : [...used].sort(byStart);
  const freeBlocks: Block[] = [];
  let j = 0;
  for (const r of sortedRoots) {
    const [rs, re] = blockRange(bits, r);
    while (j < blocks.length && blockEnd(bits, blocks[j]) < rs) j++;
    let cursor = rs;
    for (let k = j; k < blocks.length && blocks[k].start <= re && cursor <= re; k++) {
      const b = blocks[k];
      if (b.start > cursor) freeBlocks.push(...rangeToBlocks(bits, cursor, b.start - 1n));
      const end = blockEnd(bits, b);
      if (end + 1n > cursor) cursor = end + 1n;
    }
    if (cursor <= re) freeBlocks.push(...rangeToBlocks(bits, cursor, re));
  }
  const free = freeBlocks.reduce((s, b) => s + blockSize(bits, b.prefix), 0n);
  return { total, allocated: total - free, free, freeBlocks, percent: percentOf(total - free, total) };
}

export function percentOf(part: bigint, whole: bigint): number {
  return whole === 0n ? 0 : Number((part * 10000n + whole / 2n) / whole) / 100;
}

/** How many aligned /n fit in the free blocks: each lies inside exactly one maximal free block of prefix <= n. */
export function fitCount(freeBlocks: Block[], n: number): bigint {
  let count = 0n;
  for (const b of freeBlocks) if (b.prefix <= n) count += 1n << BigInt(n - b.prefix);
  return count;
}

/** Blocks of `free` that live plans do not hold. */
export function outsidePlans(bits: number, free: Block[], planned: Block[]): Block[] {
  const ranges = subtractRanges(free.map((b) => blockRange(bits, b)), planned.map((b) => blockRange(bits, b)));
  return ranges.flatMap(([f, t]) => rangeToBlocks(bits, f, t)).sort(byStart);
}

function firstStart(p: PoolInfo): bigint {
  if (!p.cidrs.length) return -1n;
  const fam = familyOf(p.cidrs[0]);
  return parseCidr(fam, p.cidrs[0]).start;
}

const sameBlock = (a: Block, b: Block) => a.start === b.start && a.prefix === b.prefix;

/**
 * The pool tree: top-level pools (and pools whose source is not listed)
 * as roots, IPv4 before IPv6, each level by first address. Names come from
 * the plan reservations: a pool's reservation (kind pool) is keyed by the
 * resource's URN and holds the pool's id.
 */
export function poolTree(inv: Inventory): PoolNode[] {
  const byId = new Map<string, PoolNode>();
  const poolPlans = new Map<string, PlanView>();
  for (const r of inv.plans) {
    if (r.kind !== "pool") continue;
    const prior = poolPlans.get(r.ipamPoolId);
    // A held reservation names the pool that exists; a live plan of the same id only if none is held.
    if (!prior || (prior.state !== "held" && r.state === "held")) poolPlans.set(r.ipamPoolId, r);
  }
  for (const pool of inv.pools) {
    const family: AddressFamily = pool.addressFamily === "ipv6" ? "ipv6" : "ipv4";
    const bits = familyBits(family);
    const roots = pool.cidrs.map((c) => parseCidr(family, c)).sort(byStart);
    const plan = poolPlans.get(pool.ipamPoolId);
    byId.set(pool.ipamPoolId, {
      pool, family, bits, roots, name: plan?.name ?? pool.tags?.Name ?? pool.ipamPoolId, key: plan?.key,
      usage: usageOf(bits, roots, []), allocations: [], children: [], plans: [],
    });
  }
  // Allocation names: the held reservation whose pool and CIDR match.
  const allocPlans = new Map<string, PlanView>();
  for (const r of inv.plans) {
    if (r.kind === "pool" || !r.cidrs.length) continue;
    const k = `${r.ipamPoolId} ${safeCanon(r.cidrs[0])}`;
    const prior = allocPlans.get(k);
    if (!prior || (prior.state !== "held" && r.state !== "planned")) allocPlans.set(k, r);
  }
  const nested = (node: PoolNode) => inv.pools.filter((p) => p.sourceIpamPoolId === node.pool.ipamPoolId).map((p) => byId.get(p.ipamPoolId)!);
  for (const node of byId.values()) {
    const list = [...(inv.allocations[node.pool.ipamPoolId] ?? [])];
    // A nested pool's CIDRs are allocations of its source; where a backend does not list them, they are added.
    for (const child of nested(node)) {
      for (const r of child.roots) {
        const listed = list.some((a) => { const b = "start" in a ? a : safeBlock(node.family, a.cidr); return b && sameBlock(b, r); });
        if (!listed) list.push({ ipamPoolAllocationId: `(${child.pool.ipamPoolId})`, ipamPoolId: node.pool.ipamPoolId, cidr: formatCidr(node.family, r), resourceType: "ipam-pool", resourceId: child.pool.ipamPoolId });
      }
    }
    const sizes = new Map<number, bigint>();
    const sizeOf = (prefix: number) => { let s = sizes.get(prefix); if (s === undefined) sizes.set(prefix, (s = blockSize(node.bits, prefix))); return s; };
    node.allocations = list.map((a): AllocationView => {
      const record = "start" in a ? a : undefined;
      const block: Block = record ?? parseCidr(node.family, (a as AllocationInfo).cidr);
      const cidr = formatCidr(node.family, block);
      const child = a.resourceType !== "ipam-pool" ? undefined
        : (a.resourceId ? byId.get(a.resourceId) : undefined) ?? nested(node).find((c) => c.roots.some((r) => sameBlock(r, block)));
      const plan = allocPlans.size ? allocPlans.get(`${node.pool.ipamPoolId} ${cidr}`) : undefined;
      const held = plan && plan.state !== "planned" && plan.state !== "expired" ? plan : undefined;
      const name = child?.name ?? held?.name;
      // One shape for every view (no spread): 100k allocations stay compact.
      return {
        ipamPoolAllocationId: a.ipamPoolAllocationId, ipamPoolId: a.ipamPoolId, cidr, description: a.description, resourceId: a.resourceId,
        resourceType: a.resourceType, resourceTags: a.resourceTags, block, size: sizeOf(block.prefix), name, key: child?.key ?? held?.key,
        owner: a.resourceTags?.owner ?? name ?? a.resourceId ?? a.description ?? a.ipamPoolAllocationId, childPoolId: child?.pool.ipamPoolId,
      };
    }).sort((x, y) => byStart(x.block, y.block));
    node.usage = usageOf(node.bits, node.roots, node.allocations.map((a) => a.block));
    const live = inv.plans.filter((r) => r.state === "planned" && r.expiresAt > inv.now && (r.spacePoolId ?? r.ipamPoolId) === node.pool.ipamPoolId
      && !(r.kind === "pool" && byId.has(r.ipamPoolId)));
    const taken = live.length ? new Set(node.allocations.map((a) => a.cidr)) : undefined;
    node.plans = live.filter((r) => !r.cidrs.some((c) => taken!.has(safeCanon(c))));
  }
  const roots: PoolNode[] = [];
  for (const node of byId.values()) {
    const parent = node.pool.sourceIpamPoolId ? byId.get(node.pool.sourceIpamPoolId) : undefined;
    if (parent) { node.parent = parent; parent.children.push(node); } else roots.push(node);
  }
  const order = (a: PoolNode, b: PoolNode) => {
    if (a.family !== b.family) return a.family === "ipv4" ? -1 : 1;
    const x = firstStart(a.pool), y = firstStart(b.pool);
    return x < y ? -1 : x > y ? 1 : a.name.localeCompare(b.name);
  };
  const sortAll = (nodes: PoolNode[]) => { nodes.sort(order); for (const n of nodes) sortAll(n.children); };
  sortAll(roots);
  return roots;
}

/** IPv4 as the planner writes it (no leading zeros) is canonical already: skips a parse per plan of a large store. */
const CANONICAL_V4 = /^(?:(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.){3}(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\/(?:3[0-2]|[12]?\d)$/;

function safeCanon(cidr: string): string {
  if (CANONICAL_V4.test(cidr)) return cidr;
  try { return canonCidr(cidr); } catch { return cidr; }
}

function safeBlock(family: AddressFamily, cidr: string): Block | undefined {
  try { return parseCidr(family, cidr); } catch { return undefined; }
}

/** Every node of the tree, depth first, parents before children. */
export function flatten(roots: PoolNode[]): PoolNode[] {
  const out: PoolNode[] = [];
  const walk = (n: PoolNode) => { out.push(n); n.children.forEach(walk); };
  roots.forEach(walk);
  return out;
}

/** The path from the root down to the node. */
export function pathOf(node: PoolNode): PoolNode[] {
  const out: PoolNode[] = [];
  for (let n: PoolNode | undefined = node; n; n = n.parent) out.unshift(n);
  return out;
}

/**
 * The pool a command names: its id, its resource name (from the plan
 * reservations; with `stack`, that stack's resource first), its plan key
 * (URN), or one of its CIDRs. Unknown: InvalidIpamPoolId.NotFound listing
 * the names there are; a name two stacks use: InvalidParameterValue listing
 * the URNs to choose from.
 */
export function findPool(roots: PoolNode[], query: string, stack?: string): PoolNode {
  const all = flatten(roots);
  const exact = all.find((n) => n.pool.ipamPoolId === query || n.key === query);
  if (exact) return exact;
  let named = all.filter((n) => n.name === query);
  if (named.length > 1 && stack) {
    const mine = named.filter((n) => n.key && planStack(n.key) === stack);
    if (mine.length) named = mine;
  }
  if (named.length === 1) return named[0];
  if (named.length > 1) {
    throw new IpamError("InvalidParameterValue", `${named.length} pools are named ${quote(query)}: ${named.map((n) => n.key ?? n.pool.ipamPoolId).join(", ")}; give a pool id, a URN, or --stack.`);
  }
  if (query.includes("/")) {
    const fam = familyOf(query);
    const b = parseCidr(fam, query);
    const holder = all.filter((n) => n.family === fam && n.roots.some((r) => sameBlock(r, b)));
    if (holder.length) return holder[holder.length - 1];
  }
  const names = all.map((n) => n.name).slice(0, 12).join(", ");
  throw new IpamError("InvalidIpamPoolId.NotFound", `no pool has the id, name, URN or CIDR ${quote(query)}${all.length ? `; the pools are ${names}${all.length > 12 ? ", ..." : ""}` : "; the store holds no pools"}.`);
}

/** What an address, CIDR, id or name belongs to (the `show` command). */
export interface Located {
  query: string;
  /** The block asked about, when the query was an address or a CIDR. */
  block?: Block;
  family?: AddressFamily;
  /** Pools whose CIDRs overlap it (deepest last), or the pool asked for. */
  pools: { node: PoolNode; contains: boolean }[];
  /** Allocations overlapping it, or the allocation asked for. */
  allocations: { node: PoolNode; allocation: AllocationView; contains: boolean }[];
  /** Plan reservations (of any state) overlapping it, or named so. */
  plans: PlanView[];
}

const ADDRESSISH = /^[0-9.]+(\/\d*)?$|:/;

/**
 * Plans that say more than the pools and allocations shown: a live or expired plan, or a held one
 * whose pool or allocation is missing (a pool's held plan is the pool line; an allocation's, its line).
 */
function unrepresented(plans: PlanView[], all: PoolNode[]): PlanView[] {
  const pools = new Set(all.map((n) => n.pool.ipamPoolId));
  const held = plans.filter((r) => r.state !== "planned" && r.state !== "expired" && r.kind !== "pool");
  const allocated = held.length ? new Set(all.flatMap((n) => n.allocations.map((a) => `${n.pool.ipamPoolId} ${a.cidr}`))) : new Set<string>();
  return plans.filter((r) => {
    if (r.state === "planned" || r.state === "expired") return true;
    if (r.kind === "pool") return !pools.has(r.ipamPoolId);
    return !r.cidrs.some((c) => allocated.has(`${r.ipamPoolId} ${safeCanon(c)}`));
  });
}

export function locate(roots: PoolNode[], plans: PlanView[], query: string): Located {
  const all = flatten(roots);
  const out: Located = { query, pools: [], allocations: [], plans: [] };
  if (/^ipam-pool-alloc-/.test(query) || /^eipalloc-/.test(query)) {
    for (const node of all) {
      for (const a of node.allocations) {
        if (a.ipamPoolAllocationId === query || (a.resourceType === "eip" && a.resourceId === query)) out.allocations.push({ node, allocation: a, contains: true });
      }
    }
    if (!out.allocations.length) {
      const code = query.startsWith("eipalloc-") ? "InvalidAllocationID.NotFound" : "InvalidIpamPoolAllocationId.NotFound";
      throw new IpamError(code, `no pool holds an allocation with the id ${quote(query)}.`);
    }
    const a = out.allocations[0];
    out.pools = pathOf(a.node).map((node) => ({ node, contains: true }));
    out.plans = unrepresented(plans.filter((r) => r.ipamPoolId === a.node.pool.ipamPoolId && r.cidrs.some((c) => safeCanon(c) === a.allocation.cidr)), all);
    return out;
  }
  if (/^ipam-pool-[0-9a-z]+$/.test(query) && !all.some((n) => n.name === query)) {
    const node = all.find((n) => n.pool.ipamPoolId === query);
    const planned = plans.filter((r) => r.kind === "pool" && r.ipamPoolId === query);
    if (!node && !planned.length) throw new IpamError("InvalidIpamPoolId.NotFound", `no pool and no plan has the id ${quote(query)}.`);
    if (node) out.pools = pathOf(node).map((n) => ({ node: n, contains: true }));
    out.plans = node ? unrepresented(planned, all) : planned;
    return out;
  }
  if (ADDRESSISH.test(query)) {
    const family = familyOf(query);
    const block = query.includes("/") ? parseCidr(family, query) : { start: parseAddress(family, query, "address"), prefix: familyBits(family) };
    const bits = familyBits(family);
    out.block = block;
    out.family = family;
    const [f, t] = blockRange(bits, block);
    const overlap = (b: Block) => { const [bf, bt] = blockRange(bits, b); return bf <= t && f <= bt; };
    const within = (outer: Block) => { const [of, ot] = blockRange(bits, outer); return of <= f && t <= ot; };
    for (const node of all) {
      if (node.family !== family) continue;
      const hit = node.roots.filter(overlap);
      if (!hit.length) continue;
      out.pools.push({ node, contains: hit.some(within) });
      for (const a of node.allocations) {
        // A nested pool's carve-out is shown as that pool, not again as an allocation.
        if (a.childPoolId && all.some((n) => n.pool.ipamPoolId === a.childPoolId)) continue;
        if (overlap(a.block)) out.allocations.push({ node, allocation: a, contains: within(a.block) });
      }
    }
    out.plans = unrepresented(plans.filter((r) => r.cidrs.some((c) => { const b = safeBlock(family, c); return b !== undefined && familyOf(c) === family && overlap(b); })), all);
    return out;
  }
  for (const node of all) {
    if (node.name === query || node.key === query) out.pools.push(...pathOf(node).filter((n) => !out.pools.some((p) => p.node === n)).map((n) => ({ node: n, contains: true })));
    for (const a of node.allocations) {
      if (!a.childPoolId && (a.name === query || a.key === query)) out.allocations.push({ node, allocation: a, contains: true });
    }
  }
  out.plans = unrepresented(plans.filter((r) => r.name === query || r.key === query), all);
  if (!out.pools.length && !out.allocations.length && !plans.some((r) => r.name === query || r.key === query)) {
    throw new IpamError("InvalidParameterValue", `nothing is named ${quote(query)}: give an address, a CIDR, a pool or allocation id, or a resource name.`);
  }
  return out;
}
