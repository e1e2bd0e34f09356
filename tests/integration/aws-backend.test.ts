/**
 * The AWS backend (provider/backends/aws.ts) against local emulators, through
 * the real @aws-sdk/client-ec2:
 *
 *   - EC2 IPAM and pool Elastic IPs: fakecloud behind tests/support/aws/ec2-shim.ts
 *     (which routes Elastic IPs to moto and fills fakecloud's IPAM gaps, see
 *     docs/emulators-aws.md); the shim also records every request, so each test
 *     checks what the backend sent as well as what it returned, and injects
 *     throttling, eventual-consistency and pending-state answers.
 *   - Elastic IPs without a pool: moto directly (runs even without fakecloud).
 *
 * Credentials come from the environment (test/test) through the SDK's
 * default chain, as in production.
 */
import { EC2Client, CreateIpamCommand } from "@aws-sdk/client-ec2";
import * as http from "node:http";
import { awsBackend } from "../../provider/backends/aws";
import { derivedToken } from "../../provider/backends/aws/convert";
import type { Backend } from "../../provider/backends/backend";
import { IpamError } from "../../provider/core/errors";
import {
  AWS_TEST_REGION, fakecloudInstalled, fakecloudMissingReason, startAwsEmulators, type AwsEmulators, type ShimControl,
} from "../support/aws/emulators";

const SECRET = "s3cr3t-never-in-output-7f1c";
const FAST = { baseDelayMs: 5, maxDelayMs: 50, pollMaxMs: 20 };
let savedEnv: NodeJS.ProcessEnv;

beforeAll(() => {
  savedEnv = { ...process.env };
  Object.assign(process.env, {
    AWS_ACCESS_KEY_ID: "test", AWS_SECRET_ACCESS_KEY: SECRET, AWS_REGION: AWS_TEST_REGION,
    AWS_EC2_METADATA_DISABLED: "true", AWS_CONFIG_FILE: "/dev/null", AWS_SHARED_CREDENTIALS_FILE: "/dev/null",
  });
});
afterAll(() => {
  process.env = savedEnv;
});

async function failure(p: Promise<unknown>): Promise<IpamError> {
  try {
    await p;
  } catch (e) {
    if (e instanceof IpamError) return e;
    throw e;
  }
  throw new Error("expected an IpamError, but the call succeeded");
}

const token = (name: string) => `test-${name}-${Date.now()}-${Math.random().toString(36).slice(2, 8)}`;

