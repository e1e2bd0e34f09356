/**
 * A test-side EC2 endpoint in front of the emulators: the AWS backend (and a
 * Pulumi program using it) talks to one URL, and this process
 *
 *   - routes Elastic IP actions to moto (it grants the requested Address;
 *     fakecloud ignores it) and everything else to fakecloud;
 *   - fills the gaps of fakecloud's EC2 IPAM that the backend's behaviour
 *     depends on, each one listed in docs/emulators-aws.md ("filled by the
 *     shim"): ClientToken idempotency, DryRun, the pool attributes fakecloud
 *     drops (locale, source pool and depth, netmask rules, required tags),
 *     IpamPoolId filtering and InvalidIpamPoolId.NotFound, allocation
 *     descriptions, PreviewNextCidr without allocating, a nested pool's CIDRs
 *     held as allocations in its source, an Elastic IP from a pool held as a
 *     /32 allocation in it, InvalidIpamPoolAllocationId.NotFound for an
 *     unknown allocation;
 *   - records every request and injects faults for the tests
 *     (`GET /_shim/requests`, `POST /_shim/faults`, `POST /_shim/clear`).
 *
 * It never changes what the emulators do otherwise: no overlap checks, no
 * netmask-rule enforcement. Run as its own process (tests drive the Pulumi CLI
 * with spawnSync, which would starve an in-process server):
 *
 *   SHIM_PORT=<port> SHIM_IPAM_URL=<fakecloud> SHIM_EIP_URL=<moto> node -r ts-node/register/transpile-only ec2-shim.ts
 */
import * as http from "node:http";
import { Ipam } from "../../../provider/core/ipam";
import { MemoryStore } from "../../../provider/stores/memory";

type Params = Record<string, string>;
interface Reply { status: number; body: string }
interface Pool {
  family: string; locale?: string; source?: string; depth: number; min?: number; max?: number; dflt?: number;
  resourceTags: [string, string][];
  /** Provisioned CIDR -> the allocation holding it in the source pool (nested pools). */
  carved: Map<string, string>;
}
interface Alloc { pool: string; description?: string; resourceType?: string; resourceId?: string }
interface Fault { action: string; times: number; code?: string; status?: number; message?: string; replace?: [string, string] }

const IPAM_URL = process.env.SHIM_IPAM_URL!;
const EIP_URL = process.env.SHIM_EIP_URL!;
const EIP_ACTIONS = new Set(["AllocateAddress", "DescribeAddresses", "ReleaseAddress", "AssociateAddress", "DisassociateAddress"]);
const TOKEN_ACTIONS = new Set(["CreateIpamPool", "AllocateIpamPoolCidr", "ProvisionIpamPoolCidr"]);
const POOL_ACTIONS = new Set([
  "AllocateIpamPoolCidr", "ProvisionIpamPoolCidr", "DeprovisionIpamPoolCidr", "GetIpamPoolCidrs", "GetIpamPoolAllocations",
  "ReleaseIpamPoolAllocation", "DeleteIpamPool", "ModifyIpamPool",
]);

const pools = new Map<string, Pool>();
const allocs = new Map<string, Alloc>();
const eipHolds = new Map<string, { pool: string; alloc: string; cidr: string }>();
const tokens = new Map<string, { fingerprint: string; reply: Reply }>();
const requests: { action: string; params: Params }[] = [];
let faults: Fault[] = [];

const esc = (s: string) => s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
const el = (name: string, v: string | number | undefined) => (v === undefined ? "" : `<${name}>${esc(String(v))}</${name}>`);
const error = (code: string, message: string, status = 400): Reply => ({
  status,
  body: `<?xml version="1.0" encoding="UTF-8"?><Response><Errors><Error><Code>${esc(code)}</Code><Message>${esc(message)}</Message></Error></Errors><RequestID>shim</RequestID></Response>`,
});
const list = (p: Params, prefix: string) => Object.keys(p).filter((k) => new RegExp(`^${prefix}\\.\\d+$`).test(k)).sort().map((k) => p[k]);
const tagList = (p: Params, prefix: string): [string, string][] => {
  const out: [string, string][] = [];
  for (let i = 1; p[`${prefix}.${i}.Key`] !== undefined; i++) out.push([p[`${prefix}.${i}.Key`], p[`${prefix}.${i}.Value`] ?? ""]);
  return out;
};
const num = (v: string | undefined) => (v === undefined || v === "" ? undefined : Number(v));

