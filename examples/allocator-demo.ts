/**
 * The allocator on its own, on a SQLite file: a /8 with rules, two regional
 * child pools, VPC allocations, an IPv6 pool, and an Elastic IP.
 * Run: make demo  (store: IPAM_STORE, default sqlite:.pulumi-ipam/demo.db)
 */
import { Ipam } from "../provider/core/ipam";
import { openStore } from "../provider/stores";

async function main(): Promise<void> {
  const store = openStore(process.env.IPAM_STORE ?? "sqlite:.pulumi-ipam/demo.db");
  const ipam = new Ipam(store);
  const top = await ipam.createPool({
    addressFamily: "ipv4", cidrs: ["10.0.0.0/8"], description: "corporate",
    allocationMinNetmaskLength: 12, allocationMaxNetmaskLength: 28, allocationDefaultNetmaskLength: 16,
  });
  const east = await ipam.createPool({ addressFamily: "ipv4", sourceIpamPoolId: top.ipamPoolId, netmaskLength: 12, locale: "us-east-1", allocationDefaultNetmaskLength: 20 });
  const west = await ipam.createPool({ addressFamily: "ipv4", sourceIpamPoolId: top.ipamPoolId, netmaskLength: 12, locale: "us-west-2", allocationDefaultNetmaskLength: 20 });
  console.log(`pool ${top.ipamPoolId} ${top.cidrs}  east ${east.cidrs}  west ${west.cidrs}`);
  for (const [name, pool] of [["east-a", east], ["east-b", east], ["west-a", west]] as const) {
    const next = await ipam.previewNextCidr({ ipamPoolId: pool.ipamPoolId });
    const a = await ipam.allocate({ ipamPoolId: pool.ipamPoolId, description: name, clientToken: `demo-${name}-${pool.ipamPoolId}` });
    console.log(`${name}: planned ${next}, allocated ${a.cidr} (${a.ipamPoolAllocationId})`);
  }
  const v6 = await ipam.createPool({ addressFamily: "ipv6", cidrs: ["2001:db8::/48"], allocationDefaultNetmaskLength: 56 });
  console.log(`ipv6: ${(await ipam.allocate({ ipamPoolId: v6.ipamPoolId })).cidr}`);
  const pub = await ipam.createPool({ addressFamily: "ipv4", cidrs: ["198.51.100.0/24"], description: "public" });
  const eip = await ipam.allocateAddress({ ipamPoolId: pub.ipamPoolId });
  console.log(`elastic ip: ${eip.publicIp} (${eip.allocationId})`);
  const u = await ipam.utilization(east.ipamPoolId);
  console.log(`east utilization: ${u.allocated} of ${u.total} addresses allocated`);
  await store.close();
}

main().catch((e) => { console.error(e.message ?? e); process.exit(1); });
