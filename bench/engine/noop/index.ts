/** The same shape as ../ipam with dynamic resources that do nothing: the engine's own cost. */
import * as pulumi from "@pulumi/pulumi";

const noop: pulumi.dynamic.ResourceProvider = {
  async check(_olds, news) { return { inputs: news }; },
  async diff() { return { changes: false }; },
  async create(inputs) { return { id: inputs.name, outs: inputs }; },
  async update(_id, _olds, news) { return { outs: news }; },
  async delete() {},
};
class Noop extends pulumi.dynamic.Resource {
  constructor(name: string, props: Record<string, unknown>) { super(noop, name, { name, ...props }, {}, "bench", "Noop"); }
}
const n = Number(process.env.IPAM_BENCH_N ?? 500);
const pool = new Noop("pool", { cidrs: ["10.0.0.0/8"] });
for (let i = 0; i < n; i++) new Noop(`a${i}`, { ipamPoolId: pool.id });