async function forward(url: string, params: Params, headers: http.IncomingHttpHeaders): Promise<Reply> {
  const h: Record<string, string> = {};
  for (const k of ["authorization", "x-amz-date", "x-amz-security-token", "content-type", "user-agent"]) if (typeof headers[k] === "string") h[k] = headers[k] as string;
  const res = await fetch(url + "/", { method: "POST", headers: h, body: new URLSearchParams(params).toString() });
  return { status: res.status, body: await res.text() };
}

const ok = (r: Reply) => r.status >= 200 && r.status < 300;
const pick = (xml: string, tag: string) => new RegExp(`<${tag}>([^<]*)</${tag}>`).exec(xml)?.[1];
const pickAll = (xml: string, tag: string) => [...xml.matchAll(new RegExp(`<${tag}>([^<]*)</${tag}>`, "g"))].map((m) => m[1]);

/** `xml` with only the top-level <item>s of <set> that `keep` accepts (items nest: tag sets are items too). */
function keepItems(xml: string, set: string, keep: (item: string) => boolean): string {
  const open = xml.indexOf(`<${set}>`);
  if (open < 0) return xml;
  const start = open + set.length + 2;
  const end = xml.indexOf(`</${set}>`, start);
  const items: string[] = [];
  let depth = 0;
  let from = start;
  for (const m of xml.slice(start, end).matchAll(/<(\/?)item>/g)) {
    if (!m[1] && depth++ === 0) from = start + m.index!;
    if (m[1] && --depth === 0) items.push(xml.slice(from, start + m.index! + "</item>".length));
  }
  return xml.slice(0, start) + items.filter(keep).join("") + xml.slice(end);
}

/** The attributes fakecloud leaves out of a pool, put back after its id; its constant poolDepth replaced. */
function decoratePools(xml: string): string {
  return xml.replace(/<ipamPoolId>(ipam-pool-[0-9a-z]+)<\/ipamPoolId>([\s\S]*?)<poolDepth>1<\/poolDepth>/g, (m, id: string, between: string) => {
    const p = pools.get(id);
    if (!p) return m;
    const tags = p.resourceTags.length ? `<allocationResourceTagSet>${p.resourceTags.map(([k, v]) => `<item>${el("key", k)}${el("value", v)}</item>`).join("")}</allocationResourceTagSet>` : "";
    return `<ipamPoolId>${id}</ipamPoolId>${el("sourceIpamPoolId", p.source)}${el("locale", p.locale)}${el("allocationMinNetmaskLength", p.min)}` +
      `${el("allocationMaxNetmaskLength", p.max)}${el("allocationDefaultNetmaskLength", p.dflt)}${tags}${between}<poolDepth>${p.depth}</poolDepth>`;
  });
}

/** Descriptions and resource types fakecloud does not return for allocations (it says custom for every one). */
function decorateAllocations(xml: string): string {
  return xml.replace(/<ipamPoolAllocationId>([^<]+)<\/ipamPoolAllocationId><resourceType>custom<\/resourceType>/g, (m, id: string) => {
    const a = allocs.get(id);
    if (!a) return m;
    return `<ipamPoolAllocationId>${id}</ipamPoolAllocationId>${el("description", a.description)}${el("resourceId", a.resourceId)}<resourceType>${a.resourceType ?? "custom"}</resourceType>`;
  });
}

