/**
 * The local quickstart's address plan on Alibaba Cloud VpcIpam: a
 * 10.0.0.0/8 with rules, two regional pools carved from it, reservations for
 * VPCs in each, and an IPv6 pool with reservations. `pulumi preview` shows
 * every CIDR before anything exists; `pulumi up` reserves exactly those.
 *
 * Setup (an IPAM must exist; its private scope takes the pools):
 *
 *   export ALIBABA_CLOUD_ACCESS_KEY_ID=... ALIBABA_CLOUD_ACCESS_KEY_SECRET=...
 *   pulumi config set ipam:backend alicloud
 *   pulumi config set ipam:region cn-hangzhou              # the region hosting the IPAM
 *   pulumi config set ipam:scopeId ipam-scope-...           # aliyun vpcipam ListIpamScopes --RegionId cn-hangzhou
 *   pulumi config set secondRegion cn-shanghai              # optional; an operating region of the IPAM
 *
 * Differences from examples/local-quickstart, each forced by the Alibaba API:
 * - No ElasticIp: Alibaba cannot take an EIP from an IPAM pool (AllocateEipAddress
 *   has no IPAM pool parameter and VpcIpam has no public IPv4 pools); allocate EIPs
 *   with @pulumi/alicloud's alicloud.ecs.EipAddress instead.
 * - No allocationResourceTags on pools and no tags/resourceType on the reservations:
 *   Alibaba pools have no tag rules, and CreateIpamPoolAllocation makes untagged
 *   "Custom" reservations only (a VPC takes its CIDR from a pool when it is created
 *   with the pool's id).
 * - Pools that hand out reservations have a locale (Alibaba's PoolRegionId): Alibaba
 *   reserves CIDRs only in pools that have a region, so the IPv6 pool gets one too.
 */
import * as pulumi from "@pulumi/pulumi";
import * as ipam from "pulumi-ipam";

const region = process.env.PULUMI_IPAM_REGION || new pulumi.Config("ipam").get("region") || "cn-hangzhou";
const secondRegion = new pulumi.Config().get("secondRegion") || "cn-shanghai";

const top = new ipam.IpamPool("corp", {
  addressFamily: "ipv4",
  cidrs: ["10.0.0.0/8"],
  description: "corporate private space",
  allocationMinNetmaskLength: 12,
  allocationMaxNetmaskLength: 28,
  tags: { owner: "network-team" },
});

const regions = [region, secondRegion];
const regional = regions.map((locale) => new ipam.IpamPool(`corp-${locale}`, {
  addressFamily: "ipv4",
  sourceIpamPoolId: top.ipamPoolId,
  netmaskLength: 12,
  locale,
  allocationDefaultNetmaskLength: 20,
}));

// Registration order must not matter: IPAM_SHUFFLE_SEED registers the VPCs in a shuffled order.
const vpcs = [
  { name: "vpc-east-app", pool: 0 }, { name: "vpc-east-data", pool: 0, netmaskLength: 22 },
  { name: "vpc-west-app", pool: 1 }, { name: "vpc-west-edge", pool: 1, netmaskLength: 24 },
];
const seed = Number(process.env.IPAM_SHUFFLE_SEED ?? 0);
if (seed) {
  let s = seed;
  for (let i = vpcs.length - 1; i > 0; i--) {
    s = (s * 1103515245 + 12345) % 2 ** 31;
    const j = s % (i + 1);
    [vpcs[i], vpcs[j]] = [vpcs[j], vpcs[i]];
  }
}
const allocations = vpcs.map((v) => new ipam.IpamPoolAllocation(v.name, {
  ipamPoolId: regional[v.pool].ipamPoolId,
  netmaskLength: v.netmaskLength,
  description: v.name,
}));

const v6 = new ipam.IpamPool("corp-v6", {
  addressFamily: "ipv6",
  cidrs: ["fd00:10::/48"],
  locale: region,
  allocationDefaultNetmaskLength: 56,
});
const v6Allocations = ["v6-east", "v6-west"].map((name) => new ipam.IpamPoolAllocation(name, { ipamPoolId: v6.ipamPoolId, description: name }));

export const regionalCidrs = pulumi.all(regional.map((p) => p.cidrs));
export const vpcCidrs = pulumi.all(Object.fromEntries(allocations.map((a, i) => [vpcs[i].name, a.cidr])));
export const ipv6Cidrs = pulumi.all(v6Allocations.map((a) => a.cidr));
export const poolIds = pulumi.output({ corp: top.ipamPoolId, v6: v6.ipamPoolId, regional: pulumi.all(regional.map((p) => p.ipamPoolId)) });
