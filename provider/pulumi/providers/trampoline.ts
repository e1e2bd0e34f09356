/**
 * A dynamic provider that is only a trampoline: each method require()s the
 * installed pulumi-ipam's handlers inside the call and captures nothing but
 * the resource kind. No store handle, secret or config is ever frozen into
 * state (pulumi/pulumi#4805, #6238).
 */
import type * as pulumi from "@pulumi/pulumi";

export type Kind = "IpamPool" | "IpamPoolAllocation" | "ElasticIp";

export function trampoline(kind: Kind): pulumi.dynamic.ResourceProvider {
  // Resolved in the provider process from the project's node_modules; PULUMI_IPAM_HANDLERS overrides it for development.
  const load = () => require(process.env.PULUMI_IPAM_HANDLERS || "pulumi-ipam/dist/provider/pulumi/handlers");
  return {
    async configure(req) { load().configure((k: string) => req.config.get(k)); },
    async check(olds, news) { return load().handlers[kind].check(olds, news); },
    async diff(id, olds, news) { return load().handlers[kind].diff(id, olds, news); },
    async create(inputs) { return load().handlers[kind].create(inputs); },
    async read(id, props) { return load().handlers[kind].read(id, props); },
    async update(id, olds, news) { return load().handlers[kind].update(id, olds, news); },
    async delete(id, props) { return load().handlers[kind].remove(id, props); },
  };
}
