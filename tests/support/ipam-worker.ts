/**
 * A separate Node process driving the allocator on a shared store, for the
 * multi-process integration tests. Run as
 *
 *   node -r ts-node/register/transpile-only tests/support/ipam-worker.ts <mode> <storeUrl> [json]
 *
 * and talks to its parent through JSON lines: it prints {"ev":"ready"} once
 * the store is open, waits for a "go" line on stdin (so that all workers
 * start at once), then prints one line per operation and {"ev":"done"}.
 *
 * Modes:
 *   plan    json = Op[]: runs the ops in order; `ref` names a result so that
 *           later ops (release, releaseAddress) can refer to it.
 *   loop    json = { poolId, netmaskLength, tokenPrefix }: allocates with
 *           ClientTokens `${tokenPrefix}${n}`, n = 0, 1, ..., until killed,
 *           printing each acknowledged allocation.
 *   migrate opens the store and runs one transaction (which migrates it).
 *
 * It stops by itself: when stdin closes (the parent is gone) and after a
 * watchdog delay, so no test can leave it behind.
 */
import { Ipam } from "../../provider/core/ipam";
import type { Store } from "../../provider/core/store";
import { openStore } from "../../provider/stores";

export type Op =
  | { op: "allocate"; ref: string; input: Parameters<Ipam["allocate"]>[0] }
  | { op: "release"; ref: string; of: string }
  | { op: "allocateAddress"; ref: string; input: Parameters<Ipam["allocateAddress"]>[0] }
  | { op: "releaseAddress"; ref: string; of: string }
  | { op: "provision"; ref: string; input: Parameters<Ipam["provisionPoolCidr"]>[0] };

const WATCHDOG_MS = Number(process.env.IPAM_WORKER_WATCHDOG_MS ?? 150_000);
setTimeout(() => {
  emit({ ev: "fatal", message: `watchdog: still running after ${WATCHDOG_MS} ms` });
  process.exit(3);
}, WATCHDOG_MS).unref();

function emit(o: object): void {
  // stdout is a pipe: on Linux a pipe write is synchronous, so a printed line
  // is in the pipe before the next operation starts.
  process.stdout.write(`${JSON.stringify(o)}\n`);
}

function errorInfo(e: unknown): { code?: string; message: string } {
  const err = e as { code?: string; message?: string };
  return { code: err?.code, message: String(err?.message ?? e) };
}

/** Resolves on the first "go" line; exits the process when stdin closes. */
function waitForGo(): Promise<void> {
  return new Promise((resolve) => {
    let buf = "";
    process.stdin.setEncoding("utf8");
    process.stdin.on("data", (chunk: string) => {
      buf += chunk;
      if (buf.split("\n").some((l) => l.trim() === "go")) resolve();
    });
    process.stdin.on("end", () => process.exit(4));
  });
}

async function runPlan(ipam: Ipam, ops: Op[]): Promise<void> {
  const results = new Map<string, { ipamPoolId: string; id: string }>();
  for (const o of ops) {
    try {
      switch (o.op) {
        case "allocate": {
          const r = await ipam.allocate(o.input);
          results.set(o.ref, { ipamPoolId: r.ipamPoolId, id: r.ipamPoolAllocationId });
          emit({ ev: "ok", op: o.op, ref: o.ref, result: r, token: o.input.clientToken });
          break;
        }
        case "release": {
          const a = results.get(o.of);
          if (!a) throw new Error(`plan error: no result named ${o.of}`);
          await ipam.release({ ipamPoolId: a.ipamPoolId, ipamPoolAllocationId: a.id });
          emit({ ev: "ok", op: o.op, ref: o.ref, of: o.of, id: a.id });
          break;
        }
        case "allocateAddress": {
          const r = await ipam.allocateAddress(o.input);
          results.set(o.ref, { ipamPoolId: r.ipamPoolId, id: r.allocationId });
          emit({ ev: "ok", op: o.op, ref: o.ref, result: r, token: o.input.clientToken });
          break;
        }
        case "releaseAddress": {
          const a = results.get(o.of);
          if (!a) throw new Error(`plan error: no result named ${o.of}`);
          await ipam.releaseAddress({ allocationId: a.id });
          emit({ ev: "ok", op: o.op, ref: o.ref, of: o.of, id: a.id });
          break;
        }
        case "provision": {
          const r = await ipam.provisionPoolCidr(o.input);
          emit({ ev: "ok", op: o.op, ref: o.ref, result: r });
          break;
        }
      }
    } catch (e) {
      emit({ ev: "error", op: o.op, ref: o.ref, ...errorInfo(e) });
    }
  }
}

async function runLoop(ipam: Ipam, cfg: { poolId: string; netmaskLength: number; tokenPrefix: string }): Promise<void> {
  for (let n = 0; ; n++) {
    const clientToken = `${cfg.tokenPrefix}${n}`;
    const r = await ipam.allocate({ ipamPoolId: cfg.poolId, netmaskLength: cfg.netmaskLength, clientToken });
    emit({ ev: "ok", op: "allocate", ref: String(n), result: r, token: clientToken });
  }
}

async function main(): Promise<void> {
  const [mode, url, json] = process.argv.slice(2);
  let store: Store;
  try {
    store = openStore(url);
  } catch (e) {
    emit({ ev: "fatal", phase: "open", ...errorInfo(e) });
    process.exit(2);
  }
  const ipam = new Ipam(store);
  emit({ ev: "ready", pid: process.pid });
  await waitForGo();
  if (mode === "plan") await runPlan(ipam, JSON.parse(json) as Op[]);
  else if (mode === "loop") await runLoop(ipam, JSON.parse(json));
  else if (mode === "migrate") {
    const pools = await ipam.listPools();
    emit({ ev: "ok", op: "migrate", pools: pools.length });
  } else throw new Error(`unknown mode ${mode}`);
  await store.close();
  emit({ ev: "done" });
  process.exit(0);
}

main().catch((e) => {
  emit({ ev: "fatal", ...errorInfo(e) });
  process.exit(1);
});
