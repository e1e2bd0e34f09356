/**
 * programs/custom on the other face: the same IPAM_TEST_PROGRAM specs
 * ([{ kind, name, args, import? }]) as resources of the generated Node.js SDK,
 * served by the pulumi-resource-ipam plugin. Stack outputs name => cidr / publicIp.
 */
import * as pulumi from "@pulumi/pulumi";
import * as ipam from "@pulumi-ipam/ipam";

interface Spec { kind: "IpamPool" | "IpamPoolAllocation" | "ElasticIp"; name: string; args: any; import?: string }

const specs: Spec[] = JSON.parse(process.env.IPAM_TEST_PROGRAM ?? "[]");
const out: Record<string, unknown> = {};
for (const s of specs) {
  const opts: pulumi.CustomResourceOptions = s.import ? { import: s.import } : {};
  if (s.kind === "IpamPool") out[s.name] = new ipam.IpamPool(s.name, s.args, opts).cidrs;
  if (s.kind === "IpamPoolAllocation") out[s.name] = new ipam.IpamPoolAllocation(s.name, s.args, opts).cidr;
  if (s.kind === "ElasticIp") out[s.name] = new ipam.ElasticIp(s.name, s.args, opts).publicIp;
}
export const results = out;
