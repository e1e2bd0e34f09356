/** Records the allocator keeps. Stores persist them as they are; only the core interprets them. */
import type { AddressFamily, Block } from "./cidr";

export type Tags = Record<string, string>;

/** lowest-address aligned first fit (default), or best fit (smallest free block that fits, as go-ipam). */
export type AllocationStrategy = "first-fit" | "best-fit";

export interface PoolRecord {
  ipamPoolId: string;
  addressFamily: AddressFamily;
  sourceIpamPoolId?: string;
  /** The scope (scopes.ts): given or the default for a top-level pool, the source's for a nested one. Absent in pools stored before scopes: the default. */
  ipamScopeId?: string;
  /** 1 for a top-level pool, source depth + 1 for a nested one. */
  poolDepth: number;
  locale?: string;
  description?: string;
  tags: Tags;
  allocationMinNetmaskLength?: number;
  allocationMaxNetmaskLength?: number;
  allocationDefaultNetmaskLength?: number;
  allocationResourceTags: Tags;
  allocationStrategy: AllocationStrategy;
  /** Provisioned CIDRs, sorted by start. For a nested pool, each is an allocation in the source pool. */
  cidrs: Block[];
  /** For a nested pool: the allocation ids in the source pool, parallel to `cidrs`. */
  sourceAllocationIds: string[];
}

export type ResourceType = "ipam-pool" | "vpc" | "subnet" | "eip" | "custom" | "ec2-public-ipv4-pool";

export interface AllocationRecord {
  ipamPoolAllocationId: string;
  ipamPoolId: string;
  start: bigint;
  prefix: number;
  description?: string;
  resourceId?: string;
  resourceType: ResourceType;
  resourceTags?: Tags;
}

export interface AddressRecord {
  allocationId: string;
  publicIp: string;
  ipamPoolId: string;
  ipamPoolAllocationId: string;
  tags?: Tags;
}

/** What a ClientToken was first used for, and what it returned. */
export interface TokenRecord {
  key: string;
  fingerprint: string;
  result: string;
}

/**
 * A plan reservation: what `check()` promised one resource (by a key
 * deterministic per resource), so that a later process (the update after a
 * preview, or a re-run after a crash) gives it the same CIDR and ClientToken.
 */
/** Key, CIDRs and expiry of a reservation, without its JSON body. */
export type ReservationHold = Pick<ReservationRecord, "key" | "cidrs" | "expiresAt">;

/**
 * A segment of a space's index of reserved blocks (core/reserved.ts): the
 * addresses start..last (inclusive) are inside exactly `count` live planned
 * reservations. Segments are disjoint; neighbours that touch have different counts.
 */
export interface ReservedSegment {
  start: bigint;
  last: bigint;
  count: number;
}

export interface ReservationRecord {
  key: string;
  kind: "pool" | "allocation" | "address";
  /** Random per incarnation of the resource; with the key it makes the ClientToken. */
  nonce: string;
  /** Allocation/address: the pool it takes from. Pool: the pool's own planned id. */
  ipamPoolId: string;
  /** The pool whose space this holds: ipamPoolId, or for a nested pool its source; for a top-level pool its scope's id. */
  spacePoolId?: string;
  /** The planned CIDRs (an address is a /32). */
  cidrs: string[];
  /** Fingerprint of the request that was planned; another request plans anew. */
  request: string;
  /** For a pool: everything needed to plan inside it before it exists (a PoolInfo). */
  pool?: string;
  /** A commit through a cloud API may have reached it: a re-run repeats it with the same token. */
  committing?: boolean;
  /** What an earlier plan promised, when the pool changed so that it could not be kept; reported until created. */
  replaced?: string[];
  /** Epoch ms after which a planned reservation no longer steers other plans; 0 once the resource exists (held until deleted). */
  expiresAt: number;
}