/** The next free block as EC2 would offer it, computed on scratch space (fakecloud has no allocator). */
async function nextCidr(poolId: string, headers: http.IncomingHttpHeaders, want: { netmaskLength?: number; cidr?: string; allowed?: string[]; disallowed?: string[] }): Promise<string> {
  const p = pools.get(poolId)!;
  const provisioned = pickAll((await forward(IPAM_URL, { Action: "GetIpamPoolCidrs", Version: "2016-11-15", IpamPoolId: poolId }, headers)).body, "cidr");
  const used = pickAll((await forward(IPAM_URL, { Action: "GetIpamPoolAllocations", Version: "2016-11-15", IpamPoolId: poolId }, headers)).body, "cidr");
  const scratch = new Ipam(new MemoryStore());
  const s = await scratch.createPool({ addressFamily: p.family, cidrs: provisioned });
  for (const cidr of used) await scratch.allocate({ ipamPoolId: s.ipamPoolId, cidr }).catch(() => undefined);
  return scratch.previewNextCidr({
    ipamPoolId: s.ipamPoolId, cidr: want.cidr, netmaskLength: want.netmaskLength ?? (want.cidr ? undefined : p.dflt),
    allowedCidrs: want.allowed?.length ? want.allowed : undefined, disallowedCidrs: want.disallowed?.length ? want.disallowed : undefined,
  });
}

async function handle(params: Params, headers: http.IncomingHttpHeaders): Promise<Reply> {
  const action = params.Action;
  requests.push({ action, params });
  const f = faults.find((x) => x.action === action && x.times > 0 && x.code);
  if (f) {
    f.times--;
    return error(f.code!, f.message ?? `injected by the test (${f.code})`, f.status ?? 400);
  }
  if (EIP_ACTIONS.has(action) || ((action === "CreateTags" || action === "DeleteTags") && params["ResourceId.1"]?.startsWith("eipalloc-"))) {
    return eip(action, params, headers);
  }
  if (params.DryRun === "true") return error("DryRunOperation", "Request would have succeeded, but DryRun flag is set.", 412);
  const poolId = params.IpamPoolId;
  if (POOL_ACTIONS.has(action) && poolId && !pools.has(poolId)) return error("InvalidIpamPoolId.NotFound", `The pool ID '${poolId}' does not exist`);
  if (TOKEN_ACTIONS.has(action) && params.ClientToken && params.PreviewNextCidr !== "true") {
    const { ClientToken: token, DryRun: _d, Version: _v, ...rest } = params;
    const fingerprint = JSON.stringify(Object.entries(rest).sort());
    const seen = tokens.get(`${action}:${token}`);
    if (seen) return seen.fingerprint === fingerprint ? seen.reply : error("IdempotentParameterMismatch", `client token ${token} was used with other parameters`);
    const reply = await ipam(action, params, headers);
    if (ok(reply)) tokens.set(`${action}:${token}`, { fingerprint, reply });
    return reply;
  }
  return ipam(action, params, headers);
}

