/**
 * Fast mode through the real Pulumi CLI (provider/cli/fast.ts): `up --fast`
 * saves only the final checkpoint when every resource is ours, and refuses
 * before changing anything, naming the resources, when the program has
 * another; `destroy --fast` likewise from the state. And what a resource of
 * ours keeps in the state: only what its methods and the program need.
 */
import Database from "better-sqlite3";
import * as fs from "node:fs";
import * as path from "node:path";
import { cleanup, exportState, project, Project, ROOT, run, start, withIpam } from "../support/pulumi";

const SCALE = path.join(ROOT, "tests/e2e/programs/scale");
const FOREIGN = "urn:pulumi:dev::ipam-e2e-scale::pulumi-nodejs:dynamic:Resource::foreign";

function storeCounts(p: Project): { pools: number; allocations: number } {
  if (!fs.existsSync(p.store)) return { pools: 0, allocations: 0 };
  const db = new Database(p.store, { readonly: true });
  try {
    const n = (t: string) => (db.prepare(`SELECT count(*) AS n FROM ${t}`).get() as { n: number }).n;
    return { pools: n("ipam_pools"), allocations: n("ipam_allocations") };
  } finally {
    db.close();
  }
}

/** How many times the stack's checkpoint file changed while `args` ran (polled every 5 ms). */
async function checkpointWrites(p: Project, args: string[]): Promise<number> {
  const file = path.join(p.dir, "state", ".pulumi", "stacks", "ipam-e2e-scale", "dev.json");
  const seen = new Set<string>();
  const cmd = start(p, args);
  while (!cmd.exited()) {
    try {
      const s = fs.statSync(file);
      seen.add(`${s.mtimeMs}/${s.size}/${s.ino}`);
    } catch { /* not written yet */ }
    await new Promise((r) => setTimeout(r, 5));
  }
  expect(await cmd.done).toBe(0);
  return seen.size;
}

describe("fast mode", () => {
  let p: Project;
  afterEach(() => cleanup(p));

  test("up --fast with a resource that is not ours refuses before changing anything, naming it (a component is fine)", async () => {
    p = project(SCALE, { IPAM_SCALE_N: "3", IPAM_SCALE_FOREIGN: "1" });
    const r = run(p, ["up", "--fast"]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("--fast refused: the program registers 1 resource(s) that are not pulumi-ipam's");
    expect(r.stderr).toContain(FOREIGN);
    expect(r.stderr).not.toContain("test:index:Group");
    expect(exportState(p)).toEqual([]);
    expect(storeCounts(p)).toEqual({ pools: 0, allocations: 0 });
    // Without --fast the same program runs, and then destroy --fast refuses from the state.
    expect(run(p, ["up"]).code).toBe(0);
    const d = run(p, ["destroy", "--fast"]);
    expect(d.code).toBe(1);
    expect(d.stderr).toContain(`--fast refused: the stack holds 1 resource(s) that are not pulumi-ipam's`);
    expect(d.stderr).toContain(FOREIGN);
    // Nothing deleted: the stack, the dynamic provider, the group, the pool, 3 allocations and the foreign resource.
    expect(exportState(p).length).toBe(8);
    expect(storeCounts(p)).toEqual({ pools: 1, allocations: 3 });
  });

  test("up --fast of our resources writes the checkpoint about once, where up writes it per step; the same allocations", async () => {
    p = project(SCALE, { IPAM_SCALE_N: "40" });
    const fastWrites = await checkpointWrites(p, ["up", "--fast"]);
    const fastState = exportState(p);
    expect(fastState.filter((r) => r.type.endsWith(":IpamPoolAllocation"))).toHaveLength(40);
    expect(run(p, ["preview", "--expect-no-changes"]).code).toBe(0);
    expect(run(p, ["destroy", "--fast"]).code).toBe(0);
    expect(storeCounts(p)).toEqual({ pools: 0, allocations: 0 });
    const slowWrites = await checkpointWrites(p, ["up"]);
    process.stdout.write(`checkpoint versions seen: up --fast ${fastWrites}, up ${slowWrites} (40 allocations)\n`);
    expect(fastWrites).toBeLessThanOrEqual(2);
    expect(slowWrites).toBeGreaterThan(10);
    // A new incarnation plans afresh (in the order checks come), so the same set of CIDRs, not per name.
    const cidrs = (s: any[]) => s.filter((r) => r.type.endsWith(":IpamPoolAllocation")).map((r) => r.outputs.cidr as string).sort();
    expect(cidrs(exportState(p))).toEqual(cidrs(fastState));
    expect(new Set(cidrs(fastState)).size).toBe(40);
  });

  test("an allocation's state holds only what its methods and the program read", async () => {
    p = project(SCALE, { IPAM_SCALE_N: "5" });
    expect(run(p, ["up", "--fast"]).code).toBe(0);
    const allocations = exportState(p).filter((r) => r.type === "pulumi-nodejs:dynamic/ipam:IpamPoolAllocation");
    expect(allocations).toHaveLength(5);
    for (const a of allocations) {
      expect(Object.keys(a.inputs).sort()).toEqual(["__provider", "cidr", "ipamPoolId", "planKey", "planNonce"]);
      expect(Object.keys(a.outputs).sort()).toEqual(["__provider", "cidr", "ipamPoolAllocationId", "ipamPoolId", "planKey", "planNonce", "resourceType"]);
      expect(a.inputs.__provider).toBe('exports.handler = () => require("pulumi-ipam/dist/provider/pulumi/providers/IpamPoolAllocation.js");\n');
      // Only the program's own frame: its source position.
      expect(a.sourcePosition).toMatch(/^project:\/\/\/index\.ts#\d+,\d+$/);
      expect(a.stackTrace).toEqual([{ sourcePosition: a.sourcePosition }]);
      expect(JSON.stringify(a).length).toBeLessThan(1700);
    }
    // What the store says is what the state says.
    const inStore = await withIpam(p, async (ipam) => (await ipam.listAllocations(allocations[0].outputs.ipamPoolId)).map((x) => [x.ipamPoolAllocationId, x.cidr]));
    expect(Object.fromEntries(inStore)).toEqual(Object.fromEntries(allocations.map((a) => [a.id, a.outputs.cidr])));
  });
});
