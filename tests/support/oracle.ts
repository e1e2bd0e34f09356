/**
 * A trivially correct model of the allocator for property tests (as netipx's
 * TestIPSetFuzz checks IPSet against a bitmap): every address of a small
 * universe is one entry of an array per pool, and each answer is found by
 * trying every aligned block in address order. It shares no code with
 * provider/core: addresses are parsed and written with ip-num.
 */
import { IPv4, IPv6 } from "ip-num";

export type Family = "ipv4" | "ipv6";
export type Strategy = "first-fit" | "best-fit";

/** A block as an offset from the universe's first address. */
export interface OBlock {
  off: number;
  prefix: number;
}

export interface Universe {
  family: Family;
  bits: number;
  base: bigint;
  prefix: number;
  /** Number of addresses; small enough for arrays. */
  size: number;
}

export function universe(family: Family, cidr: string): Universe {
  const [addr, p] = cidr.split("/");
  const bits = family === "ipv4" ? 32 : 128;
  const base = family === "ipv4" ? IPv4.fromString(addr).getValue() : IPv6.fromString(addr).getValue();
  return { family, bits, base, prefix: Number(p), size: 2 ** (bits - Number(p)) };
}

export const sizeOf = (u: Universe, prefix: number) => 2 ** (u.bits - prefix);

export function addressText(u: Universe, off: number): string {
  const v = u.base + BigInt(off);
  return u.family === "ipv4" ? new IPv4(v).toString() : new IPv6(v).toString();
}

export const cidrText = (u: Universe, b: OBlock) => `${addressText(u, b.off)}/${b.prefix}`;

/** An address or CIDR the allocator wrote, as an offset in the universe (throws when outside it). */
export function parseOut(u: Universe, text: string): OBlock {
  const [addr, p] = text.split("/");
  const v = u.family === "ipv4" ? IPv4.fromString(addr).getValue() : IPv6.fromString(addr).getValue();
  const off = v - u.base;
  if (off < 0n || off >= BigInt(u.size)) throw new Error(`${text} is outside the test universe`);
  return { off: Number(off), prefix: p === undefined ? u.bits : Number(p) };
}

/** Whether an address is written canonically: dotted decimal, or RFC 5952 (the WHATWG URL serializer's form). */
export function isCanonical(u: Universe, address: string): boolean {
  if (u.family === "ipv4") return new IPv4(IPv4.fromString(address).getValue()).toString() === address;
  return new URL(`http://[${address}]/`).hostname === `[${address}]`;
}

export interface Rules {
  min?: number;
  max?: number;
  def?: number;
}

export interface OPool {
  id: string;
  roots: OBlock[];
  rules: Rules;
  strategy: Strategy;
  /** used[i]: address i of the universe is allocated in this pool. */
  used: Uint8Array;
}

export interface OAlloc {
  id: string;
  poolId: string;
  block: OBlock;
  /** The allocation's resourceType: custom, eip (an Elastic IP), ipam-pool (a nested pool's carve-out). */
  kind: "custom" | "eip" | "ipam-pool";
  /** Elastic IP: its allocationId. Carve-out: the nested pool's id. */
  owner?: string;
}

export type Outcome = { block: OBlock } | { code: string };

export class Oracle {
  readonly pools = new Map<string, OPool>();
  readonly allocs = new Map<string, OAlloc>();

  constructor(readonly u: Universe) {}

  addPool(id: string, roots: OBlock[], rules: Rules, strategy: Strategy): OPool {
    const pool = { id, roots, rules, strategy, used: new Uint8Array(this.u.size) };
    this.pools.set(id, pool);
    return pool;
  }

  size(prefix: number): number {
    return sizeOf(this.u, prefix);
  }

  /** The provisioned CIDR wholly holding b, if any. */
  rootOf(pool: OPool, b: OBlock): OBlock | undefined {
    return pool.roots.find((r) => r.prefix <= b.prefix && b.off >= r.off && b.off + this.size(b.prefix) <= r.off + this.size(r.prefix));
  }

  isFree(pool: OPool, b: OBlock): boolean {
    for (let i = b.off; i < b.off + this.size(b.prefix); i++) if (pool.used[i]) return false;
    return true;
  }

  mark(pool: OPool, b: OBlock, v: 0 | 1): void {
    for (let i = b.off; i < b.off + this.size(b.prefix); i++) pool.used[i] = v;
  }

  private inRoots(pool: OPool, i: number): boolean {
    return pool.roots.some((r) => i >= r.off && i < r.off + this.size(r.prefix));
  }

  private inAny(blocks: OBlock[], i: number): boolean {
    return blocks.some((b) => i >= b.off && i < b.off + this.size(b.prefix));
  }

  /** Every address of b is allowed (when any are given) and none is disallowed. */
  private admissible(b: OBlock, allowed: OBlock[], disallowed: OBlock[]): boolean {
    for (let i = b.off; i < b.off + this.size(b.prefix); i++) {
      if (allowed.length && !this.inAny(allowed, i)) return false;
      if (this.inAny(disallowed, i)) return false;
    }
    return true;
  }

