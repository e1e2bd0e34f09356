/**
 * examples/yaml run by the plain `pulumi` CLI (preview, up, import,
 * refresh, destroy) on the provider plugin as `make plugin` installs it
 * (pulumi plugin install resource ipam ... -f <tarball>), with the YAML
 * language host built next to pulumi. A file backend and a SQLite store of
 * its own in a temporary directory.
 */
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { expectDisjoint, failure, ROOT } from "../support/pulumi";
import { Ipam } from "../../provider/core/ipam";
import { SqliteStore } from "../../provider/stores/sqlite";

const VPCS = ["vpc-east-app", "vpc-east-data", "vpc-west-app", "vpc-west-edge", "v6-east", "v6-west"];

describe("examples/yaml with the plain pulumi CLI", () => {
  let dir: string;
  let env: NodeJS.ProcessEnv;
  const pulumi = (args: string[], ok = true) => {
    const r = spawnSync("pulumi", [...args, "--non-interactive", "--cwd", dir], { env, encoding: "utf8", timeout: 240_000 });
    if (ok && r.status !== 0) throw new Error(failure(`pulumi ${args.join(" ")}`, { code: r.status, stdout: r.stdout, stderr: r.stderr }));
    return r;
  };
  const withIpam = async <T>(fn: (ipam: Ipam) => Promise<T>): Promise<T> => {
    const store = new SqliteStore(path.join(dir, "ipam.db"));
    try { return await fn(new Ipam(store)); } finally { await store.close(); }
  };
  const state = () => (JSON.parse(pulumi(["stack", "export"]).stdout).deployment.resources ?? []) as any[];
  const idOf = (name: string) => state().find((r) => r.urn.endsWith(`::${name}`)).id as string;

  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "ipam-yaml-"));
    fs.copyFileSync(path.join(ROOT, "examples/yaml/Pulumi.yaml"), path.join(dir, "Pulumi.yaml"));
    fs.mkdirSync(path.join(dir, "state"));
    env = {
      ...process.env, PULUMI_BACKEND_URL: `file://${dir}/state`, PULUMI_CONFIG_PASSPHRASE: "yaml",
      PULUMI_IPAM_STORE: `sqlite:${path.join(dir, "ipam.db")}`, PULUMI_SKIP_UPDATE_CHECK: "true",
    };
    const installed = spawnSync("pulumi", ["plugin", "ls", "--json"], { env, encoding: "utf8" });
    if (!JSON.parse(installed.stdout || "[]").some((p: any) => p.name === "ipam" && p.kind === "resource")) {
      throw new Error("the ipam plugin is not installed: run `make plugin`");
    }
    pulumi(["stack", "init", "dev"]);
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  test("preview plans every CIDR; up allocates exactly them; a second preview shows no change", async () => {
    const preview = JSON.parse(pulumi(["preview", "--json"]).stdout);
    const planned: Record<string, string> = {};
    for (const s of preview.steps) if (s.newState?.type === "ipam:index:IpamPoolAllocation") planned[s.urn.split("::").pop()] = s.newState.inputs.cidr;
    for (const n of VPCS) expect(planned[n]).toMatch(/^[0-9a-f.:]+\/\d+$/);
    expectDisjoint(Object.values(planned));
    expect(planned["vpc-east-data"]).toMatch(/\/22$/);
    pulumi(["up", "--yes"]);
    const outputs = JSON.parse(pulumi(["stack", "output", "--json"]).stdout);
    expect(outputs.vpcCidrs).toEqual(Object.fromEntries(VPCS.slice(0, 4).map((n) => [n, planned[n]])));
    expect(outputs.ipv6Cidrs).toEqual([planned["v6-east"], planned["v6-west"]]);
    expect(outputs.natPublicIp).toBe("198.51.100.0");
    const allocated = await withIpam(async (ipam) => (await ipam.listAllocations(idOf("corp-us-east-1"))).map((a) => a.cidr).sort());
    expect(allocated).toEqual([planned["vpc-east-app"], planned["vpc-east-data"]].sort());
    expect(pulumi(["preview", "--expect-no-changes"]).status).toBe(0);
  });

  test("pulumi import of an allocation made outside Pulumi leaves no diff; refresh notices an out-of-band release", async () => {
    const pool = idOf("corp-v6");
    const legacy = await withIpam((ipam) => ipam.allocate({ ipamPoolId: pool, cidr: "fd00:10:0:ff00::/56", description: "legacy" }));
    const imported = pulumi(["import", "ipam:index:IpamPoolAllocation", "legacy", legacy.ipamPoolAllocationId, "--yes", "--protect=false"]);
    expect(imported.stdout).toContain("cidr: fd00:10:0:ff00::/56");
    expect(state().find((r) => r.urn.endsWith("::legacy")).outputs.cidr).toBe("fd00:10:0:ff00::/56");
    // The code `pulumi import` prints, with the pool by reference, added to the program.
    const yaml = fs.readFileSync(path.join(dir, "Pulumi.yaml"), "utf8").replace("\noutputs:\n",
      "\n  legacy:\n    type: ipam:IpamPoolAllocation\n    properties:\n      cidr: fd00:10:0:ff00::/56\n      description: legacy\n      ipamPoolId: ${corp-v6.ipamPoolId}\noutputs:\n");
    fs.writeFileSync(path.join(dir, "Pulumi.yaml"), yaml);
    const noDiff = pulumi(["preview", "--expect-no-changes", "--diff"], false);
    expect(noDiff.status === 0 ? "" : failure("preview after import", { code: noDiff.status, stdout: noDiff.stdout, stderr: noDiff.stderr })).toBe("");
    await withIpam((ipam) => ipam.release({ ipamPoolId: pool, ipamPoolAllocationId: legacy.ipamPoolAllocationId }));
    pulumi(["refresh", "--yes"]);
    expect(state().some((r) => r.urn.endsWith("::legacy"))).toBe(false);
    // The program still declares it: the next up allocates it again, as planned.
    pulumi(["up", "--yes"]);
    expect(state().find((r) => r.urn.endsWith("::legacy")).outputs.cidr).toBe("fd00:10:0:ff00::/56");
  });

  test("a wrong property type fails at preview with the schema's message and writes nothing", async () => {
    const file = path.join(dir, "Pulumi.yaml");
    const good = fs.readFileSync(file, "utf8");
    const before = await withIpam(async (ipam) => JSON.stringify(await ipam.listPools()));
    fs.writeFileSync(file, good.replace("netmaskLength: 22,", "netmaskLength: [22],"));
    try {
      const r = pulumi(["preview"], false);
      expect(r.status).not.toBe(0);
      expect(r.stdout + r.stderr).toContain("netmaskLength: Cannot assign 'List<number>' to 'integer'");
    } finally {
      fs.writeFileSync(file, good);
    }
    expect(await withIpam(async (ipam) => JSON.stringify(await ipam.listPools()))).toBe(before);
  });

  test("destroy returns every address", async () => {
    pulumi(["destroy", "--yes"]);
    expect(state().filter((r) => r.type.startsWith("ipam:"))).toEqual([]);
    expect(await withIpam((ipam) => ipam.listPools())).toEqual([]);
  });
});
