/**
 * `pulumi-ipam export terraform`: the address plan the Pulumi resources use
 * (planned in a preview, or held once created), with every CIDR pinned, as
 * a Terraform configuration synthesized through CDKTF into <dir>/cdk.tf.json.
 *
 * The store and backend come from the same configuration as the resources:
 * flags, else PULUMI_IPAM_*, else the Pulumi project's config (Pulumi.yaml,
 * and Pulumi.<stack>.yaml with --stack), else the local store beside the
 * project (.pulumi-ipam/ipam.db). It reads only: a missing store is an
 * error, never created. CDKTF is loaded here and nowhere else.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { IpamError } from "../core/errors";
import { quote } from "../core/quote";
import { CONFIG_KEYS, envName, parseSettings } from "../runtime/config";

export const USAGE = `usage: pulumi-ipam export terraform -o DIR [--stack NAME] [--store URL] [--cwd DIR]
       [--backend local|aws] [--region REGION] [--endpoint URL] [--scope-id ipam-scope-...]

Writes DIR/cdk.tf.json: aws_vpc_ipam_pool per pool, aws_vpc_ipam_pool_cidr per provisioned CIDR,
aws_vpc_ipam_pool_cidr_allocation per allocation with its explicit cidr, aws_eip per Elastic IP,
from the plan in the store (a preview's planned CIDRs and what exists); on the aws backend,
import blocks for what exists. The IPAM scope is a variable; the region is the provider's.

  --stack NAME     only that stack's resources; reads ipam:* from Pulumi.NAME.yaml too
  --store URL      sqlite:<path> or postgres://... (default: PROJECT/.pulumi-ipam/ipam.db)
  --cwd DIR        the Pulumi project whose config and store to read (default: the current directory)
  -o, --out DIR    where cdk.tf.json goes (created if missing)`;

/** Bad arguments or input: one line with the code, exit 2. */
const bad = (message: string) => new IpamError("InvalidParameterValue", message);

const FLAGS: Record<string, (typeof CONFIG_KEYS)[number]> = {
  "--store": "store", "--backend": "backend", "--region": "region", "--endpoint": "endpoint", "--scope-id": "scopeId",
};

interface Args { out: string; stack?: string; project: string; flags: Record<string, string> }

function parse(argv: string[]): Args {
  const [what, ...rest] = argv;
  if (what !== "terraform") throw bad(`export writes one format, terraform: pulumi-ipam export terraform -o DIR (got ${quote(what ?? "nothing")})`);
  const a: Partial<Args> & { flags: Record<string, string> } = { flags: {}, project: "." };
  for (let i = 0; i < rest.length; i++) {
    const f = rest[i];
    const value = () => {
      const v = rest[++i];
      if (v === undefined || v.startsWith("--")) throw bad(`${f} needs a value; run 'pulumi-ipam export --help'`);
      return v;
    };
    if (f === "-o" || f === "--out") a.out = value();
    else if (f === "--stack") a.stack = value();
    else if (f === "--cwd") a.project = value();
    else if (FLAGS[f]) a.flags[FLAGS[f]] = value();
    else throw bad(`unknown option ${quote(f)}; run 'pulumi-ipam export --help'`);
  }
  if (!a.out) throw bad("give the output directory: -o DIR");
  return a as Args;
}

/**
 * The ipam:* values of a Pulumi project or stack file: plain scalars
 * (`ipam:store: sqlite:...`) or a project's `value:`/`default:`; a `secure:`
 * value cannot be read without the stack's secrets provider.
 */
