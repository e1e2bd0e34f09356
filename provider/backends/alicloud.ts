/**
 * The Alibaba Cloud backend: VpcIpam (API version 2023-02-28, RPC style)
 * through @alicloud/openapi-client, signature V3, as a generated product SDK
 * calls it.
 *
 * Settings: ipam:region (RegionId of every call: the region that hosts the
 * IPAM; calls about one pool's reservations go to the pool's own region,
 * PoolRegionId, as seed 002 requires), ipam:scopeId (the IPAM scope new pools
 * go in) and ipam:endpoint (default vpcipam.<region>.aliyuncs.com over HTTPS;
 * "http://host:port" for a test double). Credentials come only from the
 * environment (ALIBABA_CLOUD_ACCESS_KEY_ID, ALIBABA_CLOUD_ACCESS_KEY_SECRET,
 * optionally ALIBABA_CLOUD_SECURITY_TOKEN), read at each call and never
 * kept, logged or put in an error.
 *
 * What Alibaba has no counterpart for fails with an IpamError saying what to
 * do instead: Elastic IPs from an IPAM pool, allocation tag rules, tags or a
 * resource id on a reservation, best-fit allocation. Idempotency: every
 * creating call carries the caller's ClientToken (per provisioned CIDR a
 * token derived from it), and the token is also written as the pool's or
 * reservation's name, so that a re-run after a crash finds what an earlier
 * attempt made even where Alibaba no longer remembers the token.
 */
import OpenApiClient, { Config, OpenApiRequest, Params } from "@alicloud/openapi-client";
import OpenApiUtil from "@alicloud/openapi-util";
import { RuntimeOptions } from "@alicloud/tea-util";
import { createHash, randomUUID } from "node:crypto";
import { familyOf, formatCidr, parseCidr } from "../core/cidr";
import { IpamError } from "../core/errors";
import type { ResourceType } from "../core/model";
import type { AllocateInput, AllocationInfo, CreatePoolInput, PoolInfo, UpdatePoolInput } from "../core/types";
import { retry, sleep } from "../util/retry";
import type { Backend, BackendSettings } from "./backend";

export const VPCIPAM_VERSION = "2023-02-28";

/** Timing knobs; the defaults suit the real API, tests shorten them. */
export interface AlicloudTuning {
  /** Attempts per call when Alibaba throttles or is unavailable (and on connection errors). */
  attempts: number;
  /** First backoff delay; doubles per attempt up to maxDelayMs, with jitter. */
  baseDelayMs: number;
  maxDelayMs: number;
  /** Polling while a pool or CIDR is Creating / Deleting. */
  pollIntervalMs: number;
  pollTimeoutMs: number;
  /** MaxResults of the List actions (1-100). */
  pageSize: number;
  readTimeoutMs: number;
  connectTimeoutMs: number;
}

const DEFAULTS: AlicloudTuning = {
  attempts: 6, baseDelayMs: 200, maxDelayMs: 5000, pollIntervalMs: 1000, pollTimeoutMs: 300_000, pageSize: 100,
  readTimeoutMs: 30_000, connectTimeoutMs: 10_000,
};

type Body = Record<string, any>;

/** Alibaba codes that mean one of ours; everything else keeps Alibaba's code. */
const CODE_MAP: Record<string, string> = {
  "ResourceNotFound.IpamPool": "InvalidIpamPoolId.NotFound",
  "ResourceNotFound.SourceIpamPool": "InvalidIpamPoolId.NotFound",
  "ResourceNotFound.IpamPoolAllocation": "InvalidIpamPoolAllocationId.NotFound",
  "MissingParam.CidrOrCidrMask": "InvalidParameterCombination",
  "ResourceNotEnough.IpamPoolCidr": "OperationDenied.AvailableCidrInsufficient",
};

export function mapAlicloudCode(code: string): string {
  if (CODE_MAP[code]) return CODE_MAP[code];
  if (code.startsWith("DependencyViolation.")) return "DependencyViolation";
  if (/^Idempoten/i.test(code)) return "IdempotentParameterMismatch";
  return code;
}

const CREDENTIAL_CODES = /^(InvalidAccessKeyId|SignatureDoesNotMatch|InvalidAccessKeySecret|InvalidSecurityToken|IncompleteSignature|Forbidden|NoPermission)/;
const NETWORK_CODES = new Set(["ECONNRESET", "ECONNREFUSED", "ETIMEDOUT", "EPIPE", "EAI_AGAIN", "ESOCKETTIMEDOUT", "ECONNABORTED", "UND_ERR_SOCKET"]);

