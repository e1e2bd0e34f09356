/**
 * `pulumi-ipam export terraform` on a SQLite store holding the quickstart's
 * address plan, made the way the resources make it (Planner.plan* in
 * check(), commit* in create(), keys the resources' URNs): a preview's
 * planned reservations exported before anything exists, then the same plan
 * applied. The cdk.tf.json is checked resource by resource against the store,
 * read beside the exporter (the reservation table through its own SQLite
 * connection, what exists through the allocator's API), and parsed by
 * OpenTofu where scripts/install-tofu.sh has built it.
 */
import { CreateIpamCommand, EC2Client } from "@aws-sdk/client-ec2";
import { spawnSync } from "node:child_process";
import Database from "better-sqlite3";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { Ipam } from "../../provider/core/ipam";
import type { ReservationRecord } from "../../provider/core/model";
import { Plan, Planner } from "../../provider/core/plan";
import type { AllocateInput, CreatePoolInput } from "../../provider/core/types";
import { MemoryStore } from "../../provider/stores/memory";
import { openStore } from "../../provider/stores";
import { SqliteStore } from "../../provider/stores/sqlite";
import { context } from "../../provider/runtime/context";
import { fakecloudInstalled, fakecloudMissingReason, startAwsEmulators, type AwsEmulators } from "../support/aws/emulators";
import { freshPgDatabase } from "../support/pg";
import { exportTerraform, MAIN, poolName, resources, ROOT, TfJson, tofu, tofuBinary, unresolved } from "../support/terraform";

const urn = (stack: string, kind: string, name: string) => `urn:pulumi:${stack}::ipam-local-quickstart::pulumi-nodejs:dynamic/ipam:${kind}::${name}`;

/** The quickstart program's resources (examples/local-quickstart/index.ts), in its registration order. */
type Step =
  | { kind: "IpamPool"; name: string; spec: (ids: Record<string, string>) => CreatePoolInput }
  | { kind: "IpamPoolAllocation"; name: string; req: (ids: Record<string, string>) => AllocateInput }
  | { kind: "ElasticIp"; name: string; req: (ids: Record<string, string>) => { ipamPoolId: string; tags?: Record<string, string> } };

const QUICKSTART: Step[] = [
  { kind: "IpamPool", name: "corp", spec: () => ({ addressFamily: "ipv4", cidrs: ["10.0.0.0/8"], description: "corporate private space", allocationMinNetmaskLength: 12, allocationMaxNetmaskLength: 28, tags: { owner: "network-team" } }) },
  ...["us-east-1", "eu-west-1"].map((locale): Step => ({
    kind: "IpamPool", name: `corp-${locale}`,
    spec: (ids) => ({ addressFamily: "ipv4", sourceIpamPoolId: ids.corp, netmaskLength: 12, locale, allocationDefaultNetmaskLength: 20, allocationResourceTags: { env: "prod" } }),
  })),
  ...[["vpc-east-app", "corp-us-east-1"], ["vpc-east-data", "corp-us-east-1", 22], ["vpc-west-app", "corp-eu-west-1"], ["vpc-west-edge", "corp-eu-west-1", 24]].map(([name, pool, netmaskLength]): Step => ({
    kind: "IpamPoolAllocation", name: name as string,
    req: (ids) => ({ ipamPoolId: ids[pool as string], netmaskLength: netmaskLength as number | undefined, description: name as string, resourceType: "vpc", resourceTags: { env: "prod" } }),
  })),
  { kind: "IpamPool", name: "corp-v6", spec: () => ({ addressFamily: "ipv6", cidrs: ["fd00:10::/48"], allocationDefaultNetmaskLength: 56 }) },
  ...["v6-east", "v6-west"].map((name): Step => ({ kind: "IpamPoolAllocation", name, req: (ids) => ({ ipamPoolId: ids["corp-v6"], description: name, resourceType: "custom" }) })),
  { kind: "IpamPool", name: "public", spec: () => ({ addressFamily: "ipv4", cidrs: ["198.51.100.0/28"], description: "public addresses for Elastic IPs" }) },
  { kind: "ElasticIp", name: "nat-gateway", req: (ids) => ({ ipamPoolId: ids.public, tags: { role: "nat" } }) },
  // Beyond the quickstart: disallowed CIDRs and an explicit CIDR, exported as given.
  { kind: "IpamPoolAllocation", name: "vpc-east-fenced", req: (ids) => ({ ipamPoolId: ids["corp-us-east-1"], disallowedCidrs: ["10.0.32.0/20", "10.0.48.0/20"], description: "skips two /20s", resourceTags: { env: "prod" } }) },
  { kind: "IpamPoolAllocation", name: "vpc-west-fixed", req: (ids) => ({ ipamPoolId: ids["corp-eu-west-1"], cidr: "10.16.200.0/24", resourceTags: { env: "prod" } }) },
];

