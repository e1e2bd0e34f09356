/**
 * Reads what the commands show into an Inventory, without writing: the
 * local store in one read-only transaction (Store.read: one snapshot, no
 * write lock), a cloud backend through its list calls (pools, then each
 * pool's allocations, with progress on a terminal), and the plan
 * reservations from the store, which name the resources (their keys are the
 * resources' URNs).
 */
import { poolInfo } from "../core/ipam";
import type { ReservationRecord } from "../core/model";
import { DEFAULT_SCOPE_ID } from "../core/scopes";
import type { StoreTx } from "../core/store";
import type { PoolInfo } from "../core/types";
import type { Inventory, PlanView } from "../render/inventory";
import { planName } from "../render/inventory";
import type { Connection } from "./connect";
import { progress } from "./progress";

function planView(r: ReservationRecord, now: number): PlanView {
  const state = r.expiresAt === 0 ? (r.committing ? "committing" : "held") : r.expiresAt > now ? "planned" : "expired";
  return {
    key: r.key, name: planName(r.key), kind: r.kind, ipamPoolId: r.ipamPoolId, spacePoolId: r.spacePoolId, cidrs: r.cidrs, state,
    expiresAt: r.expiresAt, ...(r.replaced ? { replaced: r.replaced } : {}),
  };
}

/**
 * Every reservation the store holds: each is listed by the space it holds
 * (a pool's id, or a top-level pool's scope), so list by every pool id and
 * scope known, and by the planned pools found on the way.
 */
async function reservations(tx: StoreTx, pools: PoolInfo[], scopeId: string | undefined, now: number): Promise<PlanView[]> {
  const spaces = [...new Set([...pools.map((p) => p.ipamPoolId), ...pools.map((p) => p.ipamScopeId ?? DEFAULT_SCOPE_ID), DEFAULT_SCOPE_ID, ...(scopeId ? [scopeId] : [])])];
  const seen = new Set(spaces);
  const out = new Map<string, PlanView>();
  for (let i = 0; i < spaces.length; i++) {
    for (const r of await tx.listReservations(spaces[i])) {
      out.set(r.key, planView(r, now));
      if (r.kind === "pool" && !seen.has(r.ipamPoolId)) { seen.add(r.ipamPoolId); spaces.push(r.ipamPoolId); }
    }
  }
  return [...out.values()].sort((a, b) => a.key.localeCompare(b.key));
}

export async function gather(conn: Connection, now = Date.now()): Promise<Inventory> {
  const inv: Inventory = { backend: conn.kind, store: conn.storeUrl, pools: [], allocations: {}, plans: [], now };
  if (conn.kind === "local") {
    const p = progress("reading the store");
    await conn.store!.read(async (tx) => {
      inv.pools = (await tx.listPools()).map(poolInfo);
      for (const [i, pool] of inv.pools.entries()) {
        // The records as the store gives them: the tree reads start and prefix, so nothing is copied or parsed.
        inv.allocations[pool.ipamPoolId] = await tx.listAllocations(pool.ipamPoolId);
        p.update(i + 1, inv.pools.length, "pools");
      }
      inv.plans = await reservations(tx, inv.pools, conn.settings.scopeId, now);
    });
    p.end();
    return inv;
  }
  const backend = conn.backend;
  if (!backend.listPools) throw new Error(`internal: the ${backend.kind} backend cannot list pools`);
  const p = progress(`listing ${backend.kind} pools`);
  inv.pools = await backend.listPools();
  for (const [i, pool] of inv.pools.entries()) {
    p.update(i, inv.pools.length, "pools' allocations");
    inv.allocations[pool.ipamPoolId] = await backend.listAllocations(pool.ipamPoolId);
  }
  p.end();
  if (conn.store) inv.plans = await conn.store.read((tx) => reservations(tx, inv.pools, conn.settings.scopeId, now));
  return inv;
}
