/** The allocator's public inputs and outputs, named as the seeds name them (camelCase). */
import type { AllocationStrategy, ResourceType, Tags } from "./model";

export interface Common {
  /** Idempotency key: the same token and parameters return the first result. ASCII, at most 64 characters. */
  clientToken?: string;
  /** Validate everything, change nothing, and fail with DryRunOperation. */
  dryRun?: boolean;
}

export interface CreatePoolInput extends Common {
  addressFamily: string;
  sourceIpamPoolId?: string;
  /**
   * The scope of a top-level pool (`ipam-scope-...`; scopes exist by id, none is created first). A nested
   * pool is in its source's scope; if given, it must be that one.
   * @default "ipam-scope-default", the store's private default scope
   */
  ipamScopeId?: string;
  locale?: string;
  description?: string;
  tags?: Tags;
  allocationMinNetmaskLength?: number;
  allocationMaxNetmaskLength?: number;
  allocationDefaultNetmaskLength?: number;
  allocationResourceTags?: Tags;
  /** @default "first-fit" (lowest address) */
  allocationStrategy?: AllocationStrategy;
  /** CIDRs provisioned with the pool; for a nested pool each is carved out of the source pool. */
  cidrs?: string[];
  /** Nested pools only: carve one CIDR of this length out of the source pool. */
  netmaskLength?: number;
  /** @internal The planner's deterministic id for the pool; otherwise a random one. */
  ipamPoolId?: string;
}

export interface UpdatePoolInput extends Common {
  ipamPoolId: string;
  description?: string;
  tags?: Tags;
  allocationMinNetmaskLength?: number;
  allocationMaxNetmaskLength?: number;
  allocationDefaultNetmaskLength?: number;
  allocationResourceTags?: Tags;
}

export interface ProvisionCidrInput extends Common {
  ipamPoolId: string;
  cidr?: string;
  /** Nested pools only. */
  netmaskLength?: number;
}

export interface PoolInfo {
  ipamPoolId: string;
  addressFamily: string;
  sourceIpamPoolId?: string;
  /** Always set by the local allocator; a cloud backend sets it when its API reports it. */
  ipamScopeId?: string;
  poolDepth: number;
  locale?: string;
  description?: string;
  tags: Tags;
  allocationMinNetmaskLength?: number;
  allocationMaxNetmaskLength?: number;
  allocationDefaultNetmaskLength?: number;
  allocationResourceTags: Tags;
  allocationStrategy: AllocationStrategy;
  cidrs: string[];
}

export interface AllocateInput extends Common {
  ipamPoolId: string;
  cidr?: string;
  netmaskLength?: number;
  allowedCidrs?: string[];
  disallowedCidrs?: string[];
  description?: string;
  resourceId?: string;
  resourceType?: ResourceType;
  resourceTags?: Tags;
  /** @internal Space promised to other resources' plans: skipped like disallowedCidrs, allowed with any request. */
  excludedCidrs?: string[];
}

export interface AllocationInfo {
  ipamPoolAllocationId: string;
  ipamPoolId: string;
  cidr: string;
  description?: string;
  resourceId?: string;
  resourceType: ResourceType;
  resourceTags?: Tags;
}

export interface ReleaseInput {
  ipamPoolId: string;
  ipamPoolAllocationId: string;
  /** When given, must be the allocation's CIDR (as AWS requires). */
  cidr?: string;
  dryRun?: boolean;
}

export interface AllocateAddressInput extends Common {
  ipamPoolId: string;
  /** A given address from the pool; otherwise the lowest free one. */
  address?: string;
  tags?: Tags;
}

export interface AddressInfo {
  allocationId: string;
  publicIp: string;
  ipamPoolId: string;
  ipamPoolAllocationId: string;
  tags?: Tags;
}

export interface Utilization {
  ipamPoolId: string;
  /** Addresses provisioned, allocated and free, as decimal strings (IPv6 counts exceed 2^53). */
  total: string;
  allocated: string;
  free: string;
  freeBlocks: string[];
}
