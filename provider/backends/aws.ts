/**
 * The AWS backend: EC2 IPAM pools and allocations and Elastic IPs through
 * @aws-sdk/client-ec2, for stacks with ipam:backend aws.
 *
 * Idempotency: every call that can create something carries a ClientToken
 * made by the caller (the planner's, per resource) or derived from it
 * (a pool's CIDR provisioning), never the SDK's random one, so a re-run after
 * a crash repeats the same call and gets the same result. AllocateAddress has
 * no ClientToken: the address is tagged with the token and looked up by that
 * tag before allocating.
 *
 * Waiting: CreateIpamPool, ProvisionIpamPoolCidr, DeprovisionIpamPoolCidr and
 * DeleteIpamPool complete asynchronously; each operation polls until the state
 * is final, so a pool is usable (or gone) when the method returns.
 *
 * Credentials come only from the SDK's default chain (environment, shared
 * files, SSO, instance/container roles); this module never reads, keeps or
 * prints them. Region and endpoint come from ipam:region / ipam:endpoint
 * (or PULUMI_IPAM_REGION / PULUMI_IPAM_ENDPOINT), else the SDK's defaults.
 */
import {
  AllocateAddressCommand, AllocateIpamPoolCidrCommand, CreateIpamPoolCommand, CreateTagsCommand, DeleteIpamPoolCommand,
  DeleteTagsCommand, DeprovisionIpamPoolCidrCommand, DescribeAddressesCommand, EC2Client, GetIpamPoolAllocationsCommand,
  ModifyIpamPoolCommand, ReleaseAddressCommand, ReleaseIpamPoolAllocationCommand,
  type Address, type ModifyIpamPoolRequest,
} from "@aws-sdk/client-ec2";
import { IpamError, isIpamError } from "../core/errors";
import type { AddressInfo, AllocateInput, AllocationInfo, CreatePoolInput, PoolInfo, UpdatePoolInput } from "../core/types";
import { Caller, isRetriable, type CallOptions } from "./aws/call";
import {
  addressInfo, allocationInfo, derivedToken, fromTagList, holdsSpace, POOL_TAG, poolInfo, scopeFromArn, TOKEN_TAG, toTagList,
} from "./aws/convert";
import { describePool, listAllPools, poolCidrs, provision, waitCidrs, waitDeleted, waitPool, type Ec2 } from "./aws/pools";
import type { Backend, BackendSettings } from "./backend";

export interface AwsBackendOptions extends CallOptions {
  /** A client to use instead of the two made from the settings (tests record requests through it); its own retry settings apply to every call. */
  client?: EC2Client;
  /**
   * How long after this process allocated something a NotFound for it is
   * taken as eventual consistency and retried (AWS answers
   * InvalidIpamPoolAllocationId.NotFound for a moment after AllocateIpamPoolCidr,
   * hashicorp/terraform-provider-aws#28913). @default 120000
   */
  consistencyWindowMs?: number;
  /** GetIpamPoolAllocations page size (EC2 accepts 1000 to 100000). @default 1000 */
  pageSize?: number;
}

const POOL_NOT_FOUND = "InvalidIpamPoolId.NotFound";
const ALLOCATION_NOT_FOUND = "InvalidIpamPoolAllocationId.NotFound";
const ADDRESS_NOT_FOUND = "InvalidAllocationID.NotFound";

export function awsBackend(settings: BackendSettings, options: AwsBackendOptions = {}): Backend {
  return new AwsBackend(settings, options);
}

class AwsBackend implements Backend {
  readonly kind = "aws" as const;
  private readonly ec2: EC2Client;
  /** The same, without the SDK's retries: for AllocateAddress, whose every attempt must look its token tag up first. */
  private readonly once: EC2Client;
  private readonly call: Caller;
  private readonly api: Ec2;
  private readonly recent = new Map<string, number>();

  constructor(private readonly settings: BackendSettings, private readonly options: AwsBackendOptions) {
    this.call = new Caller(options);
    // Throttling and 5xx: the SDK's standard retry strategy, with our attempts and backoff (call.ts).
    this.ec2 = options.client ?? new EC2Client({ region: settings.region, endpoint: settings.endpoint, maxAttempts: this.call.maxAttempts, retryStrategy: this.call.retryStrategy() });
    this.once = options.client ?? new EC2Client({ region: settings.region, endpoint: settings.endpoint, maxAttempts: 1 });
    this.api = { client: this.ec2, call: this.call };
  }