interface Planned { step: Step; key: string; plan: Plan; input: any }

/** Plans every resource as check() does in a preview; returns the plans by name. */
async function preview(planner: Planner, stack: string, steps = QUICKSTART): Promise<Record<string, Planned>> {
  const ids: Record<string, string> = {};
  const out: Record<string, Planned> = {};
  for (const step of steps) {
    const key = urn(stack, step.kind, step.name);
    let plan: Plan, input: any;
    if (step.kind === "IpamPool") { input = step.spec(ids); plan = await planner.planPool(key, input); ids[step.name] = plan.ipamPoolId; }
    else if (step.kind === "IpamPoolAllocation") { input = step.req(ids); plan = await planner.planAllocation(key, input); }
    else { input = step.req(ids); plan = await planner.planAddress(key, input); }
    out[step.name] = { step, key, plan, input };
  }
  return out;
}

/** Creates every planned resource as create() does in `up`. */
async function apply(planner: Planner, planned: Record<string, Planned>): Promise<void> {
  for (const { step, key, plan, input } of Object.values(planned)) {
    if (step.kind === "IpamPool") await planner.commitPool(key, input, plan);
    else if (step.kind === "IpamPoolAllocation") await planner.commitAllocation(key, input, plan);
    else await planner.commitAddress(key, input, plan);
  }
}

/** The reservation table as SQLite holds it, read through a connection of its own (not the exporter's store code). */
function reservationRows(file: string, now = Date.now()): ReservationRecord[] {
  const db = new Database(file, { readonly: true, fileMustExist: true });
  try {
    const rows = db.prepare("SELECT body FROM ipam_reservations").pluck().all() as string[];
    return rows.map((b) => JSON.parse(b) as ReservationRecord).filter((r) => r.expiresAt === 0 || r.expiresAt > now);
  } finally {
    db.close();
  }
}

const nameOf = (key: string) => key.split("::").pop()!;

/**
 * The export against the reservations, resource by resource: each pool with
 * its CIDRs and rules, each allocation exactly once with its CIDR and pool,
 * each Elastic IP with its address and pool; every name resolves; no
 * netmask_length anywhere an allocation or a pool CIDR is written.
 */