  /** The prefix of the largest free aligned block inside b's provisioned CIDR that holds b. */
  private holderPrefix(pool: OPool, b: OBlock): number {
    const root = this.rootOf(pool, b)!;
    let p = b.prefix;
    while (p - 1 >= root.prefix) {
      const s = this.size(p - 1);
      const up = { off: Math.floor(b.off / s) * s, prefix: p - 1 };
      if (!this.isFree(pool, up)) break;
      p--;
    }
    return p;
  }

  private checkRules(pool: OPool, length: number): string | undefined {
    const { min = 0, max = this.u.bits } = pool.rules;
    return length < min || length > max ? "IllegalParam.CidrMask" : undefined;
  }

  /**
   * What an allocation by netmask length gives: the lowest aligned free block
   * (first fit) or the one in the smallest free block (best fit), inside
   * allowed and outside disallowed; or the error code, checked in the seed's order.
   */
  fit(pool: OPool, length: number | undefined, allowed: OBlock[] = [], disallowed: OBlock[] = [], checkRules = true): Outcome {
    const bad = this.precheck(pool, length);
    if (bad) return { code: bad };
    const len = (length ?? pool.rules.def)!;
    const broken = checkRules ? this.checkRules(pool, len) : undefined;
    if (broken) return { code: broken };
    if (allowed.length + disallowed.length > 0) {
      let any = false;
      for (let i = 0; i < this.u.size && !any; i++) {
        any = this.inRoots(pool, i) && (!allowed.length || this.inAny(allowed, i)) && !this.inAny(disallowed, i);
      }
      // Seed 002: no candidate left is "available CIDR is insufficient" (CidrInExcludeCidrs is for an input CIDR).
      if (!any) return { code: "OperationDenied.AvailableCidrInsufficient" };
    }
    const step = this.size(len);
    let best: { block: OBlock; holder: number } | undefined;
    for (let off = 0; off < this.u.size; off += step) {
      const b = { off, prefix: len };
      if (!this.rootOf(pool, b) || !this.isFree(pool, b) || !this.admissible(b, allowed, disallowed)) continue;
      if (pool.strategy === "first-fit") return { block: b };
      const holder = this.holderPrefix(pool, b);
      if (!best || holder > best.holder) best = { block: b, holder };
    }
    return best ? { block: best.block } : { code: "OperationDenied.AvailableCidrInsufficient" };
  }

  /** The errors a netmask request has whatever the pool holds (checked before a ClientToken is looked up). */
  precheck(pool: OPool, length: number | undefined): string | undefined {
    if (length !== undefined && (!Number.isInteger(length) || length < 0 || length > this.u.bits)) return "IllegalParam.CidrMask";
    if ((length ?? pool.rules.def) === undefined) return "InvalidParameterCombination";
    return undefined;
  }

  /** What an allocation of an explicit, aligned CIDR gives. */
  explicit(pool: OPool, b: OBlock, checkRules = true): Outcome {
    const broken = checkRules ? this.checkRules(pool, b.prefix) : undefined;
    if (broken) return { code: broken };
    if (!this.rootOf(pool, b) || !this.isFree(pool, b)) return { code: "OperationDenied.CidrUnavailableInPool" };
    return { block: b };
  }

  allocate(pool: OPool, id: string, block: OBlock, kind: OAlloc["kind"], owner?: string): OAlloc {
    const a = { id, poolId: pool.id, block, kind, owner };
    this.mark(pool, block, 1);
    this.allocs.set(id, a);
    return a;
  }

  release(id: string): void {
    const a = this.allocs.get(id)!;
    this.mark(this.pools.get(a.poolId)!, a.block, 0);
    this.allocs.delete(id);
  }

  allocationsOf(poolId: string): OAlloc[] {
    return [...this.allocs.values()].filter((a) => a.poolId === poolId);
  }

  /** The free space as maximal aligned blocks inside each provisioned CIDR, ascending. */
  freeBlocks(pool: OPool): OBlock[] {
    const out: OBlock[] = [];
    const walk = (b: OBlock) => {
      if (this.isFree(pool, b)) out.push(b);
      else if (b.prefix < this.u.bits && [...Array(this.size(b.prefix)).keys()].some((k) => !pool.used[b.off + k])) {
        walk({ off: b.off, prefix: b.prefix + 1 });
        walk({ off: b.off + this.size(b.prefix + 1), prefix: b.prefix + 1 });
      }
    };
    for (const r of [...pool.roots].sort((a, b) => a.off - b.off)) walk(r);
    return out;
  }

  total(pool: OPool): number {
    return pool.roots.reduce((s, r) => s + this.size(r.prefix), 0);
  }

  allocated(pool: OPool): number {
    return pool.used.reduce((s, v) => s + v, 0);
  }
}
