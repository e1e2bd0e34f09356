/**
 * One pool and IPAM_SCALE_N /24 allocations (default 500), every tenth inside a component.
 * IPAM_SCALE_FOREIGN=1 adds a dynamic resource of another provider, which fast mode must refuse.
 */
import * as pulumi from "@pulumi/pulumi";
import * as ipam from "pulumi-ipam";

const n = Number(process.env.IPAM_SCALE_N ?? 500);
const pool = new ipam.IpamPool("pool", { addressFamily: "ipv4", cidrs: ["10.0.0.0/8"], allocationDefaultNetmaskLength: 24 });
const group = new pulumi.ComponentResource("test:index:Group", "group", {});
for (let i = 0; i < n; i++) {
  new ipam.IpamPoolAllocation(`a${i}`, { ipamPoolId: pool.ipamPoolId }, i % 10 === 0 ? { parent: group } : {});
}
if (process.env.IPAM_SCALE_FOREIGN === "1") {
  const provider: pulumi.dynamic.ResourceProvider = { async create() { return { id: "foreign-1", outs: {} }; } };
  class Foreign extends pulumi.dynamic.Resource {
    constructor(name: string) { super(provider, name, {}, {}); }
  }
  new Foreign("foreign");
}
export const first = pool.cidrs;
