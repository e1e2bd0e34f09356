/**
 * Contract server for Alibaba Cloud's VpcIpam (2023-02-28) and VPC EIP
 * (2016-04-28) RPC APIs: a test double written from the published API reference
 * and the seeds in shared/seeds (002 CreateIpamPoolAllocation, 003
 * CreateIpamPool), never from the product's code. docs/alicloud-contract.md lists
 * the sources, what is modelled, and which codes are documented vs assumed.
 *
 * Wire contract (what @alicloud/openapi-client 0.4.x sends with signature V3):
 *   POST / (GET for GetIpamPoolNextAvailableCidr), action in x-acs-action,
 *   version in x-acs-version, every business parameter in the query string
 *   (arrays flattened as Name.N, lists of objects as Name.N.Field), empty body,
 *   Authorization: ACS3-HMAC-SHA256 Credential=..,SignedHeaders=..,Signature=..
 * Form (application/x-www-form-urlencoded) and JSON bodies are accepted too.
 *
 * Answers: 200 with the documented JSON body on success; 4xx with
 * {RequestId, HostId, Code, Message, Recommend} on error.
 */
import * as crypto from "node:crypto";
import * as http from "node:http";
import type { AddressInfo } from "node:net";
import {
  Block,
  IpVersion,
  contains,
  firstFree,
  formatCidr,
  overlaps,
  parseAddress,
  parseCidr,
  width,
  formatAddress,
  lastAddress,
} from "./cidr";
import {
  ALGORITHM,
  REQUIRED_SIGNED_HEADERS,
  canonicalRequest,
  decodeQuery,
  parseAuthorization,
  safeEqualHex,
  sha256Hex,
  sign,
  stringToSign,
} from "./signature";

export const VPCIPAM_VERSION = "2023-02-28";
export const VPC_VERSION = "2016-04-28";

// ---------------------------------------------------------------- state types

export interface Tag {
  Key: string;
  Value: string;
}

export interface IpamRecord {
  IpamId: string;
  RegionId: string;
  IpamName?: string;
  IpamDescription?: string;
  OperatingRegionList: string[];
  PublicDefaultScopeId: string;
  PrivateDefaultScopeId: string;
  ResourceGroupId: string;
  Tags: Tag[];
  CreateTime: string;
}

export interface ScopeRecord {
  IpamScopeId: string;
  IpamId: string;
  IpamScopeType: "public" | "private";
  RegionId: string;
}

export interface PoolRecord {
  IpamPoolId: string;
  IpamId: string;
  IpamScopeId: string;
  IpamScopeType: "public" | "private";
  /** The IPAM's managed region (the RegionId of CreateIpamPool). */
  IpamRegionId: string;
  PoolRegionId?: string;
  SourceIpamPoolId?: string;
  IpamPoolName?: string;
  IpamPoolDescription?: string;
  IpVersion: "IPv4" | "IPv6";
  Ipv6Isp?: string;
  AutoImport: boolean;
  AllocationDefaultCidrMask?: number;
  AllocationMaxCidrMask?: number;
  AllocationMinCidrMask?: number;
  ResourceGroupId: string;
  Tags: Tag[];
  PoolDepth: number;
  Status: "Created";
  CreateTime: string;
  OwnerId: number;
}

export interface PoolCidrRecord {
  IpamPoolId: string;
  Cidr: string;
  block: Block;
  Status: "Created";
}

export interface AllocationRecord {
  IpamPoolAllocationId: string;
  IpamPoolId: string;
  Cidr: string;
  block: Block;
  SourceCidr: string;
  /** Custom: CreateIpamPoolAllocation. IpamPool: a child pool's provisioned CIDR. */
  ResourceType: "Custom" | "IpamPool";
  ResourceId?: string;
  ResourceRegionId?: string;
  ResourceOwnerId: number;
  RegionId: string;
  IpamPoolAllocationName?: string;
  IpamPoolAllocationDescription?: string;
  Status: "Created";
  CreationTime: string;
}

export interface EipRecord {
  AllocationId: string;
  IpAddress: string;
  RegionId: string;
  Bandwidth: string;
  InternetChargeType: string;
  ChargeType: string;
  ISP: string;
  Netmode: string;
  Name?: string;
  Description?: string;
  ResourceGroupId: string;
  Status: "Available";
  AllocationTime: string;
  Tags: Tag[];
}

export interface RequestLogEntry {
  action: string;
  version: string;
  method: string;
  params: Record<string, string>;
  status: number;
  code?: string;
}

export interface ContractState {
  ipams: Map<string, IpamRecord>;
  scopes: Map<string, ScopeRecord>;
  pools: Map<string, PoolRecord>;
  poolCidrs: PoolCidrRecord[];
  allocations: Map<string, AllocationRecord>;
  eips: Map<string, EipRecord>;
  /** Successful non-DryRun responses by action + ClientToken. */
  idempotency: Map<string, Record<string, unknown>>;
  nonces: Set<string>;
  /** Every request that reached an action handler or failed authentication, in order. */
  requests: RequestLogEntry[];
}

export interface ContractServerOptions {
  accessKeyId?: string;
  accessKeySecret?: string;
  /** Owner (account) id reported in responses. */
  accountId?: number;
  /** Max PoolDepth (a top-level pool has depth 1). Default 10, per ListIpamPools' PoolDepth range. */
  maxPoolDepth?: number;
  /** Max direct child pools per pool. Default 50. */
  maxSubPoolsPerPool?: number;
  /** Max provisioned CIDRs per pool (top-level public IPv6: 1). Default 50. */
  maxCidrsPerPool?: number;
  /** Allowed |x-acs-date - now|, seconds. Default 900 (the spec's 15 minutes). */
  maxClockSkewSeconds?: number;
  /** Address range EIPs are drawn from. Default 198.51.100.0/24 (TEST-NET-2). */
  eipCidr?: string;
  /** Range the public IPv6 top-level pools' NetmaskLength provisioning carves from. Default 2001:db8::/32. */
  publicIpv6Supernet?: string;
  now?: () => Date;
}

export interface InjectedFault {
  status: number;
  code: string;
  message: string;
  /** How many matching requests fail; default 1. */
  times?: number;
}

export interface AlicloudContractServer {
  /** host:port, as Config.endpoint wants it. */
  endpoint: string;
  accessKeyId: string;
  accessKeySecret: string;
  state: ContractState;
  /** Makes the next `times` calls of `action` fail with the given error (after authentication). */
  injectFault(action: string, fault: InjectedFault): void;
  stop(): Promise<void>;
}

// ---------------------------------------------------------------- errors

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

const missing = (name: string) => new ApiError(400, `Missing${name}`, `${name} is mandatory for this action.`);
const invalidParam = (name: string) =>
  new ApiError(400, "InvalidParameter", `The specified parameter "${name}" is not valid.`);
const dryRun = () => new ApiError(400, "DryRunOperation", "Request validation has been passed with DryRun flag set.");
const notImplemented = (what: string) =>
  new ApiError(501, "ContractServer.NotImplemented", `${what} is not modelled by the contract server.`);

