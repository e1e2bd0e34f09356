/**
 * Scopes under random sequences: top-level pools planned and committed
 * through the planner or created and grown directly, in two scopes over one
 * /8; nested pools and allocations planned and committed inside them; pools
 * deleted. After every step:
 *
 *   - a top-level plan, create or provision succeeds exactly when the model
 *     says its CIDR is free in its scope (created top-level pools, and for a
 *     plan the other resources' live plans), and fails with
 *     OperationDenied.CidrUnavailableInPool otherwise;
 *   - the created top-level pools of a scope are disjoint, and a nested pool
 *     is in its source's scope;
 *   - the live top-level plans of a scope are disjoint;
 *   - the allocations of a scope, real and planned (in created pools), are
 *     disjoint across all of its pools.
 */
import fc from "fast-check";
import { isIpamError } from "../../provider/core/errors";
import type { Ipam } from "../../provider/core/ipam";
import { Plan, Planner } from "../../provider/core/plan";
import { DEFAULT_SCOPE_ID } from "../../provider/core/scopes";
import type { CreatePoolInput, PoolInfo } from "../../provider/core/types";
import { MemoryStore } from "../../provider/stores/memory";
import { PROPERTY_STORES } from "./stores";

const SCOPES = [DEFAULT_SCOPE_ID, "ipam-scope-b"];
const CONFLICT = "OperationDenied.CidrUnavailableInPool";

type Range = [number, number];
const range = (cidr: string): Range => {
  const [a, p] = cidr.split("/");
  const start = a.split(".").reduce((s, o) => s * 256 + Number(o), 0);
  return [start, start + 2 ** (32 - Number(p)) - 1];
};
const meets = (a: string, b: string) => { const [x, y] = [range(a), range(b)]; return x[0] <= y[1] && y[0] <= x[1]; };
const dotted = (v: number) => [24, 16, 8, 0].map((s) => Math.floor(v / 2 ** s) % 256).join(".");

/** A CIDR of 10.0.0.0/8 with a prefix of 9 to 11: few enough that they collide often. */
const topCidr = fc.integer({ min: 9, max: 11 }).chain((p) =>
  fc.integer({ min: 0, max: 2 ** (p - 8) - 1 }).map((i) => `${dotted(0x0a000000 + i * 2 ** (32 - p))}/${p}`));
const scope = fc.integer({ min: 0, max: 1 }).map((i) => SCOPES[i]);
const pick = fc.nat(50);

type Cmd =
  | { t: "planTop"; k: number; scope: string; cidr: string }
  | { t: "commit"; pick: number }
  | { t: "planNested"; k: number; target: number; len: number }
  | { t: "planAlloc"; k: number; target: number; len: number }
  | { t: "create"; scope: string; cidr: string }
  | { t: "provision"; target: number; cidr: string }
  | { t: "delete"; target: number };

const KEYS = { top: 3, nested: 3, alloc: 6 };
const cmd: fc.Arbitrary<Cmd> = fc.oneof(
  { weight: 4, arbitrary: fc.record({ t: fc.constant("planTop" as const), k: fc.nat(KEYS.top - 1), scope, cidr: topCidr }) },
  { weight: 6, arbitrary: fc.record({ t: fc.constant("commit" as const), pick }) },
  { weight: 3, arbitrary: fc.record({ t: fc.constant("planNested" as const), k: fc.nat(KEYS.nested - 1), target: pick, len: fc.integer({ min: 11, max: 14 }) }) },
  { weight: 5, arbitrary: fc.record({ t: fc.constant("planAlloc" as const), k: fc.nat(KEYS.alloc - 1), target: pick, len: fc.integer({ min: 12, max: 16 }) }) },
  { weight: 2, arbitrary: fc.record({ t: fc.constant("create" as const), scope, cidr: topCidr }) },
  { weight: 2, arbitrary: fc.record({ t: fc.constant("provision" as const), target: pick, cidr: topCidr }) },
  { weight: 1, arbitrary: fc.record({ t: fc.constant("delete" as const), target: pick }) },
);

/** What the runs did, per step and outcome: checked at the end so that the property cannot pass vacuously. */
const seen = new Map<string, number>();
const count = (what: string) => seen.set(what, (seen.get(what) ?? 0) + 1);

interface Planned { kind: "pool" | "allocation"; spec: CreatePoolInput | { ipamPoolId: string; netmaskLength: number }; plan: Plan; committed: boolean }

