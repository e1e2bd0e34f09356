/**
 * `pools` and `free` on the cloud backends: the Alibaba Cloud contract
 * server (tests/support/alicloud, its own process) and the AWS emulators
 * (fakecloud behind the EC2 shim; skipped, saying why, where fakecloud is
 * not built). Pools, nested pools and allocations are made through the
 * backends; the tool lists them through the cloud's list calls, with no
 * store (names from the pools' Name tags), and its numbers are checked
 * against a bitmap of what the API calls returned.
 */
import { CreateIpamCommand, EC2Client } from "@aws-sdk/client-ec2";
import { randomUUID } from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { alicloudBackend } from "../../provider/backends/alicloud";
import { awsBackend } from "../../provider/backends/aws";
import type { Backend } from "../../provider/backends/backend";
import { ContractServerProcess, spawnContractServer, vpcIpam } from "../support/alicloud/launch";
import { AWS_TEST_REGION, fakecloudInstalled, fakecloudMissingReason, startAwsEmulators, type AwsEmulators } from "../support/aws/emulators";
import { Bitmap, cleanEnv, runCliAsync } from "../support/cli";

interface Made {
  /** Pool id by Name tag, and the CIDRs its API calls returned. */
  pools: Record<string, { id: string; cidr: string; used: string[] }>;
}

/** corp 10.0.0.0/16 → east 10.0.0.0/18 with two allocations; corp holds one more; v6 fd00:10::/48 with a /56. */
async function seed(b: Backend, locale: string): Promise<Made> {
  const token = () => `t-${randomUUID()}`;
  const made: Made = { pools: {} };
  const pool = async (name: string, cidr: string, family: "ipv4" | "ipv6", source?: string) => {
    const p = await b.createPool({ addressFamily: family, locale, cidrs: [cidr], sourceIpamPoolId: source, tags: { Name: name }, clientToken: token() });
    made.pools[name] = { id: p.ipamPoolId, cidr: p.cidrs[0], used: [] };
    const parent = Object.values(made.pools).find((x) => x.id === source);
    parent?.used.push(...p.cidrs);
    return p.ipamPoolId;
  };
  const alloc = async (name: string, cidr: string) => {
    const a = await b.allocate({ ipamPoolId: made.pools[name].id, cidr, clientToken: token() });
    made.pools[name].used.push(a.cidr);
  };
  const corp = await pool("corp", "10.0.0.0/16", "ipv4");
  await pool("east", "10.0.0.0/18", "ipv4", corp);
  await alloc("east", "10.0.0.0/20");
  await alloc("east", "10.0.16.0/22");
  await alloc("corp", "10.0.128.0/18");
  await pool("v6", "fd00:10::/48", "ipv6");
  await alloc("v6", "fd00:10::/56");
  return made;
}

const CELL: Record<string, number> = { corp: 28, east: 28, v6: 60 };

function checkPools(stdout: string, made: Made): void {
  const doc = JSON.parse(stdout);
  const all = new Map<string, any>();
  const walk = (p: any) => { all.set(p.name, p); p.children.forEach(walk); };
  doc.pools.forEach(walk);
  expect(doc.pools.map((p: any) => p.name).filter((n: string) => n in made.pools)).toEqual(["corp", "v6"]);
  expect(all.get("corp").children.map((p: any) => p.name)).toEqual(["east"]);
  for (const [name, p] of Object.entries(made.pools)) {
    const b = new Bitmap(p.cidr, CELL[name], p.used);
    expect(all.get(name).ipamPoolId).toBe(p.id);
    expect([name, BigInt(all.get(name).total), BigInt(all.get(name).allocated)]).toEqual([name, b.total(), b.allocated()]);
  }
}

function checkFree(stdout: string, made: Made, name: string): void {
  const doc = JSON.parse(stdout);
  const p = made.pools[name];
  const b = new Bitmap(p.cidr, CELL[name], p.used);
  expect(BigInt(doc.free)).toBe(b.total() - b.allocated());
  expect(doc.fit.length).toBeGreaterThan(3);
  for (const row of doc.fit) expect([row.length, BigInt(row.fit)]).toEqual([row.length, b.fits(row.length)]);
}