async function ipam(action: string, params: Params, headers: http.IncomingHttpHeaders): Promise<Reply> {
  const poolId = params.IpamPoolId;
  switch (action) {
    case "CreateIpamPool": {
      const source = params.SourceIpamPoolId;
      if (source && !pools.has(source)) return error("InvalidIpamPoolId.NotFound", `The pool ID '${source}' does not exist`);
      const r = await forward(IPAM_URL, params, headers);
      const id = pick(r.body, "ipamPoolId");
      if (ok(r) && id) {
        pools.set(id, {
          family: params.AddressFamily, locale: params.Locale || undefined, source, depth: source ? pools.get(source)!.depth + 1 : 1,
          min: num(params.AllocationMinNetmaskLength), max: num(params.AllocationMaxNetmaskLength), dflt: num(params.AllocationDefaultNetmaskLength),
          resourceTags: tagList(params, "AllocationResourceTag"), carved: new Map(),
        });
      }
      return { ...r, body: decoratePools(r.body) };
    }
    case "ModifyIpamPool": {
      const p = pools.get(poolId)!;
      if (params.AllocationMinNetmaskLength) p.min = num(params.AllocationMinNetmaskLength);
      if (params.AllocationMaxNetmaskLength) p.max = num(params.AllocationMaxNetmaskLength);
      if (params.AllocationDefaultNetmaskLength) p.dflt = num(params.AllocationDefaultNetmaskLength);
      if (params.ClearAllocationDefaultNetmaskLength === "true") p.dflt = undefined;
      const removed = tagList(params, "RemoveAllocationResourceTag").map(([k]) => k);
      p.resourceTags = [...p.resourceTags.filter(([k]) => !removed.includes(k)), ...tagList(params, "AddAllocationResourceTag")];
      const r = await forward(IPAM_URL, params, headers);
      return { ...r, body: decoratePools(r.body) };
    }
    case "DescribeIpamPools": {
      const wanted = list(params, "IpamPoolId");
      const missing = wanted.find((id) => !pools.has(id));
      if (missing) return error("InvalidIpamPoolId.NotFound", `The pool ID '${missing}' does not exist`);
      const r = await forward(IPAM_URL, params, headers);
      // fakecloud lists every pool whatever IpamPoolId.N says.
      const body = wanted.length ? keepItems(r.body, "ipamPoolSet", (item) => wanted.includes(pick(item, "ipamPoolId") ?? "")) : r.body;
      return { ...r, body: decoratePools(body) };
    }
    case "DeleteIpamPool": {
      const p = pools.get(poolId)!;
      const r = await forward(IPAM_URL, params, headers);
      if (ok(r)) {
        for (const alloc of p.carved.values()) await release(p.source!, alloc, headers);
        pools.delete(poolId);
      }
      return { ...r, body: decoratePools(r.body) };
    }
    case "ProvisionIpamPoolCidr": {
      const p = pools.get(poolId)!;
      if (!p.source) return forward(IPAM_URL, params, headers);
      // A nested pool's CIDR is an allocation in its source pool.
      const cidr = params.Cidr || (await nextCidr(p.source, headers, { netmaskLength: num(params.NetmaskLength) }));
      const a = await forward(IPAM_URL, { Action: "AllocateIpamPoolCidr", Version: "2016-11-15", IpamPoolId: p.source, Cidr: cidr }, headers);
      if (!ok(a)) return a;
      const allocId = pick(a.body, "ipamPoolAllocationId")!;
      allocs.set(allocId, { pool: p.source, resourceType: "ipam-pool", resourceId: poolId });
      p.carved.set(cidr, allocId);
      const { NetmaskLength: _n, ...rest } = params;
      return forward(IPAM_URL, { ...rest, Cidr: cidr }, headers);
    }
    case "DeprovisionIpamPoolCidr": {
      const p = pools.get(poolId)!;
      const r = await forward(IPAM_URL, params, headers);
      const held = p.carved.get(params.Cidr);
      if (ok(r) && held) {
        await release(p.source!, held, headers);
        p.carved.delete(params.Cidr);
      }
      return r;
    }
    case "AllocateIpamPoolCidr": {
      const preview = params.PreviewNextCidr === "true";
      const cidr = params.Cidr && !preview
        ? params.Cidr
        : await nextCidr(poolId, headers, { cidr: params.Cidr, netmaskLength: num(params.NetmaskLength), allowed: list(params, "AllowedCidr"), disallowed: list(params, "DisallowedCidr") })
          .catch((e: { code?: string; message: string }) => e);
      if (typeof cidr !== "string") return error(cidr.code ?? "InvalidParameterValue", cidr.message);
      // fakecloud allocates even for a preview.
      if (preview) return { status: 200, body: `<AllocateIpamPoolCidrResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/"><requestId>shim</requestId><ipamPoolAllocation>${el("cidr", cidr)}</ipamPoolAllocation></AllocateIpamPoolCidrResponse>` };
      const r = await forward(IPAM_URL, { ...params, Cidr: cidr }, headers);
      const id = pick(r.body, "ipamPoolAllocationId");
      if (ok(r) && id) allocs.set(id, { pool: poolId, description: params.Description || undefined });
      return { ...r, body: decorateAllocations(r.body) };
    }
    case "GetIpamPoolAllocations": {
      const one = params.IpamPoolAllocationId;
      if (one && allocs.get(one)?.pool !== poolId) return error("InvalidIpamPoolAllocationId.NotFound", `The allocation ID '${one}' does not exist`);
      const r = await forward(IPAM_URL, params, headers);
      // fakecloud lists every allocation of the pool whatever IpamPoolAllocationId says.
      const body = one ? keepItems(r.body, "ipamPoolAllocationSet", (item) => pick(item, "ipamPoolAllocationId") === one) : r.body;
      return { ...r, body: decorateAllocations(body) };
    }
    case "ReleaseIpamPoolAllocation": {
      const id = params.IpamPoolAllocationId;
      if (allocs.get(id)?.pool !== poolId) return error("InvalidIpamPoolAllocationId.NotFound", `The allocation ID '${id}' does not exist`);
      const r = await forward(IPAM_URL, params, headers);
      if (ok(r)) allocs.delete(params.IpamPoolAllocationId);
      return r;
    }
    default:
      return forward(IPAM_URL, params, headers);
  }
}