async function run(ipam: Ipam, cmds: Cmd[]): Promise<void> {
  const planner = new Planner(ipam, () => new MemoryStore());
  const plans = new Map<string, Planned>();
  const pools = async () => (await ipam.listPools()).sort((a, b) => a.ipamPoolId.localeCompare(b.ipamPoolId));
  /** Pools a nested pool or an allocation may be planned in: created ones, and planned ones not yet created. */
  const targets = async () => {
    const real = (await pools()).map((p) => p.ipamPoolId);
    const planned = [...plans.values()].filter((p) => p.kind === "pool" && !p.committed).map((p) => p.plan.ipamPoolId);
    return [...real, ...planned.filter((id) => !real.includes(id))];
  };
  const topHeld = (all: PoolInfo[], s: string) => all.filter((p) => !p.sourceIpamPoolId && p.ipamScopeId === s).flatMap((p) => p.cidrs);
  /** Only an IpamError may come out of a step the model does not predict. */
  const tolerate = (e: unknown) => { if (!isIpamError(e)) throw e; };

  for (const c of cmds) {
    const all = await pools();
    switch (c.t) {
      case "planTop": {
        const key = `top/${c.k}`;
        const spec: CreatePoolInput = { addressFamily: "ipv4", cidrs: [c.cidr], ipamScopeId: c.scope };
        const prior = plans.get(key);
        const reuse = prior && JSON.stringify(prior.spec) === JSON.stringify(spec);
        // Free: no created top-level pool of the scope (but this plan's own, when it is planned again as it was) and no other live plan.
        const created = all.filter((p) => !p.sourceIpamPoolId && p.ipamScopeId === c.scope && !(reuse && p.ipamPoolId === prior!.plan.ipamPoolId));
        const live = [...plans.entries()].filter(([k, p]) => k !== key && k.startsWith("top/") && !p.committed && (p.spec as CreatePoolInput).ipamScopeId === c.scope);
        const free = !created.some((p) => p.cidrs.some((x) => meets(x, c.cidr))) && !live.some(([, p]) => p.plan.cidrs.some((x) => meets(x, c.cidr)));
        try {
          const plan = await planner.planPool(key, spec);
          expect(free).toBe(true);
          expect(plan.cidrs).toEqual([c.cidr]);
          plans.set(key, { kind: "pool", spec, plan, committed: !!reuse && prior!.committed });
          count("planTop ok");
        } catch (e) {
          if (!isIpamError(e, CONFLICT)) throw e;
          expect(free).toBe(false);
          count("planTop conflict");
        }
        break;
      }
      case "commit": {
        // One of the plans not yet committed (the step a resource's create is).
        const open = [...plans.keys()].filter((k) => !plans.get(k)!.committed).sort();
        if (!open.length) break;
        const key = open[c.pick % open.length];
        const p = plans.get(key)!;
        const top = key.startsWith("top/");
        const s = top ? (p.spec as CreatePoolInput).ipamScopeId! : "";
        const free = !top || !topHeld(all, s).some((x) => meets(x, p.plan.cidrs[0]));
        try {
          if (p.kind === "pool") await planner.commitPool(key, p.spec as CreatePoolInput, p.plan);
          else await planner.commitAllocation(key, p.spec as { ipamPoolId: string; netmaskLength: number }, p.plan);
          p.committed = true;
          expect(free).toBe(true);
          count(`commit ${p.kind} ok`);
        } catch (e) {
          tolerate(e);
          if (top) expect(free && isIpamError(e, CONFLICT)).toBe(false);
          count(`commit ${p.kind} failed`);
        }
        break;
      }
      case "planNested":
      case "planAlloc": {
        const ids = await targets();
        if (!ids.length) break;
        const ipamPoolId = ids[c.target % ids.length];
        const key = `${c.t === "planNested" ? "nested" : "alloc"}/${c.k}`;
        try {
          if (c.t === "planNested") {
            const spec: CreatePoolInput = { addressFamily: "ipv4", sourceIpamPoolId: ipamPoolId, netmaskLength: c.len };
            plans.set(key, { kind: "pool", spec, plan: await planner.planPool(key, spec), committed: false });
          } else {
            const spec = { ipamPoolId, netmaskLength: c.len };
            plans.set(key, { kind: "allocation", spec, plan: await planner.planAllocation(key, spec), committed: false });
          }
          count(`${c.t} ok`);
        } catch (e) {
          tolerate(e);
          count(`${c.t} failed`);
        }
        break;
      }
      case "create": {
        const free = !topHeld(all, c.scope).some((x) => meets(x, c.cidr));
        try {
          await ipam.createPool({ addressFamily: "ipv4", cidrs: [c.cidr], ipamScopeId: c.scope });
          expect(free).toBe(true);
          count("create ok");
        } catch (e) {
          if (!isIpamError(e, CONFLICT)) throw e;
          expect(free).toBe(false);
          count("create conflict");
        }
        break;
      }
      case "provision": {
        const tops = all.filter((p) => !p.sourceIpamPoolId);
        if (!tops.length) break;
        const pool = tops[c.target % tops.length];
        const own = pool.cidrs.some((x) => meets(x, c.cidr));
        const free = !topHeld(all.filter((p) => p.ipamPoolId !== pool.ipamPoolId), pool.ipamScopeId!).some((x) => meets(x, c.cidr));
        try {
          await ipam.provisionPoolCidr({ ipamPoolId: pool.ipamPoolId, cidr: c.cidr });
          expect(!own && free).toBe(true);
          count("provision ok");
        } catch (e) {
          if (!isIpamError(e, own ? "InvalidParameterValue" : CONFLICT)) throw e;
          expect(!own && free).toBe(false);
          count(own ? "provision own overlap" : "provision conflict");
        }
        break;
      }
      case "delete": {
        if (!all.length) break;
        const pool = all[c.target % all.length];
        try {
          await ipam.deletePool({ ipamPoolId: pool.ipamPoolId });
        } catch (e) {
          tolerate(e);
          count("delete failed");
          break;
        }
        count("delete ok");
        // As the Pulumi resource's delete does: the resource is gone, and so is what it planned.
        for (const [key, p] of plans) {
          if (p.kind === "pool" && p.plan.ipamPoolId === pool.ipamPoolId) {
            await planner.forget(key, p.plan.nonce);
            plans.delete(key);
          }
        }
        break;
      }
    }
    await checkInvariants(ipam, await pools());
  }
}

