/**
 * IPAM scopes: the address space top-level pools share. As in AWS ("scopes
 * enable you to reuse IP addresses across multiple unconnected networks",
 * seed 001) and Alibaba (AddIpamPoolCidr: a pool's CIDR "cannot conflict
 * with the CIDR blocks provisioned for other pools that have the same
 * applicable scope"), the top-level pools of one scope never overlap, and
 * pools of different scopes may. A nested pool is in its source's scope.
 *
 * Scopes exist implicitly by id: a store needs no CreateIpamScope, and a pool
 * created with a new `ipamScopeId` starts that scope. Pools given none are in
 * DEFAULT_SCOPE_ID, every store's private default scope.
 */
import { AddressFamily, Block, familyBits, familyOf, formatCidr, overlaps, parseCidr } from "./cidr";
import { IpamError } from "./errors";
import type { PoolRecord } from "./model";

/** The scope of every pool created without ipamScopeId (and of pools stored before scopes existed). */
export const DEFAULT_SCOPE_ID = "ipam-scope-default";

/** Seed 001/003 ids are `ipam-scope-` and lowercase letters and digits (AWS: 17 hex digits; Alibaba: alphanumeric). */
const SCOPE_ID = /^ipam-scope-[0-9a-z]{1,64}$/;

export function checkScopeId(v: unknown): string | undefined {
  if (v === undefined || v === null || v === "") return undefined;
  if (typeof v !== "string" || !SCOPE_ID.test(v)) {
    throw new IpamError("InvalidParameterValue", `ipamScopeId ${JSON.stringify(v)} is not a scope id (ipam-scope- and 1 to 64 lowercase letters or digits).`);
  }
  return v;
}

export const scopeOf = (p: { ipamScopeId?: string }): string => p.ipamScopeId ?? DEFAULT_SCOPE_ID;

/**
 * A nested pool's scope: its source's. A given ipamScopeId must be that one
 * (Alibaba's CreateIpamPool code for it, seed 003).
 */
export function inheritScope(given: string | undefined, sourceId: string, sourceScope: string | undefined): string | undefined {
  if (given !== undefined && sourceScope !== undefined && given !== sourceScope) {
    throw new IpamError("Mismatch.IpamScopeAndSourceIpamPool", `source pool ${sourceId} is in scope ${sourceScope}, not ${given}; a nested pool is in its source's scope: leave ipamScopeId out or give ${sourceScope}.`);
  }
  return sourceScope ?? given;
}

/** A CIDR already held in the scope by another top-level pool (created, or planned by another resource). */
export interface ScopeHolder {
  /** What holds it, for the message: a pool id or a planned resource's key. */
  holder: string;
  cidr: string;
}

/** The top-level pools' CIDRs of a scope, as ScopeHolders, but those of `except` (the pool itself, or the one it replaces). */
export function topLevelCidrs(pools: PoolRecord[], scope: string, ...except: (string | undefined)[]): ScopeHolder[] {
  return pools
    .filter((p) => !p.sourceIpamPoolId && scopeOf(p) === scope && !except.includes(p.ipamPoolId))
    .flatMap((p) => p.cidrs.map((c) => ({ holder: `pool ${p.ipamPoolId}`, cidr: formatCidr(p.addressFamily, c) })));
}

/**
 * Fails when `block` overlaps a CIDR another top-level pool holds in the
 * scope. The seeds name no code for this; the project's Alibaba contract
 * (docs/alicloud-contract.md, AddIpamPoolCidr) answers a top-level CIDR
 * overlapping another top pool of the scope with seed 002's
 * OperationDenied.CidrUnavailableInPool, and so does the local allocator.
 */
export function checkScopeFree(family: AddressFamily, block: Block, scope: string, held: ScopeHolder[], what: string): void {
  const bits = familyBits(family);
  for (const h of held) {
    // A scope holds both families; only the same family can overlap.
    if (familyOf(h.cidr) !== family) continue;
    if (overlaps(bits, block, parseCidr(family, h.cidr))) {
      throw new IpamError("OperationDenied.CidrUnavailableInPool", `${what} ${formatCidr(family, block)} overlaps ${h.cidr} of ${h.holder} in scope ${scope}; top-level pools of one scope never overlap: choose a CIDR outside it, carve this pool from that one (sourceIpamPoolId), or give another ipamScopeId.`);
    }
  }
}
