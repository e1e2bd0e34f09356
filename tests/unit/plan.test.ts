/** Plan reservations: what check() promises in preview is what a later process commits, in any order. */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { Ipam } from "../../provider/core/ipam";
import { Planner } from "../../provider/core/plan";
import { SqliteStore } from "../../provider/stores/sqlite";
import { MemoryStore } from "../../provider/stores/memory";

const scratch = () => new MemoryStore();
const KEYS = ["p/dev/IpamPoolAllocation/a", "p/dev/IpamPoolAllocation/b", "p/dev/IpamPoolAllocation/c"];

describe("Planner", () => {
  let dir: string;
  let file: string;
  const open = () => { const s = new SqliteStore(file); return { store: s, ipam: new Ipam(s), planner: new Planner(new Ipam(s), scratch) }; };
  beforeEach(() => { dir = fs.mkdtempSync(path.join(os.tmpdir(), "plan-")); file = path.join(dir, "ipam.db"); });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  test("siblings in a pool planned in the same program get distinct CIDRs, tags rules and all", async () => {
    const { store, planner } = open();
    const top = await planner.planPool("p/dev/IpamPool/top", { addressFamily: "ipv4", cidrs: ["10.0.0.0/8"] });
    const child = await planner.planPool("p/dev/IpamPool/child", {
      addressFamily: "ipv4", sourceIpamPoolId: top.ipamPoolId, netmaskLength: 16,
      allocationDefaultNetmaskLength: 24, allocationResourceTags: { env: "prod" },
    });
    expect(child.cidrs).toEqual(["10.0.0.0/16"]);
    const plans = [];
    for (const [i, key] of KEYS.entries()) {
      plans.push(await planner.planAllocation(key, { ipamPoolId: child.ipamPoolId, netmaskLength: i === 1 ? 22 : undefined, resourceTags: { env: "prod" } }));
    }
    expect(plans.map((p) => p.cidrs[0])).toEqual(["10.0.0.0/24", "10.0.4.0/22", "10.0.1.0/24"]);
    await store.close();
  });

  test("another process, planning in another order, gets the same CIDRs and commits exactly them", async () => {
    const first = open();
    const pool = await first.ipam.createPool({ addressFamily: "ipv4", cidrs: ["10.1.0.0/16"], allocationDefaultNetmaskLength: 24 });
    const preview = [];
    for (const key of KEYS) preview.push((await first.planner.planAllocation(key, { ipamPoolId: pool.ipamPoolId })).cidrs[0]);
    await first.store.close();

    const second = open();
    const got: Record<string, string> = {};
    for (const key of [...KEYS].reverse()) {
      const plan = await second.planner.planAllocation(key, { ipamPoolId: pool.ipamPoolId });
      got[key] = (await second.planner.commitAllocation(key, { ipamPoolId: pool.ipamPoolId }, plan)).cidr;
    }
    expect(KEYS.map((k) => got[k])).toEqual(preview);
    await second.store.close();
  });

  test("a re-run after a crash between commit and checkpoint gets the same allocation back", async () => {
    const { store, ipam, planner } = open();
    const pool = await ipam.createPool({ addressFamily: "ipv4", cidrs: ["10.2.0.0/16"], allocationDefaultNetmaskLength: 24 });
    const plan = await planner.planAllocation(KEYS[0], { ipamPoolId: pool.ipamPoolId });
    const a = await planner.commitAllocation(KEYS[0], { ipamPoolId: pool.ipamPoolId }, plan);
    // The engine never recorded it: check() runs again, then create().
    const again = await planner.planAllocation(KEYS[0], { ipamPoolId: pool.ipamPoolId });
    expect(again.cidrs).toEqual(plan.cidrs);
    expect(again.clientToken).toBe(plan.clientToken);
    const b = await planner.commitAllocation(KEYS[0], { ipamPoolId: pool.ipamPoolId }, again);
    expect(b.ipamPoolAllocationId).toBe(a.ipamPoolAllocationId);
    expect(await ipam.listAllocations(pool.ipamPoolId)).toHaveLength(1);
    // Deleted: the name gets a new token next time.
    await ipam.release({ ipamPoolId: pool.ipamPoolId, ipamPoolAllocationId: a.ipamPoolAllocationId });
    await planner.forget(KEYS[0], plan.nonce);
    expect((await planner.planAllocation(KEYS[0], { ipamPoolId: pool.ipamPoolId })).clientToken).not.toBe(plan.clientToken);
    await store.close();
  });

  test("a planned CIDR taken in between is re-planned and reported; expired plans stop steering", async () => {
    const { store, ipam, planner } = open();
    const pool = await ipam.createPool({ addressFamily: "ipv4", cidrs: ["10.3.0.0/16"], allocationDefaultNetmaskLength: 24 });
    const plan = await planner.planAllocation(KEYS[0], { ipamPoolId: pool.ipamPoolId }, { now: 1000, ttlMs: 500 });
    await ipam.allocate({ ipamPoolId: pool.ipamPoolId, cidr: plan.cidrs[0] });
    const moved = await planner.planAllocation(KEYS[0], { ipamPoolId: pool.ipamPoolId }, { now: 1100, ttlMs: 500 });
    expect(moved.previouslyPlanned).toEqual(["10.3.0.0/24"]);
    expect(moved.cidrs).toEqual(["10.3.1.0/24"]);
    // KEYS[1] plans around KEYS[0]'s live reservation, and takes its place once it expired.
    expect((await planner.planAllocation(KEYS[1], { ipamPoolId: pool.ipamPoolId }, { now: 1200 })).cidrs).toEqual(["10.3.2.0/24"]);
    expect((await planner.planAllocation(KEYS[2], { ipamPoolId: pool.ipamPoolId }, { now: 5000 })).cidrs).toEqual(["10.3.1.0/24"]);
    await store.close();
  });
});
