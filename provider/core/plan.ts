/**
 * Plan reservations: how `pulumi preview` can show the CIDR each resource
 * will get and `pulumi up` (a different process, resources in any order)
 * allocates exactly that.
 *
 * Each resource has a key that is the same in every run (project, stack,
 * type, name). Planning a resource computes its CIDR as the allocator would,
 * skipping what other resources' live reservations promise, and records
 * {key -> CIDR, request, nonce} in the store with an expiry. Planning it
 * again with the same request returns the recorded CIDR while that CIDR is
 * still available, whatever order resources come in. Reservations are soft:
 * they steer plans and never block a real allocation, so an abandoned one is
 * harmless and stops steering when it expires. Committing a resource
 * allocates the planned CIDR with a ClientToken made from key and nonce and
 * marks the reservation held (no expiry) in the same transaction; the held
 * reservation is the memory that lets a re-run after a crash send the same
 * token and get the same allocation back. Deleting the resource forgets it.
 */
import { createHash, randomBytes } from "node:crypto";
import { AddressFamily, familyOf, overlaps, parseCidr } from "./cidr";
import { IpamError } from "./errors";
import {
  ADOPT, ALLOCATE, ALLOCATE_ADDRESS, checkNonce, checkPlanKey, CREATE_POOL, PLAN, PLAN_ADDRESS, PLAN_OPTIONS, readInput, Shape,
} from "./inputs";
import { CARVE_OUT, Ipam, MAX_POOL_DEPTH } from "./ipam";
import type { ReservationHold, ReservationRecord } from "./model";
import { quote } from "./quote";
import { ReservedIndex, TxIndex } from "./reserved";
import { fingerprint, mismatchError, requestFingerprint } from "./rules";
import { checkScopeFree, checkScopeId, DEFAULT_SCOPE_ID, inheritScope, ScopeHolder, scopeOf, topLevelCidrs } from "./scopes";
import type { Store, StoreTx } from "./store";
import type { AddressInfo, AllocateInput, AllocationInfo, CreatePoolInput, PoolInfo } from "./types";

export interface PlanOptions {
  /** Epoch ms; injected so tests can move time. */
  now?: number;
  /** How long a planned (not yet created) reservation steers other plans. @default 24 h */
  ttlMs?: number;
  /** Pools: the existing pool this plan replaces (deleted before the new one is created); its CIDRs are not a conflict in the scope. */
  replaces?: string;
}

export interface Plan {
  /** The planned CIDRs (one for an allocation; a pool's provisioned CIDRs; an address as /32). */
  cidrs: string[];
  nonce: string;
  clientToken: string;
  /** Allocation/address: the pool it comes from. Pool: its own (planned) id. */
  ipamPoolId: string;
  poolDepth?: number;
  /** Set when an earlier plan for this resource could not be kept: what was planned before. */
  previouslyPlanned?: string[];
}

export const DEFAULT_PLAN_TTL_MS = 24 * 3600 * 1000;

/**
 * Pools that live in a cloud API rather than in the store: planning mirrors
 * one into scratch space from its definition and the CIDRs already used in it.
 */
export interface RemotePools {
  describe(ipamPoolId: string): Promise<{ info: PoolInfo; used: string[] } | undefined>;
}

const sha = (s: string) => createHash("sha256").update(s).digest("hex");
export const tokenFor = (key: string, nonce: string) => `pulumi-ipam-${sha(`${key}\n${nonce}`).slice(0, 48)}`;
const plannedPoolId = (key: string, nonce: string) => `ipam-pool-${sha(`pool\n${key}\n${nonce}`).slice(0, 17)}`;
/**
 * The id a pool has in scratch space: our allocator takes only its own id format (ipam-pool- and 17 hex
 * digits), so a cloud's id of another format (Alibaba's are alphanumeric) stands in under a stable one.
 */
const scratchId = (id: string) => (/^ipam-pool-[0-9a-f]{17}$/.test(id) ? id : plannedPoolId("remote", id));

/** A request fingerprint with a pool id (ipamPoolId, sourceIpamPoolId) replaced: the fingerprint the same request has once the pool exists under its real id. */
function renamePool(fp: string, from: string, to: string): string {
  try {
    const req = JSON.parse(fp) as Record<string, unknown>;
    if (!req || typeof req !== "object" || Array.isArray(req)) return fp;
    for (const k of ["ipamPoolId", "sourceIpamPoolId"]) if (req[k] === from) req[k] = to;
    return fingerprint(req);
  } catch {
    return fp;
  }
}