function isRetryable(e: any): boolean {
  if (e instanceof IpamError) return false;
  const code = String(e?.code ?? "");
  const status = Number(e?.data?.statusCode ?? 0);
  if (/^Throttling/.test(code) || /^ServiceUnavailable/.test(code) || status === 503) return true;
  // No HTTP answer at all: the connection failed or timed out. Safe to repeat: every creating call carries a ClientToken.
  return !e?.data && (NETWORK_CODES.has(code) || /timeout/i.test(String(e?.name ?? "")) || /timeout/i.test(code));
}


/** A CIDR as our allocator writes it (RFC 5952 for IPv6), so that plans and Alibaba's answers compare as text. */
function canon(cidr: string): string {
  try {
    const f = familyOf(cidr);
    return formatCidr(f, parseCidr(f, cidr));
  } catch {
    return cidr;
  }
}

function sortCidrs(cidrs: string[]): string[] {
  const key = (c: string) => {
    try {
      const f = familyOf(c);
      return { f, b: parseCidr(f, c) };
    } catch {
      return undefined;
    }
  };
  return [...cidrs].sort((x, y) => {
    const a = key(x), b = key(y);
    if (!a || !b) return x < y ? -1 : x > y ? 1 : 0;
    if (a.f !== b.f) return a.f === "ipv4" ? -1 : 1;
    return a.b.start < b.b.start ? -1 : a.b.start > b.b.start ? 1 : a.b.prefix - b.b.prefix;
  });
}

const sameCidr = (a: string, b: string) => canon(a) === canon(b);

/** A token for one step of a larger idempotent operation (ASCII, at most 64 characters). */
const derivedToken = (token: string, ...parts: string[]) => `pulumi-ipam-${createHash("sha256").update([token, ...parts].join("\n")).digest("hex").slice(0, 40)}`;

const gone = (status: unknown) => /^(Deleting|Deleted)$/i.test(String(status ?? ""));
const settled = (status: unknown) => status === undefined || status === null || status === "" || /^(Created|Available)$/i.test(String(status));

const RESOURCE_TYPES: Record<string, ResourceType> = { Custom: "custom", IpamPool: "ipam-pool", VPC: "vpc", Vpc: "vpc", VSwitch: "subnet" };

function unsupported(what: string, instead: string): IpamError {
  return new IpamError("UnsupportedOperation", `${what} ${instead}`);
}