// Documented codes (seed 002/003 and the VpcIpam / VPC reference pages).
const E = {
  missingCidrOrMask: () => new ApiError(400, "MissingParam.CidrOrCidrMask", "The CIDR or CIDR Mask must be input."),
  illegalCidr: () => new ApiError(400, "IllegalParam.Cidr", "The specified CIDR is illegal."),
  illegalCidrMask: () => new ApiError(400, "IllegalParam.CidrMask", "The specified CidrMask is illegal."),
  insufficient: () =>
    new ApiError(
      400,
      "OperationDenied.AvailableCidrInsufficient",
      "The operation is not allowed because available CIDR is insufficient.",
    ),
  unavailable: () =>
    new ApiError(
      400,
      "OperationDenied.CidrUnavailableInPool",
      "The operation is not allowed because the CIDR is unavailable in the IPAM pool.",
    ),
  poolNotInRegion: () =>
    new ApiError(
      400,
      "OperationDenied.IpamPoolNotInRegion",
      "The operation is not allowed because the IPAM pool not in specific region does not support creating VPC or associating CIDR for VPC.",
    ),
  requestRegionInvalid: () =>
    new ApiError(
      400,
      "OperationDenied.RequestRegionInvalid",
      "The operation is not allowed because the request is not invoked in the region of the IPAM pool.",
    ),
  poolNotFound: (status = 400) => new ApiError(status, "ResourceNotFound.IpamPool", "The dependent IPAM pool is not found."),
  scopeNotFound: () =>
    new ApiError(400, "ResourceNotFound.IpamScope", "The specified resource of IPAM scope is not found."),
  sourcePoolNotFound: () =>
    new ApiError(400, "ResourceNotFound.SourceIpamPool", "The dependent source IPAM pool is not found."),
  allocationNotFound: () =>
    new ApiError(
      400,
      "ResourceNotFound.IpamPoolAllocation",
      "The specified resource of IPAM pool allocation is not found.",
    ),
  notCustom: () =>
    new ApiError(
      400,
      "OperationDenied.ResourceTypeIsNotCustom",
      "The operation is not allowed because the resource type is not Custom.",
    ),
  netmask: (which: "Default" | "Max" | "Min") =>
    new ApiError(400, `IllegalParam.Allocation${which}Netmask`, `The specified Allocation${which}Netmask is illegal.`),
  ipVersion: () => new ApiError(400, "IllegalParam.IpVersion", "The specified IpVersion is illegal."),
  ipv6Isp: () => new ApiError(400, "IllegalParam.Ipv6Isp", "The specified Ipv6Isp is illegal."),
  poolRegion: () => new ApiError(400, "IllegalParam.PoolRegionId", "The specified PoolRegionId is illegal."),
  depth: () =>
    new ApiError(400, "QuotaExceeded.IpamPoolQuotaDepth", "The quota of IpamPoolQuotaDepth count is exceeded."),
  subPools: () =>
    new ApiError(
      400,
      "QuotaExceeded.IpamSubPoolQuotaPerIpamPool",
      "The quota of ipamSubPoolQuotaPerIpamPool count is exceeded.",
    ),
  scopeMismatch: () =>
    new ApiError(
      400,
      "Mismatch.IpamScopeAndSourceIpamPool",
      "The input source IPAM pool is not in the input IPAM scope.",
    ),
  ispMismatch: () =>
    new ApiError(
      400,
      "Mismatch.Ipv6IspAndSourceIpamPool",
      "The input Ipv6Isp is inconsistent with the Ipv6Isp of the input source IPAM pool.",
    ),
  publicV4: () =>
    new ApiError(400, "UnsupportedFeature.IpamPublicIpv4Pool", "The feature of public IPv4 pool is not supported in IPAM."),
  publicV6NeedsRegion: () =>
    new ApiError(
      400,
      "OperationDenied.IpamPublicIpv6PoolNeedPoolRegion",
      "The public IPv6 pool cannot be created in IPAM when its pool region is empty.",
    ),
  publicV6TopQuota: () =>
    new ApiError(
      400,
      "QuotaExceeded.IpamPublicIpv6TopPoolQuotaPerRegionIsp",
      "The number of public IPv6 top pool in IPAM for this ISP owned by the user in this region exceeds the limit.",
    ),
  duplicatedTagKey: () => new ApiError(400, "DuplicatedParam.TagKey", "TagKey duplicate."),
  subPoolDependency: (poolId: string, childId: string) =>
    new ApiError(
      400,
      "DependencyViolation.IpamPool",
      `The specified resource of ${poolId} depends on ${childId}, so the operation cannot be completed.`,
    ),
  customAllocationDependency: () =>
    new ApiError(
      400,
      "DependencyViolation.CustomPoolAllocation",
      "The operation is not allowed because the IpamPool has custom pool allocation dependency.",
    ),
  nextCidrNotEnough: () =>
    new ApiError(400, "ResourceNotEnough.IpamPoolCidr", "The specified resource of IPAM pool CIDR is not enough."),
  eipNotFound: () => new ApiError(404, "InvalidAllocationId.NotFound", "Specified allocation ID is not found"),
  // Codes of this pattern that the reference pages shown to us do not list; see docs/alicloud-contract.md.
  missingCidrOrNetmask: () =>
    new ApiError(400, "MissingParam.CidrOrNetmaskLength", "The CIDR or NetmaskLength must be input."),
  illegalNetmaskLength: () => new ApiError(400, "IllegalParam.NetmaskLength", "The specified NetmaskLength is illegal."),
  poolCidrQuota: () => new ApiError(400, "QuotaExceeded.IpamPoolCidr", "The quota of IpamPoolCidr count is exceeded."),
  illegalName: (name: string) => new ApiError(400, `IllegalParam.${name}`, `The specified ${name} is illegal.`),
  illegalNextToken: () => new ApiError(400, "IllegalParam.NextToken", "The specified NextToken is illegal."),
  illegalMaxResults: () => new ApiError(400, "IllegalParam.MaxResults", "The specified MaxResults is illegal."),
};

// ---------------------------------------------------------------- request parameters

class Params {
  constructor(readonly map: Map<string, string>) {}

  has(name: string): boolean {
    return this.map.has(name);
  }

  str(name: string): string | undefined {
    return this.map.get(name);
  }

  required(name: string): string {
    const v = this.map.get(name);
    if (v === undefined || v === "") throw missing(name);
    return v;
  }

  int(name: string): number | undefined {
    const v = this.map.get(name);
    if (v === undefined || v === "") return undefined;
    if (!/^-?[0-9]+$/.test(v)) throw invalidParam(name);
    return Number(v);
  }

  bool(name: string): boolean | undefined {
    const v = this.map.get(name);
    if (v === undefined || v === "") return undefined;
    if (/^true$/i.test(v)) return true;
    if (/^false$/i.test(v)) return false;
    throw invalidParam(name);
  }