function expectMatchesReservations(json: TfJson, rows: ReservationRecord[]): void {
  expect(unresolved(json)).toEqual([]);
  const pools = resources(json, "aws_vpc_ipam_pool");
  const poolCidrs = resources(json, "aws_vpc_ipam_pool_cidr");
  const allocations = resources(json, "aws_vpc_ipam_pool_cidr_allocation");
  const eips = resources(json, "aws_eip");
  const poolById = new Map(rows.filter((r) => r.kind === "pool").map((r) => [r.ipamPoolId, nameOf(r.key)]));

  const poolRows = rows.filter((r) => r.kind === "pool");
  expect(Object.keys(pools).sort()).toEqual(poolRows.map((r) => nameOf(r.key)).sort());
  for (const r of poolRows) {
    const name = nameOf(r.key);
    const info = JSON.parse(r.pool!);
    expect(pools[name]).toMatchObject({ address_family: info.addressFamily });
    expect(pools[name].ipam_scope_id).toBe("${var.ipam_scope_id}");
    if (info.sourceIpamPoolId) expect(poolName(pools[name].source_ipam_pool_id)).toBe(poolById.get(r.spacePoolId!));
    else expect(pools[name].source_ipam_pool_id).toBeUndefined();
    for (const [field, tf] of [["locale", "locale"], ["description", "description"], ["allocationMinNetmaskLength", "allocation_min_netmask_length"],
      ["allocationMaxNetmaskLength", "allocation_max_netmask_length"], ["allocationDefaultNetmaskLength", "allocation_default_netmask_length"]]) {
      expect([name, tf, pools[name][tf]]).toEqual([name, tf, info[field]]);
    }
    expect(pools[name].allocation_resource_tags ?? {}).toEqual(info.allocationResourceTags ?? {});
    expect(pools[name].tags ?? {}).toEqual(info.tags ?? {});
    const mine = Object.values(poolCidrs).filter((c) => poolName(c.ipam_pool_id) === name);
    expect([name, mine.map((c) => c.cidr).sort()]).toEqual([name, [...r.cidrs].sort()]);
  }
  for (const c of Object.values(poolCidrs)) expect(c.netmask_length).toBeUndefined();

  const allocationRows = rows.filter((r) => r.kind === "allocation");
  expect(Object.keys(allocations)).toHaveLength(allocationRows.length);
  for (const r of allocationRows) {
    const name = nameOf(r.key);
    const req = JSON.parse(r.request) as AllocateInput;
    expect(allocations[name]).toBeDefined();
    expect([name, allocations[name].cidr]).toEqual([name, r.cidrs[0]]);
    expect(poolName(allocations[name].ipam_pool_id)).toBe(poolById.get(r.ipamPoolId));
    expect(allocations[name].disallowed_cidrs).toEqual(req.disallowedCidrs);
    expect(allocations[name].description).toBe(req.description);
  }
  // Every allocation once: as many distinct CIDRs as allocations, each a reservation's.
  const cidrs = Object.values(allocations).map((a) => a.cidr);
  expect(new Set(cidrs).size).toBe(cidrs.length);
  expect([...cidrs].sort()).toEqual(allocationRows.map((r) => r.cidrs[0]).sort());
  for (const a of Object.values(allocations)) expect(a.netmask_length).toBeUndefined();

  const addressRows = rows.filter((r) => r.kind === "address");
  expect(Object.keys(eips).sort()).toEqual(addressRows.map((r) => nameOf(r.key)).sort());
  for (const r of addressRows) {
    const e = eips[nameOf(r.key)];
    expect(`${e.address}/32`).toBe(r.cidrs[0]);
    expect(e.domain).toBe("vpc");
    expect(poolName(e.ipam_pool_id)).toBe(poolById.get(r.ipamPoolId));
  }
}

