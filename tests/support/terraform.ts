/**
 * For the Terraform export's tests: running `pulumi-ipam export terraform`
 * as a user does (the package's bin, dist/provider/cli/main.js), reading
 * the synthesized cdk.tf.json, and checking it the way Terraform would
 * resolve it: every reference and depends_on names a defined resource or
 * variable, every import block's target exists. Plus OpenTofu, when
 * scripts/install-tofu.sh has built it.
 */
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";

export const ROOT = path.resolve(__dirname, "../..");
export const MAIN = path.join(ROOT, "dist/provider/cli/main.js");

export interface Exported { code: number; stdout: string; stderr: string; json?: TfJson; dir: string }

export type TfJson = {
  resource?: Record<string, Record<string, Record<string, unknown>>>;
  variable?: Record<string, Record<string, unknown>>;
  provider?: Record<string, Record<string, unknown>[]>;
  import?: { to: string; id: string }[];
  terraform?: Record<string, any>;
};

/** Runs the export into a fresh directory (or `out`); parses cdk.tf.json when it succeeded. */
export function exportTerraform(args: string[], opts: { env?: NodeJS.ProcessEnv; cwd?: string; out?: string; main?: string } = {}): Exported {
  const dir = opts.out ?? fs.mkdtempSync(path.join(os.tmpdir(), "ipam-tf-"));
  const r = spawnSync(process.execPath, [opts.main ?? MAIN, "export", "terraform", ...args, "-o", dir], {
    env: { ...process.env, ...opts.env }, cwd: opts.cwd ?? ROOT, encoding: "utf8", timeout: 120_000,
  });
  const out: Exported = { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr, dir };
  const file = path.join(dir, "cdk.tf.json");
  if (out.code === 0 && fs.existsSync(file)) out.json = JSON.parse(fs.readFileSync(file, "utf8")) as TfJson;
  return out;
}

/** The resources of one Terraform type by name, without CDKTF's "//" metadata. */
export function resources(json: TfJson, type: string): Record<string, Record<string, any>> {
  const out: Record<string, Record<string, any>> = {};
  for (const [name, body] of Object.entries(json.resource?.[type] ?? {})) {
    const { "//": _meta, ...rest } = body;
    out[name] = rest;
  }
  return out;
}

/** `${aws_x.name.attr}` -> ["aws_x", "name"]; `${var.x}` -> ["var", "x"]. */
export function referenced(value: unknown): string[][] {
  if (typeof value !== "string") return [];
  return [...value.matchAll(/\$\{([^}]*)\}/g)].map((m) => m[1].split("."));
}

/**
 * Every problem Terraform would find resolving names: references to
 * undefined resources or variables, depends_on entries and import targets
 * naming nothing. [] when all resolve.
 */
export function unresolved(json: TfJson): string[] {
  const problems: string[] = [];
  const has = (type: string, name: string) => !!json.resource?.[type]?.[name];
  const check = (where: string, ref: string[]) => {
    if (ref[0] === "var") { if (!json.variable?.[ref[1]]) problems.push(`${where}: var.${ref[1]} is not declared`); }
    else if (!has(ref[0], ref[1])) problems.push(`${where}: ${ref.slice(0, 2).join(".")} is not defined`);
  };
  const walk = (where: string, v: unknown): void => {
    if (Array.isArray(v)) v.forEach((x, i) => walk(`${where}[${i}]`, x));
    else if (v && typeof v === "object") for (const [k, x] of Object.entries(v)) { if (k !== "//") walk(`${where}.${k}`, x); }
    else for (const ref of referenced(v)) check(where, ref);
  };
  for (const [type, byName] of Object.entries(json.resource ?? {})) {
    for (const [name, body] of Object.entries(byName)) {
      const { depends_on: deps, ...rest } = body as { depends_on?: string[] };
      walk(`${type}.${name}`, rest);
      for (const d of deps ?? []) check(`${type}.${name}.depends_on`, d.split("."));
    }
  }
  for (const [name, blocks] of Object.entries(json.provider ?? {})) walk(`provider.${name}`, blocks);
  for (const imp of json.import ?? []) check(`import ${imp.id}`, imp.to.split("."));
  return problems;
}

/** The pool resource a `${aws_vpc_ipam_pool.X.id}` reference names. */
export function poolName(ref: unknown): string | undefined {
  const r = referenced(ref)[0];
  return r && r[0] === "aws_vpc_ipam_pool" && r[2] === "id" ? r[1] : undefined;
}

/** The OpenTofu binary scripts/install-tofu.sh built, if it did (the build takes many minutes, so tests do not start it). */
export function tofuBinary(): string | undefined {
  if (process.env.TOFU && fs.existsSync(process.env.TOFU)) return process.env.TOFU;
  const script = fs.readFileSync(path.join(ROOT, "scripts/install-tofu.sh"), "utf8");
  const version = /TOFU_VERSION="\$\{TOFU_VERSION:-([^}]+)\}"/.exec(script)?.[1];
  const cache = process.env.PULUMI_IPAM_CACHE ?? path.join(os.homedir(), ".cache/pulumi-ipam");
  const bin = path.join(cache, `tofu-${version}`, "tofu");
  return fs.existsSync(bin) ? bin : undefined;
}

export function tofu(bin: string, dir: string, args: string[]): { code: number; stdout: string; stderr: string } {
  // An empty CLI configuration (no ~/.terraformrc warning), no version check call home, state and plugins kept in `dir`.
  const rc = path.join(dir, ".tofurc");
  fs.writeFileSync(rc, "");
  const r = spawnSync(bin, args, {
    cwd: dir, encoding: "utf8", timeout: 120_000,
    env: { ...process.env, TF_IN_AUTOMATION: "1", CHECKPOINT_DISABLE: "1", TF_CLI_CONFIG_FILE: rc, TF_DATA_DIR: path.join(dir, ".tofu") },
  });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}