export function alicloudBackend(settings: BackendSettings, tuning: Partial<AlicloudTuning> = {}): Backend {
  const t: AlicloudTuning = { ...DEFAULTS, ...tuning };
  const region = settings.region?.trim();
  if (!region) {
    throw new IpamError("MissingRegionId", "the alicloud backend needs the region that hosts your IPAM: set `pulumi config set ipam:region cn-hangzhou` (or PULUMI_IPAM_REGION).");
  }
  const endpoint = parseEndpoint(settings.endpoint);
  /** PoolRegionId by pool id (it never changes): calls about a pool's reservations go to that region. */
  const poolRegions = new Map<string, string>();

  function endpointFor(regionId: string): { host: string; protocol: string } {
    return endpoint ?? { host: `vpcipam.${regionId}.aliyuncs.com`, protocol: "https" };
  }

  async function once(action: string, args: Record<string, unknown>, regionId: string): Promise<Body> {
    const accessKeyId = process.env.ALIBABA_CLOUD_ACCESS_KEY_ID;
    const accessKeySecret = process.env.ALIBABA_CLOUD_ACCESS_KEY_SECRET;
    if (!accessKeyId || !accessKeySecret) {
      throw new IpamError("InvalidCredentials", "the alicloud backend reads its credentials from the environment only: set ALIBABA_CLOUD_ACCESS_KEY_ID and ALIBABA_CLOUD_ACCESS_KEY_SECRET (and ALIBABA_CLOUD_SECURITY_TOKEN for an STS token) for the pulumi process.");
    }
    const { host, protocol } = endpointFor(regionId);
    const client = new OpenApiClient(new Config({
      accessKeyId, accessKeySecret, securityToken: process.env.ALIBABA_CLOUD_SECURITY_TOKEN || undefined,
      endpoint: host, protocol, regionId,
    }));
    const params = new Params({
      // As the generated SDK (@alicloud/vpcipam20230228) calls them: GET for the one read it sends that way, POST otherwise.
      action, version: VPCIPAM_VERSION, protocol: "HTTPS", pathname: "/", method: action === "GetIpamPoolNextAvailableCidr" ? "GET" : "POST", authType: "AK", style: "RPC",
      reqBodyType: "formData", bodyType: "json",
    });
    const request = new OpenApiRequest({ query: OpenApiUtil.query({ RegionId: regionId, ...args }) });
    const resp = await client.callApi(params, request, new RuntimeOptions({ readTimeout: t.readTimeoutMs, connectTimeout: t.connectTimeoutMs }));
    return (resp.body ?? {}) as Body;
  }

  /** One API call with backoff on throttling / unavailability (equal jitter: never again at once); errors come out as IpamError. */
  async function call(action: string, args: Record<string, unknown>, opts: { regionId?: string; hint?: (code: string) => string | undefined } = {}): Promise<Body> {
    const regionId = opts.regionId ?? region!;
    try {
      return await retry(() => once(action, args, regionId), {
        retryable: isRetryable, maxAttempts: t.attempts, baseDelayMs: t.baseDelayMs, maxDelayMs: t.maxDelayMs, jitter: "equal",
      });
    } catch (e) {
      throw toIpamError(action, regionId, e, opts.hint);
    }
  }

  function toIpamError(action: string, regionId: string, e: any, hint?: (code: string) => string | undefined): IpamError {
    if (e instanceof IpamError) return e;
    const data = e?.data as Body | undefined;
    if (!data) {
      // No API answer: a connection failure or timeout. The message names the endpoint, never a credential.
      const { host, protocol } = endpointFor(regionId);
      return new IpamError(String(e?.code || "NetworkError"), `${action} could not reach ${protocol}://${host}: ${String(e?.message ?? e).split("\n")[0]}; check ipam:endpoint and ipam:region.`);
    }
    const code = String(data.Code ?? e.code ?? "UnknownError");
    const ours = mapAlicloudCode(code);
    const extra = hint?.(code) ?? generalHint(code);
    const where = `[Alibaba Cloud ${action}: ${code}, HTTP ${data.statusCode ?? "?"}${data.RequestId ? `, RequestId ${data.RequestId}` : ""}]`;
    return new IpamError(ours, `${String(data.Message ?? "").trim()}${extra ? ` ${extra}` : ""} ${where}`.trim());
  }

  function generalHint(code: string): string | undefined {
    if (CREDENTIAL_CODES.test(code)) return "Check ALIBABA_CLOUD_ACCESS_KEY_ID / ALIBABA_CLOUD_ACCESS_KEY_SECRET (and the RAM permissions vpc:*Ipam*) of the pulumi process.";
    if (code === "ResourceNotFound.IpamScope") return `Check ipam:scopeId: it must be a scope of an IPAM hosted in ${region} (ListIpamScopes lists them).`;
    if (code === "OperationDenied.IpamPoolNotInRegion") return "Alibaba reserves CIDRs only in pools that have a region: give the pool a locale (its PoolRegionId).";
    if (code === "OperationDenied.RequestRegionInvalid") return `Check ipam:region: it must be the region that hosts the IPAM (now ${region}).`;
    if (code.startsWith("DependencyViolation.")) return "Delete the pool's reservations and nested pools first.";
    if (/^Throttling|^ServiceUnavailable/.test(code)) return `Still failing after ${t.attempts} attempts with backoff; run again later.`;
    return undefined;
  }

  /** Every item of a List action, following NextToken. */
  async function listAll(action: string, field: string, args: Record<string, unknown>, regionId?: string): Promise<Body[]> {
    const out: Body[] = [];
    let nextToken: string | undefined;
    do {
      const page = await call(action, { ...args, MaxResults: t.pageSize, NextToken: nextToken }, { regionId });
      out.push(...((page[field] as Body[] | undefined) ?? []));
      nextToken = page.NextToken || undefined;
    } while (nextToken);
    return out;
  }

  async function poolRow(ipamPoolId: string): Promise<Body | undefined> {
    const page = await call("ListIpamPools", { IpamPoolIds: [ipamPoolId], MaxResults: t.pageSize });
    const row = ((page.IpamPools as Body[] | undefined) ?? []).find((p) => p.IpamPoolId === ipamPoolId);
    if (!row || String(row.Status) === "Deleted") return undefined;
    poolRegions.set(ipamPoolId, row.PoolRegionId || region!);
    return row;
  }

  const poolNotFound = (id: string) => new IpamError("InvalidIpamPoolId.NotFound", `IPAM pool ${id} does not exist in the IPAM hosted in ${region}; check ipamPoolId and ipam:region.`);

  /** The region a pool's reservations live in: its PoolRegionId, else the IPAM's region. */
  async function regionOf(ipamPoolId: string): Promise<string> {
    const known = poolRegions.get(ipamPoolId);
    if (known) return known;
    if (!(await poolRow(ipamPoolId))) throw poolNotFound(ipamPoolId);
    return poolRegions.get(ipamPoolId)!;
  }

  async function waitFor<T>(what: string, probe: () => Promise<T>, done: (v: T) => boolean): Promise<T> {
    const deadline = Date.now() + t.pollTimeoutMs;
    for (;;) {
      const v = await probe();
      if (done(v)) return v;
      if (Date.now() > deadline) throw new IpamError("OperationTimeout", `${what} did not finish within ${Math.round(t.pollTimeoutMs / 1000)} s; run again to continue.`);
      await sleep(t.pollIntervalMs);
    }
  }

  async function poolCidrs(ipamPoolId: string): Promise<Body[]> {
    return (await listAll("ListIpamPoolCidrs", "IpamPoolCidrs", { IpamPoolId: ipamPoolId })).filter((c) => !gone(c.Status) && !/^Fail/i.test(String(c.Status ?? "")));
  }

  function toPoolInfo(row: Body, cidrs: Body[]): PoolInfo {
    const mask = (v: unknown) => (typeof v === "number" ? v : typeof v === "string" && v !== "" ? Number(v) : undefined);
    const tags = Object.fromEntries(((row.Tags as Body[] | undefined) ?? [])
      .filter((x) => x && typeof x.Key === "string" && !/^(acs:|aliyun)/i.test(x.Key))
      .map((x) => [x.Key, String(x.Value ?? "")]));
    return {
      ipamPoolId: row.IpamPoolId,
      addressFamily: String(row.IpVersion).toUpperCase() === "IPV6" ? "ipv6" : "ipv4",
      sourceIpamPoolId: row.SourceIpamPoolId || undefined,
      ipamScopeId: row.IpamScopeId || undefined,
      poolDepth: Number(row.PoolDepth ?? 1),
      locale: row.PoolRegionId || undefined,
      description: row.IpamPoolDescription || undefined,
      tags,
      allocationMinNetmaskLength: mask(row.AllocationMinCidrMask),
      allocationMaxNetmaskLength: mask(row.AllocationMaxCidrMask),
      allocationDefaultNetmaskLength: mask(row.AllocationDefaultCidrMask),
      allocationResourceTags: {},
      allocationStrategy: "first-fit",
      cidrs: sortCidrs(cidrs.map((c) => canon(String(c.Cidr)))),
    };
  }

  function toAllocationInfo(a: Body, ipamPoolId: string): AllocationInfo {
    return {
      ipamPoolAllocationId: a.IpamPoolAllocationId,
      ipamPoolId: a.IpamPoolId || ipamPoolId,
      cidr: canon(String(a.Cidr)),
      description: a.IpamPoolAllocationDescription || undefined,
      resourceId: a.ResourceId || undefined,
      resourceType: RESOURCE_TYPES[String(a.ResourceType)] ?? "custom",
    };
  }

  async function listAllocations(ipamPoolId: string): Promise<AllocationInfo[]> {
    const regionId = await regionOf(ipamPoolId);
    const rows = await listAll("ListIpamPoolAllocations", "IpamPoolAllocations", { IpamPoolId: ipamPoolId }, regionId);
    return rows.filter((a) => !gone(a.Status)).map((a) => toAllocationInfo(a, ipamPoolId));
  }

  async function getAllocation(ipamPoolId: string, ipamPoolAllocationId: string): Promise<AllocationInfo | undefined> {
    let regionId: string;
    try {
      regionId = await regionOf(ipamPoolId);
    } catch (e) {
      if (e instanceof IpamError && e.code === "InvalidIpamPoolId.NotFound") return undefined;
      throw e;
    }
    let rows: Body[];
    try {
      rows = await listAll("ListIpamPoolAllocations", "IpamPoolAllocations", { IpamPoolId: ipamPoolId, IpamPoolAllocationIds: [ipamPoolAllocationId] }, regionId);
    } catch (e) {
      if (e instanceof IpamError && e.code === "InvalidIpamPoolId.NotFound") return undefined;
      throw e;
    }
    const a = rows.find((r) => r.IpamPoolAllocationId === ipamPoolAllocationId && !gone(r.Status));
    return a && toAllocationInfo(a, ipamPoolId);
  }

  async function getPool(ipamPoolId: string): Promise<PoolInfo | undefined> {
    const row = await poolRow(ipamPoolId);
    if (!row) return undefined;
    try {
      return toPoolInfo(row, await poolCidrs(ipamPoolId));
    } catch (e) {
      if (e instanceof IpamError && e.code === "InvalidIpamPoolId.NotFound") return undefined;
      throw e;
    }
  }

  /** AddIpamPoolCidr, idempotent: a CIDR the pool already has (an earlier attempt) counts as done. */
  async function addCidr(ipamPoolId: string, cidr: string, clientToken: string): Promise<void> {
    try {
      await call("AddIpamPoolCidr", { IpamPoolId: ipamPoolId, Cidr: canon(cidr), ClientToken: derivedToken(clientToken, ipamPoolId, canon(cidr)) });
    } catch (e) {
      if (e instanceof IpamError && e.code.startsWith("OperationDenied.") && (await poolCidrs(ipamPoolId)).some((c) => sameCidr(String(c.Cidr), cidr))) return;
      throw e;
    }
  }

  async function settledCidrs(ipamPoolId: string): Promise<Body[]> {
    return waitFor(`provisioning the CIDRs of IPAM pool ${ipamPoolId}`, () => poolCidrs(ipamPoolId), (cs) => cs.every((c) => settled(c.Status)));
  }

  function checkPoolRules(spec: { allocationResourceTags?: Record<string, string>; allocationStrategy?: string }): void {
    if (spec.allocationResourceTags && Object.keys(spec.allocationResourceTags).length > 0) {
      throw unsupported("Alibaba Cloud IPAM pools have no allocation tag rules (allocationResourceTags);", "leave allocationResourceTags out, or use ipam:backend local or aws, which enforce them.");
    }
    if (spec.allocationStrategy && spec.allocationStrategy !== "first-fit") {
      throw unsupported(`Alibaba Cloud IPAM pools allocate first fit only; allocationStrategy "${spec.allocationStrategy}" cannot be kept with the pool.`, "Leave allocationStrategy out (first-fit).");
    }
  }

  /** Every pool of the IPAM region (all pages), with its CIDRs. */
  async function listPools(): Promise<PoolInfo[]> {
    const out: PoolInfo[] = [];
    for (const row of await listAll("ListIpamPools", "IpamPools", {})) {
      if (!row.IpamPoolId || gone(row.Status)) continue;
      poolRegions.set(row.IpamPoolId, row.PoolRegionId || region!);
      out.push(toPoolInfo(row, await poolCidrs(row.IpamPoolId)));
    }
    return out;
  }

  return {
    kind: "alicloud",
    listPools,

    async createPool(spec: CreatePoolInput & { cidrs: string[]; clientToken: string }): Promise<PoolInfo> {
      // The resource's ipamScopeId, else a nested pool's source's scope (Mismatch.IpamScopeAndSourceIpamPool otherwise), else ipam:scopeId.
      const scopeId = spec.ipamScopeId?.trim()
        || (spec.sourceIpamPoolId ? String((await poolRow(spec.sourceIpamPoolId))?.IpamScopeId ?? "") : "")
        || settings.scopeId?.trim();
      if (!scopeId) {
        throw new IpamError("MissingIpamScopeId", `the alicloud backend creates pools in an IPAM scope: set \`pulumi config set ipam:scopeId ipam-scope-...\` (or PULUMI_IPAM_SCOPE_ID) to your IPAM's private scope. Find it with \`aliyun vpcipam ListIpamScopes --RegionId ${region}\`, in the VPC console under IPAM > Scopes, or as PrivateDefaultScopeId of CreateIpam.`);
      }
      checkPoolRules(spec);
      const family = spec.addressFamily === "ipv4" ? "IPv4" : spec.addressFamily === "ipv6" ? "IPv6" : undefined;
      if (!family) throw new IpamError("InvalidParameterValue", `addressFamily "${spec.addressFamily}" is not ipv4 or ipv6.`);
      if (!spec.clientToken) throw new IpamError("InvalidParameterValue", "internal: createPool needs a clientToken");
      // The pool an earlier attempt with this token made, found by the name it was given (the token itself).
      let ipamPoolId: string | undefined;
      if (!spec.dryRun) {
        const named = await listAll("ListIpamPools", "IpamPools", { IpamScopeId: scopeId, IpamPoolName: spec.clientToken });
        ipamPoolId = named.find((p) => p.IpamPoolName === spec.clientToken && !gone(p.Status))?.IpamPoolId;
      }
      if (!ipamPoolId) {
        const created = await call("CreateIpamPool", {
          IpamScopeId: scopeId,
          IpamPoolName: spec.clientToken,
          IpamPoolDescription: spec.description || undefined,
          PoolRegionId: spec.locale || undefined,
          SourceIpamPoolId: spec.sourceIpamPoolId || undefined,
          AllocationDefaultCidrMask: spec.allocationDefaultNetmaskLength,
          AllocationMaxCidrMask: spec.allocationMaxNetmaskLength,
          AllocationMinCidrMask: spec.allocationMinNetmaskLength,
          IpVersion: family,
          Tag: Object.entries(spec.tags ?? {}).map(([Key, Value]) => ({ Key, Value })),
          ClientToken: spec.clientToken,
          DryRun: spec.dryRun || undefined,
        }, {
          hint: (code) => code === "ResourceNotFound.SourceIpamPool" ? `The source pool ${spec.sourceIpamPoolId} does not exist; check sourceIpamPoolId.` : undefined,
        });
        ipamPoolId = String(created.IpamPoolId);
      }
      const id = ipamPoolId;
      let absent = 0;
      const row = await waitFor(`creating IPAM pool ${id}`, async () => {
        const r = await poolRow(id);
        // Alibaba replays a used ClientToken even after the pool it made was deleted: say so rather than wait.
        if (!r && ++absent >= 5) {
          throw new IpamError("InvalidIpamPoolId.NotFound", `CreateIpamPool answered ClientToken ${spec.clientToken} with IPAM pool ${id}, which does not exist (deleted since the token was first used). Run \`pulumi refresh\` so that the pool is planned again with a new token.`);
        }
        return r;
      }, (r) => r !== undefined && settled(r.Status));
      for (const cidr of spec.cidrs ?? []) await addCidr(id, cidr, spec.clientToken);
      return toPoolInfo(row!, spec.cidrs?.length ? await settledCidrs(id) : []);
    },

    getPool,

    async updatePool(input: UpdatePoolInput): Promise<PoolInfo> {
      checkPoolRules(input);
      const cur = await getPool(input.ipamPoolId);
      if (!cur) throw poolNotFound(input.ipamPoolId);
      const args: Record<string, unknown> = {};
      if ((input.description ?? undefined) !== cur.description) {
        if (!input.description) throw unsupported(`Alibaba Cloud cannot clear the description of IPAM pool ${cur.ipamPoolId} (UpdateIpamPool only sets one);`, "give a new description, or replace the pool.");
        args.IpamPoolDescription = input.description;
      }
      const masks = [
        ["allocationMinNetmaskLength", "AllocationMinCidrMask"], ["allocationMaxNetmaskLength", "AllocationMaxCidrMask"], ["allocationDefaultNetmaskLength", "AllocationDefaultCidrMask"],
      ] as const;
      for (const [ours, theirs] of masks) {
        const want = input[ours], have = cur[ours];
        if (want === have) continue;
        if (want !== undefined) args[theirs] = want;
        else if (ours === "allocationDefaultNetmaskLength") args.ClearAllocationDefaultCidrMask = true;
        else throw unsupported(`Alibaba Cloud cannot remove ${ours} from IPAM pool ${cur.ipamPoolId} (UpdateIpamPool can only set it);`, "give a value, or replace the pool.");
      }
      let changed = false;
      if (Object.keys(args).length > 0) {
        changed = true;
        await call("UpdateIpamPool", { IpamPoolId: cur.ipamPoolId, ...args, DryRun: input.dryRun || undefined, ClientToken: input.clientToken || randomUUID() });
      }
      if (input.tags !== undefined || Object.keys(cur.tags).length > 0) {
        const want = input.tags ?? {};
        const removed = Object.keys(cur.tags).filter((k) => !(k in want));
        const set = Object.entries(want).filter(([k, v]) => cur.tags[k] !== v);
        if (removed.length) await call("UntagResources", { ResourceType: "IPAMPOOL", ResourceId: [cur.ipamPoolId], TagKey: removed });
        if (set.length) await call("TagResources", { ResourceType: "IPAMPOOL", ResourceId: [cur.ipamPoolId], Tag: set.map(([Key, Value]) => ({ Key, Value })) });
        changed ||= removed.length + set.length > 0;
      }
      if (!changed) return cur;
      const after = await getPool(input.ipamPoolId);
      if (!after) throw poolNotFound(input.ipamPoolId);
      return after;
    },

    async provisionPoolCidr(ipamPoolId: string, cidr: string): Promise<void> {
      await addCidr(ipamPoolId, cidr, `provision\n${ipamPoolId}`);
      await settledCidrs(ipamPoolId);
    },

    async deletePool(ipamPoolId: string): Promise<void> {
      await call("DeleteIpamPool", { IpamPoolId: ipamPoolId, ClientToken: randomUUID() }, {
        hint: (code) => code.startsWith("DependencyViolation.")
          ? `IPAM pool ${ipamPoolId} still has ${code === "DependencyViolation.IpamPool" ? "nested pools" : "reservations"}; delete them first.`
          : undefined,
      });
      // Deletion may pass through Deleting; the source pool of a nested one gets its CIDR back only after.
      await waitFor(`deleting IPAM pool ${ipamPoolId}`, () => poolRow(ipamPoolId), (r) => r === undefined || String(r.Status) === "Deleted");
      poolRegions.delete(ipamPoolId);
    },

    async allocate(input: AllocateInput & { cidr: string; clientToken: string }): Promise<AllocationInfo> {
      if (input.resourceTags && Object.keys(input.resourceTags).length > 0) {
        throw unsupported("Alibaba Cloud reservations (CreateIpamPoolAllocation) carry no tags;", "leave tags out of the IpamPoolAllocation, or use ipam:backend local or aws.");
      }
      if (input.resourceType && input.resourceType !== "custom") {
        throw unsupported(`Alibaba Cloud makes only Custom reservations through CreateIpamPoolAllocation, not ${input.resourceType} allocations;`, "leave resourceType out, or let the resource take its CIDR from the pool itself (for a VPC: create it with the pool's IpamPoolId).");
      }
      if (input.resourceId) {
        throw unsupported("Alibaba Cloud records no resource id on a Custom reservation;", "leave resourceId out.");
      }
      const regionId = await regionOf(input.ipamPoolId);
      const cidr = canon(input.cidr);
      let body: Body;
      try {
        body = await call("CreateIpamPoolAllocation", {
          IpamPoolId: input.ipamPoolId,
          Cidr: cidr,
          ClientToken: input.clientToken,
          IpamPoolAllocationName: input.clientToken,
          IpamPoolAllocationDescription: input.description || undefined,
          DryRun: input.dryRun || undefined,
        }, { regionId });
      } catch (e) {
        // A re-run after a crash whose token Alibaba no longer remembers: the reservation bears the token as its name.
        if (e instanceof IpamError && e.code === "OperationDenied.CidrUnavailableInPool") {
          const rows = await listAll("ListIpamPoolAllocations", "IpamPoolAllocations", { IpamPoolId: input.ipamPoolId }, regionId);
          const mine = rows.find((a) => a.IpamPoolAllocationName === input.clientToken && sameCidr(String(a.Cidr), cidr) && !gone(a.Status));
          if (mine) return toAllocationInfo(mine, input.ipamPoolId);
        }
        throw e;
      }
      return {
        ipamPoolAllocationId: String(body.IpamPoolAllocationId), ipamPoolId: input.ipamPoolId, cidr: canon(String(body.Cidr ?? cidr)),
        description: input.description || undefined, resourceType: "custom",
      };
    },

    async previewNextCidr(input: AllocateInput): Promise<string> {
      if ([input.allowedCidrs, input.disallowedCidrs, input.excludedCidrs].some((l) => l && l.length > 0)) {
        throw unsupported("Alibaba Cloud's GetIpamPoolNextAvailableCidr takes no allowed or disallowed CIDRs;", "leave allowedCidrs and disallowedCidrs out, or give a cidr.");
      }
      const row = await poolRow(input.ipamPoolId);
      if (!row) throw poolNotFound(input.ipamPoolId);
      const mask = input.cidr ? undefined : input.netmaskLength ?? (typeof row.AllocationDefaultCidrMask === "number" ? row.AllocationDefaultCidrMask : undefined);
      const body = await call("GetIpamPoolNextAvailableCidr", { IpamPoolId: input.ipamPoolId, CidrBlock: input.cidr ? canon(input.cidr) : undefined, CidrMask: mask }, {
        regionId: await regionOf(input.ipamPoolId),
        hint: (code) => code === "MissingParam.CidrOrCidrMask" ? `Give a cidr or a netmaskLength: IPAM pool ${input.ipamPoolId} has no default netmask length.` : undefined,
      });
      return canon(String(body.CidrBlock));
    },

    getAllocation,
    listAllocations,

    async release(ipamPoolId: string, ipamPoolAllocationId: string, cidr: string): Promise<void> {
      const regionId = await regionOf(ipamPoolId);
      if (cidr) {
        const a = await getAllocation(ipamPoolId, ipamPoolAllocationId);
        if (!a) throw new IpamError("InvalidIpamPoolAllocationId.NotFound", `reservation ${ipamPoolAllocationId} does not exist in IPAM pool ${ipamPoolId}.`);
        if (!sameCidr(a.cidr, cidr)) throw new IpamError("InvalidParameterValue", `reservation ${ipamPoolAllocationId} holds ${a.cidr}, not ${cidr}; give its own cidr.`);
      }
      await call("DeleteIpamPoolAllocation", {
        IpamPoolId: ipamPoolId, IpamPoolAllocationId: ipamPoolAllocationId, Cidr: cidr ? canon(cidr) : undefined, ClientToken: randomUUID(),
      }, { regionId });
    },

    async allocateAddress(): Promise<never> {
      throw unsupported(
        "Alibaba Cloud cannot allocate an Elastic IP from an IPAM pool: AllocateEipAddress (VPC 2016-04-28) takes no IPAM pool, and VpcIpam has no public IPv4 pools (UnsupportedFeature.IpamPublicIpv4Pool).",
        "Remove the ElasticIp from this stack and allocate the EIP with @pulumi/alicloud (alicloud.ecs.EipAddress; publicIpAddressPoolId for an EIP IP address pool), or use ipam:backend aws or local, which allocate Elastic IPs from a pool.",
      );
    },

    async getAddress(allocationId: string): Promise<never> {
      throw unsupported(
        `the alicloud backend manages no Elastic IPs (Alibaba Cloud cannot take one from an IPAM pool), so it cannot read ${allocationId}.`,
        "This ElasticIp was made by another backend: switch ipam:backend back, or drop it from the stack with `pulumi state delete`.",
      );
    },

    async releaseAddress(allocationId: string): Promise<never> {
      throw unsupported(
        `the alicloud backend manages no Elastic IPs (Alibaba Cloud cannot take one from an IPAM pool), so it cannot release ${allocationId}.`,
        "Release it with the backend that made it, or drop it from the stack with `pulumi state delete` and release it in the console.",
      );
    },
  };
}

/** ipam:endpoint: "host[:port]" (HTTPS), "https://host[:port]" or "http://host[:port]" (test doubles). */
function parseEndpoint(raw: string | undefined): { host: string; protocol: string } | undefined {
  const text = raw?.trim();
  if (!text) return undefined;
  const m = /^([a-z]+):\/\/(.*)$/i.exec(text);
  const protocol = m ? m[1].toLowerCase() : "https";
  const host = (m ? m[2] : text).replace(/\/+$/, "");
  if ((protocol !== "http" && protocol !== "https") || !host || /[/?#@\s]/.test(host)) {
    throw new IpamError("InvalidParameterValue", `ipam:endpoint "${text}" is not host[:port], https://host[:port] or http://host[:port].`);
  }
  return { host, protocol };
}
