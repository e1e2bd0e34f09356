/**
 * Read commands run in a worker thread of this process whose young
 * generation is capped: V8 sizes it by the machine's memory (64 MB
 * semi-spaces on a 24 GB machine), which tripled the resident size of `map`
 * on 100k allocations (590 MB, against 195 MB capped at 12 MB). The worker's output
 * reaches the main thread's streams; it is told whether they are terminals.
 * Only worker_threads and path are loaded here, so a main thread that starts
 * a worker stays small.
 */
import * as path from "node:path";
import { isMainThread, Worker } from "node:worker_threads";
import { currentTtys } from "./tty";

const YOUNG_GENERATION_MB = 12;

/** Whether this thread should hand a read command to a worker (PULUMI_IPAM_NO_WORKER=1 runs it in place). */
export const shouldFork = (): boolean => isMainThread && !process.env.PULUMI_IPAM_NO_WORKER;

/** Runs `pulumi-ipam <name> <argv>` in a worker; resolves to its exit code. */
export function inWorker(name: string, argv: string[]): Promise<number> {
  return new Promise((resolve, reject) => {
    const w = new Worker(path.join(__dirname, `main${path.extname(__filename)}`), {
      argv: [name, ...argv], workerData: { ttys: currentTtys() }, resourceLimits: { maxYoungGenerationSizeMb: YOUNG_GENERATION_MB },
    });
    w.on("error", reject);
    w.on("exit", resolve);
  });
}