type Kind = ReservationRecord["kind"];
type AddressRequest = { ipamPoolId: string; address?: string; tags?: Record<string, string> };

/** What a commit sends for a plan: the planned CIDR(s) in place of what chose them, and the plan's token. */
const committedAllocation = (req: AllocateInput, cidrs: string[], clientToken?: string): AllocateInput => ({
  ...stripToken(req), cidr: cidrs[0], netmaskLength: undefined, allowedCidrs: undefined, disallowedCidrs: undefined,
  excludedCidrs: undefined, clientToken,
});
const committedAddress = (req: AddressRequest, cidrs: string[], clientToken?: string) => ({
  ipamPoolId: req.ipamPoolId, address: cidrs[0].split("/")[0], tags: req.tags, clientToken,
});
const committedPool = (spec: CreatePoolInput, cidrs: string[], ipamPoolId: string, clientToken?: string): CreatePoolInput => ({
  ...stripToken(spec), cidrs, netmaskLength: undefined, ipamPoolId, clientToken,
});

/** The fingerprint the operation computes for a ClientToken, from the input as its boundary reads it. */
const fingerprintAs = <T extends object>(what: string, shape: Shape<T>) => (input: T) => requestFingerprint(readInput(input, what, shape));
const allocationFingerprint = fingerprintAs("allocate", ALLOCATE);
const addressFingerprint = fingerprintAs("allocateAddress", ALLOCATE_ADDRESS);
const poolFingerprint = fingerprintAs("createPool", CREATE_POOL);

/** A field the planner fills in itself (a pool's planned id, the space of other plans): not the caller's to give. */
function plannerOwn(input: object, field: string): void {
  if ((input as Record<string, unknown>)[field] !== undefined) {
    throw new IpamError("InvalidParameterValue", `${field} is chosen by the planner; leave it out of the request.`);
  }
}

/** Plan options as given, checked: a NaN or negative ttlMs would store no expiry. */
function planOptions(opts: unknown): PlanOptions {
  return readInput(opts ?? {}, "plan options", PLAN_OPTIONS);
}

export class Planner {
  private readonly virtual = new Map<string, { shape: string; ipam: Ipam; applied: Map<string, string> }>();
  /** Where other live plans are: each plan reads the segments from its candidate on, not every sibling. */
  private readonly reserved = new ReservedIndex();

  /**
   * `defaultScopeId`: the scope of top-level pools planned without ipamScopeId. On a cloud backend, the
   * ipam:scopeId its pools go in, so that plans naming that scope and plans naming none are checked together.
   */
  constructor(
    readonly ipam: Ipam, private readonly scratch: () => Store, private readonly remote?: RemotePools,
    private readonly defaultScopeId: string = DEFAULT_SCOPE_ID,
  ) {}

  private get store(): Store { return this.ipam.store; }

  // ---- allocations ----

  /**
   * Plans an allocation: what allocate() would give, skipping other live plans. Rejects
   * what allocate() would reject, with its code, the user's ClientToken included.
   */
  async planAllocation(key: string, req: AllocateInput, opts: PlanOptions = {}): Promise<Plan> {
    key = checkPlanKey(key);
    req = readInput(req, "allocate", ALLOCATE);
    plannerOwn(req, "excludedCidrs");
    const committed = (cidrs: string[]) => allocationFingerprint(committedAllocation(req, cidrs));
    return this.plan(key, "allocation", req.ipamPoolId, stripToken(req), req.clientToken, planOptions(opts), committed, async (tx, view, ix) => {
      const space = req.ipamPoolId;
      // A given cidr is checked against the pool, not against other plans (whoever commits first gets it); in a
      // pool not yet created it must still not overlap them, as its scratch copy holds them.
      if (view.real && req.cidr) return [await this.ipam.previewNextCidr(stripToken(req), tx)];
      if (view.real) return [await ix.avoid(space, (skip) => this.ipam.previewNextCidr({ ...stripToken(req), excludedCidrs: skip }, tx))];
      const { ipam, id } = await this.virtualPool(view.planned!, [...(view.used ?? []), ...(req.cidr ? await ix.overlapping(space, req.cidr) : [])]);
      return [await ix.avoid(space, (skip) => ipam.previewNextCidr({ ...stripToken(req), ipamPoolId: id, excludedCidrs: req.cidr ? undefined : skip }))];
    }, async (tx, view, cidrs) => {
      if (view.real) await this.ipam.checkAllocation(committedAllocation(req, cidrs), tx);
    });
  }

