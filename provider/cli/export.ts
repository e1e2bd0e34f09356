/**
 * `pulumi-ipam export terraform`: the address plan the Pulumi resources use
 * (planned in a preview, or held once created), with every CIDR pinned, as
 * a Terraform configuration synthesized through CDKTF into <dir>/cdk.tf.json.
 *
 * Configuration, the store and exit codes are the other read commands'
 * (command.ts, connect.ts): it reads only, and a missing store is an error,
 * never created. CDKTF and provider/export are loaded here and nowhere else,
 * and only when the command runs.
 */
import * as path from "node:path";
import { IpamError } from "../core/errors";
import { Ipam } from "../core/ipam";
import { quote } from "../core/quote";
import { readCommand } from "./command";

const bad = (message: string) => new IpamError("InvalidParameterValue", message);

export const exportCommand = readCommand("export", {
  summary: "export terraform -o DIR: the plan as Terraform (CDKTF) with every CIDR pinned, import blocks for what exists",
  usage: "export terraform -o DIR [--stack NAME | --store URL] [options]",
  description: `Writes DIR/cdk.tf.json, synthesized with CDKTF and @cdktf/provider-aws (optional packages):
aws_vpc_ipam_pool per pool (source pool by reference, netmask rules, allocation resource tags,
description, tags), aws_vpc_ipam_pool_cidr per provisioned CIDR, aws_vpc_ipam_pool_cidr_allocation
per allocation with its explicit cidr (never netmask_length), aws_eip per Elastic IP with its pool
and address. It takes the plan from the store: what a preview planned (not yet applied) and what
exists. On the aws backend, what exists gets import blocks (pool id, <cidr>_<pool-id>,
<allocation-id>_<pool-id>, eipalloc-...), so terraform plan adopts it instead of creating it. The
IPAM scope is a variable (ipam_scope_id); the region is the provider's (var.region when none is
configured). No backend block: add your own. With --stack, only that stack's resources.`,
  flags: {
    out: { type: "string", short: "o", value: "DIR", help: "where cdk.tf.json goes (created if missing)" },
  },
  positional: { min: 1, max: 1 },
  async run(p, io, conn) {
    if (p.args[0] !== "terraform") throw bad(`export writes one format, terraform (got ${quote(p.args[0])}); run 'pulumi-ipam export --help'.`);
    if (typeof p.flags.out !== "string" || !p.flags.out) throw bad("give the output directory: -o DIR.");
    if (conn!.kind === "alicloud") throw bad("export terraform writes AWS resources (@cdktf/provider-aws); this configuration's backend is alicloud.");
    if (!conn!.store) throw bad("the plans are in the store and there is none here: give --store, --cwd or --stack.");
    // Loaded only now, and only by this command.
    const { loadCdk } = require("../export/terraform/load") as typeof import("../export/terraform/load");
    const { readPlan } = require("../export/terraform/plan") as typeof import("../export/terraform/plan");
    const { synthesize } = require("../export/terraform/synth") as typeof import("../export/terraform/synth");
    const cdk = loadCdk();
    const s = conn!.settings;
    // On AWS the region the backend uses: ipam:region, else the SDK's own (AWS_REGION).
    const region = s.region ?? (conn!.kind === "aws" ? process.env.AWS_REGION || process.env.AWS_DEFAULT_REGION || undefined : undefined);
    const plan = await readPlan(new Ipam(conn!.store), conn!.backend, { stack: conn!.stack, backendKind: conn!.kind, region, scopeId: s.scopeId });
    for (const n of plan.notes) io.err(`warning: ${n}\n`);
    const file = synthesize(cdk, plan, path.resolve(String(p.flags.out)));
    const count = (n: number, what: string) => `${n} ${what}${n === 1 ? "" : "s"}`;
    const planned = [...plan.pools, ...plan.allocations, ...plan.addresses].filter((x) => x.state === "planned").length;
    const shown = path.relative(process.cwd(), file);
    io.out(`wrote ${shown.startsWith("..") ? file : shown}: ${count(plan.pools.length, "pool")}, ${count(plan.allocations.length, "allocation")}, `
      + `${count(plan.addresses.length, "Elastic IP")} (${planned} planned, not yet applied)\n`);
    return 0;
  },
});