async function release(pool: string, alloc: string, headers: http.IncomingHttpHeaders): Promise<void> {
  await forward(IPAM_URL, { Action: "ReleaseIpamPoolAllocation", Version: "2016-11-15", IpamPoolId: pool, IpamPoolAllocationId: alloc, Cidr: "0.0.0.0/0" }, headers);
  allocs.delete(alloc);
}

/** Elastic IPs on moto; one from an IPAM pool is also held as a /32 allocation in it, as EC2 does. */
async function eip(action: string, params: Params, headers: http.IncomingHttpHeaders): Promise<Reply> {
  const pool = action === "AllocateAddress" ? params.IpamPoolId : undefined;
  if (pool && !pools.has(pool)) return error("InvalidIpamPoolId.NotFound", `The pool ID '${pool}' does not exist`);
  const r = await forward(EIP_URL, params, headers);
  if (!ok(r) || params.DryRun === "true") return r;
  if (pool) {
    const ip = pick(r.body, "publicIp")!;
    const allocationId = pick(r.body, "allocationId")!;
    const a = await forward(IPAM_URL, { Action: "AllocateIpamPoolCidr", Version: "2016-11-15", IpamPoolId: pool, Cidr: `${ip}/32` }, headers);
    const allocId = pick(a.body, "ipamPoolAllocationId")!;
    allocs.set(allocId, { pool, resourceType: "eip", resourceId: allocationId });
    eipHolds.set(allocationId, { pool, alloc: allocId, cidr: `${ip}/32` });
  }
  if (action === "ReleaseAddress") {
    const held = eipHolds.get(params.AllocationId);
    if (held) {
      await release(held.pool, held.alloc, headers);
      eipHolds.delete(params.AllocationId);
    }
  }
  return r;
}

/** Test control: replace text (a state) in the next successful responses that contain it. */
function applyRewrites(action: string, r: Reply): Reply {
  let body = r.body;
  for (const f of faults) {
    if (f.action === action && f.replace && f.times > 0 && ok(r) && body.includes(f.replace[0])) {
      f.times--;
      body = body.split(f.replace[0]).join(f.replace[1]);
    }
  }
  return { ...r, body };
}

const server = http.createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on("data", (c: Buffer) => chunks.push(c));
  req.on("end", async () => {
    const text = Buffer.concat(chunks).toString();
    const send = (status: number, body: string, type = "text/xml") => {
      res.writeHead(status, { "content-type": type });
      res.end(body);
    };
    try {
      if (req.url?.startsWith("/_shim/")) {
        if (req.url === "/_shim/health") return send(200, "ok", "text/plain");
        if (req.url === "/_shim/requests") return send(200, JSON.stringify(requests), "application/json");
        if (req.url === "/_shim/clear") { requests.length = 0; faults = []; return send(200, "{}", "application/json"); }
        if (req.url === "/_shim/faults") { faults.push(...(JSON.parse(text) as Fault[])); return send(200, "{}", "application/json"); }
        return send(404, "no such control", "text/plain");
      }
      const params = Object.fromEntries(new URLSearchParams(text));
      const r = applyRewrites(params.Action, await handle(params, req.headers));
      send(r.status, r.body);
    } catch (e) {
      send(500, error("InternalError", `ec2-shim: ${(e as Error).stack ?? e}`, 500).body);
    }
  });
});
server.listen(Number(process.env.SHIM_PORT), "127.0.0.1");