  async commitAllocation(key: string, req: AllocateInput, plan: Plan): Promise<AllocationInfo> {
    key = checkPlanKey(key);
    req = readInput(req, "allocate", ALLOCATE);
    plan = readInput(plan, "plan", PLAN);
    return this.commit(key, plan, (tx) => this.ipam.allocate(committedAllocation(req, plan.cidrs, plan.clientToken), tx));
  }

  // ---- Elastic IPs ----

  async planAddress(key: string, req: AddressRequest & { clientToken?: string }, opts: PlanOptions = {}): Promise<Plan> {
    key = checkPlanKey(key);
    req = readInput(req, "allocateAddress", PLAN_ADDRESS);
    const { clientToken, ...request } = req;
    const committed = (cidrs: string[]) => addressFingerprint(committedAddress(request, cidrs));
    return this.plan(key, "address", req.ipamPoolId, request, clientToken, planOptions(opts), committed, async (tx, view, ix) => {
      const space = req.ipamPoolId;
      const given = req.address ? `${req.address}/32` : undefined;
      if (view.real && given) return [`${await this.ipam.previewNextAddress({ ipamPoolId: space, address: req.address }, tx)}/32`];
      if (view.real) return [await ix.avoid(space, async (skip) => `${await this.ipam.previewNextAddress({ ipamPoolId: space, excludedCidrs: skip }, tx)}/32`)];
      const { ipam, id } = await this.virtualPool(view.planned!, [...(view.used ?? []), ...(given ? await ix.overlapping(space, given) : [])]);
      return [await ix.avoid(space, async (skip) => `${await ipam.previewNextAddress({ ipamPoolId: id, address: req.address, excludedCidrs: given ? undefined : skip })}/32`)];
    });
  }

  async commitAddress(key: string, req: AddressRequest, plan: Plan): Promise<AddressInfo> {
    key = checkPlanKey(key);
    req = readInput(req, "allocateAddress", PLAN_ADDRESS);
    plan = readInput(plan, "plan", PLAN);
    return this.commit(key, plan, (tx) => this.ipam.allocateAddress(committedAddress(req, plan.cidrs, plan.clientToken), tx));
  }

  // ---- pools ----

