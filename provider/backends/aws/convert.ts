/** Mapping between EC2's shapes and the allocator's, and the tokens the AWS backend derives. */
import type { Address, IpamPool, IpamPoolAllocation, IpamPoolCidr, Tag } from "@aws-sdk/client-ec2";
import { createHash } from "node:crypto";
import { familyOf, parseCidr } from "../../core/cidr";
import type { ResourceType, Tags } from "../../core/model";
import type { AddressInfo, AllocationInfo, PoolInfo } from "../../core/types";

/** The tag that carries an Elastic IP's idempotency token (AllocateAddress has no ClientToken). */
export const TOKEN_TAG = "pulumi-ipam:client-token";
/** The tag that records the IPAM pool an Elastic IP was allocated from. */
export const POOL_TAG = "pulumi-ipam:ipam-pool-id";
const INTERNAL_TAGS = new Set([TOKEN_TAG, POOL_TAG]);

export const toTagList = (tags: Tags | undefined): Tag[] => Object.entries(tags ?? {}).map(([Key, Value]) => ({ Key, Value }));

export function fromTagList(tags: { Key?: string; Value?: string }[] | undefined): Tags {
  const out: Tags = {};
  for (const t of tags ?? []) if (t.Key !== undefined && !INTERNAL_TAGS.has(t.Key)) out[t.Key] = t.Value ?? "";
  return out;
}

/**
 * A ClientToken derived from another (a pool's token and the CIDR it
 * provisions), so that a re-run repeats the same call. ASCII, 60 characters
 * (EC2 allows 64).
 */
export function derivedToken(...parts: string[]): string {
  return `pulumi-ipam-${createHash("sha256").update(parts.join("\n")).digest("hex").slice(0, 48)}`;
}

/** CIDRs in address order, IPv4 before IPv6, as the local allocator lists them. */
export function sortCidrs(cidrs: string[]): string[] {
  const key = (c: string) => {
    const fam = familyOf(c);
    return { fam, start: parseCidr(fam, c).start };
  };
  return [...cidrs].sort((a, b) => {
    const x = key(a);
    const y = key(b);
    if (x.fam !== y.fam) return x.fam === "ipv4" ? -1 : 1;
    return x.start < y.start ? -1 : x.start > y.start ? 1 : 0;
  });
}

/** The scope id an IpamScopeArn ends in (arn:aws:ec2::<account>:ipam-scope/ipam-scope-...). */
export function scopeFromArn(arn: string | undefined): string | undefined {
  const id = arn?.split("/").pop();
  return id?.startsWith("ipam-scope-") ? id : undefined;
}

/** A pool CIDR that holds space: provisioned, or on its way there. */
export const holdsSpace = (c: IpamPoolCidr) => c.State === "provisioned" || c.State === "pending-provision";

export function poolInfo(p: IpamPool, cidrs: IpamPoolCidr[]): PoolInfo {
  const locale = p.Locale && p.Locale.toLowerCase() !== "none" ? p.Locale : undefined;
  return {
    ipamPoolId: p.IpamPoolId!,
    addressFamily: p.AddressFamily ?? "ipv4",
    sourceIpamPoolId: p.SourceIpamPoolId || undefined,
    ipamScopeId: scopeFromArn(p.IpamScopeArn),
    poolDepth: p.PoolDepth ?? 1,
    locale,
    description: p.Description || undefined,
    tags: fromTagList(p.Tags),
    allocationMinNetmaskLength: p.AllocationMinNetmaskLength,
    allocationMaxNetmaskLength: p.AllocationMaxNetmaskLength,
    allocationDefaultNetmaskLength: p.AllocationDefaultNetmaskLength,
    allocationResourceTags: fromTagList(p.AllocationResourceTags),
    // EC2 chooses blocks its own way; the planner always sends an explicit Cidr.
    allocationStrategy: "first-fit",
    cidrs: sortCidrs(cidrs.filter(holdsSpace).map((c) => c.Cidr!).filter(Boolean)),
  };
}

export function allocationInfo(ipamPoolId: string, a: IpamPoolAllocation): AllocationInfo {
  return {
    ipamPoolAllocationId: a.IpamPoolAllocationId!,
    ipamPoolId,
    cidr: a.Cidr!,
    description: a.Description || undefined,
    resourceId: a.ResourceId || undefined,
    resourceType: (a.ResourceType ?? "custom") as ResourceType,
  };
}

export function addressInfo(a: Address, ipamPoolAllocationId: string): AddressInfo {
  const poolTag = a.Tags?.find((t) => t.Key === POOL_TAG)?.Value;
  const fromApi = a.PublicIpv4Pool?.startsWith("ipam-pool-") ? a.PublicIpv4Pool : undefined;
  const tags = fromTagList(a.Tags);
  return {
    allocationId: a.AllocationId!,
    publicIp: a.PublicIp!,
    ipamPoolId: fromApi ?? poolTag ?? "",
    ipamPoolAllocationId,
    // No tags reads as none given, as the resource's inputs say it.
    tags: Object.keys(tags).length ? tags : undefined,
  };
}