  // ---- pools ----

  async createPool(spec: CreatePoolInput & { cidrs: string[]; clientToken: string }): Promise<PoolInfo> {
    // The resource's ipamScopeId, else a nested pool's source's scope (EC2 requires that one), else ipam:scopeId.
    const scope = spec.ipamScopeId
      || (spec.sourceIpamPoolId ? scopeFromArn((await describePool(this.api, spec.sourceIpamPoolId))?.IpamScopeArn) : undefined)
      || this.settings.scopeId;
    if (!scope) {
      throw new IpamError("InvalidParameterValue",
        "ipam:scopeId is not set: the AWS backend creates pools in an IPAM scope. Set it with `pulumi config set ipam:scopeId ipam-scope-...` " +
        "(or PULUMI_IPAM_SCOPE_ID). An IPAM's private scope is its PrivateDefaultScopeId: `aws ec2 describe-ipams --query 'Ipams[].PrivateDefaultScopeId'`, " +
        "or create an IPAM first (CreateIpam, `aws ec2 create-ipam --operating-regions RegionName=<region>`).");
    }
    if (spec.allocationStrategy && spec.allocationStrategy !== "first-fit") {
      throw new IpamError("InvalidParameterValue", `allocationStrategy "${spec.allocationStrategy}" is local-only: EC2 IPAM has no allocation strategy; leave it out.`);
    }
    const resourceTags = toTagList(spec.allocationResourceTags);
    const tags = toTagList(spec.tags);
    const out = await this.send("CreateIpamPool", () => this.ec2.send(new CreateIpamPoolCommand({
      DryRun: spec.dryRun, IpamScopeId: scope, Locale: spec.locale, SourceIpamPoolId: spec.sourceIpamPoolId,
      Description: spec.description, AddressFamily: spec.addressFamily as "ipv4" | "ipv6",
      AllocationMinNetmaskLength: spec.allocationMinNetmaskLength, AllocationMaxNetmaskLength: spec.allocationMaxNetmaskLength,
      AllocationDefaultNetmaskLength: spec.allocationDefaultNetmaskLength,
      AllocationResourceTags: resourceTags.length ? resourceTags : undefined,
      TagSpecifications: tags.length ? [{ ResourceType: "ipam-pool", Tags: tags }] : undefined,
      ClientToken: spec.clientToken,
    })));
    const id = out.IpamPool!.IpamPoolId!;
    await waitPool(this.api, id, "create-complete", out.IpamPool);

    const have = (await poolCidrs(this.api, id)).filter(holdsSpace).map((c) => c.Cidr);
    const wanted = spec.cidrs.filter((c) => !have.includes(c));
    for (const cidr of wanted) await provision(this.api, id, { Cidr: cidr }, derivedToken("ProvisionIpamPoolCidr", spec.clientToken, cidr));
    if (!spec.cidrs.length && spec.netmaskLength !== undefined && spec.sourceIpamPoolId && !have.length) {
      const cidr = await provision(this.api, id, { NetmaskLength: spec.netmaskLength }, derivedToken("ProvisionIpamPoolCidr", spec.clientToken, `/${spec.netmaskLength}`));
      wanted.push(cidr);
    }
    await waitCidrs(this.api, id, wanted, "provisioned");
    return (await this.getPool(id)) ?? notFoundPool(id);
  }

  async getPool(ipamPoolId: string): Promise<PoolInfo | undefined> {
    const p = await describePool(this.api, ipamPoolId);
    if (!p || p.State?.startsWith("delete")) return undefined;
    return poolInfo(p, await poolCidrs(this.api, ipamPoolId));
  }

  async listPools(): Promise<PoolInfo[]> {
    const out: PoolInfo[] = [];
    for (const p of await listAllPools(this.api)) {
      if (!p.IpamPoolId || p.State?.startsWith("delete")) continue;
      out.push(poolInfo(p, await poolCidrs(this.api, p.IpamPoolId)));
    }
    return out;
  }

