/** 1 pool + N allocations (IPAM_BENCH_N, default 500), each planned in preview. */
import * as ipam from "pulumi-ipam";

const n = Number(process.env.IPAM_BENCH_N ?? 500);
const pool = new ipam.IpamPool("pool", { addressFamily: "ipv4", cidrs: ["10.0.0.0/8"], allocationDefaultNetmaskLength: 24 });
for (let i = 0; i < n; i++) new ipam.IpamPoolAllocation(`a${i}`, { ipamPoolId: pool.ipamPoolId });
