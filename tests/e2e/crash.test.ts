/**
 * kill -9 of `pulumi up` at random moments, then `pulumi cancel` and a
 * re-run: every allocation in the store belongs to exactly one resource in
 * the stack (0 leaked, 0 duplicated), thanks to the deterministic
 * ClientToken kept with each resource's plan reservation. Also in fast mode
 * (`up --fast`, only the final checkpoint saved) over 500 allocations, where
 * a kill loses every step of the run and the re-run must get each
 * allocation back by its token: afterwards the state is exactly the store.
 */
import Database from "better-sqlite3";
import * as path from "node:path";
import { cleanup, exportState, project, Project, reapPlugins, ROOT, run, start, withIpam, repairCheckpoint, failure } from "../support/pulumi";

const TRIALS = Number(process.env.IPAM_CRASH_TRIALS ?? 10);
const FAST_TRIALS = Number(process.env.IPAM_CRASH_FAST_TRIALS ?? 10);
const FAST_N = Number(process.env.IPAM_CRASH_FAST_N ?? 500);
const SCALE = path.join(ROOT, "tests/e2e/programs/scale");

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

function allocationsInStore(p: Project): number {
  try {
    const db = new Database(p.store, { readonly: true, fileMustExist: true });
    try {
      return (db.prepare("SELECT count(*) AS n FROM ipam_allocations").get() as { n: number }).n;
    } finally {
      db.close();
    }
  } catch {
    return 0; // not created yet
  }
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

/** Where the state and the store differ: pools and allocations (id and CIDR) each side has that the other has not. */
async function stateVersusStore(p: Project): Promise<string[]> {
  const state = exportState(p).filter((r) => r.type.startsWith("pulumi-nodejs:dynamic/ipam:"));
  const fromState = new Set(state.map((r) => `${r.type.split(":").pop()} ${r.id} ${r.outputs.cidr ?? r.outputs.cidrs.join(",")}`));
  const fromStore = new Set<string>();
  await withIpam(p, async (ipam) => {
    for (const pool of await ipam.listPools()) {
      fromStore.add(`IpamPool ${pool.ipamPoolId} ${pool.cidrs.join(",")}`);
      for (const a of await ipam.listAllocations(pool.ipamPoolId)) fromStore.add(`IpamPoolAllocation ${a.ipamPoolAllocationId} ${a.cidr}`);
    }
  });
  return [...[...fromState].filter((x) => !fromStore.has(x)).map((x) => `state only: ${x}`), ...[...fromStore].filter((x) => !fromState.has(x)).map((x) => `store only: ${x}`)];
}

describe(`fast mode: kill -9 of up --fast over ${FAST_N} allocations, then cancel and re-run`, () => {
  test(`${FAST_TRIALS} trials: the re-run's state is exactly the store, 0 leaked, 0 duplicated`, async () => {
    let seed = 20261201;
    const rand = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    const report: string[] = [];
    const t0 = Date.now();
    for (let t = 0; t < FAST_TRIALS; t++) {
      const p = project(SCALE, { IPAM_SCALE_N: String(FAST_N) });
      try {
        // Even trials: a random moment (the preview or the update). Odd: right after the k-th allocation commits.
        const delay = 500 + Math.floor(rand() * 11_500); // an undisturbed up --fast of 500 takes about 12 s here
        const k = 1 + Math.floor(rand() * FAST_N);
        const up = start(p, ["up", "--fast"]);
        const moment = t % 2 === 0 ? `after ${delay} ms` : `at allocation #${k} in the store`;
        if (t % 2 === 0) await new Promise((r) => setTimeout(r, delay));
        else await untilAllocations(p, k, up.done);
        const finished = up.exited();
        up.kill();
        await up.done;
        reapPlugins(p);
        repairCheckpoint(p);
        const made = allocationsInStore(p);
        let recorded = 0; // the kill may come before the stack exists
        try { recorded = exportState(p).filter((r) => r.type.endsWith(":IpamPoolAllocation")).length; } catch { /* none */ }
        const cancel = run(p, ["cancel"]);
        const t1 = Date.now();
        const again = run(p, ["up", "--fast"]);
        if (again.code !== 0) throw new Error(failure(`fast trial ${t} (killed ${moment}): re-run (cancel said: ${cancel.stderr.trim() || "ok"})`, again));
        const a = await audit(p);
        const diff = await stateVersusStore(p);
        report.push(`fast trial ${t}: killed ${moment}${finished ? " (up had already finished)" : ""}: ${made} allocation(s) in the store, ${recorded} in the state; re-run ${((Date.now() - t1) / 1000).toFixed(1)} s: ${a.managed} resources, leaked ${a.leaked.length}, duplicated ${a.duplicated.length}, state vs store differences ${diff.length}`);
        expect(a).toEqual({ leaked: [], duplicated: [], managed: FAST_N + 1 });
        expect(diff).toEqual([]);
      } finally {
        cleanup(p);
      }
    }
    report.push(`fast mode: ${FAST_TRIALS} trials in ${((Date.now() - t0) / 1000).toFixed(0)} s`);
    process.stdout.write(report.join("\n") + "\n");
  }, 3_600_000);
});