const withFakecloud = fakecloudInstalled() ? describe : describe.skip;
withFakecloud(`AWS backend on fakecloud (EC2 IPAM) and moto (Elastic IPs)${fakecloudInstalled() ? "" : ` — skipped: ${fakecloudMissingReason()}`}`, () => {
  let emu: AwsEmulators;
  let shim: ShimControl;
  let aws: Backend;
  let scopeId: string;
  let top: string;
  let nested: string;

  beforeAll(async () => {
    emu = await startAwsEmulators({ fakecloud: true });
    shim = emu.shim!;
    const admin = new EC2Client({ region: emu.region, endpoint: emu.endpoint!, credentials: emu.credentials });
    const ipam = await admin.send(new CreateIpamCommand({ OperatingRegions: [{ RegionName: AWS_TEST_REGION }] }));
    admin.destroy();
    scopeId = ipam.Ipam!.PrivateDefaultScopeId!;
    aws = awsBackend({ region: AWS_TEST_REGION, endpoint: emu.endpoint!, scopeId }, FAST);
  }, 120_000);
  afterAll(async () => {
    await emu?.stop();
  });
  beforeEach(() => shim.clear());

  const sent = async (action: string) => (await shim.requests()).filter((r) => r.action === action).map((r) => r.params);

  describe("pools", () => {
    test("without ipam:scopeId, createPool says how to set it and where a scope id comes from, and sends nothing", async () => {
      const noScope = awsBackend({ region: AWS_TEST_REGION, endpoint: emu.endpoint! }, FAST);
      const e = await failure(noScope.createPool({ addressFamily: "ipv4", cidrs: ["10.9.0.0/16"], clientToken: token("noscope") }));
      expect(e.code).toBe("InvalidParameterValue");
      expect(e.message).toMatch(/ipam:scopeId/);
      expect(e.message).toMatch(/PULUMI_IPAM_SCOPE_ID/);
      expect(e.message).toMatch(/PrivateDefaultScopeId/);
      expect(e.message).toMatch(/CreateIpam/);
      expect(await shim.requests()).toEqual([]);
    });

    test("top-level pool: CreateIpamPool carries every parameter of the spec, then each CIDR is provisioned with a token derived from the pool's", async () => {
      const t = token("top");
      const info = await aws.createPool({
        addressFamily: "ipv4", cidrs: ["10.0.0.0/16"], locale: AWS_TEST_REGION, description: "corporate space",
        tags: { owner: "network-team" }, allocationMinNetmaskLength: 16, allocationMaxNetmaskLength: 28, allocationDefaultNetmaskLength: 24,
        allocationResourceTags: { env: "prod" }, clientToken: t,
      });
      top = info.ipamPoolId;
      expect(info).toEqual({
        ipamPoolId: expect.stringMatching(/^ipam-pool-/), addressFamily: "ipv4", sourceIpamPoolId: undefined, ipamScopeId: scopeId, poolDepth: 1,
        locale: AWS_TEST_REGION, description: "corporate space", tags: { owner: "network-team" },
        allocationMinNetmaskLength: 16, allocationMaxNetmaskLength: 28, allocationDefaultNetmaskLength: 24,
        allocationResourceTags: { env: "prod" }, allocationStrategy: "first-fit", cidrs: ["10.0.0.0/16"],
      });
      const [create] = await sent("CreateIpamPool");
      expect(create).toMatchObject({
        IpamScopeId: scopeId, Locale: AWS_TEST_REGION, Description: "corporate space", AddressFamily: "ipv4",
        AllocationMinNetmaskLength: "16", AllocationMaxNetmaskLength: "28", AllocationDefaultNetmaskLength: "24",
        "AllocationResourceTag.1.Key": "env", "AllocationResourceTag.1.Value": "prod",
        "TagSpecification.1.ResourceType": "ipam-pool", "TagSpecification.1.Tag.1.Key": "owner", "TagSpecification.1.Tag.1.Value": "network-team",
        ClientToken: t,
      });
      expect(create.SourceIpamPoolId).toBeUndefined();
      const provisions = await sent("ProvisionIpamPoolCidr");
      expect(provisions).toEqual([expect.objectContaining({ IpamPoolId: top, Cidr: "10.0.0.0/16", ClientToken: derivedToken("ProvisionIpamPoolCidr", t, "10.0.0.0/16") })]);
      expect(await aws.getPool(top)).toEqual(info);
    });

    test("the same ClientToken again returns the same pool and provisions nothing twice", async () => {
      const t = token("again");
      const a = await aws.createPool({ addressFamily: "ipv4", cidrs: ["10.50.0.0/16"], clientToken: t });
      const b = await aws.createPool({ addressFamily: "ipv4", cidrs: ["10.50.0.0/16"], clientToken: t });
      expect(b.ipamPoolId).toBe(a.ipamPoolId);
      expect(b.cidrs).toEqual(["10.50.0.0/16"]);
      expect(await sent("ProvisionIpamPoolCidr")).toHaveLength(1);
      await aws.deletePool(a.ipamPoolId);
    });

    test("createPool waits while the pool is create-in-progress and its CIDR pending-provision", async () => {
      await shim.faults([
        { action: "CreateIpamPool", times: 1, replace: ["create-complete", "create-in-progress"] },
        { action: "DescribeIpamPools", times: 2, replace: ["create-complete", "create-in-progress"] },
        { action: "GetIpamPoolCidrs", times: 3, replace: ["<state>provisioned</state>", "<state>pending-provision</state>"] },
      ]);
      const p = await aws.createPool({ addressFamily: "ipv4", cidrs: ["10.51.0.0/16"], clientToken: token("wait") });
      expect(p.cidrs).toEqual(["10.51.0.0/16"]);
      expect((await sent("DescribeIpamPools")).length).toBeGreaterThanOrEqual(3);
      expect((await sent("GetIpamPoolCidrs")).length).toBeGreaterThanOrEqual(4);
      await aws.deletePool(p.ipamPoolId);
    });

    test("a CIDR that fails to provision is an error with the API's failure code and message", async () => {
      await shim.faults([{
        action: "GetIpamPoolCidrs", times: 1,
        replace: ["<state>provisioned</state>", "<state>failed-provision</state><failureReason><code>cidr-not-available</code><message>overlaps</message></failureReason>"],
      }]);
      const e = await failure(aws.createPool({ addressFamily: "ipv4", cidrs: ["10.52.0.0/16"], clientToken: token("fail") }));
      expect(e.code).toBe("cidr-not-available");
      expect(e.message).toMatch(/10\.52\.0\.0\/16.*overlaps/);
    });

    test("nested pool: SourceIpamPoolId sent, PoolDepth 2, its CIDR held in the source as an ipam-pool allocation", async () => {
      const p = await aws.createPool({ addressFamily: "ipv4", sourceIpamPoolId: top, cidrs: ["10.0.64.0/18"], locale: AWS_TEST_REGION, allocationDefaultNetmaskLength: 24, clientToken: token("nested") });
      nested = p.ipamPoolId;
      expect(p).toMatchObject({ sourceIpamPoolId: top, poolDepth: 2, cidrs: ["10.0.64.0/18"], allocationDefaultNetmaskLength: 24 });
      expect((await sent("CreateIpamPool"))[0].SourceIpamPoolId).toBe(top);
      expect((await aws.listAllocations(top)).map((a) => [a.cidr, a.resourceType, a.resourceId])).toEqual([["10.0.64.0/18", "ipam-pool", nested]]);
    });

    test("nested pool by netmask length only: ProvisionIpamPoolCidr NetmaskLength, the carved CIDR comes back", async () => {
      const p = await aws.createPool({ addressFamily: "ipv4", sourceIpamPoolId: top, cidrs: [], netmaskLength: 20, clientToken: token("bylen") });
      expect(p.cidrs).toHaveLength(1);
      expect(p.cidrs[0]).toMatch(/^10\.0\.\d+\.0\/20$/);
      expect((await sent("ProvisionIpamPoolCidr"))[0]).toMatchObject({ NetmaskLength: "20" });
      expect((await sent("ProvisionIpamPoolCidr"))[0].Cidr).toBeUndefined();
      await aws.deletePool(p.ipamPoolId);
      expect((await aws.listAllocations(top)).map((a) => a.cidr)).toEqual(["10.0.64.0/18"]);
    });

    test("updatePool: ModifyIpamPool for the rules and required tags, CreateTags/DeleteTags for the pool's tags; DryRun changes nothing", async () => {
      const p = await aws.createPool({ addressFamily: "ipv4", cidrs: ["10.53.0.0/16"], description: "old", tags: { a: "1", b: "2" }, allocationDefaultNetmaskLength: 24, allocationResourceTags: { env: "dev" }, clientToken: token("upd") });
      const dry = await failure(aws.updatePool({ ipamPoolId: p.ipamPoolId, description: "dry", dryRun: true }));
      expect(dry.code).toBe("DryRunOperation");
      expect((await aws.getPool(p.ipamPoolId))!.description).toBe("old");
      await shim.clear();
      const u = await aws.updatePool({
        ipamPoolId: p.ipamPoolId, description: "new", tags: { a: "1", c: "3" }, allocationMinNetmaskLength: 20,
        allocationDefaultNetmaskLength: undefined, allocationResourceTags: { env: "prod" },
      });
      expect(u).toMatchObject({ description: "new", tags: { a: "1", c: "3" }, allocationMinNetmaskLength: 20, allocationDefaultNetmaskLength: undefined, allocationResourceTags: { env: "prod" } });
      const [modify] = await sent("ModifyIpamPool");
      expect(modify).toMatchObject({
        Description: "new", AllocationMinNetmaskLength: "20", ClearAllocationDefaultNetmaskLength: "true",
        "AddAllocationResourceTag.1.Key": "env", "AddAllocationResourceTag.1.Value": "prod",
        "RemoveAllocationResourceTag.1.Key": "env", "RemoveAllocationResourceTag.1.Value": "dev",
      });
      expect(await sent("CreateTags")).toEqual([expect.objectContaining({ "ResourceId.1": p.ipamPoolId, "Tag.1.Key": "c", "Tag.1.Value": "3" })]);
      expect(await sent("DeleteTags")).toEqual([expect.objectContaining({ "ResourceId.1": p.ipamPoolId, "Tag.1.Key": "b" })]);
      await aws.provisionPoolCidr(p.ipamPoolId, "10.54.0.0/16");
      expect((await aws.getPool(p.ipamPoolId))!.cidrs).toEqual(["10.53.0.0/16", "10.54.0.0/16"]);
      await aws.deletePool(p.ipamPoolId);
    });

    test("DryRun on createPool: DryRunOperation, no pool", async () => {
      const before = (await shim.requests()).length;
      const e = await failure(aws.createPool({ addressFamily: "ipv4", cidrs: ["10.55.0.0/16"], clientToken: token("dry"), dryRun: true }));
      expect(e.code).toBe("DryRunOperation");
      const after = await shim.requests();
      expect(after.slice(before).map((r) => r.action)).toEqual(["CreateIpamPool"]);
      expect(after[after.length - 1].params.DryRun).toBe("true");
    });
  });

  describe("allocations", () => {
    let first: string;

    test("allocate sends exactly the CIDR, the description and our ClientToken; getAllocation reads it back", async () => {
      const t = token("alloc");
      const a = await aws.allocate({ ipamPoolId: nested, cidr: "10.0.64.0/24", description: "vpc-east-app", clientToken: t });
      first = a.ipamPoolAllocationId;
      expect(a).toEqual({ ipamPoolAllocationId: expect.stringMatching(/^ipam-pool-alloc-/), ipamPoolId: nested, cidr: "10.0.64.0/24", description: "vpc-east-app", resourceId: undefined, resourceType: "custom" });
      const [req] = await sent("AllocateIpamPoolCidr");
      expect(req).toMatchObject({ IpamPoolId: nested, Cidr: "10.0.64.0/24", Description: "vpc-east-app", ClientToken: t });
      expect(req.NetmaskLength).toBeUndefined();
      expect(req.PreviewNextCidr).toBeUndefined();
      expect(await aws.getAllocation(nested, first)).toEqual(a);
    });

    test("the same ClientToken returns the same allocation; with another CIDR it is IdempotentParameterMismatch", async () => {
      const t = token("idem");
      const a = await aws.allocate({ ipamPoolId: nested, cidr: "10.0.65.0/24", clientToken: t });
      const b = await aws.allocate({ ipamPoolId: nested, cidr: "10.0.65.0/24", clientToken: t });
      expect(b.ipamPoolAllocationId).toBe(a.ipamPoolAllocationId);
      expect((await aws.listAllocations(nested)).filter((x) => x.cidr === "10.0.65.0/24")).toHaveLength(1);
      const e = await failure(aws.allocate({ ipamPoolId: nested, cidr: "10.0.66.0/24", clientToken: t }));
      expect(e.code).toBe("IdempotentParameterMismatch");
    });

    test("previewNextCidr: PreviewNextCidr with NetmaskLength, AllowedCidrs and DisallowedCidrs (planner exclusions among them); nothing allocated", async () => {
      const before = await aws.listAllocations(nested);
      const cidr = await aws.previewNextCidr({ ipamPoolId: nested, netmaskLength: 24, allowedCidrs: ["10.0.64.0/20"], disallowedCidrs: ["10.0.66.0/24"], excludedCidrs: ["10.0.67.0/24"] });
      // 10.0.64.0/24 and 10.0.65.0/24 are allocated, 10.0.66.0/24 disallowed, 10.0.67.0/24 promised to another plan.
      expect(cidr).toBe("10.0.68.0/24");
      const [req] = await sent("AllocateIpamPoolCidr");
      expect(req).toMatchObject({ PreviewNextCidr: "true", NetmaskLength: "24", "AllowedCidr.1": "10.0.64.0/20", "DisallowedCidr.1": "10.0.66.0/24", "DisallowedCidr.2": "10.0.67.0/24" });
      expect(req.Cidr).toBeUndefined();
      expect(await aws.listAllocations(nested)).toEqual(before);
    });

    test("throttling (RequestLimitExceeded, Throttling) is retried with backoff, with the same ClientToken each time", async () => {
      await shim.faults([
        { action: "AllocateIpamPoolCidr", times: 2, code: "RequestLimitExceeded", status: 503, message: "Request limit exceeded." },
        { action: "AllocateIpamPoolCidr", times: 1, code: "Throttling", status: 400 },
      ]);
      const t = token("throttle");
      const a = await aws.allocate({ ipamPoolId: nested, cidr: "10.0.70.0/24", clientToken: t });
      expect(a.cidr).toBe("10.0.70.0/24");
      const reqs = await sent("AllocateIpamPoolCidr");
      expect(reqs).toHaveLength(4);
      expect(new Set(reqs.map((r) => r.ClientToken))).toEqual(new Set([t]));
    });

    test("throttling past maxAttempts surfaces as IpamError RequestLimitExceeded", async () => {
      const impatient = awsBackend({ region: AWS_TEST_REGION, endpoint: emu.endpoint!, scopeId }, { ...FAST, maxAttempts: 3 });
      await shim.faults([{ action: "GetIpamPoolAllocations", times: 5, code: "RequestLimitExceeded", status: 503 }]);
      const e = await failure(impatient.listAllocations(nested));
      expect(e.code).toBe("RequestLimitExceeded");
      expect(await sent("GetIpamPoolAllocations")).toHaveLength(3);
    });

    test("InvalidIpamPoolAllocationId.NotFound just after allocating is eventual consistency: retried; for an older id it means gone", async () => {
      const a = await aws.allocate({ ipamPoolId: nested, cidr: "10.0.71.0/24", clientToken: token("ec") });
      await shim.faults([{ action: "GetIpamPoolAllocations", times: 2, code: "InvalidIpamPoolAllocationId.NotFound" }]);
      expect((await aws.getAllocation(nested, a.ipamPoolAllocationId))!.cidr).toBe("10.0.71.0/24");
      expect(await sent("GetIpamPoolAllocations")).toHaveLength(3);
      // Another process (a later `pulumi refresh`) did not allocate it: NotFound is final there.
      await shim.clear();
      const other = awsBackend({ region: AWS_TEST_REGION, endpoint: emu.endpoint!, scopeId }, FAST);
      await shim.faults([{ action: "GetIpamPoolAllocations", times: 1, code: "InvalidIpamPoolAllocationId.NotFound" }]);
      expect(await other.getAllocation(nested, a.ipamPoolAllocationId)).toBeUndefined();
      expect(await sent("GetIpamPoolAllocations")).toHaveLength(1);
      // The same holds for release right after allocating.
      await shim.faults([{ action: "ReleaseIpamPoolAllocation", times: 1, code: "InvalidIpamPoolAllocationId.NotFound" }]);
      await aws.release(nested, a.ipamPoolAllocationId, a.cidr);
      expect(await aws.getAllocation(nested, a.ipamPoolAllocationId)).toBeUndefined();
    });

    test("release sends the allocation's Cidr; afterwards it is gone, and releasing again is InvalidIpamPoolAllocationId.NotFound", async () => {
      const a = await aws.allocate({ ipamPoolId: nested, cidr: "10.0.72.0/24", clientToken: token("rel") });
      await aws.release(nested, a.ipamPoolAllocationId, a.cidr);
      expect(await sent("ReleaseIpamPoolAllocation")).toEqual([expect.objectContaining({ IpamPoolId: nested, IpamPoolAllocationId: a.ipamPoolAllocationId, Cidr: "10.0.72.0/24" })]);
      expect(await aws.getAllocation(nested, a.ipamPoolAllocationId)).toBeUndefined();
      const fresh = awsBackend({ region: AWS_TEST_REGION, endpoint: emu.endpoint!, scopeId }, FAST);
      expect((await failure(fresh.release(nested, a.ipamPoolAllocationId, a.cidr))).code).toBe("InvalidIpamPoolAllocationId.NotFound");
    });

    test("listAllocations follows NextToken across pages (1005 allocations, pages of 1000)", async () => {
      const pool = await aws.createPool({ addressFamily: "ipv4", cidrs: ["10.60.0.0/16"], clientToken: token("many") });
      const cidrs = Array.from({ length: 1005 }, (_, i) => `10.60.${Math.floor(i / 16)}.${(i % 16) * 16}/28`);
      for (let i = 0; i < cidrs.length; i += 16) {
        await Promise.all(cidrs.slice(i, i + 16).map((cidr) => aws.allocate({ ipamPoolId: pool.ipamPoolId, cidr, clientToken: token(cidr) })));
      }
      await shim.clear();
      const all = await aws.listAllocations(pool.ipamPoolId);
      expect(all).toHaveLength(1005);
      expect(new Set(all.map((a) => a.cidr))).toEqual(new Set(cidrs));
      const pages = await sent("GetIpamPoolAllocations");
      expect(pages).toHaveLength(2);
      expect(pages[0]).toMatchObject({ MaxResults: "1000" });
      expect(pages[0].NextToken).toBeUndefined();
      expect(pages[1].NextToken).toBeTruthy();
    }, 120_000);
  });

  describe("Elastic IPs from a pool", () => {
    let pub: string;
    beforeAll(async () => {
      pub = (await aws.createPool({ addressFamily: "ipv4", cidrs: ["198.51.100.0/28"], description: "public", clientToken: token("public") })).ipamPoolId;
    });

    test("allocateAddress: DescribeAddresses by the token tag, then AllocateAddress with IpamPoolId, Address and the tags; the same token again allocates nothing", async () => {
      const t = token("eip");
      const a = await aws.allocateAddress({ ipamPoolId: pub, address: "198.51.100.1", tags: { role: "nat" }, clientToken: t });
      expect(a).toMatchObject({ allocationId: expect.stringMatching(/^eipalloc-/), publicIp: "198.51.100.1", ipamPoolId: pub, tags: { role: "nat" } });
      const held = (await aws.listAllocations(pub)).find((x) => x.cidr === "198.51.100.1/32")!;
      expect(held.resourceType).toBe("eip");
      expect(a.ipamPoolAllocationId).toBe(held.ipamPoolAllocationId);
      const [lookup] = await sent("DescribeAddresses");
      expect(lookup).toMatchObject({ "Filter.1.Name": "tag:pulumi-ipam:client-token", "Filter.1.Value.1": t });
      const [alloc] = await sent("AllocateAddress");
      expect(alloc).toMatchObject({ Domain: "vpc", IpamPoolId: pub, Address: "198.51.100.1", "TagSpecification.1.ResourceType": "elastic-ip" });
      const tagPairs = Object.entries(alloc).filter(([k]) => /^TagSpecification\.1\.Tag\.\d+\.Key$/.test(k)).map(([k, v]) => [v, alloc[k.replace(/Key$/, "Value")]]);
      expect(Object.fromEntries(tagPairs)).toEqual({ role: "nat", "pulumi-ipam:client-token": t, "pulumi-ipam:ipam-pool-id": pub });

      const again = await aws.allocateAddress({ ipamPoolId: pub, address: "198.51.100.1", tags: { role: "nat" }, clientToken: t });
      expect(again).toEqual(a);
      expect(await sent("AllocateAddress")).toHaveLength(1);
      expect(await aws.getAddress(a.allocationId)).toEqual(a);

      await aws.releaseAddress(a.allocationId);
      expect(await aws.getAddress(a.allocationId)).toBeUndefined();
      expect((await aws.listAllocations(pub)).find((x) => x.cidr === "198.51.100.1/32")).toBeUndefined();
      expect((await failure(aws.releaseAddress(a.allocationId))).code).toBe("InvalidAllocationID.NotFound");
    });

    test("a throttled AllocateAddress looks the token up again before retrying", async () => {
      await shim.faults([{ action: "AllocateAddress", times: 1, code: "RequestLimitExceeded", status: 503 }]);
      const a = await aws.allocateAddress({ ipamPoolId: pub, address: "198.51.100.2", clientToken: token("eip-throttle") });
      expect(a.publicIp).toBe("198.51.100.2");
      expect(a.tags).toBeUndefined();
      expect((await shim.requests()).map((r) => r.action).filter((x) => x === "DescribeAddresses" || x === "AllocateAddress").slice(0, 4))
        .toEqual(["DescribeAddresses", "AllocateAddress", "DescribeAddresses", "AllocateAddress"]);
      await aws.releaseAddress(a.allocationId);
    });
  });

  describe("deleting pools", () => {
    test("a pool with allocations or nested pools is DependencyViolation, and nothing is deprovisioned", async () => {
      const e = await failure(aws.deletePool(top));
      expect(e.code).toBe("DependencyViolation");
      expect(e.message).toMatch(/1 nested pool/);
      expect(await sent("DeprovisionIpamPoolCidr")).toEqual([]);
      expect((await failure(aws.deletePool(nested))).code).toBe("DependencyViolation");
    });

    test("release everything, then delete: DeprovisionIpamPoolCidr each CIDR, wait, DeleteIpamPool; a nested pool's space goes back to its source", async () => {
      for (const a of await aws.listAllocations(nested)) await aws.release(nested, a.ipamPoolAllocationId, a.cidr);
      await shim.faults([{ action: "GetIpamPoolCidrs", times: 1, replace: ["<state>deprovisioned</state>", "<state>pending-deprovision</state>"] }]);
      await aws.deletePool(nested);
      expect(await sent("DeprovisionIpamPoolCidr")).toEqual([expect.objectContaining({ IpamPoolId: nested, Cidr: "10.0.64.0/18" })]);
      const order = (await shim.requests()).map((r) => r.action);
      expect(order.lastIndexOf("DeprovisionIpamPoolCidr")).toBeLessThan(order.indexOf("DeleteIpamPool"));
      expect(await aws.getPool(nested)).toBeUndefined();
      expect(await aws.listAllocations(top)).toEqual([]);
      await aws.deletePool(top);
      expect(await aws.getPool(top)).toBeUndefined();
      expect((await failure(aws.deletePool(top))).code).toBe("InvalidIpamPoolId.NotFound");
    });
  });

  describe("errors", () => {
    test("the API's codes come through as IpamError codes: unknown pool, the emulator's own validation, any other code as it is", async () => {
      expect((await failure(aws.allocate({ ipamPoolId: "ipam-pool-0123456789abcdef0", cidr: "10.0.0.0/24", clientToken: token("x") }))).code).toBe("InvalidIpamPoolId.NotFound");
      expect(await aws.getPool("ipam-pool-0123456789abcdef0")).toBeUndefined();
      expect((await failure(aws.createPool({ addressFamily: "ipv5", cidrs: [], clientToken: token("v5") }))).code).toBe("InvalidParameterValue");
      await shim.faults([{ action: "DescribeIpamPools", times: 1, code: "UnauthorizedOperation", status: 403, message: "You are not authorized to perform this operation." }]);
      const e = await failure(aws.getPool("ipam-pool-0123456789abcdef0"));
      expect(e.code).toBe("UnauthorizedOperation");
      expect(e.message).toBe("UnauthorizedOperation: DescribeIpamPools: You are not authorized to perform this operation.");
    });

    test("an allocation strategy other than first-fit is refused before any call (EC2 IPAM has none)", async () => {
      const e = await failure(aws.createPool({ addressFamily: "ipv4", cidrs: ["10.56.0.0/16"], allocationStrategy: "best-fit", clientToken: token("bf") }));
      expect(e.code).toBe("InvalidParameterValue");
      expect(await shim.requests()).toEqual([]);
    });

    test("no error message or result carries the secret key", async () => {
      const results: unknown[] = [];
      for (const p of [aws.getPool("ipam-pool-0123456789abcdef0"), aws.release("ipam-pool-0123456789abcdef0", "ipam-pool-alloc-0", "10.0.0.0/24"), aws.getAddress("eipalloc-0123456789abcdef0")]) {
        results.push(await p.then((v) => v, (e: Error) => `${e.message}\n${e.stack}`));
      }
      expect(JSON.stringify(results)).not.toContain(SECRET);
      expect(JSON.stringify(results)).not.toMatch(/secretAccessKey/i);
    });
  });
});

