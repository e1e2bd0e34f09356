package main

import (
	"github.com/pulumi-ipam/pulumi-ipam/sdk/go/ipam"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// addressPlan is the local quickstart's address plan (examples/yaml,
// examples/local-quickstart): a 10.0.0.0/8 with rules, two regional pools
// carved from it, VPC allocations in each, an IPv6 pool with allocations,
// and a public pool with an Elastic IP. Every CIDR is known in `pulumi preview`.
func addressPlan(ctx *pulumi.Context) error {
	corp, err := ipam.NewIpamPool(ctx, "corp", &ipam.IpamPoolArgs{
		AddressFamily:              ipam.AddressFamilyIpv4,
		Cidrs:                      pulumi.StringArray{pulumi.String("10.0.0.0/8")},
		Description:                pulumi.String("corporate private space"),
		AllocationMinNetmaskLength: pulumi.Int(12),
		AllocationMaxNetmaskLength: pulumi.Int(28),
		Tags:                       pulumi.StringMap{"owner": pulumi.String("network-team")},
	})
	if err != nil {
		return err
	}

	var regional []*ipam.IpamPool
	for _, locale := range []string{"us-east-1", "eu-west-1"} {
		pool, err := ipam.NewIpamPool(ctx, "corp-"+locale, &ipam.IpamPoolArgs{
			AddressFamily:                  ipam.AddressFamilyIpv4,
			SourceIpamPoolId:               corp.IpamPoolId,
			NetmaskLength:                  pulumi.Int(12),
			Locale:                         pulumi.String(locale),
			AllocationDefaultNetmaskLength: pulumi.Int(20),
			AllocationResourceTags:         pulumi.StringMap{"env": pulumi.String("prod")},
		})
		if err != nil {
			return err
		}
		regional = append(regional, pool)
	}

	vpcs := []struct {
		name          string
		pool          int
		netmaskLength int // 0: the pool's default
	}{
		{"vpc-east-app", 0, 0}, {"vpc-east-data", 0, 22},
		{"vpc-west-app", 1, 0}, {"vpc-west-edge", 1, 24},
	}
	vpcCidrs := pulumi.StringMap{}
	for _, v := range vpcs {
		args := &ipam.IpamPoolAllocationArgs{
			IpamPoolId:   regional[v.pool].IpamPoolId,
			Description:  pulumi.String(v.name),
			ResourceType: ipam.ResourceTypeVpc,
			Tags:         pulumi.StringMap{"env": pulumi.String("prod")},
		}
		if v.netmaskLength != 0 {
			args.NetmaskLength = pulumi.Int(v.netmaskLength)
		}
		a, err := ipam.NewIpamPoolAllocation(ctx, v.name, args)
		if err != nil {
			return err
		}
		vpcCidrs[v.name] = a.Cidr
	}

	v6, err := ipam.NewIpamPool(ctx, "corp-v6", &ipam.IpamPoolArgs{
		AddressFamily:                  ipam.AddressFamilyIpv6,
		Cidrs:                          pulumi.StringArray{pulumi.String("fd00:10::/48")},
		AllocationDefaultNetmaskLength: pulumi.Int(56),
	})
	if err != nil {
		return err
	}
	ipv6Cidrs := pulumi.StringArray{}
	for _, name := range []string{"v6-east", "v6-west"} {
		a, err := ipam.NewIpamPoolAllocation(ctx, name, &ipam.IpamPoolAllocationArgs{IpamPoolId: v6.IpamPoolId, Description: pulumi.String(name)})
		if err != nil {
			return err
		}
		ipv6Cidrs = append(ipv6Cidrs, a.Cidr)
	}

	public, err := ipam.NewIpamPool(ctx, "public", &ipam.IpamPoolArgs{
		AddressFamily: ipam.AddressFamilyIpv4,
		Cidrs:         pulumi.StringArray{pulumi.String("198.51.100.0/28")},
		Description:   pulumi.String("public addresses for Elastic IPs"),
	})
	if err != nil {
		return err
	}
	nat, err := ipam.NewElasticIp(ctx, "nat-gateway", &ipam.ElasticIpArgs{
		IpamPoolId: public.IpamPoolId,
		Tags:       pulumi.StringMap{"role": pulumi.String("nat")},
	})
	if err != nil {
		return err
	}

	ctx.Export("regionalCidrs", pulumi.StringArrayArray{regional[0].Cidrs, regional[1].Cidrs})
	ctx.Export("vpcCidrs", vpcCidrs)
	ctx.Export("ipv6Cidrs", ipv6Cidrs)
	ctx.Export("natPublicIp", nat.PublicIp)
	return nil
}