  async updatePool(input: UpdatePoolInput): Promise<PoolInfo> {
    const id = input.ipamPoolId;
    const cur = await describePool(this.api, id);
    if (!cur) notFoundPool(id);
    const req: ModifyIpamPoolRequest = { IpamPoolId: id, DryRun: input.dryRun };
    let modify = false;
    if ("description" in input && (input.description ?? "") !== (cur.Description ?? "")) {
      req.Description = input.description ?? "";
      modify = true;
    }
    // Unset bounds are EC2's defaults: 0 and the family's width.
    const bits = cur.AddressFamily === "ipv6" ? 128 : 32;
    if ("allocationMinNetmaskLength" in input && (input.allocationMinNetmaskLength ?? 0) !== (cur.AllocationMinNetmaskLength ?? 0)) {
      req.AllocationMinNetmaskLength = input.allocationMinNetmaskLength ?? 0;
      modify = true;
    }
    if ("allocationMaxNetmaskLength" in input && (input.allocationMaxNetmaskLength ?? bits) !== (cur.AllocationMaxNetmaskLength ?? bits)) {
      req.AllocationMaxNetmaskLength = input.allocationMaxNetmaskLength ?? bits;
      modify = true;
    }
    if ("allocationDefaultNetmaskLength" in input && input.allocationDefaultNetmaskLength !== cur.AllocationDefaultNetmaskLength) {
      if (input.allocationDefaultNetmaskLength === undefined) req.ClearAllocationDefaultNetmaskLength = true;
      else req.AllocationDefaultNetmaskLength = input.allocationDefaultNetmaskLength;
      modify = true;
    }
    if ("allocationResourceTags" in input) {
      const have = fromTagList(cur.AllocationResourceTags);
      const { add, remove } = tagChanges(have, input.allocationResourceTags ?? {});
      // A changed value is removed and added again.
      const removed = Object.keys(have).filter((k) => remove.includes(k) || add.some((t) => t.Key === k)).map((Key) => ({ Key, Value: have[Key] }));
      if (add.length) req.AddAllocationResourceTags = add;
      if (removed.length) req.RemoveAllocationResourceTags = removed;
      modify ||= add.length + removed.length > 0;
    }
    if (modify) {
      await this.send("ModifyIpamPool", () => this.ec2.send(new ModifyIpamPoolCommand(req)));
      await waitPool(this.api, id, "modify-complete");
    }
    if ("tags" in input) {
      const { add, remove } = tagChanges(fromTagList(cur.Tags), input.tags ?? {});
      if (add.length) await this.send("CreateTags", () => this.ec2.send(new CreateTagsCommand({ DryRun: input.dryRun, Resources: [id], Tags: add })));
      if (remove.length) await this.send("DeleteTags", () => this.ec2.send(new DeleteTagsCommand({ DryRun: input.dryRun, Resources: [id], Tags: remove.map((Key) => ({ Key })) })));
    }
    // A dry run with nothing to send (any call sent above has already answered DryRunOperation): answer as EC2 would.
    if (input.dryRun) throw new IpamError("DryRunOperation", "Request would have succeeded, but DryRun flag is set.");
    return (await this.getPool(id)) ?? notFoundPool(id);
  }

  async provisionPoolCidr(ipamPoolId: string, cidr: string): Promise<void> {
    const have = (await poolCidrs(this.api, ipamPoolId)).filter(holdsSpace).map((c) => c.Cidr);
    if (!have.includes(cidr)) await provision(this.api, ipamPoolId, { Cidr: cidr }, derivedToken("ProvisionIpamPoolCidr", ipamPoolId, cidr));
    await waitCidrs(this.api, ipamPoolId, [cidr], "provisioned");
  }

  async deletePool(ipamPoolId: string): Promise<void> {
    if (!(await describePool(this.api, ipamPoolId))) notFoundPool(ipamPoolId);
    // Checked first so that a pool in use is left whole rather than half deprovisioned.
    const used = await this.listAllocations(ipamPoolId);
    if (used.length) {
      const nested = used.filter((a) => a.resourceType === "ipam-pool").length;
      throw new IpamError("DependencyViolation", `pool ${ipamPoolId} still has ${used.length - nested} allocation(s) and ${nested} nested pool(s); release and delete them first.`);
    }
    const cidrs = (await poolCidrs(this.api, ipamPoolId)).filter((c) => holdsSpace(c) || c.State === "pending-deprovision").map((c) => c.Cidr!);
    for (const cidr of cidrs) {
      await this.send("DeprovisionIpamPoolCidr", () => this.ec2.send(new DeprovisionIpamPoolCidrCommand({ IpamPoolId: ipamPoolId, Cidr: cidr })));
    }
    await waitCidrs(this.api, ipamPoolId, cidrs, "deprovisioned");
    await this.send("DeleteIpamPool", () => this.ec2.send(new DeleteIpamPoolCommand({ IpamPoolId: ipamPoolId })));
    // A nested pool's space goes back to its source asynchronously: wait, so that deleting the source next does not fail.
    await waitDeleted(this.api, ipamPoolId);
  }

