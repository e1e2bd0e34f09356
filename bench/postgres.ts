/**
 * postgres-commit, our side: committed /24 allocations per second from
 * 10.0.0.0/8 on the PostgreSQL store, one transaction (one allocate()) each.
 * Usage: postgres.ts <url> <prefill>
 *
 * Prefill: PREFILL allocations made through one call each would take
 * minutes (every call is a committed transaction), so they are made by the
 * same Ipam on a memory store, and the resulting records (pool, free
 * blocks, allocations) are written to PostgreSQL through the PostgreSQL
 * store's own StoreTx methods in one transaction. The copy is checked:
 * utilization, allocation count and the next CIDR must match the memory
 * allocator's. go-ipam's side (bench/go-ipam, same server, another
 * database) is prefilled to the same state.
 */
import { Ipam } from "../provider/core/ipam";
import { openStore } from "../provider/stores";
import { PostgresStore } from "../provider/stores/postgres";
import { emit, int, log, measure } from "./lib";

const OPS = int("BENCH_PG_OPS", 2_000);
const WINDOWS = int("BENCH_PG_WINDOWS", 5);
const MAX_SECONDS = int("BENCH_PG_MAX_SECONDS", 20);

async function main(): Promise<void> {
  const [url, prefillArg] = process.argv.slice(2);
  if (!url) throw new Error("usage: postgres.ts <postgres url> [prefill]");
  const prefill = Number(prefillArg ?? 0);
  const store = new PostgresStore(url);
  const ipam = new Ipam(store);
  let poolId: string;
  let prefillSeconds = 0;
  if (prefill === 0) {
    poolId = (await ipam.createPool({ addressFamily: "ipv4", cidrs: ["10.0.0.0/8"] })).ipamPoolId;
  } else {
    const t = performance.now();
    const mem = new Ipam(openStore("memory:"));
    poolId = (await mem.createPool({ addressFamily: "ipv4", cidrs: ["10.0.0.0/8"] })).ipamPoolId;
    for (let i = 0; i < prefill; i++) await mem.allocate({ ipamPoolId: poolId, netmaskLength: 24 });
    const snap = await mem.store.transaction(async (tx) => ({
      pools: await tx.listPools(), free: await tx.listFree(poolId), allocations: await tx.listAllocations(poolId),
    }));
    await store.transaction(async (tx) => {
      for (const p of snap.pools) await tx.putPool(p);
      for (const b of snap.free) await tx.addFree(poolId, b);
      for (const a of snap.allocations) await tx.putAllocation(a);
    });
    const [um, up] = [await mem.utilization(poolId), await ipam.utilization(poolId)];
    const [nm, np] = [await mem.previewNextCidr({ ipamPoolId: poolId, netmaskLength: 24 }), await ipam.previewNextCidr({ ipamPoolId: poolId, netmaskLength: 24 })];
    const count = (await ipam.listAllocations(poolId)).length;
    if (JSON.stringify(um) !== JSON.stringify(up) || nm !== np || count !== prefill) {
      throw new Error(`prefill copy differs: ${JSON.stringify({ um, up, nm, np, count })}`);
    }
    prefillSeconds = (performance.now() - t) / 1000;
    log(`postgres: ours prefilled ${prefill} /24s in ${prefillSeconds.toFixed(1)} s (next ${np})`);
  }
  let first = "";
  let last = "";
  const m = await measure(async () => {
    last = (await ipam.allocate({ ipamPoolId: poolId, netmaskLength: 24 })).cidr;
    first ||= last;
  }, OPS, WINDOWS, MAX_SECONDS);
  await store.close();
  log(`postgres: ours ${m.rate.toFixed(0)}/s over ${m.ops} allocations (${first} .. ${last}) at prefill ${prefill}`);
  emit({
    ...m, firstCidr: first, lastCidr: last, prefill, prefillSeconds,
    prefillMethod: prefill ? "memory Ipam, records copied through PostgresStore's StoreTx in one transaction, checked" : "none",
    store: "PostgresStore (node-postgres, bound parameters pipelined per round trip, pool max 4), one allocate() per transaction",
  });
}

main().catch((e) => { console.error(e); process.exit(1); });