  /** Name.1, Name.2, ... in index order. */
  list(name: string): string[] {
    const found: Array<[number, string]> = [];
    const re = new RegExp(`^${name.replace(/\./g, "\\.")}\\.([0-9]+)$`);
    for (const [k, v] of this.map) {
      const m = re.exec(k);
      if (m) found.push([Number(m[1]), v]);
    }
    return found.sort((a, b) => a[0] - b[0]).map(([, v]) => v);
  }

  /** Name.N.Key / Name.N.Value in index order. */
  tags(name: string): Array<{ Key?: string; Value?: string }> {
    const byIndex = new Map<number, { Key?: string; Value?: string }>();
    const re = new RegExp(`^${name}\\.([0-9]+)\\.(Key|Value)$`);
    for (const [k, v] of this.map) {
      const m = re.exec(k);
      if (!m) continue;
      const i = Number(m[1]);
      const t = byIndex.get(i) ?? {};
      t[m[2] as "Key" | "Value"] = v;
      byIndex.set(i, t);
    }
    return [...byIndex.entries()].sort((a, b) => a[0] - b[0]).map(([, t]) => t);
  }

  toObject(): Record<string, string> {
    return Object.fromEntries(this.map);
  }
}

/** Flattens a JSON body the way OpenApiUtil.query flattens objects: a.b, list.1. */
function flattenJson(value: unknown, prefix: string, out: Map<string, string>): void {
  if (value === null || value === undefined) return;
  if (Array.isArray(value)) {
    value.forEach((v, i) => flattenJson(v, prefix ? `${prefix}.${i + 1}` : String(i + 1), out));
  } else if (typeof value === "object") {
    for (const [k, v] of Object.entries(value as Record<string, unknown>)) flattenJson(v, prefix ? `${prefix}.${k}` : k, out);
  } else if (prefix) {
    out.set(prefix, String(value));
  }
}

// ---------------------------------------------------------------- helpers

const ALNUM = "abcdefghijklmnopqrstuvwxyz0123456789";
function randomId(prefix: string): string {
  const bytes = crypto.randomBytes(18);
  let s = "";
  for (const b of bytes) s += ALNUM[b % ALNUM.length];
  return `${prefix}-${s}`;
}

const requestId = (): string => crypto.randomUUID().toUpperCase();

const isoSeconds = (d: Date): string => `${d.toISOString().slice(0, 19)}Z`;

const versionOf = (v: "IPv4" | "IPv6"): IpVersion => (v === "IPv4" ? 4 : 6);