describe("AWS backend: Elastic IPs without a pool, on moto", () => {
  let emu: AwsEmulators;
  let aws: Backend;
  beforeAll(async () => {
    emu = await startAwsEmulators();
    aws = awsBackend({ region: AWS_TEST_REGION, endpoint: emu.eipEndpoint }, FAST);
  });
  afterAll(async () => {
    await emu?.stop();
  });

  test("idempotent by the token tag: the same token gives the same address; another token another", async () => {
    const t = token("moto");
    const a = await aws.allocateAddress({ tags: { Name: "nat" }, clientToken: t });
    expect(a).toMatchObject({ allocationId: expect.stringMatching(/^eipalloc-/), ipamPoolId: "", ipamPoolAllocationId: "", tags: { Name: "nat" } });
    expect(await aws.allocateAddress({ tags: { Name: "nat" }, clientToken: t })).toEqual(a);
    const b = await aws.allocateAddress({ clientToken: token("moto-b") });
    expect(b.allocationId).not.toBe(a.allocationId);
    expect(await aws.getAddress(a.allocationId)).toEqual(a);
    await aws.releaseAddress(a.allocationId);
    await aws.releaseAddress(b.allocationId);
    expect(await aws.getAddress(a.allocationId)).toBeUndefined();
    expect((await failure(aws.releaseAddress(a.allocationId))).code).toBe("InvalidAllocationID.NotFound");
  });

  /**
   * An EC2 endpoint in front of moto that answers the next `faults[action]` requests of an action with
   * 503 RequestLimitExceeded (as EC2 throttles) and forwards everything else; it records each action.
   */
  async function throttlingProxy(faults: Record<string, number>): Promise<{ url: string; actions: string[]; attempts: string[]; close: () => Promise<void> }> {
    const actions: string[] = [];
    const attempts: string[] = []; // the SDK's amz-sdk-request header: "attempt=n; max=m" of its retry strategy
    const target = new URL(emu.eipEndpoint);
    const server = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on("data", (c: Buffer) => chunks.push(c));
      req.on("end", () => {
        const body = Buffer.concat(chunks);
        const action = new URLSearchParams(body.toString()).get("Action") ?? "";
        actions.push(action);
        attempts.push(String(req.headers["amz-sdk-request"]));
        if ((faults[action] ?? 0) > 0) {
          faults[action]--;
          res.writeHead(503, { "content-type": "text/xml" });
          res.end(`<?xml version="1.0" encoding="UTF-8"?><Response><Errors><Error><Code>RequestLimitExceeded</Code><Message>Request limit exceeded.</Message></Error></Errors><RequestID>proxy</RequestID></Response>`);
          return;
        }
        const fwd = http.request({ host: target.hostname, port: target.port, path: req.url, method: req.method, headers: req.headers }, (up) => {
          res.writeHead(up.statusCode ?? 502, up.headers);
          up.pipe(res);
        });
        fwd.on("error", (e) => res.destroy(e));
        fwd.end(body);
      });
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    const { port } = server.address() as { port: number };
    return { url: `http://127.0.0.1:${port}`, actions, attempts, close: () => new Promise<void>((r) => server.close(() => r())) };
  }

  test("throttling is retried by the SDK's standard strategy; a throttled AllocateAddress (no ClientToken) looks its token up again first", async () => {
    const proxy = await throttlingProxy({ DescribeAddresses: 2, AllocateAddress: 1 });
    try {
      const flaky = awsBackend({ region: AWS_TEST_REGION, endpoint: proxy.url }, FAST);
      const a = await flaky.allocateAddress({ clientToken: token("flaky") });
      expect(a.allocationId).toMatch(/^eipalloc-/);
      // The token look-up retried twice inside the SDK; AllocateAddress sent once per attempt, each after a look-up.
      expect(proxy.actions).toEqual(["DescribeAddresses", "DescribeAddresses", "DescribeAddresses", "AllocateAddress", "DescribeAddresses", "AllocateAddress"]);
      expect(proxy.attempts).toEqual(["attempt=1; max=10", "attempt=2; max=10", "attempt=3; max=10", "attempt=1; max=1", "attempt=1; max=10", "attempt=1; max=1"]);
      await flaky.releaseAddress(a.allocationId);
    } finally {
      await proxy.close();
    }
  });

  test("maxAttempts is the SDK's: throttled past it, the call fails with IpamError RequestLimitExceeded after that many requests", async () => {
    const proxy = await throttlingProxy({ DescribeAddresses: 5 });
    try {
      const impatient = awsBackend({ region: AWS_TEST_REGION, endpoint: proxy.url }, { ...FAST, maxAttempts: 3 });
      const e = await failure(impatient.getAddress("eipalloc-0123456789abcdef0"));
      expect(e.code).toBe("RequestLimitExceeded");
      expect(proxy.actions).toEqual(["DescribeAddresses", "DescribeAddresses", "DescribeAddresses"]);
      expect(proxy.attempts).toEqual(["attempt=1; max=3", "attempt=2; max=3", "attempt=3; max=3"]);
    } finally {
      await proxy.close();
    }
  });
});
