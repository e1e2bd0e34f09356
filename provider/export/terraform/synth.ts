/**
 * The exported plan as a CDKTF stack of @cdktf/provider-aws constructs,
 * synthesized to <dir>/cdk.tf.json. Every CIDR is written out: a pool's
 * provisioned CIDRs as aws_vpc_ipam_pool_cidr, each allocation's as the
 * explicit `cidr` of aws_vpc_ipam_pool_cidr_allocation (never
 * netmask_length: Terraform would learn that CIDR only at apply, siblings
 * would preview the same one, terraform-provider-aws #25958, and importing
 * by netmask forces a replacement, #38614, #43225), each Elastic IP's
 * address. On the aws backend what already exists gets an `import` block in
 * the provider's id format, so `terraform plan` adopts it instead of
 * creating it.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import type { TerraformResource, TerraformStack, TerraformVariable } from "cdktf";
import type { Construct } from "constructs";
import { DEFAULT_SCOPE_ID } from "../../core/scopes";
import type { Cdk } from "./load";
import type { ExportPlan, ExportPool } from "./plan";

export const STACK_NAME = "pulumi-ipam";

/** A Terraform name: letters, digits, '_' and '-', not starting with a digit or '-'. */
export function tfName(raw: string): string {
  const s = raw.replace(/[^A-Za-z0-9_-]/g, "_");
  return /^[A-Za-z_]/.test(s) ? s : `_${s}`;
}

/** Names unique within each Terraform type, in the order asked (the plan is sorted, so the same plan gives the same names). */
class Names {
  private readonly used = new Map<string, Set<string>>();
  take(type: string, raw: string): string {
    const set = this.used.get(type) ?? new Set<string>();
    this.used.set(type, set);
    const base = tfName(raw);
    let name = base;
    for (let i = 2; set.has(name); i++) name = `${base}_${i}`;
    set.add(name);
    return name;
  }
}

const nonEmpty = (t: Record<string, string> | undefined) => (t && Object.keys(t).length ? t : undefined);