describe("export terraform of the quickstart's plan (SQLite store, seeded as the resources do)", () => {
  let dir: string;
  let file: string;
  let planned: Record<string, Planned>;
  let planExport: TfJson;
  const open = () => {
    const store = new SqliteStore(file);
    const ipam = new Ipam(store);
    return { store, ipam, planner: new Planner(ipam, () => new MemoryStore()) };
  };
  const store = () => ["--store", `sqlite:${file}`];

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "ipam-export-"));
    file = path.join(dir, "ipam.db");
    // dir is also a Pulumi project with three stacks (--stack reads Pulumi.<stack>.yaml, which must exist).
    fs.writeFileSync(path.join(dir, "Pulumi.yaml"), "name: ipam-local-quickstart\nruntime: nodejs\n");
    for (const stack of ["dev", "prod", "staging"]) fs.writeFileSync(path.join(dir, `Pulumi.${stack}.yaml`), "encryptionsalt: v1:c2FsdA==:v1:abc\n");
    const s = open();
    planned = await preview(s.planner, "dev");
    await s.store.close();
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  test("after a preview: every planned pool, CIDR, allocation and address, as the store's reservations say", () => {
    const r = exportTerraform(store());
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/5 pools, 8 allocations, 1 Elastic IP \(14 planned, not yet applied\)/);
    const rows = reservationRows(file);
    expect(rows.every((x) => x.expiresAt > 0)).toBe(true);
    expect(rows).toHaveLength(QUICKSTART.length);
    expectMatchesReservations(r.json!, rows);
    // The CIDRs are the ones the preview showed.
    const allocations = resources(r.json!, "aws_vpc_ipam_pool_cidr_allocation");
    for (const p of Object.values(planned).filter((x) => x.step.kind === "IpamPoolAllocation")) expect(allocations[p.step.name].cidr).toBe(p.plan.cidrs[0]);
    expect(allocations["vpc-west-fixed"].cidr).toBe("10.16.200.0/24");
    expect(resources(r.json!, "aws_eip")["nat-gateway"].address).toBe("198.51.100.0");
    // Local backend: nothing exists in AWS, so nothing to import; scope and region are the team's to give.
    expect(r.json!.import).toBeUndefined();
    expect(Object.keys(r.json!.variable ?? {}).sort()).toEqual(["ipam_scope_id", "region"]);
    expect(r.json!.variable!.ipam_scope_id.default).toBeUndefined();
    expect(r.json!.provider!.aws).toEqual([{ region: "${var.region}" }]);
    expect(r.json!.terraform!.required_providers.aws).toEqual({ source: "aws", version: "6.25.0" });
    // A nested pool's CIDR is provisioned after its source's, and an allocation after its pool's CIDR.
    const east = Object.entries(resources(r.json!, "aws_vpc_ipam_pool_cidr")).find(([, c]) => poolName(c.ipam_pool_id) === "corp-us-east-1")!;
    expect(east[1].depends_on).toEqual(["aws_vpc_ipam_pool_cidr.corp_0"]);
    expect(allocations["vpc-east-app"].depends_on).toEqual([`aws_vpc_ipam_pool_cidr.${east[0]}`]);
    planExport = r.json!;
  });

  test("the same plan in PostgreSQL exports the same configuration", async () => {
    const url = await freshPgDatabase("export_tf");
    const pg = openStore(url);
    try {
      await preview(new Planner(new Ipam(pg), () => new MemoryStore()), "dev");
    } finally {
      await pg.close();
    }
    const r = exportTerraform(["--store", url]);
    expect([r.code, r.stderr]).toEqual([0, ""]);
    expect(r.json!.resource).toEqual(planExport.resource);
  });

  test("the export reads only: the store is byte for byte the same after it", () => {
    const before = fs.readFileSync(file);
    const r = exportTerraform(store());
    expect(r.code).toBe(0);
    expect(r.json).toEqual(planExport);
    expect(fs.readFileSync(file).equals(before)).toBe(true);
  });

  test("after up: the same configuration, now checked against what the allocator holds", async () => {
    const s = open();
    await apply(s.planner, planned);
    await s.store.close();
    const r = exportTerraform(store());
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/5 pools, 8 allocations, 1 Elastic IP \(0 planned, not yet applied\)/);
    const rows = reservationRows(file);
    expect(rows.every((x) => x.expiresAt === 0)).toBe(true);
    expectMatchesReservations(r.json!, rows);
    // Applied = planned: the same file, resource for resource.
    expect(r.json!.resource).toEqual(planExport.resource);
    // Against the allocator's own records: every allocation in every pool (carve-outs of nested pools are pool CIDRs).
    const { store: st, ipam } = open();
    try {
      const allocations = resources(r.json!, "aws_vpc_ipam_pool_cidr_allocation");
      const byCidr = new Map(Object.entries(allocations).map(([n, a]) => [a.cidr as string, n]));
      let count = 0;
      for (const pool of await ipam.listPools()) {
        const poolCidrs = Object.values(resources(r.json!, "aws_vpc_ipam_pool_cidr")).filter((c) => c.cidr && pool.cidrs.includes(c.cidr));
        expect(poolCidrs.map((c) => c.cidr).sort()).toEqual([...pool.cidrs].sort());
        for (const a of await ipam.listAllocations(pool.ipamPoolId)) {
          if (a.resourceType === "ipam-pool" || a.resourceType === "eip") continue;
          count++;
          expect(byCidr.get(a.cidr)).toBeDefined();
          expect(allocations[byCidr.get(a.cidr)!].description).toBe(a.description);
        }
      }
      expect(count).toBe(Object.keys(allocations).length);
    } finally {
      await st.close();
    }
  });

  test("an allocation made outside Pulumi is exported under its id; --stack leaves it out", async () => {
    const s = open();
    const pool = (await s.ipam.listPools()).find((p) => p.locale === "us-east-1")!;
    const outside = await s.ipam.allocate({ ipamPoolId: pool.ipamPoolId, netmaskLength: 24, description: "by hand", resourceTags: { env: "prod" } });
    await s.store.close();
    const all = exportTerraform(store());
    expect(all.code).toBe(0);
    expect(resources(all.json!, "aws_vpc_ipam_pool_cidr_allocation")[outside.ipamPoolAllocationId]).toMatchObject({ cidr: outside.cidr, description: "by hand" });
    const dev = exportTerraform([...store(), "--stack", "dev"], { cwd: dir });
    expect(dev.code).toBe(0);
    expect(dev.json!.resource).toEqual(planExport.resource);
  });

  test("two stacks in one store: --stack picks one; without it both, names kept apart", async () => {
    const s = open();
    const prodSteps = QUICKSTART.filter((x) => ["corp-v6", "v6-east"].includes(x.name)).map((x) => (x.name === "corp-v6" && x.kind === "IpamPool"
      ? { ...x, spec: () => ({ addressFamily: "ipv6", cidrs: ["fd00:20::/48"], allocationDefaultNetmaskLength: 56 }) } : x));
    const prod = await preview(s.planner, "prod", prodSteps);
    await s.store.close();
    const only = exportTerraform([...store(), "--stack", "prod"], { cwd: dir });
    expect(only.code).toBe(0);
    expect(Object.keys(resources(only.json!, "aws_vpc_ipam_pool"))).toEqual(["corp-v6"]);
    expect(resources(only.json!, "aws_vpc_ipam_pool_cidr_allocation")).toEqual({
      "v6-east": expect.objectContaining({ cidr: prod["v6-east"].plan.cidrs[0], ipam_pool_id: "${aws_vpc_ipam_pool.corp-v6.id}" }),
    });
    const both = exportTerraform(store());
    expect(both.code).toBe(0);
    expect(unresolved(both.json!)).toEqual([]);
    const v6 = resources(both.json!, "aws_vpc_ipam_pool_cidr_allocation");
    expect([v6["v6-east"].cidr, v6["v6-east_2"].cidr].sort()).toEqual([planned["v6-east"].plan.cidrs[0], prod["v6-east"].plan.cidrs[0]].sort());
  });

  test("bad input is one line with its code and exit 2: no store, unknown stack, bad options", () => {
    const cases: [string[], RegExp][] = [
      [["--store", `sqlite:${path.join(dir, "missing.db")}`], /^InvalidParameterValue: store "sqlite:.*missing\.db" does not exist/],
      [["--cwd", dir], /^InvalidParameterValue: store "sqlite:.*\.pulumi-ipam\/ipam\.db" does not exist/],
      [[...store(), "--stack", "staging"], /^InvalidParameterValue: the store holds no plan of stack "staging"; its stacks are dev, prod\.$/],
      [[...store(), "--stack", "qa"], /^InvalidParameterValue: --stack "qa": .*Pulumi\.qa\.yaml does not exist/],
      [[...store(), "--colour"], /^InvalidParameterValue: unknown option "--colour"; run 'pulumi-ipam export --help'\.$/],
      [[...store(), "--backend", "alicloud", "--region", "cn-hangzhou"], /^InvalidParameterValue: export terraform writes AWS resources/],
      [[...store(), "--backend", "gcp"], /^InvalidParameterValue: ipam:backend "gcp" is not one of local, aws, alicloud/],
    ];
    for (const [args, message] of cases) {
      const r = exportTerraform(args, { cwd: dir });
      expect([args, r.code]).toEqual([args, 2]);
      expect(r.stderr.trimEnd()).toMatch(message);
      expect(r.stderr.trimEnd().split("\n")).toHaveLength(1);
      expect(fs.existsSync(path.join(r.dir, "cdk.tf.json"))).toBe(false);
    }
    // Neither the default store's directory nor the store is created by looking for it.
    expect(fs.existsSync(path.join(dir, ".pulumi-ipam"))).toBe(false);
    const noOut = spawnSync(process.execPath, [MAIN, "export", "terraform", ...store()], { encoding: "utf8" });
    expect([noOut.status, noOut.stderr.trim()]).toEqual([2, "InvalidParameterValue: give the output directory: -o DIR."]);
    const json = spawnSync(process.execPath, [MAIN, "export", "json", ...store(), "-o", dir], { encoding: "utf8" });
    expect([json.status, json.stderr.trim()]).toEqual([2, `InvalidParameterValue: export writes one format, terraform (got "json"); run 'pulumi-ipam export --help'.`]);
  });

  test("the stack's config names the store: Pulumi.<stack>.yaml's ipam:store", () => {
    const projectDir = fs.mkdtempSync(path.join(os.tmpdir(), "ipam-export-project-"));
    try {
      fs.writeFileSync(path.join(projectDir, "Pulumi.yaml"), "name: ipam-local-quickstart\nruntime: nodejs\n");
      fs.writeFileSync(path.join(projectDir, "Pulumi.dev.yaml"), `config:\n  ipam:store: "sqlite:${file}"\n`);
      const r = exportTerraform(["--stack", "dev"], { cwd: projectDir });
      expect(r.stderr).toBe("");
      expect(r.json!.resource).toEqual(planExport.resource);
      fs.writeFileSync(path.join(projectDir, "Pulumi.dev.yaml"), "config:\n  ipam:store:\n    secure: v1:abcdef\n");
      const secret = exportTerraform(["--stack", "dev"], { cwd: projectDir });
      expect(secret.code).toBe(2);
      expect(secret.stderr.trim()).toMatch(/^InvalidParameterValue: ipam:store is a secret in Pulumi\.dev\.yaml, which this tool cannot decrypt; give it with --store or PULUMI_IPAM_STORE/);
    } finally {
      fs.rmSync(projectDir, { recursive: true, force: true });
    }
  });

  test("without the optional CDKTF packages: one line saying what to install, exit 2", () => {
    // The installed package beside a node_modules holding everything but cdktf, @cdktf/* and constructs.
    const pkg = fs.mkdtempSync(path.join(os.tmpdir(), "ipam-no-cdktf-"));
    try {
      fs.cpSync(path.join(ROOT, "dist/provider"), path.join(pkg, "dist/provider"), { recursive: true });
      fs.copyFileSync(path.join(ROOT, "package.json"), path.join(pkg, "package.json"));
      fs.mkdirSync(path.join(pkg, "node_modules"));
      for (const m of fs.readdirSync(path.join(ROOT, "node_modules"))) {
        if (!["cdktf", "@cdktf", "constructs", ".bin", "pulumi-ipam"].includes(m)) fs.symlinkSync(path.join(ROOT, "node_modules", m), path.join(pkg, "node_modules", m));
      }
      const r = exportTerraform(store(), { main: path.join(pkg, "dist/provider/cli/main.js"), cwd: pkg });
      const versions = JSON.parse(fs.readFileSync(path.join(ROOT, "package.json"), "utf8")).optionalDependencies;
      expect(r.code).toBe(2);
      expect(r.stderr.trimEnd().split("\n")).toEqual([
        `InvalidParameterValue: export terraform needs the optional packages cdktf, @cdktf/provider-aws, constructs (constructs is not installed): npm install cdktf@${versions.cdktf} @cdktf/provider-aws@${versions["@cdktf/provider-aws"]} constructs@${versions.constructs}`,
      ]);
      // Everything else works without them.
      const help = spawnSync(process.execPath, [path.join(pkg, "dist/provider/cli/main.js"), "export", "--help"], { encoding: "utf8" });
      expect(help.status).toBe(0);
      expect(help.stdout).toMatch(/^usage: pulumi-ipam export terraform -o DIR/);
    } finally {
      fs.rmSync(pkg, { recursive: true, force: true });
    }
  });

  test("OpenTofu parses the synthesized configuration (where scripts/install-tofu.sh has built tofu)", () => {
    const bin = tofuBinary();
    if (!bin) {
      console.warn("skipped: no tofu built (bash scripts/install-tofu.sh builds it into the cache)");
      return;
    }
    const r = exportTerraform(store());
    expect(r.code).toBe(0);
    // `tofu providers` loads and decodes the whole configuration (every block, resource name, depends_on and
    // import target as an address, variable types, the provider requirement) without installing a provider.
    // It does not resolve references or check attributes against the AWS provider's schema: that needs the
    // provider itself (tofu init, validate), which this machine cannot download (see unresolved() for references).
    const providers = tofu(bin, r.dir, ["providers", "-no-color"]);
    expect(providers.stderr).toBe("");
    expect(providers.code).toBe(0);
    expect(providers.stdout).toMatch(/provider\[registry\.opentofu\.org\/hashicorp\/aws\] 6\.25\.0/);
    // The check has teeth: the same file with one depends_on that is no address fails to load.
    const broken = JSON.parse(fs.readFileSync(path.join(r.dir, "cdk.tf.json"), "utf8"));
    broken.resource.aws_vpc_ipam_pool_cidr_allocation["vpc-east-app"].depends_on = ["aws_vpc_ipam_pool_cidr corp_0"];
    fs.writeFileSync(path.join(r.dir, "cdk.tf.json"), JSON.stringify(broken));
    const bad = tofu(bin, r.dir, ["providers", "-no-color"]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/Error: /);
  });
});

