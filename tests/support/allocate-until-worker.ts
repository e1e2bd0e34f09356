/**
 * A child process that allocates from one pool in a loop, past failures,
 * until its parent writes "stop" (or stopAfterMs passes), for the tests that
 * break the store under it. Run as
 *
 *   node -r ts-node/register/transpile-only tests/support/allocate-until-worker.ts <storeUrl> <json>
 *
 * json = { poolId, netmaskLength, tokenPrefix, stopAfterMs }: call n uses the
 * ClientToken `${tokenPrefix}${n}` when n is even and none when n is odd (so
 * both of the store's answers to a cut COMMIT are exercised). It speaks the
 * JSON lines of tests/support/workers.ts: {"ev":"ready"}, waits for "go",
 * then one {"ev":"ok"} or {"ev":"error"} line per call, then {"ev":"done"}
 * and exit 0. Nothing here catches a crash: an unhandled error ends the
 * process with a non-zero status and no "done", which is what the tests look
 * for.
 */
import { Ipam } from "../../provider/core/ipam";
import { openStore } from "../../provider/stores";

const emit = (o: object) => process.stdout.write(`${JSON.stringify(o)}\n`);

async function main(): Promise<void> {
  const [url, json] = process.argv.slice(2);
  const cfg = JSON.parse(json) as { poolId: string; netmaskLength: number; tokenPrefix: string; stopAfterMs: number };
  const store = openStore(url);
  const ipam = new Ipam(store);
  let go!: () => void;
  const started = new Promise<void>((r) => (go = r));
  let stop = false;
  let buf = "";
  process.stdin.setEncoding("utf8");
  process.stdin.on("data", (chunk: string) => {
    buf += chunk;
    const lines = buf.split("\n").map((l) => l.trim());
    if (lines.includes("go")) go();
    if (lines.includes("stop")) stop = true;
  });
  process.stdin.on("end", () => (stop = true));
  emit({ ev: "ready", pid: process.pid });
  await started;
  const deadline = Date.now() + cfg.stopAfterMs;
  for (let n = 0; !stop && Date.now() < deadline; n++) {
    const clientToken = n % 2 === 0 ? `${cfg.tokenPrefix}${n}` : undefined;
    const t0 = Date.now();
    try {
      const r = await ipam.allocate({ ipamPoolId: cfg.poolId, netmaskLength: cfg.netmaskLength, clientToken });
      emit({ ev: "ok", n, token: clientToken, id: r.ipamPoolAllocationId, cidr: r.cidr, ms: Date.now() - t0, at: Date.now() });
    } catch (e) {
      const err = e as { code?: unknown; message?: unknown; name?: unknown };
      emit({ ev: "error", n, token: clientToken, name: String(err?.name), code: err?.code, message: String(err?.message ?? e), ms: Date.now() - t0, at: Date.now() });
    }
  }
  await store.close();
  emit({ ev: "done" });
  process.exit(0);
}

main().catch((e) => {
  emit({ ev: "fatal", message: String((e as Error)?.stack ?? e) });
  process.exit(1);
});
