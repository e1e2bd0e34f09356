/**
 * The "done when": after the local quickstart (the real Pulumi CLI
 * through the runner, its store in .pulumi-ipam/ beside the project, as
 * `make quickstart` leaves it), `npx pulumi-ipam export terraform` writes a
 * configuration whose allocations carry the quickstart's CIDRs: the ones
 * preview showed, before anything exists, and the same after up.
 */
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { cleanup, failure, plannedByName, project, Project, ROOT, run, withIpam } from "../support/pulumi";
import { poolName, resources, TfJson, unresolved } from "../support/terraform";

const QUICKSTART = path.join(ROOT, "examples/local-quickstart");
const ALLOCATIONS = ["vpc-east-app", "vpc-east-data", "vpc-west-app", "vpc-west-edge", "v6-east", "v6-west"];
const POOLS = ["corp", "corp-us-east-1", "corp-eu-west-1", "corp-v6", "public"];

describe("export terraform after the local quickstart (real Pulumi CLI)", () => {
  let p: Project;
  let out: string;
  let planned: Record<string, any>;
  let afterPreview: TfJson;

  /** `npx pulumi-ipam export terraform --cwd <project> -o <out>` from the checkout, as a user of the repository runs it. */
  const exportNpx = () => {
    fs.rmSync(out, { recursive: true, force: true });
    const r = spawnSync("npx", ["--no-install", "pulumi-ipam", "export", "terraform", "--cwd", p.dir, "-o", out], { cwd: ROOT, env: p.env, encoding: "utf8", timeout: 120_000 });
    if (r.status !== 0) throw new Error(failure("npx pulumi-ipam export terraform", r));
    return { stdout: r.stdout, json: JSON.parse(fs.readFileSync(path.join(out, "cdk.tf.json"), "utf8")) as TfJson };
  };

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

/** The quickstart's own store (.pulumi-ipam/ipam.db), not the test project's default ipam.db. */
function withStore<T>(p: Project, fn: Parameters<typeof withIpam<T>>[1]): Promise<T> {
  return withIpam({ ...p, store: path.join(p.dir, ".pulumi-ipam/ipam.db") }, fn);
}