  /** Plans a pool: its id, and its CIDRs (for a nested pool, carved from the source, which may itself be planned). */
  async planPool(key: string, spec: CreatePoolInput, opts: PlanOptions = {}): Promise<Plan> {
    key = checkPlanKey(key);
    spec = readInput(spec, "createPool", CREATE_POOL);
    plannerOwn(spec, "ipamPoolId");
    opts = planOptions(opts);
    const request = stripToken(spec);
    const remote = spec.sourceIpamPoolId ? await this.describeRemote(spec.sourceIpamPoolId) : undefined;
    return this.withIndex(async (tx, ix) => {
      const now = opts.now ?? Date.now();
      const prior = await tx.getReservation(key);
      const fp = fingerprint(request);
      const reuse = prior && prior.kind === "pool" && prior.request === fp ? prior : undefined;
      const nonce = reuse?.nonce ?? newNonce();
      const id = reuse?.ipamPoolId ?? plannedPoolId(key, nonce);
      const clientToken = spec.clientToken || tokenFor(key, nonce);
      let cidrs: string[];
      let poolDepth = 1;
      let previouslyPlanned: string[] | undefined;
      const source = spec.sourceIpamPoolId;
      let kept = false;
      let scope: string | undefined;
      if (!source) {
        scope = checkScopeId(spec.ipamScopeId) ?? this.defaultScopeId;
        // As createPool does: one planner at a time checks a scope's top-level CIDRs.
        await tx.lockPools([scope]);
        cidrs = spec.cidrs ?? [];
      } else {
        await tx.lockPools([source]);
        const view = await this.view(tx, source, remote);
        scope = inheritScope(checkScopeId(spec.ipamScopeId), source, view.scope);
        poolDepth = view.depth + 1;
        if (poolDepth > MAX_POOL_DEPTH) {
          throw new IpamError("QuotaExceeded.IpamPoolQuotaDepth", `pools nest at most ${MAX_POOL_DEPTH} deep and ${source} is at depth ${view.depth}; take this pool's space from a shallower pool.`);
        }
        kept = !!reuse && (await this.stillAvailable(tx, view, source, reuse, `CreateIpamPool:${clientToken}`));
        if (kept) {
          cidrs = reuse!.cidrs;
          previouslyPlanned = reuse!.replaced;
        } else {
          if (reuse) previouslyPlanned = reuse.replaced ?? reuse.cidrs;
          // Its own earlier plan does not steer this one; expired plans no longer steer any.
          await ix.remove(prior);
          await ix.purge(source, now, key);
          const want: { cidr?: string; netmaskLength?: number }[] = spec.cidrs?.length ? spec.cidrs.map((cidr) => ({ cidr })) : [{ netmaskLength: spec.netmaskLength }];
          cidrs = [];
          for (const w of want) {
            // Carve as the source pool would for a nested pool (resource type ipam-pool: no tag rules).
            const req: AllocateInput = { ipamPoolId: source, ...w };
            const mine = [...cidrs];
            if (view.real && w.cidr) cidrs.push(await this.ipam.previewNextCidr(req, tx, CARVE_OUT));
            else if (view.real) cidrs.push(await ix.avoid(source, (skip) => this.ipam.previewNextCidr({ ...req, excludedCidrs: [...skip, ...mine] }, tx, CARVE_OUT)));
            else {
              const v = await this.virtualPool(view.planned!, [...mine, ...(view.used ?? []), ...(w.cidr ? await ix.overlapping(source, w.cidr) : [])]);
              cidrs.push(await ix.avoid(source, (skip) => v.ipam.previewNextCidr({ ...req, ipamPoolId: v.id, excludedCidrs: w.cidr ? undefined : skip }, undefined, CARVE_OUT)));
            }
          }
        }
      }
      // Validate the rest of the spec the way createPool will, on scratch space.
      const check = new Ipam(this.scratch());
      const info = await check.createPool({ ...request, sourceIpamPoolId: undefined, netmaskLength: undefined, cidrs, ipamPoolId: scratchId(id), ipamScopeId: undefined });
      const planned: PoolInfo = { ...info, ipamPoolId: id, sourceIpamPoolId: source, poolDepth, ipamScopeId: scope };
      if (!source) {
        // A top-level pool's CIDRs must be free in its scope: of created pools and of other resources' live plans.
        const family = info.addressFamily as AddressFamily;
        // Not a conflict: the pool of this very plan (created by a run that crashed before its checkpoint) and the one it replaces.
        const created = topLevelCidrs(await tx.listPools(), scope!, id, opts.replaces);
        const held = [...created, ...(await this.plannedInScope(tx, scope!, key, now))];
        for (const [i, c] of info.cidrs.entries()) checkScopeFree(family, parseCidr(family, c), scope!, held, `cidrs[${i}]`);
      }
      // A ClientToken used before with other parameters fails now, as createPool would at up; nothing written yet.
      if (spec.clientToken) await this.checkToken(tx, `CreateIpamPool:${spec.clientToken}`, poolFingerprint(committedPool(spec, cidrs, id)));
      const next: ReservationRecord = {
        // A top-level pool's plan holds space in its scope: the scope's id stands as its space.
        key, kind: "pool", nonce, ipamPoolId: id, spacePoolId: source ?? scope, cidrs, request: fp, pool: JSON.stringify(planned),
        ...(previouslyPlanned ? { replaced: previouslyPlanned } : {}),
        expiresAt: reuse?.expiresAt === 0 ? 0 : now + (opts.ttlMs ?? DEFAULT_PLAN_TTL_MS),
      };
      // Kept: the same CIDRs in the same space, indexed as they were. Otherwise the earlier plan (if still indexed) gives way.
      if (!kept && source === undefined) await ix.remove(prior);
      await tx.putReservation(next);
      if (!kept) await ix.add(next);
      return { cidrs, nonce, clientToken, ipamPoolId: id, poolDepth, previouslyPlanned };
    });
  }

  async commitPool(key: string, spec: CreatePoolInput, plan: Plan): Promise<PoolInfo> {
    key = checkPlanKey(key);
    spec = readInput(spec, "createPool", CREATE_POOL);
    plan = readInput(plan, "plan", PLAN);
    return this.commit(key, plan, (tx) => this.ipam.createPool(committedPool(spec, plan.cidrs, plan.ipamPoolId, plan.clientToken), tx));
  }

