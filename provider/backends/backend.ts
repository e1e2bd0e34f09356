/**
 * What the Pulumi resources call: one interface, three implementations
 * (local.ts: our allocator; aws.ts: EC2 IPAM and Elastic IPs; alicloud.ts:
 * VpcIpam), selected by stack config ipam:backend. Inputs and outputs are
 * the allocator's own types; each backend maps its API's error codes onto
 * IpamError codes where one exists and keeps the API's code otherwise.
 * Credentials come only from each SDK's default chain or the environment.
 */
import type {
  AddressInfo, AllocateInput, AllocationInfo, CreatePoolInput, PoolInfo, UpdatePoolInput,
} from "../core/types";

export type BackendKind = "local" | "aws" | "alicloud";

export interface BackendSettings {
  region?: string;
  /** Endpoint override (emulators, private endpoints). */
  endpoint?: string;
  /** AWS: the IPAM scope new top-level pools go in. Alibaba: the IPAM scope. */
  scopeId?: string;
}

export interface Backend {
  readonly kind: BackendKind;

  /** Creates a pool and provisions `cidrs` (for a nested pool, carved from its source), waiting until usable. */
  createPool(spec: CreatePoolInput & { cidrs: string[]; clientToken: string }): Promise<PoolInfo>;
  getPool(ipamPoolId: string): Promise<PoolInfo | undefined>;
  /** Every pool the backend holds (all pages; a cloud's in its region): what the command line tool reads. */
  listPools?(): Promise<PoolInfo[]>;
  updatePool(input: UpdatePoolInput): Promise<PoolInfo>;
  provisionPoolCidr(ipamPoolId: string, cidr: string): Promise<void>;
  /** Deprovisions and deletes; DependencyViolation while allocations or children remain. */
  deletePool(ipamPoolId: string): Promise<void>;

  /** Allocates exactly `cidr` (the planner always sends one) with the caller's ClientToken. */
  allocate(input: AllocateInput & { cidr: string; clientToken: string }): Promise<AllocationInfo>;
  previewNextCidr(input: AllocateInput): Promise<string>;
  getAllocation(ipamPoolId: string, ipamPoolAllocationId: string): Promise<AllocationInfo | undefined>;
  /** Every allocation of the pool (all pages). */
  listAllocations(ipamPoolId: string): Promise<AllocationInfo[]>;
  release(ipamPoolId: string, ipamPoolAllocationId: string, cidr: string): Promise<void>;

  /** Idempotent on clientToken (client-side where the API has no token). */
  allocateAddress(input: { ipamPoolId?: string; address?: string; tags?: Record<string, string>; clientToken: string }): Promise<AddressInfo>;
  getAddress(allocationId: string): Promise<AddressInfo | undefined>;
  releaseAddress(allocationId: string): Promise<void>;
}
