/**
 * Resources from IPAM_TEST_PROGRAM: [{ kind, name, args, import?, parent? }]; stack outputs name => cidr / publicIp.
 * `parent: "<type>/<name>"` puts a resource inside a component of that type (made once per type and name);
 * results are keyed by "<parent>/<name>" then.
 */
import * as pulumi from "@pulumi/pulumi";
import * as ipam from "pulumi-ipam";

interface Spec { kind: "IpamPool" | "IpamPoolAllocation" | "ElasticIp"; name: string; args: any; import?: string; parent?: string }

const components = new Map<string, pulumi.ComponentResource>();
const component = (id: string) => {
  let c = components.get(id);
  if (!c) {
    const [type, name] = id.split("/");
    c = new pulumi.ComponentResource(`test:index:${type}`, name, {});
    components.set(id, c);
  }
  return c;
};

const specs: Spec[] = JSON.parse(process.env.IPAM_TEST_PROGRAM ?? "[]");
const out: Record<string, unknown> = {};
for (const s of specs) {
  const opts: pulumi.CustomResourceOptions = { ...(s.import ? { import: s.import } : {}), ...(s.parent ? { parent: component(s.parent) } : {}) };
  const key = s.parent ? `${s.parent}/${s.name}` : s.name;
  if (s.kind === "IpamPool") out[key] = new ipam.IpamPool(s.name, s.args, opts).cidrs;
  if (s.kind === "IpamPoolAllocation") out[key] = new ipam.IpamPoolAllocation(s.name, s.args, opts).cidr;
  if (s.kind === "ElasticIp") out[key] = new ipam.ElasticIp(s.name, s.args, opts).publicIp;
}
export const results = out;