  // ---- allocations ----

  async allocate(input: AllocateInput & { cidr: string; clientToken: string }): Promise<AllocationInfo> {
    const out = await this.send("AllocateIpamPoolCidr", () => this.ec2.send(new AllocateIpamPoolCidrCommand({
      DryRun: input.dryRun, IpamPoolId: input.ipamPoolId, Cidr: input.cidr, Description: input.description, ClientToken: input.clientToken,
    })));
    const a = allocationInfo(input.ipamPoolId, out.IpamPoolAllocation!);
    this.recent.set(a.ipamPoolAllocationId, Date.now());
    return a;
  }

  async previewNextCidr(input: AllocateInput): Promise<string> {
    const disallowed = [...(input.disallowedCidrs ?? []), ...(input.excludedCidrs ?? [])];
    const out = await this.send("AllocateIpamPoolCidr", () => this.ec2.send(new AllocateIpamPoolCidrCommand({
      DryRun: input.dryRun, IpamPoolId: input.ipamPoolId, PreviewNextCidr: true, Cidr: input.cidr,
      NetmaskLength: input.cidr ? undefined : input.netmaskLength,
      AllowedCidrs: input.allowedCidrs?.length ? input.allowedCidrs : undefined, DisallowedCidrs: disallowed.length ? disallowed : undefined,
    })));
    const cidr = out.IpamPoolAllocation?.Cidr;
    if (!cidr) throw new IpamError("OperationDenied.AvailableCidrInsufficient", `pool ${input.ipamPoolId} has no CIDR to offer for this request (AllocateIpamPoolCidr PreviewNextCidr returned none).`);
    return cidr;
  }

  async getAllocation(ipamPoolId: string, ipamPoolAllocationId: string): Promise<AllocationInfo | undefined> {
    try {
      return await this.send("GetIpamPoolAllocations", async () => {
        const out = await this.ec2.send(new GetIpamPoolAllocationsCommand({ IpamPoolId: ipamPoolId, IpamPoolAllocationId: ipamPoolAllocationId }));
        const a = out.IpamPoolAllocations?.find((x) => x.IpamPoolAllocationId === ipamPoolAllocationId);
        if (!a) throw new IpamError(ALLOCATION_NOT_FOUND, `allocation ${ipamPoolAllocationId} is not in pool ${ipamPoolId}.`);
        return allocationInfo(ipamPoolId, a);
      }, this.settling(ipamPoolAllocationId, ALLOCATION_NOT_FOUND));
    } catch (e) {
      if (isIpamError(e, ALLOCATION_NOT_FOUND) || isIpamError(e, POOL_NOT_FOUND)) return undefined;
      throw e;
    }
  }

  async listAllocations(ipamPoolId: string): Promise<AllocationInfo[]> {
    const all: AllocationInfo[] = [];
    let next: string | undefined;
    do {
      const token = next;
      const out = await this.send("GetIpamPoolAllocations", () => this.ec2.send(new GetIpamPoolAllocationsCommand({
        IpamPoolId: ipamPoolId, MaxResults: this.options.pageSize ?? 1000, NextToken: token,
      })));
      for (const a of out.IpamPoolAllocations ?? []) all.push(allocationInfo(ipamPoolId, a));
      next = out.NextToken || undefined;
    } while (next);
    return all;
  }

  async release(ipamPoolId: string, ipamPoolAllocationId: string, cidr: string): Promise<void> {
    if (!cidr) {
      const a = await this.getAllocation(ipamPoolId, ipamPoolAllocationId);
      if (!a) throw new IpamError(ALLOCATION_NOT_FOUND, `allocation ${ipamPoolAllocationId} is not in pool ${ipamPoolId}.`);
      cidr = a.cidr;
    }
    const out = await this.send("ReleaseIpamPoolAllocation", () => this.ec2.send(new ReleaseIpamPoolAllocationCommand({
      IpamPoolId: ipamPoolId, IpamPoolAllocationId: ipamPoolAllocationId, Cidr: cidr,
    })), this.settling(ipamPoolAllocationId, ALLOCATION_NOT_FOUND));
    if (out.Success === false) throw new IpamError("IncorrectState", `ReleaseIpamPoolAllocation of ${ipamPoolAllocationId} (${cidr}) in ${ipamPoolId} did not succeed.`);
    this.recent.delete(ipamPoolAllocationId);
  }

