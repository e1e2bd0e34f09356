/**
 * Drives the Alibaba Cloud contract server (tests/support/alicloud) with the real
 * @alicloud/openapi-client, exactly as a generated product SDK calls the API:
 * Params {style RPC, pathname "/", authType AK, reqBodyType formData,
 * bodyType json}, business parameters flattened into the query string by
 * OpenApiUtil.query, signature V3 (ACS3-HMAC-SHA256).
 */
import OpenApiClient, { Config, OpenApiRequest, Params } from "@alicloud/openapi-client";
import OpenApiUtil from "@alicloud/openapi-util";
import { RuntimeOptions } from "@alicloud/tea-util";
import * as $tea from "@alicloud/tea-typescript";
import * as crypto from "node:crypto";
import {
  AlicloudContractServer,
  ContractServerOptions,
  VPCIPAM_VERSION,
  VPC_VERSION,
  startAlicloudContractServer,
} from "../support/alicloud/contract-server";

const REGION = "cn-hangzhou";

type Body = Record<string, any>;
interface CallOptions {
  version?: string;
  method?: "POST" | "GET";
  /** Send the parameters as a JSON body (reqBodyType "json") instead of the query string. */
  jsonBody?: boolean;
}

function makeClient(server: AlicloudContractServer, secret = server.accessKeySecret, ak = server.accessKeyId): OpenApiClient {
  return new OpenApiClient(
    new Config({ accessKeyId: ak, accessKeySecret: secret, endpoint: server.endpoint, protocol: "http", regionId: REGION }),
  );
}

async function call(client: OpenApiClient, action: string, args: Record<string, unknown>, o: CallOptions = {}): Promise<Body> {
  const params = new Params({
    action,
    version: o.version ?? VPCIPAM_VERSION,
    protocol: "HTTPS", // overridden by Config.protocol "http"
    pathname: "/",
    method: o.method ?? "POST",
    authType: "AK",
    style: "RPC",
    reqBodyType: o.jsonBody ? "json" : "formData",
    bodyType: "json",
  });
  const request = o.jsonBody ? new OpenApiRequest({ body: args }) : new OpenApiRequest({ query: OpenApiUtil.query(args) });
  const resp = await client.callApi(params, request, new RuntimeOptions({}));
  expect(resp.statusCode).toBe(200);
  return resp.body as Body;
}

interface CallError {
  code: string;
  statusCode: number;
  data: Body;
}

async function callError(client: OpenApiClient, action: string, args: Record<string, unknown>, o: CallOptions = {}): Promise<CallError> {
  try {
    const body = await call(client, action, args, o);
    throw new Error(`expected ${action} to fail, got ${JSON.stringify(body)}`);
  } catch (e: any) {
    if (!e?.data) throw e;
    return { code: e.code, statusCode: e.data.statusCode, data: e.data };
  }
}