/**
 * The AWS backend, in process as the resources run it (runtime/context.ts from PULUMI_IPAM_* settings), on
 * fakecloud + moto behind the test shim: an allocation planned in a pool that exists in EC2 but not in
 * the program takes it by a variable holding the pool's id; once created, it is imported by
 * <allocation-id>_<pool-id>, the id EC2 gave it.
 */
const withFakecloud = fakecloudInstalled() ? describe : describe.skip;
withFakecloud(`export terraform on the AWS backend, a pool made outside Pulumi${fakecloudInstalled() ? "" : ` — skipped: ${fakecloudMissingReason()}`}`, () => {
  let emu: AwsEmulators;
  let dir: string;
  let saved: NodeJS.ProcessEnv;
  beforeAll(async () => {
    saved = { ...process.env };
    emu = await startAwsEmulators({ fakecloud: true });
    const ec2 = new EC2Client({ region: emu.region, endpoint: emu.endpoint!, credentials: emu.credentials });
    const scope = (await ec2.send(new CreateIpamCommand({ OperatingRegions: [{ RegionName: emu.region }] }))).Ipam!.PrivateDefaultScopeId!;
    ec2.destroy();
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "ipam-export-aws-"));
    Object.assign(process.env, emu.env, {
      PULUMI_IPAM_BACKEND: "aws", PULUMI_IPAM_ENDPOINT: emu.endpoint!, PULUMI_IPAM_SCOPE_ID: scope, PULUMI_IPAM_STORE: `sqlite:${path.join(dir, "ipam.db")}`,
    });
  }, 120_000);
  afterAll(async () => {
    await context().ipam.store.close().catch(() => undefined);
    process.env = saved;
    await emu?.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  test("planned: a variable for the pool, defaulting to its EC2 id; created: an import block naming EC2's allocation", async () => {
    const { planner, backend } = context();
    const pool = await backend.createPool({ addressFamily: "ipv4", cidrs: ["10.50.0.0/16"], allocationDefaultNetmaskLength: 24, clientToken: `outside-${Date.now()}` });
    const key = urn("dev", "IpamPoolAllocation", "app");
    const req: AllocateInput = { ipamPoolId: pool.ipamPoolId, description: "app", disallowedCidrs: ["10.50.0.0/24"] };
    const plan = await planner.planAllocation(key, req);
    expect(plan.cidrs).toEqual(["10.50.1.0/24"]);
    const variable = `ipam_pool_${pool.ipamPoolId.replace(/^ipam-pool-/, "")}`;

    const before = exportTerraform([]);
    expect([before.code, before.stderr]).toEqual([0, ""]);
    expect(unresolved(before.json!)).toEqual([]);
    expect(resources(before.json!, "aws_vpc_ipam_pool")).toEqual({});
    expect(resources(before.json!, "aws_vpc_ipam_pool_cidr_allocation")).toEqual({
      app: { cidr: "10.50.1.0/24", description: "app", disallowed_cidrs: ["10.50.0.0/24"], ipam_pool_id: `\${var.${variable}}` },
    });
    expect(before.json!.variable![variable]).toMatchObject({ default: pool.ipamPoolId });
    expect(before.json!.import).toBeUndefined();

    const made = await planner.commitRemote(key, plan, () => backend.allocate({ ...req, cidr: plan.cidrs[0], clientToken: plan.clientToken }));
    const after = exportTerraform([]);
    expect(after.code).toBe(0);
    expect(after.json!.resource).toEqual(before.json!.resource);
    expect(after.json!.import).toEqual([{ to: "aws_vpc_ipam_pool_cidr_allocation.app", id: `${made.ipamPoolAllocationId}_${pool.ipamPoolId}` }]);
    expect((await backend.listAllocations(pool.ipamPoolId)).map((a) => [a.ipamPoolAllocationId, a.cidr])).toEqual([[made.ipamPoolAllocationId, "10.50.1.0/24"]]);
  });
});

