/**
 * The Alibaba Cloud backend (provider/backends/alicloud.ts) against the
 * contract server (tests/support/alicloud): the real @alicloud/openapi-client
 * over HTTP, signature V3, credentials from the environment.
 */
import OpenApiClient, { Config, OpenApiRequest, Params } from "@alicloud/openapi-client";
import OpenApiUtil from "@alicloud/openapi-util";
import { RuntimeOptions } from "@alicloud/tea-util";
import { randomUUID } from "node:crypto";
import { alicloudBackend, AlicloudTuning, mapAlicloudCode } from "../../provider/backends/alicloud";
import type { Backend } from "../../provider/backends/backend";
import { IpamError } from "../../provider/core/errors";
import { AlicloudContractServer, startAlicloudContractServer } from "../support/alicloud/contract-server";

const REGION = "cn-hangzhou";
const OTHER = "cn-shanghai";
const FAST: Partial<AlicloudTuning> = { baseDelayMs: 2, maxDelayMs: 10, pollIntervalMs: 2 };

async function rejection(p: Promise<unknown>): Promise<IpamError> {
  try {
    await p;
  } catch (e) {
    if (e instanceof IpamError) return e;
    throw e;
  }
  throw new Error("expected an IpamError");
}

describe("alicloud backend against the contract server", () => {
  let server: AlicloudContractServer;
  let scopeId: string;
  let backend: Backend;
  const saved = { ...process.env };

  const make = (over: { region?: string; endpoint?: string; scopeId?: string } = {}, tuning: Partial<AlicloudTuning> = FAST) =>
    alicloudBackend({ region: REGION, endpoint: `http://${server.endpoint}`, scopeId, ...over }, tuning);
  /** What reached the server since `from` (action names, in order). */
  const since = (from: number) => server.state.requests.slice(from);
  const actions = (from: number) => since(from).map((r) => r.action);
  const token = () => `t-${randomUUID()}`;

  beforeAll(async () => {
    server = await startAlicloudContractServer({ maxPoolDepth: 3 });
    process.env.ALIBABA_CLOUD_ACCESS_KEY_ID = server.accessKeyId;
    process.env.ALIBABA_CLOUD_ACCESS_KEY_SECRET = server.accessKeySecret;
    delete process.env.ALIBABA_CLOUD_SECURITY_TOKEN;
    const client = new OpenApiClient(new Config({
      accessKeyId: server.accessKeyId, accessKeySecret: server.accessKeySecret, endpoint: server.endpoint, protocol: "http", regionId: REGION,
    }));
    const params = new Params({
      action: "CreateIpam", version: "2023-02-28", protocol: "HTTPS", pathname: "/", method: "POST", authType: "AK", style: "RPC", reqBodyType: "formData", bodyType: "json",
    });
    const resp = await client.callApi(params, new OpenApiRequest({ query: OpenApiUtil.query({ RegionId: REGION, OperatingRegionList: [REGION, OTHER] }) }), new RuntimeOptions({}));
    scopeId = (resp.body as any).PrivateDefaultScopeId;
    backend = make();
  });
  afterAll(async () => {
    process.env = saved;
    await server?.stop();
  });

  /** A top-level IPv4 pool with a region and its CIDRs. */
  const regional = (cidrs: string[], extra: Record<string, unknown> = {}) =>
    backend.createPool({ addressFamily: "ipv4", locale: REGION, cidrs, clientToken: token(), ...extra });

  describe("settings and credentials", () => {
    test("no region: MissingRegionId naming ipam:region", () => {
      expect(() => alicloudBackend({ endpoint: `http://${server.endpoint}`, scopeId })).toThrow(/MissingRegionId: .*ipam:region/);
    });

    test("an endpoint that is not host[:port] or http(s)://host[:port] is refused", () => {
      expect(() => make({ endpoint: "ftp://example.com" })).toThrow(/InvalidParameterValue/);
      expect(() => make({ endpoint: "http://127.0.0.1:1/path" })).toThrow(/InvalidParameterValue/);
    });

    test("credentials are read at each call, from the environment only; none: InvalidCredentials before any request", async () => {
      const b = make();
      const before = server.state.requests.length;
      delete process.env.ALIBABA_CLOUD_ACCESS_KEY_ID;
      try {
        const e = await rejection(b.getPool("ipam-pool-x"));
        expect(e.code).toBe("InvalidCredentials");
        expect(e.message).toContain("ALIBABA_CLOUD_ACCESS_KEY_ID");
        expect(server.state.requests.length).toBe(before);
      } finally {
        process.env.ALIBABA_CLOUD_ACCESS_KEY_ID = server.accessKeyId;
      }
      // The same backend object picks up the restored variable.
      expect(await b.getPool("ipam-pool-doesnotexist")).toBeUndefined();
    });

    test("a wrong secret: SignatureDoesNotMatch, with a hint and without the secret in the message", async () => {
      const wrong = `${server.accessKeySecret}x`;
      process.env.ALIBABA_CLOUD_ACCESS_KEY_SECRET = wrong;
      try {
        const e = await rejection(backend.getPool("ipam-pool-x"));
        expect(e.code).toBe("SignatureDoesNotMatch");
        expect(e.message).toContain("ALIBABA_CLOUD_ACCESS_KEY_SECRET");
        expect(e.message).not.toContain(wrong);
        expect(e.message).not.toContain(server.accessKeySecret);
      } finally {
        process.env.ALIBABA_CLOUD_ACCESS_KEY_SECRET = server.accessKeySecret;
      }
    });

    test("an STS token from ALIBABA_CLOUD_SECURITY_TOKEN is sent (signed) with the call", async () => {
      process.env.ALIBABA_CLOUD_SECURITY_TOKEN = "sts-token-for-test";
      try {
        // The contract server does not model STS; the request still verifies, since the token header is signed.
        expect(await backend.getPool("ipam-pool-doesnotexist")).toBeUndefined();
      } finally {
        delete process.env.ALIBABA_CLOUD_SECURITY_TOKEN;
      }
    });

    test("no scope: createPool fails with MissingIpamScopeId saying how to find one, before any request", async () => {
      const b = make({ scopeId: "" });
      const before = server.state.requests.length;
      const e = await rejection(b.createPool({ addressFamily: "ipv4", cidrs: ["10.0.0.0/8"], clientToken: token() }));
      expect(e.code).toBe("MissingIpamScopeId");
      expect(e.message).toMatch(/ipam:scopeId/);
      expect(e.message).toMatch(/ListIpamScopes/);
      expect(server.state.requests.length).toBe(before);
    });

    test("an unreachable endpoint: a connection error naming the endpoint, after the retries", async () => {
      const b = make({ endpoint: "http://127.0.0.1:9" }, { ...FAST, attempts: 2, connectTimeoutMs: 500 });
      const e = await rejection(b.getPool("ipam-pool-x"));
      expect(e.message).toContain("http://127.0.0.1:9");
      expect(e.message).toContain("ipam:endpoint");
    });
  });

  describe("pools", () => {
    test("top-level: CreateIpamPool with every parameter our spec carries, then AddIpamPoolCidr per CIDR", async () => {
      const t = token();
      const from = server.state.requests.length;
      const p = await backend.createPool({
        addressFamily: "ipv4", cidrs: ["10.20.0.0/16", "10.10.0.0/16"], description: "top pool", locale: REGION,
        allocationMinNetmaskLength: 16, allocationMaxNetmaskLength: 28, allocationDefaultNetmaskLength: 24,
        tags: { owner: "net", env: "" }, clientToken: t,
      });
      expect(actions(from)).toEqual(["ListIpamPools", "CreateIpamPool", "ListIpamPools", "AddIpamPoolCidr", "AddIpamPoolCidr", "ListIpamPoolCidrs"]);
      const create = since(from)[1].params;
      expect(create).toMatchObject({
        RegionId: REGION, IpamScopeId: scopeId, IpamPoolName: t, IpamPoolDescription: "top pool", PoolRegionId: REGION,
        AllocationMinCidrMask: "16", AllocationMaxCidrMask: "28", AllocationDefaultCidrMask: "24", IpVersion: "IPv4",
        "Tag.1.Key": "owner", "Tag.1.Value": "net", "Tag.2.Key": "env", "Tag.2.Value": "", ClientToken: t,
      });
      expect(create.SourceIpamPoolId).toBeUndefined();
      expect(since(from)[3].params).toMatchObject({ IpamPoolId: p.ipamPoolId, Cidr: "10.20.0.0/16", RegionId: REGION });
      expect(p).toEqual({
        ipamPoolId: expect.stringMatching(/^ipam-pool-/), addressFamily: "ipv4", poolDepth: 1, locale: REGION, description: "top pool",
        tags: { owner: "net", env: "" }, allocationMinNetmaskLength: 16, allocationMaxNetmaskLength: 28, allocationDefaultNetmaskLength: 24,
        allocationResourceTags: {}, allocationStrategy: "first-fit", cidrs: ["10.10.0.0/16", "10.20.0.0/16"], sourceIpamPoolId: undefined,
        ipamScopeId: scopeId,
      });
      expect(await backend.getPool(p.ipamPoolId)).toEqual(p);
    });

    test("nested: the child's CIDRs are carved from the source; the source lists them as ipam-pool allocations", async () => {
      const parent = await backend.createPool({ addressFamily: "ipv4", cidrs: ["10.64.0.0/12"], clientToken: token() });
      const child = await backend.createPool({
        addressFamily: "ipv4", sourceIpamPoolId: parent.ipamPoolId, locale: OTHER, cidrs: ["10.64.0.0/16"], allocationDefaultNetmaskLength: 24, clientToken: token(),
      });
      expect(child).toMatchObject({ sourceIpamPoolId: parent.ipamPoolId, poolDepth: 2, locale: OTHER, cidrs: ["10.64.0.0/16"] });
      expect(await backend.listAllocations(parent.ipamPoolId)).toEqual([
        expect.objectContaining({ cidr: "10.64.0.0/16", resourceType: "ipam-pool", resourceId: child.ipamPoolId, ipamPoolId: parent.ipamPoolId }),
      ]);
      // A CIDR outside the source: Alibaba's code, as it is.
      const e = await rejection(backend.createPool({ addressFamily: "ipv4", sourceIpamPoolId: parent.ipamPoolId, cidrs: ["192.168.0.0/24"], clientToken: token() }));
      expect(e.code).toBe("OperationDenied.CidrUnavailableInPool");
      // An unknown source pool: ResourceNotFound.SourceIpamPool -> InvalidIpamPoolId.NotFound.
      const missing = await rejection(backend.createPool({ addressFamily: "ipv4", sourceIpamPoolId: "ipam-pool-nope", cidrs: [], clientToken: token() }));
      expect(missing.code).toBe("InvalidIpamPoolId.NotFound");
      expect(missing.message).toContain("ResourceNotFound.SourceIpamPool");
    });

    test("depth: QuotaExceeded.IpamPoolQuotaDepth kept (this server allows 3 levels)", async () => {
      const a = await backend.createPool({ addressFamily: "ipv4", cidrs: ["172.16.0.0/12"], clientToken: token() });
      const b = await backend.createPool({ addressFamily: "ipv4", sourceIpamPoolId: a.ipamPoolId, cidrs: ["172.16.0.0/16"], clientToken: token() });
      const c = await backend.createPool({ addressFamily: "ipv4", sourceIpamPoolId: b.ipamPoolId, cidrs: ["172.16.0.0/20"], clientToken: token() });
      expect(c.poolDepth).toBe(3);
      const e = await rejection(backend.createPool({ addressFamily: "ipv4", sourceIpamPoolId: c.ipamPoolId, cidrs: [], clientToken: token() }));
      expect(e.code).toBe("QuotaExceeded.IpamPoolQuotaDepth");
    });

    test("IPv6: IpVersion IPv6, CIDRs in RFC 5952 form", async () => {
      const p = await backend.createPool({ addressFamily: "ipv6", locale: REGION, cidrs: ["FD00:0010:0:0::/48"], allocationDefaultNetmaskLength: 56, clientToken: token() });
      expect(p).toMatchObject({ addressFamily: "ipv6", cidrs: ["fd00:10::/48"] });
      expect(server.state.requests.filter((r) => r.action === "CreateIpamPool").pop()!.params.IpVersion).toBe("IPv6");
      const a = await backend.allocate({ ipamPoolId: p.ipamPoolId, cidr: "fd00:10:0:100::/56", clientToken: token() });
      expect(a.cidr).toBe("fd00:10:0:100::/56");
      expect(await backend.previewNextCidr({ ipamPoolId: p.ipamPoolId })).toBe("fd00:10::/56");
    });

    test("ClientToken: a repeated createPool returns the same pool, also when Alibaba has forgotten the token (found by name)", async () => {
      const t = token();
      const spec = { addressFamily: "ipv4", cidrs: ["10.200.0.0/16"], locale: REGION, clientToken: t };
      const first = await backend.createPool(spec);
      const pools = server.state.pools.size;
      expect(await backend.createPool(spec)).toEqual(first);
      server.state.idempotency.clear();
      expect(await backend.createPool(spec)).toEqual(first);
      expect(server.state.pools.size).toBe(pools);
      expect(server.state.poolCidrs.filter((c) => c.IpamPoolId === first.ipamPoolId)).toHaveLength(1);
    });

    test("a crash between CreateIpamPool and AddIpamPoolCidr: the re-run provisions the CIDR into the same pool", async () => {
      const t = token();
      server.injectFault("AddIpamPoolCidr", { status: 400, code: "InternalError.Simulated", message: "process killed here" });
      await rejection(backend.createPool({ addressFamily: "ipv4", cidrs: ["10.201.0.0/16"], locale: REGION, clientToken: t }));
      const half = [...server.state.pools.values()].filter((p) => p.IpamPoolName === t);
      expect(half).toHaveLength(1);
      const p = await backend.createPool({ addressFamily: "ipv4", cidrs: ["10.201.0.0/16"], locale: REGION, clientToken: t });
      expect(p).toMatchObject({ ipamPoolId: half[0].IpamPoolId, cidrs: ["10.201.0.0/16"] });
    });

    test("provisionPoolCidr adds a CIDR; repeating it is harmless", async () => {
      const p = await regional(["10.202.0.0/16"]);
      await backend.provisionPoolCidr(p.ipamPoolId, "10.203.0.0/16");
      await backend.provisionPoolCidr(p.ipamPoolId, "10.203.0.0/16");
      expect((await backend.getPool(p.ipamPoolId))!.cidrs).toEqual(["10.202.0.0/16", "10.203.0.0/16"]);
    });

    test("getPool of an unknown or planned-but-not-created id: undefined", async () => {
      expect(await backend.getPool("ipam-pool-0123456789abcdef0")).toBeUndefined();
    });

    test("what Alibaba has no counterpart for fails before any request: allocation tag rules, best-fit", async () => {
      const from = server.state.requests.length;
      const tags = await rejection(backend.createPool({ addressFamily: "ipv4", cidrs: ["10.204.0.0/16"], allocationResourceTags: { env: "prod" }, clientToken: token() }));
      expect(tags.code).toBe("UnsupportedOperation");
      expect(tags.message).toContain("allocationResourceTags");
      const fit = await rejection(backend.createPool({ addressFamily: "ipv4", cidrs: ["10.204.0.0/16"], allocationStrategy: "best-fit", clientToken: token() }));
      expect(fit.code).toBe("UnsupportedOperation");
      expect(server.state.requests.length).toBe(from);
    });

    test("updatePool: nothing changed sends nothing; a change goes to UpdateIpamPool (per the API reference; the contract server does not model it)", async () => {
      const p = await regional(["10.205.0.0/16"], { description: "before", tags: { a: "1" } });
      const from = server.state.requests.length;
      expect(await backend.updatePool({ ipamPoolId: p.ipamPoolId, description: "before", tags: { a: "1" } })).toEqual(p);
      expect(actions(from)).toEqual(["ListIpamPools", "ListIpamPoolCidrs"]);
      const e = await rejection(backend.updatePool({ ipamPoolId: p.ipamPoolId, description: "after", tags: { a: "1" } }));
      expect(e.code).toBe("InvalidAction.NotFound");
      expect(server.state.requests.at(-1)!.action).toBe("UpdateIpamPool");
      const tagged = await rejection(backend.updatePool({ ipamPoolId: p.ipamPoolId, description: "before", tags: { a: "2" } }));
      expect(tagged.code).toBe("InvalidAction.NotFound");
      expect(server.state.requests.at(-1)!.action).toBe("TagResources");
      const cleared = await rejection(backend.updatePool({ ipamPoolId: p.ipamPoolId, tags: { a: "1" } }));
      expect(cleared.code).toBe("UnsupportedOperation");
      expect((await rejection(backend.updatePool({ ipamPoolId: "ipam-pool-nope" }))).code).toBe("InvalidIpamPoolId.NotFound");
    });
  });

  describe("allocations", () => {
    let pool: string;
    beforeAll(async () => {
      pool = (await regional(["192.168.0.0/16"], { allocationMinNetmaskLength: 20, allocationMaxNetmaskLength: 28, allocationDefaultNetmaskLength: 24 })).ipamPoolId;
    });

    test("allocate an explicit CIDR: CreateIpamPoolAllocation with Cidr, ClientToken, description; the token is also its name", async () => {
      const t = token();
      const from = server.state.requests.length;
      const a = await backend.allocate({ ipamPoolId: pool, cidr: "192.168.1.0/24", description: "app subnet", clientToken: t });
      expect(a).toEqual({ ipamPoolAllocationId: expect.stringMatching(/^ipam-pool-alloc-/), ipamPoolId: pool, cidr: "192.168.1.0/24", description: "app subnet", resourceType: "custom" });
      const req = since(from).find((r) => r.action === "CreateIpamPoolAllocation")!;
      expect(req.params).toEqual({
        RegionId: REGION, IpamPoolId: pool, Cidr: "192.168.1.0/24", ClientToken: t, IpamPoolAllocationName: t, IpamPoolAllocationDescription: "app subnet",
      });
      expect(await backend.getAllocation(pool, a.ipamPoolAllocationId)).toEqual({ ...a, resourceId: undefined });
    });

    test("a pool in another region: its reservations are requested in that region (seed 002)", async () => {
      const parent = await backend.createPool({ addressFamily: "ipv4", cidrs: ["10.96.0.0/12"], clientToken: token() });
      const child = await backend.createPool({ addressFamily: "ipv4", sourceIpamPoolId: parent.ipamPoolId, locale: OTHER, cidrs: ["10.96.0.0/16"], clientToken: token() });
      const fresh = make(); // knows nothing of the pool yet: it looks up the pool's region in the IPAM's region
      const from = server.state.requests.length;
      const a = await fresh.allocate({ ipamPoolId: child.ipamPoolId, cidr: "10.96.4.0/24", clientToken: token() });
      expect(actions(from)).toEqual(["ListIpamPools", "CreateIpamPoolAllocation"]);
      expect(since(from).map((r) => r.params.RegionId)).toEqual([REGION, OTHER]);
      await fresh.release(child.ipamPoolId, a.ipamPoolAllocationId, a.cidr);
      expect(since(from).find((r) => r.action === "DeleteIpamPoolAllocation")!.params.RegionId).toBe(OTHER);
    });

    test("ClientToken: the same token gives the same reservation once, also when Alibaba has forgotten the token", async () => {
      const t = token();
      const a = await backend.allocate({ ipamPoolId: pool, cidr: "192.168.2.0/24", clientToken: t });
      const count = server.state.allocations.size;
      expect(await backend.allocate({ ipamPoolId: pool, cidr: "192.168.2.0/24", clientToken: t })).toEqual(a);
      server.state.idempotency.clear();
      expect(await backend.allocate({ ipamPoolId: pool, cidr: "192.168.2.0/24", clientToken: t })).toMatchObject({ ipamPoolAllocationId: a.ipamPoolAllocationId, cidr: a.cidr });
      expect(server.state.allocations.size).toBe(count);
      // Another token for a taken CIDR: refused.
      const e = await rejection(backend.allocate({ ipamPoolId: pool, cidr: "192.168.2.0/24", clientToken: token() }));
      expect(e.code).toBe("OperationDenied.CidrUnavailableInPool");
    });

    test("DryRun: DryRunOperation, nothing made", async () => {
      const count = server.state.allocations.size;
      expect((await rejection(backend.allocate({ ipamPoolId: pool, cidr: "192.168.3.0/24", clientToken: token(), dryRun: true }))).code).toBe("DryRunOperation");
      expect(server.state.allocations.size).toBe(count);
    });

    test("what a reservation cannot carry fails before CreateIpamPoolAllocation: tags, a resource type, a resource id", async () => {
      const from = server.state.requests.length;
      for (const extra of [{ resourceTags: { env: "prod" } }, { resourceType: "vpc" as const }, { resourceId: "vpc-123" }]) {
        const e = await rejection(backend.allocate({ ipamPoolId: pool, cidr: "192.168.4.0/24", clientToken: token(), ...extra }));
        expect(e.code).toBe("UnsupportedOperation");
      }
      expect(actions(from).filter((a) => a === "CreateIpamPoolAllocation")).toEqual([]);
    });

    test("previewNextCidr: GetIpamPoolNextAvailableCidr by mask, by the pool's default mask, by CIDR; nothing reserved", async () => {
      const from = server.state.requests.length;
      const count = server.state.allocations.size;
      expect(await backend.previewNextCidr({ ipamPoolId: pool, netmaskLength: 20 })).toBe("192.168.16.0/20");
      const req = since(from).find((r) => r.action === "GetIpamPoolNextAvailableCidr")!;
      expect(req).toMatchObject({ method: "GET", params: { IpamPoolId: pool, CidrMask: "20" } });
      expect(await backend.previewNextCidr({ ipamPoolId: pool })).toBe("192.168.0.0/24");
      expect(await backend.previewNextCidr({ ipamPoolId: pool, cidr: "192.168.200.0/24" })).toBe("192.168.200.0/24");
      expect(server.state.allocations.size).toBe(count);
      expect((await rejection(backend.previewNextCidr({ ipamPoolId: pool, allowedCidrs: ["192.168.0.0/17"] }))).code).toBe("UnsupportedOperation");
    });

    test("listAllocations pages with NextToken: 25 reservations with 10 per page take 3 calls", async () => {
      const p = (await regional(["100.64.0.0/24"])).ipamPoolId;
      const made: string[] = [];
      for (let i = 0; i < 25; i++) made.push((await backend.allocate({ ipamPoolId: p, cidr: `100.64.0.${i * 8}/29`, clientToken: token() })).ipamPoolAllocationId);
      const paged = make({}, { ...FAST, pageSize: 10 });
      const from = server.state.requests.length;
      const all = await paged.listAllocations(p);
      expect(all.map((a) => a.ipamPoolAllocationId)).toEqual(made);
      const lists = since(from).filter((r) => r.action === "ListIpamPoolAllocations");
      expect(lists.map((r) => [r.params.MaxResults, !!r.params.NextToken])).toEqual([["10", false], ["10", true], ["10", true]]);
      // With the default page size (100): 105 reservations take 2 calls.
      const big = (await regional(["100.65.0.0/16"])).ipamPoolId;
      for (let i = 0; i < 105; i++) await backend.allocate({ ipamPoolId: big, cidr: `100.65.${i}.0/24`, clientToken: token() });
      const from2 = server.state.requests.length;
      expect(await backend.listAllocations(big)).toHaveLength(105);
      expect(actions(from2).filter((a) => a === "ListIpamPoolAllocations")).toHaveLength(2);
    });

    test("getAllocation: undefined for an unknown reservation or pool", async () => {
      expect(await backend.getAllocation(pool, "ipam-pool-alloc-nope")).toBeUndefined();
      expect(await backend.getAllocation("ipam-pool-nope", "ipam-pool-alloc-nope")).toBeUndefined();
    });

    test("release: DeleteIpamPoolAllocation; the given CIDR must be the reservation's; then NotFound", async () => {
      const a = await backend.allocate({ ipamPoolId: pool, cidr: "192.168.8.0/24", clientToken: token() });
      expect((await rejection(backend.release(pool, a.ipamPoolAllocationId, "192.168.9.0/24"))).code).toBe("InvalidParameterValue");
      await backend.release(pool, a.ipamPoolAllocationId, a.cidr);
      expect(await backend.getAllocation(pool, a.ipamPoolAllocationId)).toBeUndefined();
      expect((await rejection(backend.release(pool, a.ipamPoolAllocationId, a.cidr))).code).toBe("InvalidIpamPoolAllocationId.NotFound");
      // Without a CIDR the API's own answer: ResourceNotFound.IpamPoolAllocation -> InvalidIpamPoolAllocationId.NotFound.
      const e = await rejection(backend.release(pool, a.ipamPoolAllocationId, ""));
      expect(e.code).toBe("InvalidIpamPoolAllocationId.NotFound");
      expect(e.message).toContain("ResourceNotFound.IpamPoolAllocation");
      expect((await rejection(backend.release("ipam-pool-nope", a.ipamPoolAllocationId, a.cidr))).code).toBe("InvalidIpamPoolId.NotFound");
      // The freed block can be reserved again.
      expect((await backend.allocate({ ipamPoolId: pool, cidr: "192.168.8.0/24", clientToken: token() })).cidr).toBe("192.168.8.0/24");
    });
  });

  describe("deletePool", () => {
    test("DependencyViolation while reservations or nested pools remain; then deleted, its CIDR back in the source", async () => {
      const parent = await backend.createPool({ addressFamily: "ipv4", cidrs: ["10.128.0.0/12"], locale: REGION, clientToken: token() });
      const child = await backend.createPool({ addressFamily: "ipv4", sourceIpamPoolId: parent.ipamPoolId, cidrs: ["10.128.0.0/16"], clientToken: token() });
      const a = await backend.allocate({ ipamPoolId: child.ipamPoolId, cidr: "10.128.0.0/24", clientToken: token() });

      const byChild = await rejection(backend.deletePool(parent.ipamPoolId));
      expect(byChild.code).toBe("DependencyViolation");
      expect(byChild.message).toContain("DependencyViolation.IpamPool");
      const byAllocation = await rejection(backend.deletePool(child.ipamPoolId));
      expect(byAllocation.code).toBe("DependencyViolation");
      expect(byAllocation.message).toContain("DependencyViolation.CustomPoolAllocation");

      await backend.release(child.ipamPoolId, a.ipamPoolAllocationId, a.cidr);
      await backend.deletePool(child.ipamPoolId);
      expect(await backend.getPool(child.ipamPoolId)).toBeUndefined();
      expect(await backend.listAllocations(parent.ipamPoolId)).toEqual([]);
      await backend.deletePool(parent.ipamPoolId);
      expect(await backend.getPool(parent.ipamPoolId)).toBeUndefined();
      expect((await rejection(backend.deletePool(parent.ipamPoolId))).code).toBe("InvalidIpamPoolId.NotFound");
    });
  });

  describe("error codes", () => {
    let pool: string;
    beforeAll(async () => {
      pool = (await regional(["198.18.0.0/16"], { allocationMaxNetmaskLength: 28 })).ipamPoolId;
    });

    test.each([
      ["ResourceNotFound.IpamPool", "InvalidIpamPoolId.NotFound"],
      ["ResourceNotFound.SourceIpamPool", "InvalidIpamPoolId.NotFound"],
      ["ResourceNotFound.IpamPoolAllocation", "InvalidIpamPoolAllocationId.NotFound"],
      ["MissingParam.CidrOrCidrMask", "InvalidParameterCombination"],
      ["ResourceNotEnough.IpamPoolCidr", "OperationDenied.AvailableCidrInsufficient"],
      ["DependencyViolation.IpamPool", "DependencyViolation"],
      ["DependencyViolation.CustomPoolAllocation", "DependencyViolation"],
      ["IllegalParam.Cidr", "IllegalParam.Cidr"],
      ["IllegalParam.CidrMask", "IllegalParam.CidrMask"],
      ["OperationDenied.CidrUnavailableInPool", "OperationDenied.CidrUnavailableInPool"],
      ["OperationDenied.AvailableCidrInsufficient", "OperationDenied.AvailableCidrInsufficient"],
      ["OperationDenied.CidrInExcludeCidrs", "OperationDenied.CidrInExcludeCidrs"],
      ["OperationDenied.ResourceTypeIsNotCustom", "OperationDenied.ResourceTypeIsNotCustom"],
      ["QuotaExceeded.IpamPoolQuotaDepth", "QuotaExceeded.IpamPoolQuotaDepth"],
      ["DryRunOperation", "DryRunOperation"],
      ["IllegalParam.AllocationMaxNetmask", "IllegalParam.AllocationMaxNetmask"],
    ])("%s -> %s (as an API answer reaching the backend)", async (alibaba, ours) => {
      expect(mapAlicloudCode(alibaba)).toBe(ours);
      server.injectFault("CreateIpamPoolAllocation", { status: alibaba.startsWith("ResourceNotFound") ? 404 : 400, code: alibaba, message: "injected" });
      const e = await rejection(backend.allocate({ ipamPoolId: pool, cidr: "198.18.0.0/24", clientToken: token() }));
      expect(e.code).toBe(ours);
      expect(e.message).toContain(`Alibaba Cloud CreateIpamPoolAllocation: ${alibaba}`);
    });

    test("the API's own answers, not injected: IllegalParam.Cidr, IllegalParam.CidrMask, InvalidParameterCombination, IpamPoolNotInRegion", async () => {
      expect((await rejection(backend.allocate({ ipamPoolId: pool, cidr: "198.18.1.1/24", clientToken: token() }))).code).toBe("IllegalParam.Cidr");
      expect((await rejection(backend.allocate({ ipamPoolId: pool, cidr: "198.18.1.0/30", clientToken: token() }))).code).toBe("IllegalParam.CidrMask");
      expect((await rejection(backend.previewNextCidr({ ipamPoolId: pool }))).code).toBe("InvalidParameterCombination");
      const noRegion = await backend.createPool({ addressFamily: "ipv4", cidrs: ["198.19.0.0/16"], clientToken: token() });
      const e = await rejection(backend.allocate({ ipamPoolId: noRegion.ipamPoolId, cidr: "198.19.0.0/24", clientToken: token() }));
      expect(e.code).toBe("OperationDenied.IpamPoolNotInRegion");
      expect(e.message).toContain("locale");
      expect((await rejection(backend.allocate({ ipamPoolId: "ipam-pool-nope", cidr: "198.19.0.0/24", clientToken: token() }))).code).toBe("InvalidIpamPoolId.NotFound");
    });

    test("Throttling.* and ServiceUnavailable are retried with backoff; other errors are not", async () => {
      server.injectFault("ListIpamPools", { status: 400, code: "Throttling.User", message: "Request was denied due to user flow control.", times: 2 });
      server.injectFault("ListIpamPools", { status: 503, code: "ServiceUnavailable", message: "The request has failed due to a temporary failure of the server." });
      let from = server.state.requests.length;
      expect(await backend.getPool(pool)).toMatchObject({ ipamPoolId: pool });
      expect(actions(from).filter((a) => a === "ListIpamPools")).toHaveLength(4);

      server.injectFault("ListIpamPools", { status: 400, code: "Throttling", message: "throttled", times: 3 });
      from = server.state.requests.length;
      const e = await rejection(make({}, { ...FAST, attempts: 3 }).getPool(pool));
      expect(e.code).toBe("Throttling");
      expect(e.message).toContain("after 3 attempts");
      expect(actions(from)).toEqual(["ListIpamPools", "ListIpamPools", "ListIpamPools"]);

      from = server.state.requests.length;
      server.injectFault("ListIpamPoolCidrs", { status: 400, code: "IllegalParam.NextToken", message: "bad" });
      expect((await rejection(backend.getPool(pool))).code).toBe("IllegalParam.NextToken");
      expect(actions(from).filter((a) => a === "ListIpamPoolCidrs")).toHaveLength(1);
    });
  });

  describe("Elastic IPs", () => {
    test("allocateAddress, getAddress, releaseAddress: UnsupportedOperation saying what Alibaba lacks and what to use; no request", async () => {
      const from = server.state.requests.length;
      const e = await rejection(backend.allocateAddress({ ipamPoolId: "ipam-pool-x", clientToken: token() }));
      expect(e.code).toBe("UnsupportedOperation");
      expect(e.message).toContain("AllocateEipAddress");
      expect(e.message).toContain("@pulumi/alicloud");
      expect((await rejection(backend.getAddress("eip-1"))).code).toBe("UnsupportedOperation");
      expect((await rejection(backend.releaseAddress("eip-1"))).code).toBe("UnsupportedOperation");
      expect(server.state.requests.length).toBe(from);
    });
  });

  test("API calls per operation (printed for the record)", async () => {
    const count = async (name: string, fn: () => Promise<unknown>) => {
      const from = server.state.requests.length;
      await fn();
      return `${name}: ${actions(from).join(", ")}`;
    };
    const b = make();
    const lines: string[] = [];
    let top = "", child = "", alloc = { id: "", cidr: "" };
    lines.push(await count("createPool (top-level, 1 CIDR)", async () => { top = (await b.createPool({ addressFamily: "ipv4", cidrs: ["10.250.0.0/16"], clientToken: token() })).ipamPoolId; }));
    lines.push(await count("createPool (nested, 1 CIDR)", async () => { child = (await b.createPool({ addressFamily: "ipv4", sourceIpamPoolId: top, locale: REGION, cidrs: ["10.250.0.0/20"], clientToken: token() })).ipamPoolId; }));
    const fresh = make();
    lines.push(await count("allocate (first call for the pool in this process)", async () => { const a = await fresh.allocate({ ipamPoolId: child, cidr: "10.250.0.0/24", clientToken: token() }); alloc = { id: a.ipamPoolAllocationId, cidr: a.cidr }; }));
    lines.push(await count("allocate (pool region cached)", () => fresh.allocate({ ipamPoolId: child, cidr: "10.250.1.0/24", clientToken: token() })));
    lines.push(await count("getPool", () => fresh.getPool(child)));
    lines.push(await count("listAllocations (< 100)", () => fresh.listAllocations(child)));
    lines.push(await count("getAllocation", () => fresh.getAllocation(child, alloc.id)));
    lines.push(await count("previewNextCidr", () => fresh.previewNextCidr({ ipamPoolId: child, netmaskLength: 24 })));
    lines.push(await count("release (with cidr)", () => fresh.release(child, alloc.id, alloc.cidr)));
    lines.push(await count("provisionPoolCidr", () => fresh.provisionPoolCidr(top, "10.251.0.0/16")));
    lines.push(await count("updatePool (no change)", () => fresh.updatePool({ ipamPoolId: top })));
    for (const a of await fresh.listAllocations(child)) await fresh.release(child, a.ipamPoolAllocationId, "");
    lines.push(await count("deletePool", () => fresh.deletePool(child)));
    process.stdout.write(`${lines.join("\n")}\n`);
    expect(lines).toHaveLength(12);
  });
});