  /**
   * Commits through a cloud API: the reservation is marked committing before
   * the call (a re-run after a crash then trusts it and repeats the call with
   * the same token) and held after it. For a pool, `createdAs` gives the id
   * the API assigned, and every plan made against the planned id moves to it.
   */
  async commitRemote<T>(key: string, plan: Plan, run: () => Promise<T>, createdAs?: (out: T) => string): Promise<T> {
    key = checkPlanKey(key);
    plan = readInput(plan, "plan", PLAN);
    await this.store.transaction(async (tx) => {
      const r = await tx.getReservation(key);
      if (r && r.nonce === plan.nonce) await tx.putReservation({ ...r, committing: true });
    });
    const out = await run();
    await this.withIndex(async (tx, ix) => {
      const r = await tx.getReservation(key);
      if (!r || r.nonce !== plan.nonce) return;
      const { replaced: _done, committing: _c, ...held } = r;
      const realId = createdAs?.(out);
      // Held in the same space: indexed as it was. What was planned inside a new pool moves to its real id.
      await tx.putReservation({ ...held, ...(realId ? { ipamPoolId: realId } : {}), expiresAt: 0 });
      if (realId && realId !== r.ipamPoolId) {
        for (const o of await tx.listReservations(r.ipamPoolId)) {
          // The request it was planned for named the planned id; the same request now names the real one.
          const moved = {
            ...o, spacePoolId: realId, ipamPoolId: o.ipamPoolId === r.ipamPoolId ? realId : o.ipamPoolId, request: renamePool(o.request, r.ipamPoolId, realId),
          };
          await ix.remove(o);
          await tx.putReservation(moved);
          await ix.add(moved);
        }
      }
    });
    return out;
  }

  /** The resource is gone: its reservation no longer steers plans, and a new resource of the same name gets a new token. */
  async forget(key: string, nonce: string): Promise<void> {
    key = checkPlanKey(key);
    nonce = checkNonce(nonce);
    return this.withIndex(async (tx, ix) => {
      const r = await tx.getReservation(key);
      if (!r || r.nonce !== nonce) return;
      await ix.remove(r);
      await tx.deleteReservation(key);
    });
  }

  /** Records an imported resource as held, so that its key is known. */
  async adopt(r: Omit<ReservationRecord, "expiresAt" | "request"> & { request: unknown }): Promise<void> {
    r = readInput(r, "adopt", ADOPT);
    let request: string;
    try {
      request = fingerprint(r.request);
    } catch {
      throw new IpamError("InvalidParameterValue", "adopt: request must be JSON data (no cycles).");
    }
    return this.withIndex(async (tx, ix) => {
      await ix.remove(await tx.getReservation(r.key));
      await tx.putReservation({ ...r, request, expiresAt: 0 });
    });
  }

  // ---- internals ----

  /**
   * `committed` gives the fingerprint the commit's request will have for given planned CIDRs: a
   * user's ClientToken already used with other parameters fails here, as the operation would at up.
   */
  private async plan(
    key: string, kind: Kind, ipamPoolId: string, request: object, userToken: string | undefined, opts: PlanOptions,
    committed: (cidrs: string[]) => string, choose: (tx: StoreTx, view: View, ix: TxIndex) => Promise<string[]>,
    recheck?: (tx: StoreTx, view: View, cidrs: string[]) => Promise<void>,
  ): Promise<Plan> {
    const remote = await this.describeRemote(ipamPoolId);
    return this.withIndex(async (tx, ix) => {
      const now = opts.now ?? Date.now();
      await tx.lockPools([ipamPoolId]);
      const view = await this.view(tx, ipamPoolId, remote);
      const prior = await tx.getReservation(key);
      const fp = fingerprint(request);
      const reuse = prior && prior.kind === kind && prior.request === fp && prior.ipamPoolId === ipamPoolId ? prior : undefined;
      const nonce = reuse?.nonce ?? newNonce();
      const clientToken = userToken || tokenFor(key, nonce);
      const op = kind === "address" ? "AllocateAddress" : "AllocateIpamPoolCidr";
      if (reuse && (await this.stillAvailable(tx, view, ipamPoolId, reuse, `${op}:${clientToken}`))) {
        // Kept, but the commit would still be checked against the pool as it is now (its rules may have changed since).
        await recheck?.(tx, view, reuse.cidrs);
        if (userToken) await this.checkToken(tx, `${op}:${userToken}`, committed(reuse.cidrs));
        if (reuse.expiresAt !== 0) await tx.putReservation({ ...reuse, expiresAt: now + (opts.ttlMs ?? DEFAULT_PLAN_TTL_MS) });
        return { cidrs: reuse.cidrs, nonce, clientToken, ipamPoolId, previouslyPlanned: reuse.replaced };
      }
      // Its own earlier plan does not steer this one; expired plans no longer steer any.
      await ix.remove(prior);
      await ix.purge(ipamPoolId, now, key);
      const cidrs = await choose(tx, view, ix);
      if (userToken) await this.checkToken(tx, `${op}:${userToken}`, committed(cidrs));
      const replaced = reuse ? reuse.replaced ?? reuse.cidrs : undefined;
      const next: ReservationRecord = {
        key, kind, nonce, ipamPoolId, spacePoolId: ipamPoolId, cidrs, request: fp, expiresAt: now + (opts.ttlMs ?? DEFAULT_PLAN_TTL_MS),
        ...(replaced ? { replaced } : {}),
      };
      await tx.putReservation(next);
      await ix.add(next);
      return { cidrs, nonce, clientToken, ipamPoolId, previouslyPlanned: replaced };
    });
  }

