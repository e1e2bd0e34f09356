/**
 * Durability across restarts: what the allocator acknowledged survives closing
 * the store and a kill -9 of a process in the middle of its work, ClientTokens
 * still replay to the same allocation afterwards, and the next allocation
 * overlaps nothing. On SQLite and on PostgreSQL.
 */
import Database from "better-sqlite3";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { Ipam } from "../../provider/core/ipam";
import type { AllocationInfo } from "../../provider/core/types";
import { openStore } from "../../provider/stores";
import { checkPool, ipv4Span, overlapsAmong } from "../support/invariants";
import { freshPgDatabase } from "../support/pg";
import { killAllWorkers, startTogether, startWorker } from "../support/workers";

afterAll(() => killAllWorkers());

const PRE = 5; // allocations made before the first restart
const ACKS_BEFORE_KILL = 25;

async function withIpam<T>(url: string, fn: (ipam: Ipam) => Promise<T>): Promise<T> {
  const store = openStore(url);
  try {
    return await fn(new Ipam(store));
  } finally {
    await store.close();
  }
}

async function scenario(url: string, afterKill?: () => void): Promise<void> {
  // 1. Allocate with ClientTokens, close the store.
  const { poolId, pre } = await withIpam(url, async (ipam) => {
    const pool = await ipam.createPool({ addressFamily: "ipv4", cidrs: ["10.8.0.0/16"], clientToken: "restart-pool" });
    const pre: AllocationInfo[] = [];
    for (let i = 0; i < PRE; i++) pre.push(await ipam.allocate({ ipamPoolId: pool.ipamPoolId, netmaskLength: i % 2 ? 24 : 26, clientToken: `pre-${i}` }));
    return { poolId: pool.ipamPoolId, pre };
  });

  // 2. Reopen: the allocations are there and the tokens replay to them.
  await withIpam(url, async (ipam) => {
    const listed = await ipam.listAllocations(poolId);
    expect(listed.map((a) => a.ipamPoolAllocationId).sort()).toEqual(pre.map((a) => a.ipamPoolAllocationId).sort());
    for (let i = 0; i < PRE; i++) {
      expect(await ipam.allocate({ ipamPoolId: poolId, netmaskLength: i % 2 ? 24 : 26, clientToken: `pre-${i}` })).toEqual(pre[i]);
    }
    expect((await ipam.createPool({ addressFamily: "ipv4", cidrs: ["10.8.0.0/16"], clientToken: "restart-pool" })).ipamPoolId).toBe(poolId);
  });

  // 3. A child process allocates (one ClientToken each) as fast as it can; kill -9 it right after an acknowledgement.
  const loop = startWorker("loop", url, { poolId, netmaskLength: 28, tokenPrefix: "crash-" });
  await startTogether([loop]);
  await loop.until((ls) => ls.filter((l) => l.ev === "ok").length >= ACKS_BEFORE_KILL, `${ACKS_BEFORE_KILL} acknowledgements`);
  loop.proc.kill("SIGKILL");
  expect((await loop.exit).signal).toBe("SIGKILL");
  afterKill?.();
  // Every line it printed before dying has been read by now (the pipe is drained before "exit").
  const acked = loop.ok().map((l) => ({ token: l.token as string, info: l.result as AllocationInfo }));
  expect(acked.length).toBeGreaterThanOrEqual(ACKS_BEFORE_KILL);
  acked.forEach((a, n) => expect(a.token).toBe(`crash-${n}`));
  expect(loop.failures()).toEqual([]);

  // 4. Reopen after the crash.
  await withIpam(url, async (ipam) => {
    const report = await checkPool(ipam, poolId);
    expect(report.problems).toEqual([]);
    const stored = new Map(report.allocations.map((a) => [a.ipamPoolAllocationId, a]));
    // Nothing acknowledged is lost...
    for (const a of [...pre, ...acked.map((x) => x.info)]) expect(stored.get(a.ipamPoolAllocationId)).toEqual(a);
    // ...and at most one allocation committed without being acknowledged: the one the kill interrupted.
    const known = new Set([...pre, ...acked.map((x) => x.info)].map((a) => a.ipamPoolAllocationId));
    const unacked = report.allocations.filter((a) => !known.has(a.ipamPoolAllocationId));
    expect(unacked.length).toBeLessThanOrEqual(1);

    // Replaying every acknowledged token returns the same allocation id and CIDR, and allocates nothing.
    for (const a of acked) expect(await ipam.allocate({ ipamPoolId: poolId, netmaskLength: 28, clientToken: a.token })).toEqual(a.info);
    // The interrupted request, retried with its token, gets the allocation it may have committed, or a new one.
    const retried = await ipam.allocate({ ipamPoolId: poolId, netmaskLength: 28, clientToken: `crash-${acked.length}` });
    if (unacked.length === 1) expect(retried).toEqual(unacked[0]);
    expect((await ipam.listAllocations(poolId)).length).toBe(PRE + acked.length + 1);

    // The next allocations overlap nothing.
    const next = [
      await ipam.allocate({ ipamPoolId: poolId, netmaskLength: 28 }),
      await ipam.allocate({ ipamPoolId: poolId, netmaskLength: 24 }),
      await ipam.allocateAddress({ ipamPoolId: poolId }),
    ];
    const after = await checkPool(ipam, poolId);
    expect(after.problems).toEqual([]);
    expect(after.allocations.length).toBe(PRE + acked.length + 1 + next.length);
    const spans = after.allocations.map((a) => ipv4Span(a.cidr, a.ipamPoolAllocationId));
    expect(overlapsAmong(spans)).toEqual([]);
  });
}

describe("restart and crash", () => {
  test("SQLite: close/reopen, kill -9 mid-run, reopen", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "ipam-restart-"));
    const file = path.join(dir, "ipam.db");
    try {
      await scenario(`sqlite:${file}`, () => {
        // The killed process leaves its write-ahead log behind: recovery happens on the next open.
        expect(fs.existsSync(`${file}-wal`)).toBe(true);
      });
      const db = new Database(file, { readonly: true });
      try {
        expect(db.pragma("integrity_check", { simple: true })).toBe("ok");
      } finally {
        db.close();
      }
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  test("PostgreSQL: close/reopen, kill -9 mid-run, reopen", async () => {
    await scenario(await freshPgDatabase("ipam_restart"));
  });
});