describe("Alibaba Cloud VpcIpam / VPC contract server", () => {
  let server: AlicloudContractServer;
  let client: OpenApiClient;
  let ipam: Body;

  const startWith = async (opts: ContractServerOptions = {}) => {
    const s = await startAlicloudContractServer(opts);
    const c = makeClient(s);
    const i = await call(c, "CreateIpam", { RegionId: REGION, IpamName: "contract", OperatingRegionList: [REGION, "cn-shanghai"] });
    return { s, c, i };
  };

  beforeAll(async () => {
    ({ s: server, c: client, i: ipam } = await startWith({ maxPoolDepth: 3 }));
  });
  afterAll(async () => {
    await server?.stop();
  });

  /** A private IPv4 top-level pool with a region and one provisioned CIDR. */
  async function regionalPool(cidr: string, extra: Record<string, unknown> = {}): Promise<string> {
    const { IpamPoolId } = await call(client, "CreateIpamPool", {
      RegionId: REGION,
      IpamScopeId: ipam.PrivateDefaultScopeId,
      PoolRegionId: REGION,
      ...extra,
    });
    await call(client, "AddIpamPoolCidr", { RegionId: REGION, IpamPoolId, Cidr: cidr });
    return IpamPoolId;
  }

  describe("signature V3", () => {
    test("a request signed by the SDK is accepted and answered with the documented fields", () => {
      expect(ipam.RequestId).toMatch(/^[0-9A-F-]{36}$/);
      expect(ipam.IpamId).toMatch(/^ipam-[a-z0-9]+$/);
      expect(ipam.PublicDefaultScopeId).toMatch(/^ipam-scope-/);
      expect(ipam.PrivateDefaultScopeId).toMatch(/^ipam-scope-/);
      expect(server.state.scopes.get(ipam.PrivateDefaultScopeId)?.IpamScopeType).toBe("private");
    });

    test("a wrong secret is rejected with SignatureDoesNotMatch / 400", async () => {
      const bad = makeClient(server, `${server.accessKeySecret}x`);
      const err = await callError(bad, "ListIpamPools", { RegionId: REGION });
      expect(err).toMatchObject({ code: "SignatureDoesNotMatch", statusCode: 400 });
      expect(err.data.RequestId).toBeTruthy();
      expect(err.data.HostId).toBe(server.endpoint);
      expect(err.data.Message).toContain("ACS3-HMAC-SHA256");
    });

    test("an unknown AccessKey id is rejected with InvalidAccessKeyId.NotFound / 404", async () => {
      const bad = makeClient(server, server.accessKeySecret, "LTAInobody");
      expect(await callError(bad, "ListIpamPools", { RegionId: REGION })).toMatchObject({
        code: "InvalidAccessKeyId.NotFound",
        statusCode: 404,
      });
    });

    describe("hand-signed requests (signed with @alicloud/openapi-util's own signer)", () => {
      const signed = (opts: { query: Record<string, string>; date?: string; nonce?: string; body?: string }) => {
        const body = opts.body ?? "";
        const req = new $tea.Request();
        req.method = "POST";
        req.pathname = "/";
        req.query = opts.query;
        req.headers = {
          host: server.endpoint,
          "x-acs-action": "ListIpamPools",
          "x-acs-version": VPCIPAM_VERSION,
          "x-acs-date": opts.date ?? OpenApiUtil.getTimestamp(),
          "x-acs-signature-nonce": opts.nonce ?? crypto.randomUUID(),
          "x-acs-content-sha256": crypto.createHash("sha256").update(body).digest("hex"),
        };
        if (body) req.headers["content-type"] = "application/x-www-form-urlencoded";
        req.headers.authorization = OpenApiUtil.getAuthorization(
          req,
          "ACS3-HMAC-SHA256",
          req.headers["x-acs-content-sha256"],
          server.accessKeyId,
          server.accessKeySecret,
        );
        return req;
      };
      const send = async (req: $tea.Request, queryOverride?: string, body?: string) => {
        const qs = queryOverride ?? new URLSearchParams(req.query).toString().replace(/\+/g, "%20");
        const r = await fetch(`http://${server.endpoint}/?${qs}`, { method: "POST", headers: req.headers, body });
        return { status: r.status, body: (await r.json()) as Body };
      };

      test("the same request sent twice: the nonce is refused the second time", async () => {
        const req = signed({ query: { RegionId: REGION, IpamPoolName: "a b*c~(d)" } });
        expect((await send(req)).status).toBe(200);
        expect(await send(req)).toMatchObject({ status: 400, body: { Code: "SignatureNonceUsed" } });
      });

      test("a query parameter changed after signing is refused", async () => {
        const req = signed({ query: { RegionId: REGION, MaxResults: "10" } });
        expect(await send(req, `RegionId=${REGION}&MaxResults=11`)).toMatchObject({
          status: 400,
          body: { Code: "SignatureDoesNotMatch" },
        });
      });

      test("a form body is signed through x-acs-content-sha256; a body swapped after signing is refused", async () => {
        const body = `RegionId=${REGION}&MaxResults=2`;
        const req = signed({ query: {}, body });
        expect(await send(req, "", body)).toMatchObject({ status: 200, body: { MaxResults: 2 } });
        const other = signed({ query: {}, body });
        expect(await send(other, "", `RegionId=${REGION}&MaxResults=3`)).toMatchObject({
          status: 400,
          body: { Code: "SignatureDoesNotMatch" },
        });
      });

      test("an x-acs-* header left out of SignedHeaders is refused", async () => {
        const req = signed({ query: { RegionId: REGION } });
        req.headers["x-acs-extra"] = "not signed";
        expect(await send(req)).toMatchObject({ status: 400, body: { Code: "IncompleteSignature" } });
      });

      test("a stale x-acs-date is refused", async () => {
        const req = signed({ query: { RegionId: REGION }, date: "2020-01-01T00:00:00Z" });
        expect(await send(req)).toMatchObject({ status: 400, body: { Code: "InvalidTimeStamp.Expired" } });
      });

      test("no Authorization header: IncompleteSignature / 400", async () => {
        const r = await fetch(`http://${server.endpoint}/?RegionId=${REGION}`, {
          method: "POST",
          headers: { "x-acs-action": "ListIpamPools", "x-acs-version": VPCIPAM_VERSION },
        });
        expect(r.status).toBe(400);
        expect(((await r.json()) as Body).Code).toBe("IncompleteSignature");
      });
    });

    test("unknown action or wrong version: InvalidAction.NotFound / 404", async () => {
      expect(await callError(client, "CreateIpamPoolAllocationX", { RegionId: REGION })).toMatchObject({
        code: "InvalidAction.NotFound",
        statusCode: 404,
      });
      expect(await callError(client, "ListIpamPools", { RegionId: REGION }, { version: VPC_VERSION })).toMatchObject({
        code: "InvalidAction.NotFound",
        statusCode: 404,
      });
    });

    test("a JSON body (reqBodyType json) is read like the query string", async () => {
      const r = await call(client, "ListIpamPools", { RegionId: REGION, MaxResults: 1 }, { jsonBody: true });
      expect(r.MaxResults).toBe(1);
    });
  });

  describe("CreateIpamPool (seed 003)", () => {
    const base = () => ({ RegionId: REGION, IpamScopeId: ipam.PrivateDefaultScopeId });

    test("every parameter is accepted and echoed by ListIpamPools", async () => {
      const { IpamPoolId } = await call(client, "CreateIpamPool", {
        ...base(),
        IpamPoolName: "all-params",
        IpamPoolDescription: "every parameter of seed 003",
        ResourceGroupId: "rg-aek2sermdd6",
        PoolRegionId: "cn-shanghai",
        AllocationMinCidrMask: 16,
        AllocationDefaultCidrMask: 24,
        AllocationMaxCidrMask: 28,
        IpVersion: "IPv4",
        AutoImport: true,
        Tag: [
          { Key: "FinanceDept", Value: "FinanceJoshua" },
          { Key: "env", Value: "" },
        ],
      });
      expect(IpamPoolId).toMatch(/^ipam-pool-/);
      const { IpamPools, TotalCount } = await call(client, "ListIpamPools", { RegionId: REGION, IpamPoolIds: [IpamPoolId] });
      expect(TotalCount).toBe(1);
      expect(IpamPools[0]).toMatchObject({
        IpamPoolId,
        IpamId: ipam.IpamId,
        IpamScopeId: ipam.PrivateDefaultScopeId,
        IpamScopeType: "private",
        IpamPoolName: "all-params",
        IpamPoolDescription: "every parameter of seed 003",
        ResourceGroupId: "rg-aek2sermdd6",
        PoolRegionId: "cn-shanghai",
        IpamRegionId: REGION,
        AllocationMinCidrMask: 16,
        AllocationDefaultCidrMask: 24,
        AllocationMaxCidrMask: 28,
        IpVersion: "IPv4",
        AutoImport: true,
        PoolDepth: 1,
        HasSubPool: false,
        Status: "Created",
        Tags: [
          { Key: "FinanceDept", Value: "FinanceJoshua" },
          { Key: "env", Value: "" },
        ],
      });
      const byTag = await call(client, "ListIpamPools", { RegionId: REGION, Tags: [{ Key: "FinanceDept", Value: "FinanceJoshua" }] });
      expect(byTag.IpamPools.map((p: Body) => p.IpamPoolId)).toEqual([IpamPoolId]);
    });

    test.each([
      [{ AllocationDefaultCidrMask: 33 }, "IllegalParam.AllocationDefaultNetmask"],
      [{ AllocationMaxCidrMask: -1 }, "IllegalParam.AllocationMaxNetmask"],
      [{ AllocationMinCidrMask: 40 }, "IllegalParam.AllocationMinNetmask"],
      [{ AllocationMinCidrMask: 24, AllocationMaxCidrMask: 16 }, "IllegalParam.AllocationMinNetmask"],
      [{ AllocationMinCidrMask: 16, AllocationDefaultCidrMask: 8, AllocationMaxCidrMask: 24 }, "IllegalParam.AllocationDefaultNetmask"],
      [{ AllocationMinCidrMask: 16, AllocationDefaultCidrMask: 28, AllocationMaxCidrMask: 24 }, "IllegalParam.AllocationDefaultNetmask"],
      [{ IpVersion: "IPv5" }, "IllegalParam.IpVersion"],
      [{ IpVersion: "ipv4" }, "IllegalParam.IpVersion"],
      [{ IpVersion: "IPv6", AllocationMaxCidrMask: 129 }, "IllegalParam.AllocationMaxNetmask"],
      [{ Ipv6Isp: "Mars" }, "IllegalParam.Ipv6Isp"],
      [{ PoolRegionId: "eu-central-1" }, "IllegalParam.PoolRegionId"],
      [{ IpamScopeId: "ipam-scope-doesnotexist" }, "ResourceNotFound.IpamScope"],
      [{ SourceIpamPoolId: "ipam-pool-doesnotexist" }, "ResourceNotFound.SourceIpamPool"],
      [{ Tag: [{ Key: "a", Value: "1" }, { Key: "a", Value: "2" }] }, "DuplicatedParam.TagKey"],
    ])("%j -> %s / 400", async (extra, code) => {
      const before = server.state.pools.size;
      expect(await callError(client, "CreateIpamPool", { ...base(), ...extra })).toMatchObject({ code, statusCode: 400 });
      expect(server.state.pools.size).toBe(before);
    });

    test("IPv6 masks go to 128; public scope: no IPv4 pools, top IPv6 pool needs a region and is one per ISP", async () => {
      await call(client, "CreateIpamPool", { ...base(), IpVersion: "IPv6", AllocationMaxCidrMask: 128, AllocationMinCidrMask: 48 });
      const pub = { RegionId: REGION, IpamScopeId: ipam.PublicDefaultScopeId };
      expect(await callError(client, "CreateIpamPool", pub)).toMatchObject({ code: "UnsupportedFeature.IpamPublicIpv4Pool" });
      expect(await callError(client, "CreateIpamPool", { ...pub, IpVersion: "IPv6" })).toMatchObject({
        code: "OperationDenied.IpamPublicIpv6PoolNeedPoolRegion",
      });
      const { IpamPoolId } = await call(client, "CreateIpamPool", { ...pub, IpVersion: "IPv6", PoolRegionId: REGION, Ipv6Isp: "BGP" });
      expect(await callError(client, "CreateIpamPool", { ...pub, IpVersion: "IPv6", PoolRegionId: REGION })).toMatchObject({
        code: "QuotaExceeded.IpamPublicIpv6TopPoolQuotaPerRegionIsp",
      });
      // Top-level public IPv6 pools are provisioned by mask only.
      const { Cidr } = await call(client, "AddIpamPoolCidr", { RegionId: REGION, IpamPoolId, NetmaskLength: 48 });
      expect(Cidr).toBe("2001:db8::/48");
      const child = await call(client, "CreateIpamPool", { ...pub, SourceIpamPoolId: IpamPoolId });
      expect(await callError(client, "CreateIpamPool", { ...pub, SourceIpamPoolId: IpamPoolId, Ipv6Isp: "ChinaMobile" })).toMatchObject({
        code: "Mismatch.Ipv6IspAndSourceIpamPool",
      });
      const listed = await call(client, "ListIpamPools", { RegionId: REGION, IpamPoolIds: [child.IpamPoolId] });
      expect(listed.IpamPools[0]).toMatchObject({ IpVersion: "IPv6", Ipv6Isp: "BGP", PoolDepth: 2, PoolRegionId: REGION });
    });

    test("a source pool from another scope: Mismatch.IpamScopeAndSourceIpamPool", async () => {
      const { IpamPoolId } = await call(client, "CreateIpamPool", { ...base() });
      expect(
        await callError(client, "CreateIpamPool", { RegionId: REGION, IpamScopeId: ipam.PublicDefaultScopeId, IpVersion: "IPv6", SourceIpamPoolId: IpamPoolId }),
      ).toMatchObject({ code: "Mismatch.IpamScopeAndSourceIpamPool" });
    });

    test("missing required parameters: Missing<Name> / 400", async () => {
      expect(await callError(client, "CreateIpamPool", { RegionId: REGION })).toMatchObject({ code: "MissingIpamScopeId", statusCode: 400 });
      expect(await callError(client, "CreateIpamPool", { IpamScopeId: ipam.PrivateDefaultScopeId })).toMatchObject({
        code: "MissingRegionId",
        statusCode: 400,
      });
    });

    test("DryRun validates without creating: DryRunOperation / 400, and a bad request still gets its own code", async () => {
      const before = server.state.pools.size;
      expect(await callError(client, "CreateIpamPool", { ...base(), DryRun: true })).toMatchObject({ code: "DryRunOperation", statusCode: 400 });
      expect(await callError(client, "CreateIpamPool", { ...base(), DryRun: true, IpVersion: "x" })).toMatchObject({ code: "IllegalParam.IpVersion" });
      expect(server.state.pools.size).toBe(before);
    });

    test("ClientToken makes CreateIpamPool idempotent", async () => {
      const token = crypto.randomUUID();
      const a = await call(client, "CreateIpamPool", { ...base(), ClientToken: token });
      const b = await call(client, "CreateIpamPool", { ...base(), ClientToken: token });
      expect(b.IpamPoolId).toBe(a.IpamPoolId);
      expect(b.RequestId).not.toBe(a.RequestId);
      const c = await call(client, "CreateIpamPool", { ...base(), ClientToken: crypto.randomUUID() });
      expect(c.IpamPoolId).not.toBe(a.IpamPoolId);
    });
  });

  describe("CreateIpamPoolAllocation (seed 002)", () => {
    let poolId: string;
    beforeAll(async () => {
      poolId = await regionalPool("192.168.0.0/16", { AllocationMinCidrMask: 20, AllocationMaxCidrMask: 28, AllocationDefaultCidrMask: 24 });
    });
    const alloc = (extra: Record<string, unknown>) => ({ RegionId: REGION, IpamPoolId: poolId, ...extra });

    test("by Cidr and by CidrMask: documented response fields", async () => {
      const byCidr = await call(
        client,
        "CreateIpamPoolAllocation",
        alloc({ Cidr: "192.168.1.0/24", IpamPoolAllocationName: "test name", IpamPoolAllocationDescription: "test description" }),
      );
      expect(Object.keys(byCidr).sort()).toEqual(["Cidr", "IpamPoolAllocationId", "RequestId", "SourceCidr"]);
      expect(byCidr).toMatchObject({ Cidr: "192.168.1.0/24", SourceCidr: "192.168.0.0/16" });
      expect(byCidr.IpamPoolAllocationId).toMatch(/^ipam-pool-alloc-/);
      const byMask = await call(client, "CreateIpamPoolAllocation", alloc({ CidrMask: 24 }));
      expect(byMask).toMatchObject({ Cidr: "192.168.0.0/24", SourceCidr: "192.168.0.0/16" });
      const next = await call(client, "CreateIpamPoolAllocation", alloc({ CidrMask: 24 }));
      expect(next.Cidr).toBe("192.168.2.0/24"); // skips the taken 192.168.1.0/24
      const listed = await call(client, "ListIpamPoolAllocations", { RegionId: REGION, IpamPoolId: poolId, IpamPoolAllocationIds: [byCidr.IpamPoolAllocationId] });
      expect(listed.IpamPoolAllocations).toEqual([
        expect.objectContaining({
          IpamPoolAllocationId: byCidr.IpamPoolAllocationId,
          Cidr: "192.168.1.0/24",
          SourceCidr: "192.168.0.0/16",
          ResourceType: "Custom",
          IpamPoolId: poolId,
          RegionId: REGION,
          IpamPoolAllocationName: "test name",
          IpamPoolAllocationDescription: "test description",
          Status: "Created",
          CreationTime: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/),
        }),
      ]);
    });

    test.each([
      [{}, "MissingParam.CidrOrCidrMask", 400],
      [{ Cidr: "192.168.300.0/24" }, "IllegalParam.Cidr", 400],
      [{ Cidr: "192.168.5.1/24" }, "IllegalParam.Cidr", 400],
      [{ Cidr: "fd00::/64" }, "IllegalParam.Cidr", 400],
      [{ Cidr: "192.168.16.0/30" }, "IllegalParam.CidrMask", 400],
      [{ Cidr: "192.168.0.0/16" }, "IllegalParam.CidrMask", 400],
      [{ CidrMask: 29 }, "IllegalParam.CidrMask", 400],
      [{ CidrMask: 19 }, "IllegalParam.CidrMask", 400],
      [{ CidrMask: 33 }, "IllegalParam.CidrMask", 400],
      [{ Cidr: "192.168.1.128/25" }, "OperationDenied.CidrUnavailableInPool", 400],
      [{ Cidr: "10.0.0.0/24" }, "OperationDenied.CidrUnavailableInPool", 400],
      [{ IpamPoolId: "ipam-pool-doesnotexist", CidrMask: 24 }, "ResourceNotFound.IpamPool", 404],
      [{ RegionId: "cn-shanghai", CidrMask: 24 }, "OperationDenied.RequestRegionInvalid", 400],
      [{ CidrMask: 24, IpamPoolAllocationName: "https://x" }, "IllegalParam.IpamPoolAllocationName", 400],
    ])("%j -> %s / %d", async (extra, code, status) => {
      const before = server.state.allocations.size;
      expect(await callError(client, "CreateIpamPoolAllocation", alloc(extra))).toMatchObject({ code, statusCode: status });
      expect(server.state.allocations.size).toBe(before);
    });

    test("missing RegionId / IpamPoolId", async () => {
      expect(await callError(client, "CreateIpamPoolAllocation", { IpamPoolId: poolId, CidrMask: 24 })).toMatchObject({ code: "MissingRegionId" });
      expect(await callError(client, "CreateIpamPoolAllocation", { RegionId: REGION, CidrMask: 24 })).toMatchObject({ code: "MissingIpamPoolId" });
    });

    test("a pool without PoolRegionId cannot hand out custom allocations", async () => {
      const { IpamPoolId } = await call(client, "CreateIpamPool", { RegionId: REGION, IpamScopeId: ipam.PrivateDefaultScopeId });
      await call(client, "AddIpamPoolCidr", { RegionId: REGION, IpamPoolId, Cidr: "172.31.0.0/16" });
      expect(await callError(client, "CreateIpamPoolAllocation", { RegionId: REGION, IpamPoolId, CidrMask: 24 })).toMatchObject({
        code: "OperationDenied.IpamPoolNotInRegion",
      });
    });

    test("exhaustion: OperationDenied.AvailableCidrInsufficient", async () => {
      const small = await regionalPool("100.127.0.0/30");
      await call(client, "CreateIpamPoolAllocation", { RegionId: REGION, IpamPoolId: small, CidrMask: 31 });
      await call(client, "CreateIpamPoolAllocation", { RegionId: REGION, IpamPoolId: small, CidrMask: 31 });
      expect(await callError(client, "CreateIpamPoolAllocation", { RegionId: REGION, IpamPoolId: small, CidrMask: 32 })).toMatchObject({
        code: "OperationDenied.AvailableCidrInsufficient",
        statusCode: 400,
      });
    });

    test("ClientToken: the same token returns the same allocation once", async () => {
      const token = crypto.randomUUID();
      const before = server.state.allocations.size;
      const a = await call(client, "CreateIpamPoolAllocation", alloc({ CidrMask: 26, ClientToken: token }));
      const b = await call(client, "CreateIpamPoolAllocation", alloc({ CidrMask: 26, ClientToken: token }));
      expect(b).toMatchObject({ IpamPoolAllocationId: a.IpamPoolAllocationId, Cidr: a.Cidr, SourceCidr: a.SourceCidr });
      expect(server.state.allocations.size).toBe(before + 1);
      expect(server.state.requests.filter((r) => r.params.ClientToken === token)).toHaveLength(2);
    });

    test("DryRun: DryRunOperation without an allocation; failed checks answer their own code", async () => {
      const before = server.state.allocations.size;
      expect(await callError(client, "CreateIpamPoolAllocation", alloc({ CidrMask: 24, DryRun: true }))).toMatchObject({
        code: "DryRunOperation",
        statusCode: 400,
      });
      expect(await callError(client, "CreateIpamPoolAllocation", alloc({ CidrMask: 30, DryRun: true }))).toMatchObject({ code: "IllegalParam.CidrMask" });
      expect(server.state.allocations.size).toBe(before);
    });

    test("GetIpamPoolNextAvailableCidr (GET) previews without reserving", async () => {
      const first = await call(client, "GetIpamPoolNextAvailableCidr", { RegionId: REGION, IpamPoolId: poolId, CidrMask: 20 }, { method: "GET" });
      const again = await call(client, "GetIpamPoolNextAvailableCidr", { RegionId: REGION, IpamPoolId: poolId, CidrMask: 20 }, { method: "GET" });
      expect(first.CidrBlock).toBe("192.168.16.0/20");
      expect(again.CidrBlock).toBe(first.CidrBlock);
      expect(await call(client, "GetIpamPoolNextAvailableCidr", { RegionId: REGION, IpamPoolId: poolId, CidrBlock: "192.168.32.0/24" })).toMatchObject({
        CidrBlock: "192.168.32.0/24",
      });
      expect(await callError(client, "GetIpamPoolNextAvailableCidr", { RegionId: REGION, IpamPoolId: poolId })).toMatchObject({
        code: "MissingParam.CidrOrCidrMask",
      });
    });

    test("DeleteIpamPoolAllocation: Custom only, then ResourceNotFound.IpamPoolAllocation", async () => {
      const a = await call(client, "CreateIpamPoolAllocation", alloc({ CidrMask: 28 }));
      expect(await callError(client, "DeleteIpamPoolAllocation", { RegionId: REGION, IpamPoolAllocationId: a.IpamPoolAllocationId, DryRun: true })).toMatchObject({
        code: "DryRunOperation",
      });
      const del = await call(client, "DeleteIpamPoolAllocation", { RegionId: REGION, IpamPoolAllocationId: a.IpamPoolAllocationId });
      expect(Object.keys(del)).toEqual(["RequestId"]);
      expect(await callError(client, "DeleteIpamPoolAllocation", { RegionId: REGION, IpamPoolAllocationId: a.IpamPoolAllocationId })).toMatchObject({
        code: "ResourceNotFound.IpamPoolAllocation",
        statusCode: 400,
      });
      // The freed block is handed out again.
      const again = await call(client, "CreateIpamPoolAllocation", alloc({ Cidr: a.Cidr }));
      expect(again.Cidr).toBe(a.Cidr);
    });
  });

  describe("ListIpamPoolAllocations pagination", () => {
    test("MaxResults/NextToken walk every allocation once; TotalCount counts them all", async () => {
      const pool = await regionalPool("172.20.0.0/24");
      const ids: string[] = [];
      for (let i = 0; i < 25; i++) {
        ids.push((await call(client, "CreateIpamPoolAllocation", { RegionId: REGION, IpamPoolId: pool, CidrMask: 29 })).IpamPoolAllocationId);
      }
      const seen: string[] = [];
      const sizes: number[] = [];
      let token: string | undefined;
      do {
        const page = await call(client, "ListIpamPoolAllocations", { RegionId: REGION, IpamPoolId: pool, MaxResults: 10, NextToken: token });
        expect(page.TotalCount).toBe(25);
        expect(page.MaxResults).toBe(10);
        sizes.push(page.IpamPoolAllocations.length);
        seen.push(...page.IpamPoolAllocations.map((a: Body) => a.IpamPoolAllocationId));
        token = page.NextToken || undefined;
      } while (token);
      expect(sizes).toEqual([10, 10, 5]);
      expect(seen).toEqual(ids);
      const dflt = await call(client, "ListIpamPoolAllocations", { RegionId: REGION, IpamPoolId: pool });
      expect(dflt.IpamPoolAllocations).toHaveLength(10);
      const filtered = await call(client, "ListIpamPoolAllocations", { RegionId: REGION, IpamPoolId: pool, IpamPoolAllocationIds: [ids[3], ids[7]] });
      expect(filtered.IpamPoolAllocations.map((a: Body) => a.IpamPoolAllocationId)).toEqual([ids[3], ids[7]]);
      expect(await callError(client, "ListIpamPoolAllocations", { RegionId: REGION, IpamPoolId: pool, MaxResults: 101 })).toMatchObject({ statusCode: 400 });
      expect(await callError(client, "ListIpamPoolAllocations", { RegionId: REGION, IpamPoolId: pool, NextToken: "garbage" })).toMatchObject({ statusCode: 400 });
      expect(await callError(client, "ListIpamPoolAllocations", { RegionId: REGION })).toMatchObject({ code: "MissingIpamPoolId" });
    });

    test("ListIpamPools and ListIpamPoolCidrs page the same way", async () => {
      const pool = await regionalPool("172.21.0.0/24");
      for (const c of ["172.22.0.0/24", "172.23.0.0/24"]) await call(client, "AddIpamPoolCidr", { RegionId: REGION, IpamPoolId: pool, Cidr: c });
      const p1 = await call(client, "ListIpamPoolCidrs", { RegionId: REGION, IpamPoolId: pool, MaxResults: 2 });
      expect(p1.IpamPoolCidrs).toEqual([
        { IpamPoolId: pool, Cidr: "172.21.0.0/24", Status: "Created" },
        { IpamPoolId: pool, Cidr: "172.22.0.0/24", Status: "Created" },
      ]);
      const p2 = await call(client, "ListIpamPoolCidrs", { RegionId: REGION, IpamPoolId: pool, MaxResults: 2, NextToken: p1.NextToken });
      expect(p2).toMatchObject({ TotalCount: 3, NextToken: "", IpamPoolCidrs: [{ Cidr: "172.23.0.0/24" }] });
      const all: string[] = [];
      let token = "";
      do {
        const page = await call(client, "ListIpamPools", { RegionId: REGION, MaxResults: 3, NextToken: token || undefined });
        all.push(...page.IpamPools.map((p: Body) => p.IpamPoolId));
        token = page.NextToken;
      } while (token);
      expect(all).toEqual([...server.state.pools.keys()]);
    });
  });

  describe("nested pools", () => {
    test("a child pool's CIDR is carved from its source; allocations respect both levels", async () => {
      const parent = await regionalPool("10.0.0.0/8");
      const child = (
        await call(client, "CreateIpamPool", {
          RegionId: REGION,
          IpamScopeId: ipam.PrivateDefaultScopeId,
          SourceIpamPoolId: parent,
          PoolRegionId: REGION,
          AllocationMaxCidrMask: 28,
        })
      ).IpamPoolId;
      // By NetmaskLength: first free block of the parent.
      expect(await call(client, "AddIpamPoolCidr", { RegionId: REGION, IpamPoolId: child, NetmaskLength: 16 })).toMatchObject({ Cidr: "10.0.0.0/16" });
      // By Cidr: must sit inside the parent and clear of its allocations.
      expect(await call(client, "AddIpamPoolCidr", { RegionId: REGION, IpamPoolId: child, Cidr: "10.5.0.0/16" })).toMatchObject({ Cidr: "10.5.0.0/16" });
      expect(await callError(client, "AddIpamPoolCidr", { RegionId: REGION, IpamPoolId: child, Cidr: "10.0.128.0/17" })).toMatchObject({
        code: "OperationDenied.CidrUnavailableInPool",
      });
      expect(await callError(client, "AddIpamPoolCidr", { RegionId: REGION, IpamPoolId: child, Cidr: "11.0.0.0/16" })).toMatchObject({
        code: "OperationDenied.CidrUnavailableInPool",
      });

      const inParent = await call(client, "ListIpamPoolAllocations", { RegionId: REGION, IpamPoolId: parent });
      expect(inParent.IpamPoolAllocations).toEqual([
        expect.objectContaining({ Cidr: "10.0.0.0/16", SourceCidr: "10.0.0.0/8", ResourceType: "IpamPool", ResourceId: child }),
        expect.objectContaining({ Cidr: "10.5.0.0/16", SourceCidr: "10.0.0.0/8", ResourceType: "IpamPool", ResourceId: child }),
      ]);
      // A custom allocation in the parent steps around the child's CIDRs.
      expect(await call(client, "CreateIpamPoolAllocation", { RegionId: REGION, IpamPoolId: parent, CidrMask: 16 })).toMatchObject({ Cidr: "10.1.0.0/16" });
      // Allocations in the child stay inside the child's CIDRs.
      expect(await call(client, "CreateIpamPoolAllocation", { RegionId: REGION, IpamPoolId: child, CidrMask: 24 })).toMatchObject({
        Cidr: "10.0.0.0/24",
        SourceCidr: "10.0.0.0/16",
      });
      expect(await callError(client, "CreateIpamPoolAllocation", { RegionId: REGION, IpamPoolId: child, Cidr: "10.1.0.0/24" })).toMatchObject({
        code: "OperationDenied.CidrUnavailableInPool",
      });
      // Child pool CIDRs cannot be released with DeleteIpamPoolAllocation.
      expect(
        await callError(client, "DeleteIpamPoolAllocation", { RegionId: REGION, IpamPoolAllocationId: inParent.IpamPoolAllocations[0].IpamPoolAllocationId }),
      ).toMatchObject({ code: "OperationDenied.ResourceTypeIsNotCustom" });

      const listed = await call(client, "ListIpamPools", { RegionId: REGION, IpamPoolIds: [parent, child] });
      expect(listed.IpamPools).toEqual([
        expect.objectContaining({ IpamPoolId: parent, PoolDepth: 1, HasSubPool: true }),
        expect.objectContaining({ IpamPoolId: child, PoolDepth: 2, HasSubPool: false, SourceIpamPoolId: parent }),
      ]);

      // Depth limit (this server: maxPoolDepth 3).
      const grandchild = (await call(client, "CreateIpamPool", { RegionId: REGION, IpamScopeId: ipam.PrivateDefaultScopeId, SourceIpamPoolId: child })).IpamPoolId;
      expect(await callError(client, "CreateIpamPool", { RegionId: REGION, IpamScopeId: ipam.PrivateDefaultScopeId, SourceIpamPoolId: grandchild })).toMatchObject({
        code: "QuotaExceeded.IpamPoolQuotaDepth",
        statusCode: 400,
      });

      // Deletion order: children first, custom allocations first.
      expect(await callError(client, "DeleteIpamPool", { RegionId: REGION, IpamPoolId: parent })).toMatchObject({ code: "DependencyViolation.IpamPool", statusCode: 400 });
      await call(client, "DeleteIpamPool", { RegionId: REGION, IpamPoolId: grandchild });
      expect(await callError(client, "DeleteIpamPool", { RegionId: REGION, IpamPoolId: child })).toMatchObject({ code: "DependencyViolation.CustomPoolAllocation" });
      const childAllocs = await call(client, "ListIpamPoolAllocations", { RegionId: REGION, IpamPoolId: child });
      for (const a of childAllocs.IpamPoolAllocations) {
        await call(client, "DeleteIpamPoolAllocation", { RegionId: REGION, IpamPoolAllocationId: a.IpamPoolAllocationId });
      }
      expect(await callError(client, "DeleteIpamPool", { RegionId: REGION, IpamPoolId: child, DryRun: true })).toMatchObject({ code: "DryRunOperation" });
      expect(Object.keys(await call(client, "DeleteIpamPool", { RegionId: REGION, IpamPoolId: child }))).toEqual(["RequestId"]);
      // The child's CIDRs are back in the parent.
      const after = await call(client, "ListIpamPoolAllocations", { RegionId: REGION, IpamPoolId: parent });
      expect(after.IpamPoolAllocations.map((a: Body) => a.ResourceType)).toEqual(["Custom"]);
      expect(await callError(client, "ListIpamPoolCidrs", { RegionId: REGION, IpamPoolId: child })).toMatchObject({ code: "ResourceNotFound.IpamPool" });
    });

    test("sub-pool quota: QuotaExceeded.IpamSubPoolQuotaPerIpamPool", async () => {
      const s = await startAlicloudContractServer({ maxSubPoolsPerPool: 1 });
      try {
        const c = makeClient(s);
        const i = await call(c, "CreateIpam", { RegionId: REGION });
        const base = { RegionId: REGION, IpamScopeId: i.PrivateDefaultScopeId };
        const { IpamPoolId } = await call(c, "CreateIpamPool", base);
        await call(c, "CreateIpamPool", { ...base, SourceIpamPoolId: IpamPoolId });
        expect(await callError(c, "CreateIpamPool", { ...base, SourceIpamPoolId: IpamPoolId })).toMatchObject({
          code: "QuotaExceeded.IpamSubPoolQuotaPerIpamPool",
        });
      } finally {
        await s.stop();
      }
    });

    test("IPv6 private pools allocate /64s", async () => {
      const { IpamPoolId } = await call(client, "CreateIpamPool", {
        RegionId: REGION,
        IpamScopeId: ipam.PrivateDefaultScopeId,
        IpVersion: "IPv6",
        PoolRegionId: REGION,
      });
      await call(client, "AddIpamPoolCidr", { RegionId: REGION, IpamPoolId, Cidr: "fd00:0:0:100::/56" });
      const a = await call(client, "CreateIpamPoolAllocation", { RegionId: REGION, IpamPoolId, CidrMask: 64 });
      const b = await call(client, "CreateIpamPoolAllocation", { RegionId: REGION, IpamPoolId, CidrMask: 64 });
      expect([a.Cidr, b.Cidr]).toEqual(["fd00:0:0:100::/64", "fd00:0:0:101::/64"]);
      expect(a.SourceCidr).toBe("fd00:0:0:100::/56");
      expect(await callError(client, "CreateIpamPoolAllocation", { RegionId: REGION, IpamPoolId, Cidr: "10.0.0.0/24" })).toMatchObject({ code: "IllegalParam.Cidr" });
    });

    test("top-level pools of one scope cannot overlap; private top pools take a Cidr, not a NetmaskLength", async () => {
      const a = await regionalPool("100.64.0.0/16");
      const { IpamPoolId } = await call(client, "CreateIpamPool", { RegionId: REGION, IpamScopeId: ipam.PrivateDefaultScopeId });
      expect(await callError(client, "AddIpamPoolCidr", { RegionId: REGION, IpamPoolId, Cidr: "100.64.128.0/17" })).toMatchObject({
        code: "OperationDenied.CidrUnavailableInPool",
      });
      expect(await callError(client, "AddIpamPoolCidr", { RegionId: REGION, IpamPoolId, NetmaskLength: 16 })).toMatchObject({ statusCode: 400 });
      expect(await callError(client, "AddIpamPoolCidr", { RegionId: REGION, IpamPoolId })).toMatchObject({ statusCode: 400 });
      expect(await callError(client, "AddIpamPoolCidr", { RegionId: REGION, IpamPoolId, Cidr: "100.64.0.0/16", DryRun: true })).toMatchObject({ statusCode: 400 });
      expect(a).toBeTruthy();
    });
  });

  describe("VPC EIP actions (2016-04-28)", () => {
    const eip = (action: string, args: Record<string, unknown>) => call(client, action, args, { version: VPC_VERSION });

    test("Allocate, Describe, Release; no IPAM pool parameter exists", async () => {
      const token = crypto.randomUUID();
      const a = await eip("AllocateEipAddress", { RegionId: REGION, Bandwidth: "5", InternetChargeType: "PayByTraffic", Name: "contract", ClientToken: token });
      expect(a.AllocationId).toMatch(/^eip-/);
      expect(a.EipAddress).toBe("198.51.100.0");
      expect(Object.keys(a).sort()).toEqual(["AllocationId", "EipAddress", "RequestId", "ResourceGroupId"]);
      const again = await eip("AllocateEipAddress", { RegionId: REGION, Bandwidth: "5", InternetChargeType: "PayByTraffic", Name: "contract", ClientToken: token });
      expect(again.AllocationId).toBe(a.AllocationId);

      // An AWS-style IpamPoolId is not a parameter of AllocateEipAddress: it has no effect.
      const pool = await regionalPool("203.0.113.0/24");
      const b = await eip("AllocateEipAddress", { RegionId: REGION, IpamPoolId: pool });
      expect(b.EipAddress).toBe("198.51.100.1");

      const d = await eip("DescribeEipAddresses", { RegionId: REGION, AllocationId: `${a.AllocationId},${b.AllocationId}`, PageSize: 1 });
      expect(d).toMatchObject({ TotalCount: 2, PageNumber: 1, PageSize: 1 });
      expect(d.EipAddresses.EipAddress).toEqual([
        expect.objectContaining({ AllocationId: a.AllocationId, IpAddress: "198.51.100.0", Status: "Available", RegionId: REGION, InternetChargeType: "PayByTraffic", Name: "contract" }),
      ]);
      expect(await eip("ReleaseEipAddress", { AllocationId: a.AllocationId })).toEqual({ RequestId: expect.any(String) });
      expect(await callError(client, "ReleaseEipAddress", { AllocationId: a.AllocationId }, { version: VPC_VERSION })).toMatchObject({
        code: "InvalidAllocationId.NotFound",
        statusCode: 404,
      });
      expect(await callError(client, "AllocateEipAddress", {}, { version: VPC_VERSION })).toMatchObject({ code: "MissingRegionId" });
      expect(await callError(client, "AllocateEipAddress", { RegionId: REGION, PublicIpAddressPoolId: "pippool-x" }, { version: VPC_VERSION })).toMatchObject({
        statusCode: 501,
      });
    });
  });

  test("injected faults reach the SDK as ordinary API errors", async () => {
    server.injectFault("ListIpamPools", { status: 400, code: "Throttling.User", message: "Request was denied due to user flow control." });
    expect(await callError(client, "ListIpamPools", { RegionId: REGION })).toMatchObject({ code: "Throttling.User", statusCode: 400 });
    expect((await call(client, "ListIpamPools", { RegionId: REGION })).RequestId).toBeTruthy();
  });
});