function checkNameLike(value: string | undefined, field: string, max: number, mustStartWithLetter: boolean): void {
  if (value === undefined) return;
  if (value.length < 1 || value.length > max || /^https?:\/\//i.test(value)) throw E.illegalName(field);
  if (mustStartWithLetter && !/^[A-Za-z\u4e00-\u9fa5]/.test(value)) throw E.illegalName(field);
}

function checkTags(raw: Array<{ Key?: string; Value?: string }>): Tag[] {
  const seen = new Set<string>();
  const tags: Tag[] = [];
  if (raw.length > 20) throw E.illegalName("Tag");
  for (const t of raw) {
    if (!t.Key) throw E.illegalName("TagKey");
    if (t.Key.length > 64 || /^(aliyun|acs:)/i.test(t.Key) || /https?:\/\//i.test(t.Key)) throw E.illegalName("TagKey");
    const value = t.Value ?? "";
    if (value.length > 128 || /https?:\/\//i.test(value)) throw E.illegalName("TagValue");
    if (seen.has(t.Key)) throw E.duplicatedTagKey();
    seen.add(t.Key);
    tags.push({ Key: t.Key, Value: value });
  }
  return tags;
}

interface Page<T> {
  items: T[];
  nextToken: string;
  maxResults: number;
}

function paginate<T>(all: T[], p: Params): Page<T> {
  const maxResults = p.int("MaxResults") ?? 10;
  if (maxResults < 1 || maxResults > 100) throw E.illegalMaxResults();
  const token = p.str("NextToken");
  let offset = 0;
  if (token) {
    let decoded: unknown;
    try {
      decoded = JSON.parse(Buffer.from(token, "base64url").toString("utf8"));
    } catch {
      throw E.illegalNextToken();
    }
    const o = (decoded as { o?: unknown } | null)?.o;
    if (typeof o !== "number" || !Number.isInteger(o) || o < 0 || o > all.length) throw E.illegalNextToken();
    offset = o;
  }
  const items = all.slice(offset, offset + maxResults);
  const next = offset + items.length;
  return {
    items,
    maxResults,
    nextToken: next < all.length ? Buffer.from(JSON.stringify({ o: next })).toString("base64url") : "",
  };
}

// ---------------------------------------------------------------- the server

type Handler = (p: Params, ctx: { host: string }) => Record<string, unknown>;

interface ActionSpec {
  version: string;
  /** Cache the response by ClientToken (mutating actions that take one). */
  idempotent: boolean;
  handler: Handler;
}

export async function startAlicloudContractServer(opts: ContractServerOptions = {}): Promise<AlicloudContractServer> {
  const accessKeyId = opts.accessKeyId ?? `LTAI${crypto.randomBytes(10).toString("hex")}`;
  const accessKeySecret = opts.accessKeySecret ?? crypto.randomBytes(15).toString("base64url");
  const accountId = opts.accountId ?? 1234567890123456;
  const maxPoolDepth = opts.maxPoolDepth ?? 10;
  const maxSubPools = opts.maxSubPoolsPerPool ?? 50;
  const maxCidrs = opts.maxCidrsPerPool ?? 50;
  const maxSkewMs = (opts.maxClockSkewSeconds ?? 900) * 1000;
  const now = opts.now ?? (() => new Date());
  const eipRange = parseCidr(opts.eipCidr ?? "198.51.100.0/24");
  const v6Supernet = parseCidr(opts.publicIpv6Supernet ?? "2001:db8::/32");
  if (!eipRange.ok || !v6Supernet.ok) throw new Error("bad eipCidr / publicIpv6Supernet");

  const state: ContractState = {
    ipams: new Map(),
    scopes: new Map(),
    pools: new Map(),
    poolCidrs: [],
    allocations: new Map(),
    eips: new Map(),
    idempotency: new Map(),
    nonces: new Set(),
    requests: [],
  };
  const faults = new Map<string, InjectedFault[]>();

  // ------------------------------------------------ model helpers

  const poolOrThrow = (id: string, status = 400): PoolRecord => {
    const pool = state.pools.get(id);
    if (!pool) throw E.poolNotFound(status);
    return pool;
  };
  const cidrsOf = (poolId: string): Block[] =>
    state.poolCidrs.filter((c) => c.IpamPoolId === poolId).map((c) => c.block);
  const allocationsOf = (poolId: string): AllocationRecord[] =>
    [...state.allocations.values()].filter((a) => a.IpamPoolId === poolId);
  const childrenOf = (poolId: string): PoolRecord[] =>
    [...state.pools.values()].filter((p) => p.SourceIpamPoolId === poolId);
  const bits = (pool: PoolRecord) => width(versionOf(pool.IpVersion));

  function checkMaskRules(pool: PoolRecord, mask: number, err: () => ApiError): void {
    if (mask < 0 || mask > bits(pool)) throw err();
    if (pool.AllocationMinCidrMask !== undefined && mask < pool.AllocationMinCidrMask) throw err();
    if (pool.AllocationMaxCidrMask !== undefined && mask > pool.AllocationMaxCidrMask) throw err();
  }

  /** Where a block may go in a pool: inside one provisioned CIDR, clear of every allocation. */
  function placeIn(pool: PoolRecord, block: Block): Block {
    const source = cidrsOf(pool.IpamPoolId).find((c) => contains(c, block));
    if (!source) throw E.unavailable();
    if (allocationsOf(pool.IpamPoolId).some((a) => overlaps(a.block, block))) throw E.unavailable();
    return source;
  }

  function parseBlockFor(pool: PoolRecord, text: string, err: () => ApiError): Block {
    const parsed = parseCidr(text.trim());
    if (!parsed.ok || parsed.block.v !== versionOf(pool.IpVersion)) throw err();
    return parsed.block;
  }

  // ------------------------------------------------ VpcIpam actions

  const CreateIpam: Handler = (p) => {
    const regionId = p.required("RegionId");
    checkNameLike(p.str("IpamName"), "IpamName", 128, false);
    checkNameLike(p.str("IpamDescription"), "IpamDescription", 256, true);
    const tags = checkTags(p.tags("Tag"));
    const operating = p.list("OperatingRegionList");
    if (p.bool("DryRun")) throw dryRun();
    const ipam: IpamRecord = {
      IpamId: randomId("ipam"),
      RegionId: regionId,
      IpamName: p.str("IpamName"),
      IpamDescription: p.str("IpamDescription"),
      OperatingRegionList: [...new Set([regionId, ...operating])],
      PublicDefaultScopeId: randomId("ipam-scope"),
      PrivateDefaultScopeId: randomId("ipam-scope"),
      ResourceGroupId: p.str("ResourceGroupId") ?? "rg-contractdefault",
      Tags: tags,
      CreateTime: isoSeconds(now()),
    };
    state.ipams.set(ipam.IpamId, ipam);
    for (const [id, type] of [
      [ipam.PublicDefaultScopeId, "public"],
      [ipam.PrivateDefaultScopeId, "private"],
    ] as const) {
      state.scopes.set(id, { IpamScopeId: id, IpamId: ipam.IpamId, IpamScopeType: type, RegionId: regionId });
    }
    return {
      IpamId: ipam.IpamId,
      PublicDefaultScopeId: ipam.PublicDefaultScopeId,
      PrivateDefaultScopeId: ipam.PrivateDefaultScopeId,
    };
  };

  const CreateIpamPool: Handler = (p) => {
    const regionId = p.required("RegionId");
    const scopeId = p.required("IpamScopeId");
    const sourceId = p.str("SourceIpamPoolId") || undefined;
    const source = sourceId ? state.pools.get(sourceId) : undefined;

    const ipVersionRaw = p.str("IpVersion");
    if (ipVersionRaw !== undefined && ipVersionRaw !== "IPv4" && ipVersionRaw !== "IPv6") throw E.ipVersion();
    const ipVersion: "IPv4" | "IPv6" = (ipVersionRaw as "IPv4" | "IPv6" | undefined) ?? source?.IpVersion ?? "IPv4";
    const maxBits = width(versionOf(ipVersion));

    const def = p.int("AllocationDefaultCidrMask");
    const max = p.int("AllocationMaxCidrMask");
    const min = p.int("AllocationMinCidrMask");
    const inRange = (m: number | undefined) => m === undefined || (m >= 0 && m <= maxBits);
    if (!inRange(def)) throw E.netmask("Default");
    if (!inRange(max)) throw E.netmask("Max");
    if (!inRange(min)) throw E.netmask("Min");
    if (min !== undefined && max !== undefined && min > max) throw E.netmask("Min");
    if (def !== undefined && min !== undefined && def < min) throw E.netmask("Default");
    if (def !== undefined && max !== undefined && def > max) throw E.netmask("Default");

    const isp = p.str("Ipv6Isp");
    if (isp !== undefined && !["BGP", "ChinaMobile", "ChinaUnicom", "ChinaTelecom"].includes(isp)) throw E.ipv6Isp();
    checkNameLike(p.str("IpamPoolName"), "IpamPoolName", 128, false);
    checkNameLike(p.str("IpamPoolDescription"), "IpamPoolDescription", 256, true);
    const tags = checkTags(p.tags("Tag"));
    const autoImport = p.bool("AutoImport") ?? false;

    const scope = state.scopes.get(scopeId);
    if (!scope || scope.RegionId !== regionId) throw E.scopeNotFound();
    const ipam = state.ipams.get(scope.IpamId)!;
    if (scope.IpamScopeType === "public" && ipVersion === "IPv4") throw E.publicV4();

    const poolRegionId = p.str("PoolRegionId") || undefined;
    if (poolRegionId !== undefined && !ipam.OperatingRegionList.includes(poolRegionId)) throw E.poolRegion();

    let depth = 1;
    if (sourceId !== undefined) {
      if (!source) throw E.sourcePoolNotFound();
      if (source.IpamScopeId !== scopeId) throw E.scopeMismatch();
      if (source.IpVersion !== ipVersion) throw E.ipVersion();
      if (isp !== undefined && source.Ipv6Isp !== undefined && isp !== source.Ipv6Isp) throw E.ispMismatch();
      if (source.PoolRegionId !== undefined && poolRegionId !== undefined && poolRegionId !== source.PoolRegionId) {
        throw E.poolRegion();
      }
      depth = source.PoolDepth + 1;
      if (depth > maxPoolDepth) throw E.depth();
      if (childrenOf(source.IpamPoolId).length >= maxSubPools) throw E.subPools();
    } else if (scope.IpamScopeType === "public" && ipVersion === "IPv6") {
      if (poolRegionId === undefined) throw E.publicV6NeedsRegion();
      const ispOf = isp ?? "BGP";
      const clash = [...state.pools.values()].some(
        (q) =>
          q.IpamScopeType === "public" &&
          q.SourceIpamPoolId === undefined &&
          q.IpVersion === "IPv6" &&
          q.PoolRegionId === poolRegionId &&
          (q.Ipv6Isp ?? "BGP") === ispOf,
      );
      if (clash) throw E.publicV6TopQuota();
    }
    if (p.bool("DryRun")) throw dryRun();

    const pool: PoolRecord = {
      IpamPoolId: randomId("ipam-pool"),
      IpamId: ipam.IpamId,
      IpamScopeId: scopeId,
      IpamScopeType: scope.IpamScopeType,
      IpamRegionId: ipam.RegionId,
      PoolRegionId: poolRegionId ?? (source?.PoolRegionId || undefined),
      SourceIpamPoolId: sourceId,
      IpamPoolName: p.str("IpamPoolName"),
      IpamPoolDescription: p.str("IpamPoolDescription"),
      IpVersion: ipVersion,
      Ipv6Isp: ipVersion === "IPv6" && scope.IpamScopeType === "public" ? (isp ?? source?.Ipv6Isp ?? "BGP") : isp,
      AutoImport: autoImport,
      AllocationDefaultCidrMask: def,
      AllocationMaxCidrMask: max,
      AllocationMinCidrMask: min,
      ResourceGroupId: p.str("ResourceGroupId") ?? ipam.ResourceGroupId,
      Tags: tags,
      PoolDepth: depth,
      Status: "Created",
      CreateTime: isoSeconds(now()),
      OwnerId: accountId,
    };
    state.pools.set(pool.IpamPoolId, pool);
    return { IpamPoolId: pool.IpamPoolId };
  };

  const AddIpamPoolCidr: Handler = (p) => {
    const regionId = p.required("RegionId");
    const poolId = p.required("IpamPoolId");
    const cidrText = p.str("Cidr") || undefined;
    const netmask = p.int("NetmaskLength");
    if (cidrText === undefined && netmask === undefined) throw E.missingCidrOrNetmask();
    const pool = poolOrThrow(poolId);
    if (regionId !== pool.IpamRegionId) throw E.requestRegionInvalid();
    const v = versionOf(pool.IpVersion);
    const block = cidrText !== undefined ? parseBlockFor(pool, cidrText, E.illegalCidr) : undefined;
    if (netmask !== undefined && (netmask < 0 || netmask > width(v))) throw E.illegalNetmaskLength();
    if (block && netmask !== undefined && block.prefix !== netmask) throw E.illegalNetmaskLength();

    const publicV6Top = pool.SourceIpamPoolId === undefined && pool.IpamScopeType === "public" && v === 6;
    const quota = publicV6Top ? 1 : maxCidrs;
    if (cidrsOf(poolId).length >= quota) throw E.poolCidrQuota();

    let chosen: Block;
    let parentSource: Block | undefined;
    if (pool.SourceIpamPoolId !== undefined) {
      // A child pool's CIDR is an allocation from its source pool.
      const parent = poolOrThrow(pool.SourceIpamPoolId);
      if (block) {
        parentSource = placeIn(parent, block);
        chosen = block;
      } else {
        const used = allocationsOf(parent.IpamPoolId).map((a) => a.block);
        const found = firstFree(cidrsOf(parent.IpamPoolId), used, netmask!);
        if (!found) throw E.insufficient();
        chosen = found.block;
        parentSource = found.source;
      }
    } else if (publicV6Top) {
      if (netmask === undefined || block) throw E.illegalCidr(); // top-level public IPv6: by mask only
      const used = state.poolCidrs
        .filter((c) => state.pools.get(c.IpamPoolId)?.IpamScopeId === pool.IpamScopeId)
        .map((c) => c.block);
      const found = firstFree([(v6Supernet as { block: Block }).block], used, netmask);
      if (!found) throw E.insufficient();
      chosen = found.block;
    } else {
      if (!block) throw E.illegalNetmaskLength(); // top-level private: by CIDR only
      const clash = state.poolCidrs.some((c) => {
        const owner = state.pools.get(c.IpamPoolId);
        return owner !== undefined && owner.IpamScopeId === pool.IpamScopeId && owner.SourceIpamPoolId === undefined && overlaps(c.block, block);
      });
      if (clash) throw E.unavailable();
      chosen = block;
    }
    if (p.bool("DryRun")) throw dryRun();

    const text = formatCidr(chosen);
    state.poolCidrs.push({ IpamPoolId: poolId, Cidr: text, block: chosen, Status: "Created" });
    if (pool.SourceIpamPoolId !== undefined) {
      const parent = state.pools.get(pool.SourceIpamPoolId)!;
      const alloc: AllocationRecord = {
        IpamPoolAllocationId: randomId("ipam-pool-alloc"),
        IpamPoolId: parent.IpamPoolId,
        Cidr: text,
        block: chosen,
        SourceCidr: formatCidr(parentSource!),
        ResourceType: "IpamPool",
        ResourceId: poolId,
        ResourceRegionId: pool.PoolRegionId ?? pool.IpamRegionId,
        ResourceOwnerId: accountId,
        RegionId: parent.PoolRegionId ?? parent.IpamRegionId,
        Status: "Created",
        CreationTime: isoSeconds(now()),
      };
      state.allocations.set(alloc.IpamPoolAllocationId, alloc);
    }
    return { Cidr: text };
  };

  const CreateIpamPoolAllocation: Handler = (p) => {
    const regionId = p.required("RegionId");
    const poolId = p.required("IpamPoolId");
    const cidrText = p.str("Cidr") || undefined;
    const mask = p.int("CidrMask");
    if (cidrText === undefined && mask === undefined) throw E.missingCidrOrMask();
    const name = p.str("IpamPoolAllocationName");
    const description = p.str("IpamPoolAllocationDescription");
    checkNameLike(name, "IpamPoolAllocationName", 128, false);
    checkNameLike(description, "IpamPoolAllocationDescription", 256, true);

    const pool = poolOrThrow(poolId, 404);
    if (pool.PoolRegionId === undefined) throw E.poolNotInRegion();
    if (regionId !== pool.PoolRegionId) throw E.requestRegionInvalid();

    let block: Block;
    let source: Block;
    if (cidrText !== undefined) {
      block = parseBlockFor(pool, cidrText, E.illegalCidr);
      if (mask !== undefined && mask !== block.prefix) throw E.illegalCidrMask();
      checkMaskRules(pool, block.prefix, E.illegalCidrMask);
      source = placeIn(pool, block);
    } else {
      checkMaskRules(pool, mask!, E.illegalCidrMask);
      const used = allocationsOf(poolId).map((a) => a.block);
      const found = firstFree(cidrsOf(poolId), used, mask!);
      if (!found) throw E.insufficient();
      block = found.block;
      source = found.source;
    }
    if (p.bool("DryRun")) throw dryRun();

    const alloc: AllocationRecord = {
      IpamPoolAllocationId: randomId("ipam-pool-alloc"),
      IpamPoolId: poolId,
      Cidr: formatCidr(block),
      block,
      SourceCidr: formatCidr(source),
      ResourceType: "Custom",
      ResourceRegionId: pool.PoolRegionId,
      ResourceOwnerId: accountId,
      RegionId: pool.PoolRegionId,
      IpamPoolAllocationName: name,
      IpamPoolAllocationDescription: description,
      Status: "Created",
      CreationTime: isoSeconds(now()),
    };
    state.allocations.set(alloc.IpamPoolAllocationId, alloc);
    return { IpamPoolAllocationId: alloc.IpamPoolAllocationId, Cidr: alloc.Cidr, SourceCidr: alloc.SourceCidr };
  };

  const GetIpamPoolNextAvailableCidr: Handler = (p) => {
    p.required("RegionId");
    const poolId = p.required("IpamPoolId");
    const cidrText = p.str("CidrBlock") || undefined;
    const mask = p.int("CidrMask");
    if (cidrText === undefined && mask === undefined) throw E.missingCidrOrMask();
    const pool = poolOrThrow(poolId);
    if (cidrText !== undefined) {
      const block = parseBlockFor(pool, cidrText, E.illegalCidr);
      checkMaskRules(pool, block.prefix, E.illegalCidrMask);
      placeIn(pool, block);
      return { CidrBlock: formatCidr(block) };
    }
    checkMaskRules(pool, mask!, E.illegalCidrMask);
    const found = firstFree(
      cidrsOf(poolId),
      allocationsOf(poolId).map((a) => a.block),
      mask!,
    );
    if (!found) throw E.nextCidrNotEnough();
    return { CidrBlock: formatCidr(found.block) };
  };

  const allocationView = (a: AllocationRecord) => ({
    IpamPoolAllocationId: a.IpamPoolAllocationId,
    Cidr: a.Cidr,
    SourceCidr: a.SourceCidr,
    ResourceId: a.ResourceId,
    ResourceType: a.ResourceType,
    ResourceRegionId: a.ResourceRegionId,
    ResourceOwnerId: a.ResourceOwnerId,
    RegionId: a.RegionId,
    IpamPoolId: a.IpamPoolId,
    IpamPoolAllocationName: a.IpamPoolAllocationName,
    IpamPoolAllocationDescription: a.IpamPoolAllocationDescription,
    Status: a.Status,
    CreationTime: a.CreationTime,
  });

  const ListIpamPoolAllocations: Handler = (p) => {
    p.required("RegionId");
    const poolId = p.required("IpamPoolId");
    const ids = p.list("IpamPoolAllocationIds");
    if (ids.length > 20) throw invalidParam("IpamPoolAllocationIds");
    const cidr = p.str("Cidr") || undefined;
    const name = p.str("IpamPoolAllocationName") || undefined;
    poolOrThrow(poolId);
    const all = allocationsOf(poolId).filter(
      (a) =>
        (ids.length === 0 || ids.includes(a.IpamPoolAllocationId)) &&
        (cidr === undefined || a.Cidr === cidr) &&
        (name === undefined || a.IpamPoolAllocationName === name),
    );
    const page = paginate(all, p);
    return {
      IpamPoolAllocations: page.items.map(allocationView),
      NextToken: page.nextToken,
      TotalCount: all.length,
      MaxResults: page.maxResults,
    };
  };

  const DeleteIpamPoolAllocation: Handler = (p) => {
    p.required("RegionId");
    const id = p.required("IpamPoolAllocationId");
    const alloc = state.allocations.get(id);
    if (!alloc) throw E.allocationNotFound();
    if (alloc.ResourceType !== "Custom") throw E.notCustom();
    if (p.bool("DryRun")) throw dryRun();
    state.allocations.delete(id);
    return {};
  };

  const DeleteIpamPool: Handler = (p) => {
    const regionId = p.required("RegionId");
    const poolId = p.required("IpamPoolId");
    const pool = poolOrThrow(poolId);
    if (regionId !== pool.IpamRegionId) throw E.requestRegionInvalid();
    const child = childrenOf(poolId)[0];
    if (child) throw E.subPoolDependency(poolId, child.IpamPoolId);
    if (allocationsOf(poolId).some((a) => a.ResourceType === "Custom")) throw E.customAllocationDependency();
    if (p.bool("DryRun")) throw dryRun();
    state.pools.delete(poolId);
    state.poolCidrs = state.poolCidrs.filter((c) => c.IpamPoolId !== poolId);
    for (const [id, a] of state.allocations) {
      if (a.IpamPoolId === poolId || (a.ResourceType === "IpamPool" && a.ResourceId === poolId)) state.allocations.delete(id);
    }
    return {};
  };

  const ListIpamPools: Handler = (p) => {
    const regionId = p.required("RegionId");
    const ids = p.list("IpamPoolIds");
    if (ids.length > 100) throw invalidParam("IpamPoolIds");
    const f = {
      scope: p.str("IpamScopeId") || undefined,
      name: p.str("IpamPoolName") || undefined,
      source: p.str("SourceIpamPoolId") || undefined,
      poolRegion: p.str("PoolRegionId") || undefined,
      rg: p.str("ResourceGroupId") || undefined,
      ipVersion: p.str("IpVersion") || undefined,
      isp: p.str("Ipv6Isp") || undefined,
      tags: p.tags("Tags"),
    };
    const all = [...state.pools.values()].filter(
      (q) =>
        q.IpamRegionId === regionId &&
        (ids.length === 0 || ids.includes(q.IpamPoolId)) &&
        (f.scope === undefined || q.IpamScopeId === f.scope) &&
        (f.name === undefined || q.IpamPoolName === f.name) &&
        (f.source === undefined || q.SourceIpamPoolId === f.source) &&
        (f.poolRegion === undefined || q.PoolRegionId === f.poolRegion) &&
        (f.rg === undefined || q.ResourceGroupId === f.rg) &&
        (f.ipVersion === undefined || q.IpVersion === f.ipVersion) &&
        (f.isp === undefined || q.Ipv6Isp === f.isp) &&
        f.tags.every((t) => q.Tags.some((qt) => qt.Key === t.Key && (t.Value === undefined || qt.Value === t.Value))),
    );
    const page = paginate(all, p);
    return {
      IpamPools: page.items.map((q) => ({
        IpamId: q.IpamId,
        IpamScopeId: q.IpamScopeId,
        IpamScopeType: q.IpamScopeType,
        IpamPoolId: q.IpamPoolId,
        IpamPoolName: q.IpamPoolName,
        IpamPoolDescription: q.IpamPoolDescription,
        CreateTime: q.CreateTime,
        RegionId: q.IpamRegionId,
        IpamRegionId: q.IpamRegionId,
        PoolRegionId: q.PoolRegionId,
        PoolDepth: q.PoolDepth,
        HasSubPool: childrenOf(q.IpamPoolId).length > 0,
        SourceIpamPoolId: q.SourceIpamPoolId,
        Status: q.Status,
        IpVersion: q.IpVersion,
        Ipv6Isp: q.Ipv6Isp,
        AutoImport: q.AutoImport,
        AllocationDefaultCidrMask: q.AllocationDefaultCidrMask,
        AllocationMaxCidrMask: q.AllocationMaxCidrMask,
        AllocationMinCidrMask: q.AllocationMinCidrMask,
        ResourceGroupId: q.ResourceGroupId,
        Tags: q.Tags,
        OwnerId: q.OwnerId,
        IsShared: false,
      })),
      NextToken: page.nextToken,
      TotalCount: all.length,
      MaxResults: page.maxResults,
    };
  };

  const ListIpamPoolCidrs: Handler = (p) => {
    p.required("RegionId");
    const poolId = p.required("IpamPoolId");
    const cidr = p.str("Cidr") || undefined;
    poolOrThrow(poolId);
    const all = state.poolCidrs.filter((c) => c.IpamPoolId === poolId && (cidr === undefined || c.Cidr === cidr));
    const page = paginate(all, p);
    return {
      IpamPoolCidrs: page.items.map((c) => ({ IpamPoolId: c.IpamPoolId, Cidr: c.Cidr, Status: c.Status })),
      NextToken: page.nextToken,
      TotalCount: all.length,
      MaxResults: page.maxResults,
    };
  };

  // ------------------------------------------------ VPC EIP actions (2016-04-28)

  const AllocateEipAddress: Handler = (p) => {
    const regionId = p.required("RegionId");
    if (p.str("PublicIpAddressPoolId")) throw notImplemented("PublicIpAddressPoolId (IP address pools)");
    if (p.str("IpAddress") || p.str("InstanceId")) throw notImplemented("IpAddress/InstanceId (AllocateEipAddressPro-style requests)");
    const instanceChargeType = p.str("InstanceChargeType") ?? "PostPaid";
    if (instanceChargeType !== "PostPaid") throw notImplemented("PrePaid EIPs");
    const name = p.str("Name");
    const description = p.str("Description");
    if (name !== undefined && (name.length > 128 || /^https?:\/\//i.test(name))) throw invalidParam("Name");
    if (description !== undefined && (description.length > 256 || /^https?:\/\//i.test(description))) {
      throw invalidParam("Description");
    }
    const tags = checkTags(p.tags("Tag"));
    const range = (eipRange as { block: Block }).block;
    const used = [...state.eips.values()].map((e) => {
      const a = parseAddress(e.IpAddress)!;
      return { v: a.v, base: a.n, prefix: width(a.v) } as Block;
    });
    const found = firstFree([range], used, width(range.v));
    if (!found) throw new ApiError(400, "QuotaExceeded.Eip", "The contract server's EIP range is exhausted.");
    const eip: EipRecord = {
      AllocationId: randomId("eip"),
      IpAddress: formatAddress(found.block.v, found.block.base),
      RegionId: regionId,
      Bandwidth: p.str("Bandwidth") ?? "5",
      InternetChargeType: p.str("InternetChargeType") ?? "PayByBandwidth",
      ChargeType: instanceChargeType,
      ISP: p.str("ISP") ?? "BGP",
      Netmode: p.str("Netmode") ?? "public",
      Name: name,
      Description: description,
      ResourceGroupId: p.str("ResourceGroupId") ?? "rg-contractdefault",
      Status: "Available",
      AllocationTime: isoSeconds(now()),
      Tags: tags,
    };
    state.eips.set(eip.AllocationId, eip);
    return { AllocationId: eip.AllocationId, EipAddress: eip.IpAddress, ResourceGroupId: eip.ResourceGroupId };
  };

  const ReleaseEipAddress: Handler = (p) => {
    const id = p.required("AllocationId");
    const eip = state.eips.get(id);
    if (!eip) throw E.eipNotFound();
    const regionId = p.str("RegionId");
    if (regionId && regionId !== eip.RegionId) throw E.eipNotFound();
    state.eips.delete(id);
    return {};
  };

  const DescribeEipAddresses: Handler = (p) => {
    const regionId = p.required("RegionId");
    const ids = (p.str("AllocationId") ?? "").split(",").map((s) => s.trim()).filter(Boolean);
    const addrs = (p.str("EipAddress") ?? "").split(",").map((s) => s.trim()).filter(Boolean);
    const status = p.str("Status") || undefined;
    const pageNumber = p.int("PageNumber") ?? 1;
    const pageSize = p.int("PageSize") ?? 10;
    if (pageNumber < 1) throw invalidParam("PageNumber");
    if (pageSize < 1 || pageSize > 100) throw invalidParam("PageSize");
    if (ids.length > 50 || addrs.length > 50) throw invalidParam(ids.length > 50 ? "AllocationId" : "EipAddress");
    const all = [...state.eips.values()].filter(
      (e) =>
        e.RegionId === regionId &&
        (ids.length === 0 || ids.includes(e.AllocationId)) &&
        (addrs.length === 0 || addrs.includes(e.IpAddress)) &&
        (status === undefined || e.Status === status),
    );
    const items = all.slice((pageNumber - 1) * pageSize, pageNumber * pageSize);
    return {
      TotalCount: all.length,
      PageNumber: pageNumber,
      PageSize: pageSize,
      EipAddresses: {
        EipAddress: items.map((e) => ({
          AllocationId: e.AllocationId,
          IpAddress: e.IpAddress,
          RegionId: e.RegionId,
          Status: e.Status,
          Bandwidth: e.Bandwidth,
          EipBandwidth: e.Bandwidth,
          InternetChargeType: e.InternetChargeType,
          ChargeType: e.ChargeType,
          ISP: e.ISP,
          Netmode: e.Netmode,
          Name: e.Name,
          Description: e.Description,
          ResourceGroupId: e.ResourceGroupId,
          AllocationTime: e.AllocationTime,
          InstanceId: "",
          InstanceType: "",
          Tags: { Tag: e.Tags },
          OperationLocks: { LockReason: [] },
        })),
      },
    };
  };

  const actions: Record<string, ActionSpec> = {
    CreateIpam: { version: VPCIPAM_VERSION, idempotent: true, handler: CreateIpam },
    CreateIpamPool: { version: VPCIPAM_VERSION, idempotent: true, handler: CreateIpamPool },
    AddIpamPoolCidr: { version: VPCIPAM_VERSION, idempotent: true, handler: AddIpamPoolCidr },
    CreateIpamPoolAllocation: { version: VPCIPAM_VERSION, idempotent: true, handler: CreateIpamPoolAllocation },
    GetIpamPoolNextAvailableCidr: { version: VPCIPAM_VERSION, idempotent: false, handler: GetIpamPoolNextAvailableCidr },
    ListIpamPoolAllocations: { version: VPCIPAM_VERSION, idempotent: false, handler: ListIpamPoolAllocations },
    DeleteIpamPoolAllocation: { version: VPCIPAM_VERSION, idempotent: true, handler: DeleteIpamPoolAllocation },
    DeleteIpamPool: { version: VPCIPAM_VERSION, idempotent: true, handler: DeleteIpamPool },
    ListIpamPools: { version: VPCIPAM_VERSION, idempotent: false, handler: ListIpamPools },
    ListIpamPoolCidrs: { version: VPCIPAM_VERSION, idempotent: false, handler: ListIpamPoolCidrs },
    AllocateEipAddress: { version: VPC_VERSION, idempotent: true, handler: AllocateEipAddress },
    ReleaseEipAddress: { version: VPC_VERSION, idempotent: false, handler: ReleaseEipAddress },
    DescribeEipAddresses: { version: VPC_VERSION, idempotent: false, handler: DescribeEipAddresses },
  };

  // ------------------------------------------------ HTTP plumbing

  function authenticate(req: http.IncomingMessage, rawPath: string, query: Array<[string, string]>, body: Buffer): void {
    const auth = parseAuthorization(req.headers.authorization);
    const incomplete = (why: string) =>
      new ApiError(400, "IncompleteSignature", `The request signature does not conform to Aliyun standards. (${why})`);
    if (!auth) throw incomplete("missing or malformed Authorization header");
    if (auth.algorithm !== ALGORITHM) throw incomplete(`unsupported algorithm ${auth.algorithm}`);
    for (const h of REQUIRED_SIGNED_HEADERS) {
      if (req.headers[h] === undefined) throw incomplete(`missing header ${h}`);
      if (!auth.signedHeaders.includes(h)) throw incomplete(`header ${h} is not signed`);
    }
    for (const h of Object.keys(req.headers)) {
      if (h.startsWith("x-acs-") && !auth.signedHeaders.includes(h)) throw incomplete(`header ${h} is not signed`);
    }
    if (auth.credential !== accessKeyId) {
      throw new ApiError(404, "InvalidAccessKeyId.NotFound", "Specified access key is not found.");
    }
    const date = String(req.headers["x-acs-date"]);
    if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/.test(date) || Number.isNaN(Date.parse(date))) {
      throw new ApiError(400, "InvalidTimeStamp.Format", "Specified time stamp or date value is not well formatted.");
    }
    if (Math.abs(Date.parse(date) - now().getTime()) > maxSkewMs) {
      throw new ApiError(400, "InvalidTimeStamp.Expired", "Specified time stamp or date value is expired.");
    }
    const payloadHash = sha256Hex(body);
    const canonical = canonicalRequest({
      method: req.method ?? "GET",
      path: rawPath,
      query,
      headers: req.headers,
      signedHeaders: auth.signedHeaders,
      hashedPayload: String(req.headers["x-acs-content-sha256"]),
    });
    const toSign = stringToSign(canonical);
    if (!safeEqualHex(sign(accessKeySecret, toSign), auth.signature)) {
      throw new ApiError(
        400,
        "SignatureDoesNotMatch",
        `Specified signature does not match our calculation. server string to sign is:${toSign}`,
      );
    }
    if (String(req.headers["x-acs-content-sha256"]).toLowerCase() !== payloadHash) {
      throw new ApiError(400, "SignatureDoesNotMatch", "The x-acs-content-sha256 header does not match the request body.");
    }
    const nonce = String(req.headers["x-acs-signature-nonce"]);
    if (state.nonces.has(nonce)) {
      throw new ApiError(400, "SignatureNonceUsed", "Specified signature nonce was used already.");
    }
    state.nonces.add(nonce);
  }

  function parseParams(req: http.IncomingMessage, query: Array<[string, string]>, body: Buffer): Params {
    const map = new Map<string, string>(query);
    if (body.length > 0) {
      const type = String(req.headers["content-type"] ?? "").toLowerCase();
      if (type.startsWith("application/json")) {
        let parsed: unknown;
        try {
          parsed = JSON.parse(body.toString("utf8"));
        } catch {
          throw new ApiError(400, "InvalidParameter", "The request body is not valid JSON.");
        }
        flattenJson(parsed, "", map);
      } else if (type.startsWith("application/x-www-form-urlencoded")) {
        for (const [k, v] of new URLSearchParams(body.toString("utf8"))) map.set(k, v);
      }
    }
    return new Params(map);
  }

  function send(res: http.ServerResponse, status: number, body: Record<string, unknown>): void {
    const text = JSON.stringify(body);
    res.writeHead(status, {
      "content-type": "application/json;charset=utf-8",
      "content-length": Buffer.byteLength(text),
      "x-acs-request-id": String(body.RequestId ?? ""),
    });
    res.end(text);
  }

  async function handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const body = Buffer.concat(chunks);
    const rid = requestId();
    const host = String(req.headers.host ?? "");
    const url = req.url ?? "/";
    const q = url.indexOf("?");
    const rawPath = q < 0 ? url : url.slice(0, q);
    const action = String(req.headers["x-acs-action"] ?? "");
    const version = String(req.headers["x-acs-version"] ?? "");
    let params: Params | undefined;
    try {
      if (req.method !== "POST" && req.method !== "GET") {
        throw new ApiError(405, "UnsupportedHTTPMethod", `The HTTP method ${req.method} is not supported.`);
      }
      let query: Array<[string, string]>;
      try {
        query = decodeQuery(q < 0 ? "" : url.slice(q + 1));
      } catch {
        throw new ApiError(400, "IncompleteSignature", "The request query string is not correctly percent-encoded.");
      }
      authenticate(req, rawPath, query, body);
      const spec = actions[action];
      if (!spec || spec.version !== version) {
        throw new ApiError(404, "InvalidAction.NotFound", "Specified api is not found, please check your url and method.");
      }
      params = parseParams(req, query, body);
      const queued = faults.get(action);
      if (queued && queued.length > 0) {
        const f = queued[0];
        f.times = (f.times ?? 1) - 1;
        if (f.times <= 0) queued.shift();
        throw new ApiError(f.status, f.code, f.message);
      }
      const token = params.str("ClientToken");
      const dry = params.str("DryRun");
      const cacheKey = spec.idempotent && token && !/^true$/i.test(dry ?? "") ? `${action}\u0000${token}` : undefined;
      const cached = cacheKey ? state.idempotency.get(cacheKey) : undefined;
      const result = cached ?? spec.handler(params, { host });
      if (cacheKey && !cached) state.idempotency.set(cacheKey, result);
      state.requests.push({ action, version, method: req.method!, params: params.toObject(), status: 200 });
      send(res, 200, { RequestId: rid, ...result });
    } catch (e) {
      const err =
        e instanceof ApiError
          ? e
          : new ApiError(500, "InternalError", `The request processing has failed due to some unknown error. (${String(e)})`);
      state.requests.push({
        action,
        version,
        method: req.method ?? "",
        params: params?.toObject() ?? {},
        status: err.status,
        code: err.code,
      });
      send(res, err.status, {
        RequestId: rid,
        HostId: host,
        Code: err.code,
        Message: err.message,
        Recommend: `contract-server://${action || "unknown"}/${err.code}`,
      });
    }
  }

  const server = http.createServer((req, res) => {
    handle(req, res).catch((e) => {
      res.writeHead(500);
      res.end(String(e));
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve());
  });
  const port = (server.address() as AddressInfo).port;

  return {
    endpoint: `127.0.0.1:${port}`,
    accessKeyId,
    accessKeySecret,
    state,
    injectFault(action, fault) {
      const list = faults.get(action) ?? [];
      list.push({ ...fault });
      faults.set(action, list);
    },
    stop: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((err) => (err ? reject(err) : resolve()));
      }),
  };
}

/** Last address helper re-exported for tests that reason about ranges. */
export { lastAddress, parseCidr, formatCidr };