async function checkInvariants(ipam: Ipam, all: PoolInfo[]): Promise<void> {
  const byId = new Map(all.map((p) => [p.ipamPoolId, p]));
  const disjoint = (cidrs: string[], what: string) => {
    const sorted = cidrs.map(range).sort((a, b) => a[0] - b[0]);
    for (let i = 1; i < sorted.length; i++) {
      if (sorted[i][0] <= sorted[i - 1][1]) throw new Error(`${what} overlap: ${JSON.stringify(cidrs)}`);
    }
  };
  const now = Date.now();
  for (const s of SCOPES) {
    const inScope = all.filter((p) => p.ipamScopeId === s);
    disjoint(inScope.filter((p) => !p.sourceIpamPoolId).flatMap((p) => p.cidrs), `created top-level pools of ${s}`);
    const leaves: string[] = [];
    await ipam.store.transaction(async (tx) => {
      disjoint((await tx.listReservationHolds(s)).filter((r) => r.expiresAt > now).flatMap((r) => r.cidrs), `live top-level plans of ${s}`);
      for (const p of inScope) {
        for (const a of await tx.listAllocations(p.ipamPoolId)) {
          if (a.resourceType !== "ipam-pool") leaves.push(`${dotted(Number(a.start))}/${a.prefix}`);
        }
        for (const r of await tx.listReservations(p.ipamPoolId)) if (r.kind === "allocation" && r.expiresAt > now) leaves.push(...r.cidrs);
      }
    });
    disjoint(leaves, `allocations and planned allocations of ${s}`);
  }
  for (const p of all) if (p.sourceIpamPoolId) expect(p.ipamScopeId).toBe(byId.get(p.sourceIpamPoolId)!.ipamScopeId);
}

describe.each(PROPERTY_STORES)("scopes under random sequences on $name", (store) => {
  test("top-level CIDRs of a scope are taken once; allocations and plans in a scope never overlap", async () => {
    seen.clear();
    await fc.assert(
      fc.asyncProperty(fc.array(cmd, { minLength: 1, maxLength: 40, size: "max" }), (cmds) => store.withIpam((ipam) => run(ipam, cmds))),
      { numRuns: store.numRuns },
    );
    process.stdout.write(`scopes property on ${store.name}: ${JSON.stringify(Object.fromEntries([...seen].sort()))}\n`);
    // Every kind of step happened, and the scope rule both admitted and refused.
    for (const what of ["planTop ok", "planTop conflict", "create ok", "create conflict", "provision ok", "provision conflict", "commit pool ok", "commit allocation ok", "planNested ok", "planAlloc ok", "delete ok"]) {
      expect([what, seen.get(what) ?? 0]).not.toEqual([what, 0]);
    }
  });
});