describe("nothing but the export command loads CDKTF", () => {
  test("the package's entry points and the other commands never require cdktf or provider/export", () => {
    const probe = `
      require(${JSON.stringify(path.join(ROOT, "dist/provider/index.js"))});
      require(${JSON.stringify(path.join(ROOT, "dist/provider/cli/main.js"))});
      const loaded = Object.keys(require.cache).filter((f) => /[\\\\/](cdktf|@cdktf|constructs)[\\\\/]|[\\\\/]provider[\\\\/]export[\\\\/]/.test(f));
      process.stdout.write(JSON.stringify(loaded));`;
    const r = spawnSync(process.execPath, ["-e", probe], { encoding: "utf8", cwd: ROOT });
    expect(r.stderr).toBe("");
    expect(JSON.parse(r.stdout)).toEqual([]);
    // In the sources, only the command itself names provider/export, and only provider/export names cdktf.
    const offenders: string[] = [];
    const walk = (d: string): void => {
      for (const f of fs.readdirSync(d, { withFileTypes: true })) {
        const p = path.join(d, f.name);
        if (f.isDirectory()) { walk(p); continue; }
        if (!p.endsWith(".ts")) continue;
        const rel = path.relative(ROOT, p);
        const text = fs.readFileSync(p, "utf8");
        if (/from "[^"]*export\/terraform|require\("[^"]*export\/terraform/.test(text) && rel !== "provider/cli/export.ts") offenders.push(rel);
        if (/["'](cdktf|@cdktf\/[^"']+|constructs)["']/.test(text) && !rel.startsWith("provider/export/")) offenders.push(rel);
      }
    };
    walk(path.join(ROOT, "provider"));
    expect(offenders).toEqual([]);
  });
});
