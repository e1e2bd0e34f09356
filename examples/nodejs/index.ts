/**
 * The local quickstart's address plan (examples/yaml, examples/local-quickstart)
 * on the generated Node.js SDK, served by the pulumi-resource-ipam plugin:
 * a 10.0.0.0/8 with rules, two regional pools carved from it, VPC
 * allocations in each, an IPv6 pool with allocations, and a public pool with
 * an Elastic IP. Every CIDR is known in `pulumi preview`.
 */
import * as pulumi from "@pulumi/pulumi";
import * as ipam from "@pulumi-ipam/ipam";

const corp = new ipam.IpamPool("corp", {
  addressFamily: "ipv4",
  cidrs: ["10.0.0.0/8"],
  description: "corporate private space",
  allocationMinNetmaskLength: 12,
  allocationMaxNetmaskLength: 28,
  tags: { owner: "network-team" },
});

const regional = ["us-east-1", "eu-west-1"].map((locale) => new ipam.IpamPool(`corp-${locale}`, {
  addressFamily: "ipv4",
  sourceIpamPoolId: corp.ipamPoolId,
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
const nat = new ipam.ElasticIp("nat-gateway", { ipamPoolId: publicPool.ipamPoolId, tags: { role: "nat" } });

export const regionalCidrs = pulumi.all(regional.map((p) => p.cidrs));
export const vpcCidrs = pulumi.all(Object.fromEntries(allocations.map((a, i) => [vpcs[i].name, a.cidr])));
export const ipv6Cidrs = pulumi.all(v6Allocations.map((a) => a.cidr));
export const natPublicIp = nat.publicIp;