  // ---- Elastic IPs ----

  async allocateAddress(input: { ipamPoolId?: string; address?: string; tags?: Record<string, string>; clientToken: string }): Promise<AddressInfo> {
    const tags = toTagList({ ...input.tags, [TOKEN_TAG]: input.clientToken, ...(input.ipamPoolId ? { [POOL_TAG]: input.ipamPoolId } : {}) });
    // No ClientToken: the SDK must not repeat the call blindly. Before every attempt, an earlier one (this run's, or a crashed run's) may have gone through.
    return this.call.repeat("AllocateAddress", async () => {
      const found = await this.addressByToken(input.clientToken);
      if (found) return this.addressInfo(found);
      const out = await this.once.send(new AllocateAddressCommand({
        Domain: "vpc", IpamPoolId: input.ipamPoolId, Address: input.address, TagSpecifications: [{ ResourceType: "elastic-ip", Tags: tags }],
      }));
      this.recent.set(out.AllocationId!, Date.now());
      return this.addressInfo({ AllocationId: out.AllocationId, PublicIp: out.PublicIp, PublicIpv4Pool: out.PublicIpv4Pool, Tags: tags });
    }, isRetriable);
  }

  async getAddress(allocationId: string): Promise<AddressInfo | undefined> {
    try {
      const a = await this.send("DescribeAddresses", async () => {
        const out = await this.ec2.send(new DescribeAddressesCommand({ AllocationIds: [allocationId] }));
        const found = out.Addresses?.find((x) => x.AllocationId === allocationId);
        if (!found) throw new IpamError(ADDRESS_NOT_FOUND, `Elastic IP ${allocationId} does not exist.`);
        return found;
      }, this.settling(allocationId, ADDRESS_NOT_FOUND));
      return await this.addressInfo(a);
    } catch (e) {
      if (isIpamError(e, ADDRESS_NOT_FOUND)) return undefined;
      throw e;
    }
  }

  async releaseAddress(allocationId: string): Promise<void> {
    await this.send("ReleaseAddress", () => this.ec2.send(new ReleaseAddressCommand({ AllocationId: allocationId })), this.settling(allocationId, ADDRESS_NOT_FOUND));
    this.recent.delete(allocationId);
  }

  // ---- internals ----

  private send<T>(operation: string, run: () => Promise<T>, alsoRetry?: (code: string | undefined) => boolean): Promise<T> {
    return this.call.send(operation, run, alsoRetry);
  }

  /** Retry `code` for an id this process made moments ago: EC2 is eventually consistent. */
  private settling(id: string, code: string): (c: string | undefined) => boolean {
    const at = this.recent.get(id);
    const recent = at !== undefined && Date.now() - at < (this.options.consistencyWindowMs ?? 120_000);
    return (c) => recent && c === code;
  }

  private async addressByToken(token: string): Promise<Address | undefined> {
    const out = await this.send("DescribeAddresses", () => this.ec2.send(new DescribeAddressesCommand({ Filters: [{ Name: `tag:${TOKEN_TAG}`, Values: [token] }] })));
    return out.Addresses?.[0];
  }

  /** The address with the IPAM allocation that holds it, found by its /32 in the pool (EC2 does not return that id). */
  private async addressInfo(a: Address): Promise<AddressInfo> {
    const base = addressInfo(a, "");
    if (!base.ipamPoolId) return base;
    const inPool = await this.listAllocations(base.ipamPoolId).catch((e) => {
      if (isIpamError(e, POOL_NOT_FOUND)) return [];
      throw e;
    });
    const held = inPool.find((x) => x.cidr === `${a.PublicIp}/32`);
    return { ...base, ipamPoolAllocationId: held?.ipamPoolAllocationId ?? "" };
  }
}

function notFoundPool(id: string): never {
  throw new IpamError(POOL_NOT_FOUND, `IPAM pool ${id} does not exist; check ipamPoolId.`);
}

function tagChanges(have: Record<string, string>, want: Record<string, string>) {
  const add = Object.entries(want).filter(([k, v]) => have[k] !== v).map(([Key, Value]) => ({ Key, Value }));
  const remove = Object.keys(have).filter((k) => !(k in want));
  return { add, remove };
}