  /** IdempotentParameterMismatch when the token's first use had another fingerprint. Reads only. */
  private async checkToken(tx: StoreTx, tokenKey: string, fp: string): Promise<void> {
    const t = await tx.getToken(tokenKey);
    if (t && t.fingerprint !== fp) throw mismatchError(tokenKey);
  }

  private commit<T>(key: string, plan: Plan, run: (tx: StoreTx) => Promise<T>): Promise<T> {
    return this.store.transaction(async (tx) => {
      const out = await run(tx);
      const r = await tx.getReservation(key);
      if (r && r.nonce === plan.nonce) {
        const { replaced: _done, ...held } = r;
        // Held: the same CIDRs in the same space, indexed as they were.
        await tx.putReservation({ ...held, expiresAt: 0 });
      }
      return out;
    });
  }

  /** A store transaction with the index of reserved blocks; a space it found built is remembered once it committed. */
  private async withIndex<T>(fn: (tx: StoreTx, ix: TxIndex) => Promise<T>): Promise<T> {
    let ix: TxIndex | undefined;
    const out = await this.store.transaction((tx) => fn(tx, (ix = this.reserved.in(tx))));
    ix?.settled();
    return out;
  }

  /**
   * The CIDRs other resources' plans of top-level pools hold in a scope: live ones; on a cloud backend also
   * held ones (pools created in the cloud, which the store does not hold).
   */
  private async plannedInScope(tx: StoreTx, scope: string, key: string, now: number): Promise<ScopeHolder[]> {
    const plans: ReservationHold[] = this.remote ? await tx.listReservations(scope) : await tx.listReservationHolds(scope);
    return plans
      .filter((r) => r.key !== key && (r.expiresAt > now || (!!this.remote && r.expiresAt === 0)))
      .flatMap((r) => r.cidrs.map((cidr) => ({ holder: `the plan of ${r.key}`, cidr })));
  }

  /** A pool as planning sees it: real (in the store) or planned (a reservation of a pool not yet created). */
  private async describeRemote(ipamPoolId: string): Promise<{ info: PoolInfo; used: string[] } | undefined> {
    return this.remote && typeof ipamPoolId === "string" ? this.remote.describe(ipamPoolId) : undefined;
  }

  private async view(tx: StoreTx, ipamPoolId: string, remote?: { info: PoolInfo; used: string[] }): Promise<View> {
    const real = await tx.getPool(ipamPoolId);
    if (real) return { real: true, depth: real.poolDepth, scope: scopeOf(real) };
    if (remote) {
      const planned: ReservationRecord = {
        key: `remote:${ipamPoolId}`, kind: "pool", nonce: "", ipamPoolId, cidrs: remote.info.cidrs, request: "",
        pool: JSON.stringify(remote.info), expiresAt: 0,
      };
      return { real: false, depth: remote.info.poolDepth, planned, used: remote.used, scope: remote.info.ipamScopeId };
    }
    const planned = await tx.getPoolReservation(ipamPoolId);
    if (planned?.pool) {
      const info = JSON.parse(planned.pool) as PoolInfo;
      return { real: false, depth: info.poolDepth, planned, scope: scopeOf(info) };
    }
    throw new IpamError("InvalidIpamPoolId.NotFound", `IPAM pool ${quote(ipamPoolId)} does not exist and is not planned; check ipamPoolId.`);
  }