/** Builds the stack in `app`; returns it. Separate from writing so tests can inspect the constructs too. */
export function buildStack(cdk: Cdk, scope: Construct, plan: ExportPlan): TerraformStack {
  const { TerraformStack, TerraformVariable } = cdk.cdktf;
  const stack = new TerraformStack(scope, STACK_NAME);
  // Where state lives is the team's choice (a backend.tf of theirs; Terraform allows one backend block):
  // no backend, rather than CDKTF's default local one at this machine's absolute path.
  stack.addOverride("terraform.backend", undefined);
  const names = new Names();
  const cid = (type: string, name: string) => `${type}.${name}`;
  const make = <T extends TerraformResource>(type: string, raw: string, build: (id: string) => T): T => {
    const name = names.take(type, raw);
    const r = build(cid(type, name));
    r.overrideLogicalId(name);
    return r;
  };
  const variable = (name: string, description: string, value?: string): TerraformVariable => {
    const v = new TerraformVariable(stack, cid("variable", name), { type: "string", description, ...(value ? { default: value } : {}) });
    v.overrideLogicalId(name);
    return v;
  };

  const cloud = plan.backend !== "local";
  const region = plan.region ? undefined : variable("region", "The AWS region of the IPAM (the provider's region).");
  new cdk.AwsProvider(stack, "aws", { region: plan.region ?? region!.stringValue });

  // One variable per IPAM scope: on the local backend scopes are the store's, not AWS's, so the team supplies the real one.
  const defaultScope = plan.scopeId ?? DEFAULT_SCOPE_ID;
  const scopes = new Map<string, TerraformVariable>();
  const scopeVar = (id: string) => {
    let v = scopes.get(id);
    if (!v) {
      const name = id === defaultScope ? "ipam_scope_id" : `ipam_scope_id_${id.replace(/^ipam-scope-/, "")}`;
      const known = cloud && id !== DEFAULT_SCOPE_ID;
      v = variable(name, known ? `The IPAM scope ${id}.` : `The AWS IPAM scope (ipam-scope-...) for the pools in ${cloud ? "the default" : "local"} scope ${id}.`, known ? id : undefined);
      scopes.set(id, v);
    }
    return v;
  };
  const external = new Map<string, TerraformVariable>();
  for (const id of plan.externalPools) {
    external.set(id, variable(tfName(`ipam_pool_${id.replace(/^ipam-pool-/, "")}`), `The IPAM pool ${id}, which this configuration takes from but does not define.`, cloud ? id : undefined));
  }

  // Pools in dependency order: a nested pool after its source, so references and depends_on name defined resources.
  const pools = new Map<string, { pool: import("@cdktf/provider-aws/lib/vpc-ipam-pool").VpcIpamPool; cidrs: TerraformResource[]; info: ExportPool }>();
  const ordered = topological(plan.pools);
  const poolRef = (id: string) => pools.get(id)?.pool.id ?? external.get(id)!.stringValue;
  const cidrsOf = (id: string) => pools.get(id)?.cidrs ?? [];
  for (const p of ordered) {
    const pool = make("aws_vpc_ipam_pool", p.name, (id) => new cdk.VpcIpamPool(stack, id, {
      addressFamily: p.addressFamily, ipamScopeId: scopeVar(p.ipamScopeId).stringValue, locale: p.locale, description: p.description,
      sourceIpamPoolId: p.sourceIpamPoolId ? poolRef(p.sourceIpamPoolId) : undefined,
      allocationMinNetmaskLength: p.allocationMinNetmaskLength, allocationMaxNetmaskLength: p.allocationMaxNetmaskLength,
      allocationDefaultNetmaskLength: p.allocationDefaultNetmaskLength, allocationResourceTags: nonEmpty(p.allocationResourceTags),
      tags: nonEmpty(p.tags),
    }));
    if (cloud && p.state === "held") pool.importFrom(p.ipamPoolId);
    // A nested pool's CIDR is carved from its source's, which must be provisioned first.
    const after = p.sourceIpamPoolId ? cidrsOf(p.sourceIpamPoolId) : [];
    const cidrs = p.cidrs.map((cidr, i) => {
      const r = make("aws_vpc_ipam_pool_cidr", `${p.name}_${i}`, (id) => new cdk.VpcIpamPoolCidr(stack, id, {
        ipamPoolId: pool.id, cidr, ...(after.length ? { dependsOn: after } : {}),
      }));
      if (cloud && p.state === "held") r.importFrom(`${cidr}_${p.ipamPoolId}`);
      return r;
    });
    pools.set(p.ipamPoolId, { pool, cidrs, info: p });
  }

  for (const a of plan.allocations) {
    const after = cidrsOf(a.ipamPoolId);
    const r = make("aws_vpc_ipam_pool_cidr_allocation", a.name, (id) => new cdk.VpcIpamPoolCidrAllocation(stack, id, {
      ipamPoolId: poolRef(a.ipamPoolId), cidr: a.cidr, description: a.description,
      disallowedCidrs: a.disallowedCidrs?.length ? a.disallowedCidrs : undefined, ...(after.length ? { dependsOn: after } : {}),
    }));
    if (cloud && a.ipamPoolAllocationId) r.importFrom(`${a.ipamPoolAllocationId}_${a.ipamPoolId}`);
  }

  for (const e of plan.addresses) {
    const after = cidrsOf(e.ipamPoolId);
    const r = make("aws_eip", e.name, (id) => new cdk.Eip(stack, id, {
      domain: "vpc", ipamPoolId: poolRef(e.ipamPoolId), address: e.publicIp, tags: nonEmpty(e.tags), ...(after.length ? { dependsOn: after } : {}),
    }));
    if (cloud && e.allocationId) r.importFrom(e.allocationId);
  }
  return stack;
}

/** Sources before the pools nested in them; otherwise the plan's order. */
function topological(pools: ExportPool[]): ExportPool[] {
  const byId = new Map(pools.map((p) => [p.ipamPoolId, p]));
  const out: ExportPool[] = [];
  const done = new Set<string>();
  const visit = (p: ExportPool, depth: number) => {
    if (done.has(p.ipamPoolId) || depth > pools.length) return;
    const src = p.sourceIpamPoolId && byId.get(p.sourceIpamPoolId);
    if (src) visit(src, depth + 1);
    done.add(p.ipamPoolId);
    out.push(p);
  };
  for (const p of pools) visit(p, 0);
  return out;
}

/** Synthesizes the plan to `<dir>/cdk.tf.json` and returns that file's path. */
export function synthesize(cdk: Cdk, plan: ExportPlan, dir: string): string {
  const work = fs.mkdtempSync(path.join(os.tmpdir(), "pulumi-ipam-cdktf-"));
  try {
    const app = new cdk.cdktf.App({ outdir: work, stackTraces: false });
    buildStack(cdk, app, plan);
    app.synth();
    fs.mkdirSync(dir, { recursive: true });
    const file = path.join(dir, "cdk.tf.json");
    fs.copyFileSync(path.join(work, "stacks", STACK_NAME, "cdk.tf.json"), file);
    return file;
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
  }
}
