"""The local quickstart's address plan (examples/yaml, examples/local-quickstart)
on the generated Python SDK, served by the pulumi-resource-ipam plugin: a
10.0.0.0/8 with rules, two regional pools carved from it, VPC allocations in
each, an IPv6 pool with allocations, and a public pool with an Elastic IP.
Every CIDR is known in `pulumi preview`."""
import pulumi
import pulumi_ipam as ipam

corp = ipam.IpamPool(
    "corp",
    address_family="ipv4",
    cidrs=["10.0.0.0/8"],
    description="corporate private space",
    allocation_min_netmask_length=12,
    allocation_max_netmask_length=28,
    tags={"owner": "network-team"},
)

regional = [
    ipam.IpamPool(
        f"corp-{locale}",
        address_family="ipv4",
        source_ipam_pool_id=corp.ipam_pool_id,
        netmask_length=12,
        locale=locale,
        allocation_default_netmask_length=20,
        allocation_resource_tags={"env": "prod"},
    )
    for locale in ["us-east-1", "eu-west-1"]
]

vpcs = [
    {"name": "vpc-east-app", "pool": 0}, {"name": "vpc-east-data", "pool": 0, "netmask_length": 22},
    {"name": "vpc-west-app", "pool": 1}, {"name": "vpc-west-edge", "pool": 1, "netmask_length": 24},
]
allocations = [
    ipam.IpamPoolAllocation(
        v["name"],
        ipam_pool_id=regional[v["pool"]].ipam_pool_id,
        netmask_length=v.get("netmask_length"),
        description=v["name"],
        resource_type="vpc",
        tags={"env": "prod"},
    )
    for v in vpcs
]

v6 = ipam.IpamPool("corp-v6", address_family="ipv6", cidrs=["fd00:10::/48"], allocation_default_netmask_length=56)
v6_allocations = [ipam.IpamPoolAllocation(name, ipam_pool_id=v6.ipam_pool_id, description=name) for name in ["v6-east", "v6-west"]]

public = ipam.IpamPool("public", address_family="ipv4", cidrs=["198.51.100.0/28"], description="public addresses for Elastic IPs")
nat = ipam.ElasticIp("nat-gateway", ipam_pool_id=public.ipam_pool_id, tags={"role": "nat"})

pulumi.export("regionalCidrs", pulumi.Output.all(*[p.cidrs for p in regional]))
pulumi.export("vpcCidrs", pulumi.Output.all(**{v["name"]: a.cidr for v, a in zip(vpcs, allocations)}))
pulumi.export("ipv6Cidrs", pulumi.Output.all(*[a.cidr for a in v6_allocations]))
pulumi.export("natPublicIp", nat.public_ip)