export function ipamConfig(file: string): Record<string, string> {
  if (!fs.existsSync(file)) return {};
  const out: Record<string, string> = {};
  const lines = fs.readFileSync(file, "utf8").split(/\r?\n/);
  const unquote = (v: string) => v.trim().replace(/^(["'])(.*)\1$/, "$2");
  let inConfig = false;
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i];
    if (/^\S/.test(line)) { inConfig = /^config:\s*$/.test(line); continue; }
    const m = inConfig && /^\s+ipam:([A-Za-z]+):\s*(.*?)\s*(#.*)?$/.exec(line);
    if (!m) continue;
    let value = m[2];
    if (value === "") {
      const nested = /^\s+(value|default|secure):\s*(.*?)\s*$/.exec(lines[i + 1] ?? "");
      if (nested?.[1] === "secure") throw bad(`ipam:${m[1]} is a secret in ${file}; give it with --${m[1] === "scopeId" ? "scope-id" : m[1]} or ${CONFIG_KEYS.includes(m[1] as never) ? envName(m[1] as (typeof CONFIG_KEYS)[number]) : "its PULUMI_IPAM_ variable"}`);
      value = nested?.[2] ?? "";
    }
    out[m[1]] = unquote(value);
  }
  return out;
}

/** Runs the command; the path written. */
export async function exportTerraform(argv: string[]): Promise<string> {
  const a = parse(argv);
  const project = path.resolve(a.project);
  if (!fs.existsSync(project) || !fs.statSync(project).isDirectory()) throw bad(`--cwd ${quote(a.project)} is not a directory`);
  // Flags win over the environment, which wins over the project's config (as the resources read it).
  for (const [k, v] of Object.entries(a.flags)) process.env[envName(k as (typeof CONFIG_KEYS)[number])] = v;
  const config = { ...ipamConfig(path.join(project, "Pulumi.yaml")), ...(a.stack ? ipamConfig(path.join(project, `Pulumi.${a.stack}.yaml`)) : {}) };
  const settings = parseSettings(config);
  if (settings.backend === "alicloud") {
    throw bad("export terraform writes AWS resources (@cdktf/provider-aws); this stack's backend is alicloud");
  }
  const url = settings.store ?? `sqlite:${path.join(project, ".pulumi-ipam", "ipam.db")}`;
  if (url.startsWith("sqlite:")) {
    const file = url.slice("sqlite:".length).split("?")[0];
    if (!fs.existsSync(file)) {
      throw bad(`no store at ${file}: run a preview or up of the project first, or give --store URL${settings.store ? "" : ", --cwd DIR or --stack NAME"}`);
    }
  }
  process.env[envName("store")] = url;

  // Loaded only now: the wiring opens the store, the export needs CDKTF.
  const { loadCdk } = require("../export/terraform/load") as typeof import("../export/terraform/load");
  const cdk = loadCdk();
  const { context, setSettings } = require("../runtime/context") as typeof import("../runtime/context");
  const { readPlan } = require("../export/terraform/plan") as typeof import("../export/terraform/plan");
  const { synthesize } = require("../export/terraform/synth") as typeof import("../export/terraform/synth");
  setSettings(config);
  const { ipam, backend } = context();
  try {
    // On AWS the region the backend used: ipam:region, else the SDK's own (AWS_REGION).
    const region = settings.region ?? (backend.kind === "aws" ? process.env.AWS_REGION || process.env.AWS_DEFAULT_REGION || undefined : undefined);
    const plan = await readPlan(ipam, backend, { stack: a.stack, backendKind: backend.kind, region, scopeId: settings.scopeId });
    for (const n of plan.notes) process.stderr.write(`warning: ${n}\n`);
    const file = synthesize(cdk, plan, path.resolve(a.out));
    const count = (s: string) => (n: number) => `${n} ${s}${n === 1 ? "" : "s"}`;
    const shown = path.relative(process.cwd(), file);
    process.stdout.write(`wrote ${shown.startsWith("..") ? file : shown}: ${count("pool")(plan.pools.length)}, ${count("allocation")(plan.allocations.length)}, ${count("Elastic IP")(plan.addresses.length)}`
      + ` (${[...plan.pools, ...plan.allocations, ...plan.addresses].filter((x) => x.state === "planned").length} planned, not yet applied)\n`);
    return file;
  } finally {
    await ipam.store.close();
  }
}

/** Exit codes: 0 written; 2 bad arguments or input (one line with the code); 1 anything else (a store or cloud API down). */
export async function main(argv: string[]): Promise<number> {
  if (argv.includes("--help") || argv.includes("-h")) { process.stdout.write(`${USAGE}\n`); return 0; }
  try {
    await exportTerraform(argv);
    return 0;
  } catch (e) {
    const { MissingPackages } = require("../export/terraform/load") as typeof import("../export/terraform/load");
    const input = e instanceof MissingPackages || (e instanceof IpamError && /^(InvalidParameter|Invalid.*NotFound)/.test(e.code));
    process.stderr.write(`${(e instanceof Error ? e.message : String(e)).split("\n")[0]}\n`);
    return input ? 2 : 1;
  }
}

/** Its entry in main.ts's table of commands. */
export const exportCommand = {
  summary: "export terraform -o DIR: the plan as a Terraform configuration (CDKTF), every CIDR pinned, import blocks for what exists",
  main,
};

/** Runs and exits with main's code: for a dispatcher that does not take exit codes. */
export function exportAndExit(argv: string[]): void {
  main(argv).then((code) => process.exit(code));
}
