/**
 * The issue's "done when": after the local quickstart (the real Pulumi CLI
 * through the runner, its store in .pulumi-ipam/ beside the project, as
 * `make quickstart` leaves it), `npx pulumi-ipam export terraform` writes a
 * configuration whose allocations carry the quickstart's CIDRs: the ones
 * preview showed, before anything exists, and the same after up.
 */
import { CreateIpamCommand, EC2Client, GetIpamPoolAllocationsCommand } from "@aws-sdk/client-ec2";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { fakecloudInstalled, fakecloudMissingReason, startAwsEmulators, type AwsEmulators } from "../support/aws/emulators";
import { cleanup, exportState, failure, plannedByName, project, Project, ROOT, run, withIpam } from "../support/pulumi";
import { poolName, resources, TfJson, tofu, tofuBinary, unresolved } from "../support/terraform";

const QUICKSTART = path.join(ROOT, "examples/local-quickstart");
const AWS_EXAMPLE = path.join(ROOT, "examples/aws");
const ALLOCATIONS = ["vpc-east-app", "vpc-east-data", "vpc-west-app", "vpc-west-edge", "v6-east", "v6-west"];
const POOLS = ["corp", "corp-us-east-1", "corp-eu-west-1", "corp-v6", "public"];

/** `npx pulumi-ipam export terraform --cwd <project> -o <out>` from the checkout, as a user of the repository runs it. */
function npxExport(p: Project, out: string): { stdout: string; stderr: string; json: TfJson } {
  fs.rmSync(out, { recursive: true, force: true });
  const r = spawnSync("npx", ["--no-install", "pulumi-ipam", "export", "terraform", "--cwd", p.dir, "-o", out], { cwd: ROOT, env: p.env, encoding: "utf8", timeout: 120_000 });
  if (r.status !== 0) throw new Error(failure("npx pulumi-ipam export terraform", { code: r.status, stdout: r.stdout, stderr: r.stderr }));
  return { stdout: r.stdout, stderr: r.stderr, json: JSON.parse(fs.readFileSync(path.join(out, "cdk.tf.json"), "utf8")) as TfJson };
}

describe("export terraform after the local quickstart (real Pulumi CLI)", () => {
  let p: Project;
  let out: string;
  let planned: Record<string, any>;
  let afterPreview: TfJson;

  const exportNpx = () => npxExport(p, out);

  beforeAll(() => {
    // The store where the quickstart keeps it: .pulumi-ipam/ipam.db beside the project (no PULUMI_IPAM_STORE).
    p = project(QUICKSTART, { PULUMI_IPAM_STORE: "" });
    out = fs.mkdtempSync(path.join(os.tmpdir(), "ipam-tf-out-"));
  });
  afterAll(() => { cleanup(p); fs.rmSync(out, { recursive: true, force: true }); });

  test("after preview: the planned CIDRs, before anything exists", () => {
    const pv = run(p, ["preview", "--json"]);
    if (pv.code !== 0) throw new Error(failure("preview", pv));
    planned = plannedByName(pv.json);
    expect(fs.existsSync(path.join(p.dir, ".pulumi-ipam/ipam.db"))).toBe(true);
    const { stdout, json } = exportNpx();
    expect(stdout).toMatch(/5 pools, 6 allocations, 1 Elastic IP \(12 planned, not yet applied\)/);
    expect(unresolved(json)).toEqual([]);
    const allocations = resources(json, "aws_vpc_ipam_pool_cidr_allocation");
    expect(Object.keys(allocations).sort()).toEqual([...ALLOCATIONS].sort());
    for (const n of ALLOCATIONS) {
      expect([n, allocations[n].cidr]).toEqual([n, planned[n].cidr]);
      expect(allocations[n].netmask_length).toBeUndefined();
      // Its pool is the one the program gave it.
      const pool = Object.entries(planned).find(([, v]) => v.ipamPoolId === planned[n].ipamPoolId && Array.isArray(v.cidrs))![0];
      expect([n, poolName(allocations[n].ipam_pool_id)]).toEqual([n, pool]);
    }
    const pools = resources(json, "aws_vpc_ipam_pool");
    expect(Object.keys(pools).sort()).toEqual([...POOLS].sort());
    const poolCidrs = Object.values(resources(json, "aws_vpc_ipam_pool_cidr"));
    for (const n of POOLS) expect([n, poolCidrs.filter((c) => poolName(c.ipam_pool_id) === n).map((c) => c.cidr)]).toEqual([n, planned[n].cidrs]);
    expect(pools["corp-us-east-1"]).toMatchObject({ locale: "us-east-1", source_ipam_pool_id: "${aws_vpc_ipam_pool.corp.id}", allocation_default_netmask_length: 20 });
    expect(resources(json, "aws_eip")["nat-gateway"]).toMatchObject({ address: planned["nat-gateway"].publicIp, ipam_pool_id: "${aws_vpc_ipam_pool.public.id}", domain: "vpc" });
    afterPreview = json;
  });

  test("after up: the same configuration, the allocations the store now holds", async () => {
    const up = run(p, ["up", "--json"]);
    if (up.code !== 0) throw new Error(failure("up", up));
    const { stdout, json } = exportNpx();
    expect(stdout).toMatch(/5 pools, 6 allocations, 1 Elastic IP \(0 planned, not yet applied\)/);
    expect(json.resource).toEqual(afterPreview.resource);
    expect(Object.values(up.json.outputs.vpcCidrs).sort()).toEqual(ALLOCATIONS.slice(0, 4).map((n) => resources(json, "aws_vpc_ipam_pool_cidr_allocation")[n].cidr).sort());
    const held = await withStore(p, async (ipam) => {
      const cidrs: string[] = [];
      for (const pool of await ipam.listPools()) for (const a of await ipam.listAllocations(pool.ipamPoolId)) if (a.resourceType !== "ipam-pool" && a.resourceType !== "eip") cidrs.push(a.cidr);
      return cidrs.sort();
    });
    expect(Object.values(resources(json, "aws_vpc_ipam_pool_cidr_allocation")).map((a) => a.cidr).sort()).toEqual(held);
  });
});