  /** Is what was planned still ours to take: free now, or already allocated to this very token (a re-run)? */
  private async stillAvailable(tx: StoreTx, view: View, space: string, r: ReservationRecord, tokenKey: string): Promise<boolean> {
    const cidrs = r.cidrs;
    if (view.used) {
      // A cloud pool: ours if a commit of it may already have reached the API (committing) or did (held: a crash
      // can come between the API's answer and the stack's checkpoint); its token makes repeating the call
      // idempotent. Otherwise ours if unused.
      if (r.committing || r.expiresAt === 0) return true;
      const mine = cidrs.map((c) => parseCidr(familyOf(c), c));
      return !view.used.some((u) => mine.some((m) => overlaps(familyOf(u) === "ipv4" ? 32 : 128, m, parseCidr(familyOf(u), u))));
    }
    if (!view.real) return true;
    if (await tx.getToken(tokenKey)) return true;
    for (const cidr of cidrs) {
      const free = cidr.endsWith("/32") && tokenKey.startsWith("AllocateAddress:")
        ? this.ipam.previewNextAddress({ ipamPoolId: space, address: cidr.split("/")[0] }, tx)
        : this.ipam.previewNextCidr({ ipamPoolId: space, cidr }, tx, CARVE_OUT);
      if (!(await free.then(() => true, () => false))) return false;
    }
    return true;
  }

  /**
   * A scratch allocator holding a planned pool and what is taken in it (a
   * cloud pool's allocations, CIDRs this plan chose already, the plans a
   * given CIDR overlaps); other plans are skipped through the index. Kept
   * per process and brought up to date by difference.
   */
  private async virtualPool(planned: ReservationRecord, others: string[]): Promise<{ ipam: Ipam; id: string }> {
    const shape = `${planned.pool}\n${planned.cidrs.join(",")}`;
    const id = scratchId(planned.ipamPoolId);
    let v = this.virtual.get(planned.ipamPoolId);
    if (!v || v.shape !== shape) {
      const info = JSON.parse(planned.pool!) as PoolInfo;
      const ipam = new Ipam(this.scratch());
      // Only what allocating in it needs: a cloud pool's own tags or description need not pass our rules.
      await ipam.createPool({
        addressFamily: info.addressFamily, allocationMinNetmaskLength: info.allocationMinNetmaskLength,
        allocationMaxNetmaskLength: info.allocationMaxNetmaskLength, allocationDefaultNetmaskLength: info.allocationDefaultNetmaskLength,
        allocationResourceTags: info.allocationResourceTags, allocationStrategy: info.allocationStrategy, ipamPoolId: id, cidrs: planned.cidrs,
      });
      v = { shape, ipam, applied: new Map() };
      this.virtual.set(planned.ipamPoolId, v);
    }
    const want = new Set(others);
    for (const [cidr, aid] of v.applied) {
      if (!want.has(cidr)) { await v.ipam.release({ ipamPoolId: id, ipamPoolAllocationId: aid }, undefined, CARVE_OUT); v.applied.delete(cidr); }
    }
    for (const cidr of want) {
      if (v.applied.has(cidr)) continue;
      // As a carve-out (type ipam-pool): space promised to others is exempt from the tags an allocation must carry.
      const a = await v.ipam.allocate({ ipamPoolId: id, cidr }, undefined, CARVE_OUT).catch(() => undefined);
      if (a) v.applied.set(cidr, a.ipamPoolAllocationId);
    }
    return { ipam: v.ipam, id };
  }
}

interface View {
  real: boolean;
  depth: number;
  /** Its scope, which a pool nested in it inherits; unknown for a cloud pool whose API does not say. */
  scope?: string;
  planned?: ReservationRecord;
  /** A cloud pool: the CIDRs already allocated in it. */
  used?: string[];
}

function stripToken<T extends { clientToken?: string; dryRun?: boolean }>(v: T): Omit<T, "clientToken" | "dryRun"> {
  const { clientToken: _t, dryRun: _d, ...rest } = v;
  return rest;
}

const newNonce = () => randomBytes(8).toString("hex");
