/**
 * kill -9 of `pulumi up` at random moments, then `pulumi cancel` and a
 * re-run: every allocation in the store belongs to exactly one resource in
 * the stack (0 leaked, 0 duplicated), thanks to the deterministic
 * ClientToken kept with each resource's plan reservation.
 */
import Database from "better-sqlite3";
import * as path from "node:path";
import { cleanup, exportState, project, Project, reapPlugins, ROOT, run, start, withIpam, repairCheckpoint, failure } from "../support/pulumi";

const TRIALS = Number(process.env.IPAM_CRASH_TRIALS ?? 10);

async function audit(p: Project): Promise<{ leaked: string[]; duplicated: string[]; managed: number }> {
  const state = exportState(p).filter((r) => r.type.startsWith("pulumi-nodejs:dynamic/ipam:"));
  const ids = state.map((r) => r.id as string);
  const duplicated = ids.filter((id, i) => ids.indexOf(id) !== i);
  const poolIds = new Set(state.filter((r) => r.type.endsWith(":IpamPool")).map((r) => r.id));
  const allocationIds = new Set(state.filter((r) => r.type.endsWith(":IpamPoolAllocation")).map((r) => r.id));
  const addressIds = new Set(state.filter((r) => r.type.endsWith(":ElasticIp")).map((r) => r.id));
  const leaked: string[] = [];
  await withIpam(p, async (ipam) => {
    for (const pool of await ipam.listPools()) {
      if (!poolIds.has(pool.ipamPoolId)) leaked.push(`pool ${pool.ipamPoolId}`);
      for (const a of await ipam.listAllocations(pool.ipamPoolId)) {
        const owned = a.resourceType === "ipam-pool" ? poolIds.has(a.resourceId!)
          : a.resourceType === "eip" ? addressIds.has(a.resourceId!) : allocationIds.has(a.ipamPoolAllocationId);
        if (!owned) leaked.push(`${a.resourceType} ${a.cidr} ${a.ipamPoolAllocationId}`);
      }
    }
  });
  return { leaked, duplicated, managed: state.length };
}

/** Resolves once the store holds at least n allocations (polled every 5 ms), or when `done` settles first. */
async function untilAllocations(p: Project, n: number, done: Promise<number>): Promise<void> {
  let finished = false;
  void done.then(() => { finished = true; });
  while (!finished) {
    try {
      const db = new Database(p.store, { readonly: true, fileMustExist: true });
      try {
        if ((db.prepare("SELECT count(*) AS n FROM ipam_allocations").get() as { n: number }).n >= n) return;
      } finally {
        db.close();
      }
    } catch { /* not created yet */ }
    await new Promise((r) => setTimeout(r, 5));
  }
}

describe("kill -9 of pulumi up, then cancel and re-run", () => {
  let p: Project;
  beforeAll(() => { p = project(path.join(ROOT, "examples/local-quickstart")); });
  afterAll(() => cleanup(p));

  test(`${TRIALS} trials leave 0 leaked and 0 duplicate allocations`, async () => {
    let seed = 20261122;
    const rand = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    const report: string[] = [];
    for (let t = 0; t < TRIALS; t++) {
      // Even trials: a random moment. Odd trials: right after the k-th allocation commits in the store,
      // which is the window between allocating and Pulumi's checkpoint that the ClientToken must cover.
      const delay = 2500 + Math.floor(rand() * 7000);
      const k = 1 + Math.floor(rand() * 8);
      const up = start(p, ["up"]);
      const moment = t % 2 === 0 ? `after ${delay} ms` : `at allocation #${k} in the store`;
      if (t % 2 === 0) await new Promise((r) => setTimeout(r, delay));
      else await untilAllocations(p, k, up.done);
      up.kill();
      await up.done;
      reapPlugins(p);
      repairCheckpoint(p);
      // What the kill left: allocations made but not yet recorded in the stack, which the re-run must adopt.
      const inFlight = (await audit(p).catch(() => ({ leaked: ["(no state yet)"] }))).leaked.length;
      // cancel removes the killed update's lock; it has nothing to do when the kill came before the lock
      // was taken or the stack was reset, so the re-run below is what must succeed.
      const cancel = run(p, ["cancel"]);
      const again = run(p, ["up"]);
      if (again.code !== 0) throw new Error(failure(`trial ${t} (killed ${moment}): re-run (cancel said: ${cancel.stderr.trim() || "ok"})`, again));
      const a = await audit(p);
      report.push(`trial ${t}: killed ${moment} with ${inFlight} allocation(s) not yet in the stack; after re-run ${a.managed} resources, leaked ${a.leaked.length}, duplicated ${a.duplicated.length}`);
      expect(a).toEqual({ leaked: [], duplicated: [], managed: 12 });
      expect(run(p, ["destroy"]).code).toBe(0);
      const after = await audit(p);
      expect(after).toEqual({ leaked: [], duplicated: [], managed: 0 });
    }
    process.stdout.write(report.join("\n") + "\n");
  }, 1_800_000);
});