/**
 * examples/aws on fakecloud + moto behind the test shim (as tests/e2e/aws.test.ts): after preview nothing
 * exists in EC2, so nothing is imported; after up every pool, pool CIDR, allocation and the Elastic IP
 * has an import block in the provider's id format, naming what Pulumi's state and EC2 hold.
 */
const withFakecloud = fakecloudInstalled() ? describe : describe.skip;
withFakecloud(`export terraform of examples/aws on the AWS backend${fakecloudInstalled() ? "" : ` — skipped: ${fakecloudMissingReason()}`}`, () => {
  let emu: AwsEmulators;
  let ec2: EC2Client;
  let scope: string;
  let p: Project;
  let out: string;
  let planned: Record<string, any>;
  let afterPreview: TfJson;

  beforeAll(async () => {
    emu = await startAwsEmulators({ fakecloud: true });
    ec2 = new EC2Client({ region: emu.region, endpoint: emu.endpoint!, credentials: emu.credentials });
    scope = (await ec2.send(new CreateIpamCommand({ OperatingRegions: [{ RegionName: "us-east-1" }, { RegionName: "eu-west-1" }] }))).Ipam!.PrivateDefaultScopeId!;
    p = project(AWS_EXAMPLE, { ...emu.env, PULUMI_IPAM_BACKEND: "aws", PULUMI_IPAM_ENDPOINT: emu.endpoint!, PULUMI_IPAM_SCOPE_ID: scope });
    out = fs.mkdtempSync(path.join(os.tmpdir(), "ipam-tf-aws-"));
  }, 120_000);
  afterAll(async () => {
    if (p) { run(p, ["destroy"]); cleanup(p); }
    ec2?.destroy();
    await emu?.stop();
    fs.rmSync(out, { recursive: true, force: true });
  });

  test("after preview: the planned CIDRs, the scope and region as the stack has them, no import", () => {
    const pv = run(p, ["preview", "--json"]);
    if (pv.code !== 0) throw new Error(failure("preview", pv));
    planned = plannedByName(pv.json);
    const { json } = npxExport(p, out);
    expect(unresolved(json)).toEqual([]);
    const allocations = resources(json, "aws_vpc_ipam_pool_cidr_allocation");
    for (const n of ALLOCATIONS) expect([n, allocations[n].cidr]).toEqual([n, planned[n].cidr]);
    expect(json.import).toBeUndefined();
    expect(json.variable!.ipam_scope_id).toMatchObject({ default: scope });
    expect(json.provider!.aws).toEqual([{ region: emu.region }]);
    afterPreview = json;
  });

  test("after up: import blocks for everything, in the provider's id formats, naming what exists", async () => {
    const up = run(p, ["up"]);
    if (up.code !== 0) throw new Error(failure("up", up));
    const { json } = npxExport(p, out);
    expect(unresolved(json)).toEqual([]);
    // The same resources as planned: terraform plan after the imports has nothing to change.
    expect(json.resource).toEqual(afterPreview.resource);
    const allocations = resources(json, "aws_vpc_ipam_pool_cidr_allocation");
    for (const n of ALLOCATIONS) expect([n, allocations[n].cidr]).toEqual([n, planned[n].cidr]);
    const state = Object.fromEntries(exportState(p).filter((r) => r.type.startsWith("pulumi-nodejs:dynamic/ipam:")).map((r) => [r.urn.split("::").pop(), r]));
    const imports = Object.fromEntries((json.import ?? []).map((i) => [i.to, i.id]));
    const want: Record<string, string> = {};
    for (const n of POOLS) {
      want[`aws_vpc_ipam_pool.${n}`] = state[n].id;
      state[n].outputs.cidrs.forEach((c: string, i: number) => { want[`aws_vpc_ipam_pool_cidr.${n}_${i}`] = `${c}_${state[n].id}`; });
    }
    for (const n of ALLOCATIONS) {
      want[`aws_vpc_ipam_pool_cidr_allocation.${n}`] = `${state[n].id}_${state[n].outputs.ipamPoolId}`;
      // The id EC2 gives the allocation of that CIDR in that pool.
      const inEc2 = (await ec2.send(new GetIpamPoolAllocationsCommand({ IpamPoolId: state[n].outputs.ipamPoolId }))).IpamPoolAllocations!;
      expect(inEc2.find((a) => a.Cidr === planned[n].cidr)?.IpamPoolAllocationId).toBe(state[n].id);
    }
    want["aws_eip.nat-gateway"] = state["nat-gateway"].id;
    expect(state["nat-gateway"].id).toMatch(/^eipalloc-/);
    expect(imports).toEqual(want);
    // References point at the pools by resource, while the imports name their EC2 ids.
    expect(poolName(allocations["vpc-east-app"].ipam_pool_id)).toBe("corp-us-east-1");
    // OpenTofu loads it, import blocks and all (where scripts/install-tofu.sh has built it).
    const bin = tofuBinary();
    if (bin) {
      const r = tofu(bin, out, ["providers", "-no-color"]);
      expect([r.code, r.stderr]).toEqual([0, ""]);
    }
  });
});

/** The quickstart's own store (.pulumi-ipam/ipam.db), not the test project's default ipam.db. */
function withStore<T>(p: Project, fn: Parameters<typeof withIpam<T>>[1]): Promise<T> {
  return withIpam({ ...p, store: path.join(p.dir, ".pulumi-ipam/ipam.db") }, fn);
}
