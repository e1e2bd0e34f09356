/**
 * growth / growth-rss: /64 allocations from one IPv6 pool (2001:db8::/32),
 * in memory, up to 1,000,000 allocations.
 *
 * cost@N = CPU microseconds per allocation over the allocations from N/2 to
 * N (process user + system time: garbage collection on helper threads
 * counts, including the major collections a heap of that size needs, and
 * other processes on a shared machine do not; wall clock is recorded too).
 * The code is warmed up first on a throwaway store so that cost@10k is not
 * inflated by JIT compilation. growth ratio = cost@10k / cost@1M (1.0 =
 * flat; the target is >= 0.5). At 1M the resident set size is read after
 * forced garbage collection (run node with --expose-gc).
 */
import { Ipam } from "../provider/core/ipam";
import { openStore } from "../provider/stores";
import { MemoryStore } from "../provider/stores/memory";
import { emit, int, log } from "./lib";

const CHECKPOINTS = (process.env.BENCH_GROWTH_CHECKPOINTS ?? "10000,100000,1000000").split(",").map(Number);
const WARMUP = int("BENCH_GROWTH_WARMUP", 30_000);

const gc = (globalThis as { gc?: () => void }).gc;
const cpuNow = (): number => { const c = process.cpuUsage(); return (c.user + c.system) / 1e6; };

function settle(): NodeJS.MemoryUsage {
  if (!gc) throw new Error("run with node --expose-gc");
  for (let i = 0; i < 3; i++) gc();
  return process.memoryUsage();
}

async function fill(ipam: Ipam, poolId: string, n: number): Promise<string> {
  let last = "";
  for (let i = 0; i < n; i++) last = (await ipam.allocate({ ipamPoolId: poolId, netmaskLength: 64 })).cidr;
  return last;
}

async function main(): Promise<void> {
  {
    const warm = new Ipam(openStore("memory:"));
    const p = await warm.createPool({ addressFamily: "ipv6", cidrs: ["2001:db8::/32"] });
    await fill(warm, p.ipamPoolId, WARMUP);
  }
  const base = settle();
  const store = openStore("memory:") as MemoryStore;
  const ipam = new Ipam(store);
  const pool = await ipam.createPool({ addressFamily: "ipv6", cidrs: ["2001:db8::/32"] });
  let count = 0;
  const points: Record<string, unknown>[] = [];
  const t0 = performance.now();
  for (const cp of CHECKPOINTS) {
    const from = Math.max(count, Math.floor(cp / 2));
    if (count < from) {
      await fill(ipam, pool.ipamPoolId, from - count);
      count = from;
    }
    const c = cpuNow();
    const w = performance.now();
    const last = await fill(ipam, pool.ipamPoolId, cp - count);
    const n = cp - count;
    count = cp;
    const costUs = ((cpuNow() - c) * 1e6) / n;
    const wallUs = ((performance.now() - w) * 1e3) / n;
    points.push({ at: cp, from, ops: n, costMicroseconds: costUs, wallMicroseconds: wallUs, lastCidr: last });
    log(`growth: allocations ${from}..${cp}: ${costUs.toFixed(1)} CPU µs/allocation (wall ${wallUs.toFixed(1)} µs), ${((performance.now() - t0) / 1000).toFixed(0)} s so far`);
  }
  const mem = settle();
  const memory = {
    allocations: count, rssBytes: mem.rss, heapUsedBytes: mem.heapUsed, heapTotalBytes: mem.heapTotal, externalBytes: mem.external,
    baselineRssBytes: base.rss, baselineHeapUsedBytes: base.heapUsed,
    // Typed arrays live outside the JS heap: count both.
    bytesPerAllocation: Math.round((mem.heapUsed + mem.external - base.heapUsed - base.external) / count),
    records: { allocations: store.allocations.count(pool.ipamPoolId), freeBlocks: [...(store.free.get(pool.ipamPoolId)?.values() ?? [])].reduce((s, t) => s + t.size, 0) },
  };
  log(`growth: at ${count} allocations rss ${(mem.rss / 1e6).toFixed(0)} MB, heap used ${(mem.heapUsed / 1e6).toFixed(0)} MB (process before the pool: rss ${(base.rss / 1e6).toFixed(0)} MB)`);
  emit({
    workload: `/64 allocations from 2001:db8::/32 in memory (after ${WARMUP} warm-up allocations on a throwaway store); cost@N = CPU µs per allocation over allocations N/2..N`,
    points, memory, totalSeconds: (performance.now() - t0) / 1000,
  });
}

main().catch((e) => { console.error(e); process.exit(1); });
