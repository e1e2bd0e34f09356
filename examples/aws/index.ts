/**
 * The quickstart's address plan on Amazon VPC IPAM: a 10.0.0.0/8 with rules,
 * two regional pools carved from it, VPC allocations in each, an IPv6 pool
 * with allocations, and a public pool with an Elastic IP. The program is the
 * local quickstart's; only the stack configuration differs (Pulumi.yaml sets
 * ipam:backend aws; set ipam:scopeId to your IPAM's private scope). Credentials
 * come from the AWS SDK's default chain (AWS_PROFILE, AWS_ACCESS_KEY_ID, SSO,
 * an instance role).
 *
 * `pulumi preview` shows every CIDR before anything exists: pools not yet
 * created are planned locally (.pulumi-ipam/ keeps the plans), pools that
 * exist are read from EC2. `pulumi up` allocates exactly those CIDRs with
 * deterministic ClientTokens, so a re-run after an interruption picks up what
 * was already made instead of allocating again.
 *
 * On AWS itself the locales must be operating regions of the IPAM, and an
 * Elastic IP can only come from a pool in the public scope with a public
 * (Amazon-provided or BYOIP) range; this plan keeps the quickstart's
 * documentation range 198.51.100.0/28, which only the emulators accept.
 */
import * as pulumi from "@pulumi/pulumi";
import * as ipam from "pulumi-ipam";

const top = new ipam.IpamPool("corp", {
  addressFamily: "ipv4",
  cidrs: ["10.0.0.0/8"],
  description: "corporate private space",
  allocationMinNetmaskLength: 12,
  allocationMaxNetmaskLength: 28,
  tags: { owner: "network-team" },
});

const regions = ["us-east-1", "eu-west-1"];
const regional = regions.map((locale) => new ipam.IpamPool(`corp-${locale}`, {
  addressFamily: "ipv4",
  sourceIpamPoolId: top.ipamPoolId,
  netmaskLength: 12,
  locale,
  allocationDefaultNetmaskLength: 20,
  allocationResourceTags: { env: "prod" },
}));

const vpcs = [
  { name: "vpc-east-app", pool: 0 }, { name: "vpc-east-data", pool: 0, netmaskLength: 22 },
  { name: "vpc-west-app", pool: 1 }, { name: "vpc-west-edge", pool: 1, netmaskLength: 24 },
];
const allocations = vpcs.map((v) => new ipam.IpamPoolAllocation(v.name, {
  ipamPoolId: regional[v.pool].ipamPoolId,
  netmaskLength: v.netmaskLength,
  description: v.name,
  resourceType: "vpc",
  tags: { env: "prod" },
}));

const v6 = new ipam.IpamPool("corp-v6", {
  addressFamily: "ipv6",
  cidrs: ["fd00:10::/48"],
  allocationDefaultNetmaskLength: 56,
});
const v6Allocations = ["v6-east", "v6-west"].map((name) => new ipam.IpamPoolAllocation(name, { ipamPoolId: v6.ipamPoolId, description: name }));

const publicPool = new ipam.IpamPool("public", {
  addressFamily: "ipv4",
  cidrs: ["198.51.100.0/28"],
  description: "public addresses for Elastic IPs",
});
const natIp = new ipam.ElasticIp("nat-gateway", { ipamPoolId: publicPool.ipamPoolId, tags: { role: "nat" } });

export const poolIds = pulumi.output({ corp: top.ipamPoolId, regional: pulumi.all(regional.map((p) => p.ipamPoolId)), v6: v6.ipamPoolId, public: publicPool.ipamPoolId });
export const regionalCidrs = pulumi.all(regional.map((p) => p.cidrs));
export const vpcCidrs = pulumi.all(Object.fromEntries(allocations.map((a, i) => [vpcs[i].name, a.cidr])));
export const ipv6Cidrs = pulumi.all(v6Allocations.map((a) => a.cidr));
export const natPublicIp = natIp.publicIp;