describe("on the Alibaba Cloud contract server", () => {
  const REGION = "cn-hangzhou";
  let server: ContractServerProcess;
  let made: Made;
  let dir: string;
  let env: NodeJS.ProcessEnv;
  const cli = (...args: string[]) => runCliAsync([...args, "--backend", "alicloud", "--region", REGION, "--endpoint", `http://${server.endpoint}`], { cwd: dir, env });

  beforeAll(async () => {
    server = await spawnContractServer();
    const ipam = await vpcIpam(server, "CreateIpam", { RegionId: REGION, OperatingRegionList: [REGION] });
    const saved = { ...process.env };
    process.env.ALIBABA_CLOUD_ACCESS_KEY_ID = server.accessKeyId;
    process.env.ALIBABA_CLOUD_ACCESS_KEY_SECRET = server.accessKeySecret;
    try {
      made = await seed(alicloudBackend({ region: REGION, endpoint: `http://${server.endpoint}`, scopeId: ipam.PrivateDefaultScopeId }, { baseDelayMs: 2, maxDelayMs: 10, pollIntervalMs: 2 }), REGION);
    } finally {
      process.env = saved;
    }
    // No store here: the tool lists the cloud's pools and names them by their Name tags.
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "ipam-cli-ali-"));
    env = cleanEnv({ ALIBABA_CLOUD_ACCESS_KEY_ID: server.accessKeyId, ALIBABA_CLOUD_ACCESS_KEY_SECRET: server.accessKeySecret });
  }, 120_000);
  afterAll(async () => {
    await server?.stop();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  test("pools --json: the tree and every pool's numbers as the bitmap counts them", async () => {
    const r = await cli("pools", "--json");
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    checkPools(r.stdout, made);
    expect(fs.readdirSync(dir)).toEqual([]);
  });

  test.each(["east", "corp", "v6"])("free %s --json: each /N count as the bitmap finds it", async (name) => {
    const r = await cli("free", name, "--json");
    expect(r.code).toBe(0);
    checkFree(r.stdout, made, name);
  });

  test("pools as text names the pools and their CIDRs; an unknown pool is exit 2; no credentials is exit 2 naming the variables", async () => {
    const r = await cli("pools");
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^corp\s+10\.0\.0\.0\/16/m);
    expect(r.stdout).toMatch(/├─ east\s+10\.0\.0\.0\/18\s+cn-hangzhou/);
    const bad = await cli("free", "nope");
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/^InvalidIpamPoolId\.NotFound: /);
    const none = await runCliAsync(["pools", "--backend", "alicloud", "--region", REGION, "--endpoint", `http://${server.endpoint}`], { cwd: dir, env: cleanEnv() });
    expect(none.code).toBe(2);
    expect(none.stderr).toMatch(/^InvalidCredentials: .*ALIBABA_CLOUD_ACCESS_KEY_ID/);
  });
});

const withFakecloud = fakecloudInstalled() ? describe : describe.skip;
withFakecloud(`on the AWS emulators (fakecloud and moto)${fakecloudInstalled() ? "" : ` — skipped: ${fakecloudMissingReason()}`}`, () => {
  let emu: AwsEmulators;
  let made: Made;
  let dir: string;
  let env: NodeJS.ProcessEnv;
  const cli = (...args: string[]) => runCliAsync([...args, "--backend", "aws", "--region", AWS_TEST_REGION, "--endpoint", emu.endpoint!], { cwd: dir, env });

  beforeAll(async () => {
    emu = await startAwsEmulators({ fakecloud: true });
    env = cleanEnv({ ...emu.env, AWS_EC2_METADATA_DISABLED: "true", AWS_CONFIG_FILE: "/dev/null", AWS_SHARED_CREDENTIALS_FILE: "/dev/null" });
    const saved = { ...process.env };
    Object.assign(process.env, emu.env);
    try {
      const admin = new EC2Client({ region: emu.region, endpoint: emu.endpoint!, credentials: emu.credentials });
      const ipam = await admin.send(new CreateIpamCommand({ OperatingRegions: [{ RegionName: AWS_TEST_REGION }] }));
      admin.destroy();
      made = await seed(awsBackend({ region: AWS_TEST_REGION, endpoint: emu.endpoint!, scopeId: ipam.Ipam!.PrivateDefaultScopeId! }, { baseDelayMs: 5, maxDelayMs: 50, pollMaxMs: 20 }), AWS_TEST_REGION);
    } finally {
      process.env = saved;
    }
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "ipam-cli-aws-"));
  }, 180_000);
  afterAll(async () => {
    await emu?.stop();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  test("pools --json: the tree and every pool's numbers as the bitmap counts them", async () => {
    const r = await cli("pools", "--json");
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    checkPools(r.stdout, made);
  });

  test.each(["east", "corp", "v6"])("free %s --json: each /N count as the bitmap finds it", async (name) => {
    const r = await cli("free", name, "--json");
    expect(r.code).toBe(0);
    checkFree(r.stdout, made, name);
  });
});
