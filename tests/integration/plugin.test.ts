/**
 * The provider plugin's resource methods called in process, without an
 * engine, as the engine calls them (pulumi-command's provider/tests do the
 * same): check with the program's inputs, diff against the state's outputs,
 * create/update/read/delete, each with the resource's URN. Each test runs on
 * a fresh SQLite store, whose rows are read on a connection of its own.
 */
import { Ipam } from "../../provider/core/ipam";
import { provider } from "../../provider/plugin/provider";
import { UNKNOWN } from "../../provider/runtime/context";
import { openStore } from "../../provider/stores";
import { freshStore, isolateEnv, removeFreshStores, Kind, StoreFile, urn } from "../support/plugin";

type Props = Record<string, any>;

let restoreEnv: () => void;
let store: ReturnType<typeof freshStore>;
let rows: StoreFile;

const cwd = process.cwd();
beforeAll(() => {
  restoreEnv = isolateEnv();
  // A store left unconfigured would default to .pulumi-ipam/ in the working directory: not the checkout's.
  process.chdir(freshStore().dir);
});
afterAll(() => {
  process.chdir(cwd);
  restoreEnv();
  removeFreshStores();
});

beforeEach(() => {
  store = freshStore();
  provider.configure({ store: store.url });
  rows = new StoreFile(store.file);
});
afterEach(() => rows.close());

/** check then create, as `pulumi up` does for a new resource; fails the test on check failures. */
async function up(u: string, news: Props): Promise<{ id: string; inputs: Props; outs: Props }> {
  const checked = await provider.check(u, {}, news);
  expect(checked.failures).toEqual([]);
  const created = await provider.create(u, checked.inputs);
  return { id: created.id, inputs: checked.inputs, outs: created.outs };
}

const CORP = { addressFamily: "ipv4", cidrs: ["10.0.0.0/16"], allocationMinNetmaskLength: 20, allocationMaxNetmaskLength: 28, allocationDefaultNetmaskLength: 24 };

async function corpPool(): Promise<string> {
  const pool = await up(urn("IpamPool", "corp"), CORP);
  expect(pool.outs.ipamPoolId).toBe(pool.id);
  return pool.id;
}

describe("IpamPoolAllocation", () => {
  test("check plans a CIDR under a reservation keyed by the URN; planning again keeps it; a sibling gets another", async () => {
    const poolId = await corpPool();
    const allocations = rows.count("ipam_allocations");
    const app = urn("IpamPoolAllocation", "app");
    const first = await provider.check(app, {}, { ipamPoolId: poolId, netmaskLength: 24 });
    expect(first.failures).toEqual([]);
    expect(first.inputs.cidr).toMatch(/^10\.0\.\d+\.0\/24$/);
    expect(first.inputs).not.toHaveProperty("planKey");
    const r = rows.reservations().get(app);
    expect(r).toMatchObject({ kind: "allocation", cidrs: [first.inputs.cidr] });
    expect(r!.expiresAt).toBeGreaterThan(Date.now());

    const again = await provider.check(app, {}, { ipamPoolId: poolId, netmaskLength: 24 });
    expect(again.inputs.cidr).toBe(first.inputs.cidr);

    const db = urn("IpamPoolAllocation", "db");
    const sibling = await provider.check(db, {}, { ipamPoolId: poolId, netmaskLength: 24 });
    expect(sibling.inputs.cidr).toMatch(/\/24$/);
    expect(sibling.inputs.cidr).not.toBe(first.inputs.cidr);
    expect(rows.reservations().get(db)?.cidrs).toEqual([sibling.inputs.cidr]);
    // Planning allocates nothing.
    expect(rows.count("ipam_allocations")).toBe(allocations);
  });

  test("in a preview whose pool is not known yet, check answers an unknown cidr and plans nothing", async () => {
    await corpPool();
    const before = rows.dump();
    const r = await provider.check(urn("IpamPoolAllocation", "later"), {}, { ipamPoolId: UNKNOWN, netmaskLength: 24 });
    expect(r.failures).toEqual([]);
    expect(r.inputs.cidr).toBe(UNKNOWN);
    expect(rows.dump()).toBe(before);
  });

  test("create allocates exactly the planned CIDR and holds the reservation", async () => {
    const poolId = await corpPool();
    const app = urn("IpamPoolAllocation", "app");
    const checked = await provider.check(app, {}, { ipamPoolId: poolId, netmaskLength: 26, description: "app" });
    // Another resource planned after it does not take its CIDR at create.
    await provider.check(urn("IpamPoolAllocation", "other"), {}, { ipamPoolId: poolId, netmaskLength: 26 });
    const created = await provider.create(app, checked.inputs);
    expect(created.id).toMatch(/^ipam-pool-alloc-/);
    expect(created.outs).toMatchObject({ cidr: checked.inputs.cidr, ipamPoolAllocationId: created.id, ipamPoolId: poolId, description: "app" });
    expect(created.outs).not.toHaveProperty("planKey");
    expect(rows.allocation(created.id)).toMatchObject({ cidr: checked.inputs.cidr, description: "app" });
    expect(rows.reservations().get(app)?.expiresAt).toBe(0);
  });

  test("diff: unchanged inputs no change, description an update in place, netmaskLength a replacement; update writes the store", async () => {
    const poolId = await corpPool();
    const app = urn("IpamPoolAllocation", "app");
    const news = { ipamPoolId: poolId, netmaskLength: 24, description: "app" };
    const made = await up(app, news);

    // What the engine does on the next run: check(old inputs, program inputs), then diff(state outputs, checked inputs).
    const same = await provider.check(app, made.inputs, news);
    expect(same.inputs.cidr).toBe(made.outs.cidr);
    expect(await provider.diff(made.id, app, made.outs, same.inputs)).toMatchObject({ changes: false, replaces: [] });

    const described = await provider.check(app, made.inputs, { ...news, description: "application" });
    expect(described.inputs.cidr).toBe(made.outs.cidr);
    expect(await provider.diff(made.id, app, made.outs, described.inputs)).toMatchObject({ changes: true, replaces: [] });
    const updated = await provider.update(made.id, app, made.outs, described.inputs);
    expect(updated.outs).toMatchObject({ cidr: made.outs.cidr, ipamPoolAllocationId: made.id, description: "application" });
    expect(rows.allocation(made.id)).toMatchObject({ cidr: made.outs.cidr, description: "application" });

    const resized = await provider.check(app, described.inputs, { ...news, netmaskLength: 25 });
    expect(resized.inputs.cidr).toMatch(/\/25$/);
    const d = await provider.diff(made.id, app, updated.outs, resized.inputs);
    expect(d.changes).toBe(true);
    expect(d.replaces).toContain("cidr");
  });

  test("read after create returns the same properties; an import read returns the inputs with the real cidr, and the next check and diff keep it", async () => {
    const poolId = await corpPool();
    const app = urn("IpamPoolAllocation", "app");
    const made = await up(app, { ipamPoolId: poolId, netmaskLength: 24, description: "app" });
    const refreshed = await provider.read(made.id, app, made.outs, made.inputs);
    expect(refreshed.id).toBe(made.id);
    expect(refreshed.props).toEqual(made.outs);
    expect(refreshed.inputs.cidr).toBe(made.outs.cidr);

    // An allocation made outside Pulumi, on another connection to the same store.
    const outside = new Ipam(openStore(store.url));
    const a = await outside.allocate({ ipamPoolId: poolId, netmaskLength: 22 });
    await outside.store.close();

    const imported = urn("IpamPoolAllocation", "imported");
    const read = await provider.read(a.ipamPoolAllocationId, imported, {}, {});
    expect(read.id).toBe(a.ipamPoolAllocationId);
    expect(read.inputs).toMatchObject({ ipamPoolId: poolId, cidr: a.cidr });
    expect(read.inputs).not.toHaveProperty("planKey");
    expect(read.props).toMatchObject({ ipamPoolId: poolId, cidr: a.cidr, ipamPoolAllocationId: a.ipamPoolAllocationId });
    const before = rows.dump();
    const checked = await provider.check(imported, read.inputs, { ipamPoolId: poolId });
    expect(checked.failures).toEqual([]);
    expect(checked.inputs.cidr).toBe(a.cidr);
    expect(await provider.diff(read.id, imported, read.props, checked.inputs)).toMatchObject({ changes: false, replaces: [] });
    // Keeping an existing CIDR plans nothing.
    expect(rows.dump()).toBe(before);
  });

  test("read after a release outside Pulumi answers an empty id; delete releases and forgets", async () => {
    const poolId = await corpPool();
    const app = urn("IpamPoolAllocation", "app");
    const gone = await up(app, { ipamPoolId: poolId, netmaskLength: 24 });
    const outside = new Ipam(openStore(store.url));
    await outside.release({ ipamPoolId: poolId, ipamPoolAllocationId: gone.id });
    await outside.store.close();
    expect(await provider.read(gone.id, app, gone.outs, gone.inputs)).toEqual({ id: "", props: {}, inputs: {} });
    // Refresh forgot the plan: the resource's next incarnation gets a new ClientToken.
    expect(rows.reservations().has(app)).toBe(false);
    const again = await up(app, { ipamPoolId: poolId, netmaskLength: 24 });
    expect(again.id).not.toBe(gone.id);
    expect(rows.allocation(again.id)?.cidr).toBe(again.outs.cidr);

    const db = urn("IpamPoolAllocation", "db");
    const kept = await up(db, { ipamPoolId: poolId, netmaskLength: 24 });
    expect(rows.allocation(kept.id)).toBeDefined();
    await provider.delete(kept.id, db, kept.outs);
    expect(rows.allocation(kept.id)).toBeUndefined();
    expect(rows.reservations().has(db)).toBe(false);
  });
});

describe("the engine's other flows", () => {
  test("a replacement (create before delete, one URN): the new allocation keeps its reservation held when the old one is deleted", async () => {
    const poolId = await corpPool();
    const app = urn("IpamPoolAllocation", "app");
    const old = await up(app, { ipamPoolId: poolId, netmaskLength: 24 });
    const resized = await provider.check(app, old.inputs, { ipamPoolId: poolId, netmaskLength: 25 });
    expect((await provider.diff(old.id, app, old.outs, resized.inputs)).replaces).toContain("cidr");
    const made = await provider.create(app, resized.inputs);
    expect(made.outs.cidr).toBe(resized.inputs.cidr);
    await provider.delete(old.id, app, old.outs);
    expect(rows.allocation(old.id)).toBeUndefined();
    expect(rows.allocation(made.id)?.cidr).toBe(resized.inputs.cidr);
    expect(rows.reservations().get(app)).toMatchObject({ cidrs: [resized.inputs.cidr], expiresAt: 0 });
  });

  test("create run again after a crash before the checkpoint returns the same allocation", async () => {
    const poolId = await corpPool();
    const app = urn("IpamPoolAllocation", "app");
    const checked = await provider.check(app, {}, { ipamPoolId: poolId });
    const first = await provider.create(app, checked.inputs);
    const again = await provider.create(app, checked.inputs);
    expect(again).toEqual(first);
    expect(rows.count("ipam_allocations")).toBe(1);
  });

  test("after a refresh of unchanged resources, the next check and diff show no change", async () => {
    const pu = urn("IpamPool", "corp");
    const pool = await up(pu, CORP);
    const resources: [string, Props][] = [
      [pu, CORP],
      [urn("IpamPool", "east"), { addressFamily: "ipv4", sourceIpamPoolId: pool.id, netmaskLength: 20 }],
      [urn("IpamPoolAllocation", "app"), { ipamPoolId: pool.id }],
      [urn("ElasticIp", "nat"), { ipamPoolId: pool.id }],
    ];
    for (const [u, news] of resources) {
      const made = u === pu ? pool : await up(u, news);
      const refreshed = await provider.read(made.id, u, made.outs, made.inputs);
      const checked = await provider.check(u, refreshed.inputs, news);
      expect(checked.failures).toEqual([]);
      expect([u, await provider.diff(made.id, u, refreshed.props, checked.inputs)]).toEqual([u, expect.objectContaining({ changes: false, replaces: [] })]);
    }
  });

  test("refresh reports a description changed outside Pulumi in the properties and the inputs", async () => {
    const poolId = await corpPool();
    const app = urn("IpamPoolAllocation", "app");
    const made = await up(app, { ipamPoolId: poolId, description: "app" });
    const outside = new Ipam(openStore(store.url));
    await outside.updateAllocation({ ipamPoolId: poolId, ipamPoolAllocationId: made.id, description: "changed" });
    await outside.store.close();
    const r = await provider.read(made.id, app, made.outs, made.inputs);
    expect(r.props.description).toBe("changed");
    expect(r.inputs.description).toBe("changed");
    expect(r.inputs.cidr).toBe(made.outs.cidr);
  });

  test("a top-level pool's added CIDR is provisioned in place", async () => {
    const u = urn("IpamPool", "corp");
    const pool = await up(u, CORP);
    const grown = await provider.check(u, pool.inputs, { ...CORP, cidrs: [...CORP.cidrs, "10.1.0.0/16"] });
    expect(grown.inputs.ipamPoolId).toBe(pool.id);
    expect(await provider.diff(pool.id, u, pool.outs, grown.inputs)).toMatchObject({ changes: true, replaces: [] });
    const updated = await provider.update(pool.id, u, pool.outs, grown.inputs);
    expect(updated.outs.cidrs).toEqual(["10.0.0.0/16", "10.1.0.0/16"]);
    const a = await up(urn("IpamPoolAllocation", "big"), { ipamPoolId: pool.id, netmaskLength: 20, allowedCidrs: ["10.1.0.0/16"] });
    expect(a.outs.cidr).toBe("10.1.0.0/20");
  });

  test("configured strictPlan fails a check whose planned CIDR was taken; without it the plan moves and says so", async () => {
    const poolId = await corpPool();
    const app = urn("IpamPoolAllocation", "app");
    const planned = await provider.check(app, {}, { ipamPoolId: poolId });
    const outside = new Ipam(openStore(store.url));
    await outside.allocate({ ipamPoolId: poolId, cidr: planned.inputs.cidr });
    await outside.store.close();

    provider.configure({ store: store.url, strictPlan: true });
    // The plan itself moves (the planner records it before the handler sees the change), and the failure stays.
    // Reservations and their index (ipam_reserved) move with the plan; nothing else changes.
    const before = rows.dump(["ipam_reservations", "ipam_reserved"]);
    for (let i = 0; i < 2; i++) {
      const strict = await provider.check(app, {}, { ipamPoolId: poolId });
      expect(strict.failures).toEqual([{ property: "cidr", reason: expect.stringContaining(`planned ${planned.inputs.cidr} earlier`) }]);
    }
    expect(rows.dump(["ipam_reservations", "ipam_reserved"])).toBe(before);

    provider.configure({ store: store.url });
    const moved = await provider.check(app, {}, { ipamPoolId: poolId });
    expect(moved.failures).toEqual([]);
    expect(moved.inputs.cidr).not.toBe(planned.inputs.cidr);
    expect(moved.inputs.planNote).toContain(`planned ${planned.inputs.cidr} earlier`);
  });

  test("configured planTtlSeconds sets how long a plan steers others", async () => {
    const poolId = await corpPool();
    provider.configure({ store: store.url, planTtlSeconds: 60 });
    const app = urn("IpamPoolAllocation", "app");
    const t = Date.now();
    await provider.check(app, {}, { ipamPoolId: poolId });
    const expiresAt = rows.reservations().get(app)!.expiresAt;
    expect(expiresAt).toBeGreaterThanOrEqual(t + 60_000);
    expect(expiresAt).toBeLessThanOrEqual(Date.now() + 60_000);
  });
});

describe("IpamPool", () => {
  test("top-level and nested (by netmaskLength): planned in check, created as planned, diffed, read, imported, deleted", async () => {
    const corpUrn = urn("IpamPool", "corp");
    const corpChecked = await provider.check(corpUrn, {}, CORP);
    expect(corpChecked.failures).toEqual([]);
    expect(corpChecked.inputs.ipamPoolId).toMatch(/^ipam-pool-[0-9a-f]{17}$/);
    expect(rows.reservations().get(corpUrn)).toMatchObject({ kind: "pool", cidrs: ["10.0.0.0/16"] });
    // The nested pool is planned inside the planned (not yet created) pool.
    const eastUrn = urn("IpamPool", "east");
    const eastNews = { addressFamily: "ipv4", sourceIpamPoolId: corpChecked.inputs.ipamPoolId, netmaskLength: 20, description: "east" };
    const eastChecked = await provider.check(eastUrn, {}, eastNews);
    expect(eastChecked.failures).toEqual([]);
    expect(eastChecked.inputs.cidrs).toEqual([expect.stringMatching(/^10\.0\.\d+\.0\/20$/)]);
    expect((await provider.check(eastUrn, {}, eastNews)).inputs).toEqual(eastChecked.inputs);
    const westChecked = await provider.check(urn("IpamPool", "west"), {}, { ...eastNews, description: "west" });
    expect(westChecked.inputs.cidrs).not.toEqual(eastChecked.inputs.cidrs);

    const corp = await provider.create(corpUrn, corpChecked.inputs);
    expect(corp.id).toBe(corpChecked.inputs.ipamPoolId);
    const east = await provider.create(eastUrn, eastChecked.inputs);
    expect(east.id).toBe(eastChecked.inputs.ipamPoolId);
    expect(east.outs).toMatchObject({ ipamPoolId: east.id, cidrs: eastChecked.inputs.cidrs, poolDepth: 2, sourceIpamPoolId: corp.id });
    expect(rows.count("ipam_pools")).toBe(2);

    const same = await provider.check(eastUrn, eastChecked.inputs, eastNews);
    expect(same.inputs.cidrs).toEqual(east.outs.cidrs);
    expect(await provider.diff(east.id, eastUrn, east.outs, same.inputs)).toMatchObject({ changes: false, replaces: [] });
    const described = await provider.check(eastUrn, eastChecked.inputs, { ...eastNews, description: "us-east" });
    expect(await provider.diff(east.id, eastUrn, east.outs, described.inputs)).toMatchObject({ changes: true, replaces: [] });
    const updated = await provider.update(east.id, eastUrn, east.outs, described.inputs);
    expect(updated.outs).toMatchObject({ description: "us-east", cidrs: east.outs.cidrs });
    const resized = await provider.check(eastUrn, described.inputs, { ...eastNews, netmaskLength: 21 });
    expect((await provider.diff(east.id, eastUrn, updated.outs, resized.inputs)).replaces).toContain("netmaskLength");

    const refreshed = await provider.read(east.id, eastUrn, updated.outs, described.inputs);
    expect(refreshed.id).toBe(east.id);
    expect(refreshed.props).toMatchObject({ ipamPoolId: east.id, cidrs: east.outs.cidrs, description: "us-east" });
    const imported = await provider.read(corp.id, urn("IpamPool", "corp-imported"), {}, {});
    expect(imported.inputs).toMatchObject({ addressFamily: "ipv4", cidrs: ["10.0.0.0/16"], allocationDefaultNetmaskLength: 24 });
    expect(imported.inputs).not.toHaveProperty("planKey");

    // Dependents first, as the engine deletes.
    await provider.delete(east.id, eastUrn, updated.outs);
    expect(await provider.read(east.id, eastUrn, updated.outs, described.inputs)).toMatchObject({ id: "" });
    await provider.delete(corp.id, corpUrn, corp.outs);
    expect(rows.count("ipam_pools")).toBe(0);
    expect(rows.count("ipam_allocations")).toBe(0);
    // What remains are plans never applied, until they expire: the sibling's, and east's resize (its check replaced east's held reservation).
    const left = rows.reservations();
    expect([...left.keys()].sort()).toEqual([eastUrn, urn("IpamPool", "west")]);
    expect(left.get(eastUrn)).toMatchObject({ cidrs: resized.inputs.cidrs, expiresAt: expect.any(Number) });
    expect(left.get(eastUrn)!.expiresAt).toBeGreaterThan(Date.now());
  });
});

describe("IpamPool gone outside Pulumi", () => {
  test("read answers an empty id for a pool deleted outside Pulumi, and delete then succeeds", async () => {
    const u = urn("IpamPool", "corp");
    const pool = await up(u, CORP);
    const outside = new Ipam(openStore(store.url));
    await outside.deletePool({ ipamPoolId: pool.id });
    await outside.store.close();
    expect(await provider.read(pool.id, u, pool.outs, pool.inputs)).toEqual({ id: "", props: {}, inputs: {} });
    expect(rows.reservations().has(u)).toBe(false);
    await provider.delete(pool.id, u, pool.outs);
    expect(rows.count("ipam_pools")).toBe(0);
    // Refresh dropped it; the next up makes a new pool, not the deleted one's record replayed.
    const again = await up(u, CORP);
    expect(again.id).not.toBe(pool.id);
    expect(rows.count("ipam_pools")).toBe(1);
  });
});

describe("ElasticIp", () => {
  test("check plans the lowest free address, create takes it, tags update in place, read, delete releases", async () => {
    const pub = await up(urn("IpamPool", "public"), { addressFamily: "ipv4", cidrs: ["198.51.100.0/28"] });
    const natUrn = urn("ElasticIp", "nat");
    const checked = await provider.check(natUrn, {}, { ipamPoolId: pub.id });
    expect(checked.failures).toEqual([]);
    expect(checked.inputs.publicIp).toBe("198.51.100.0");
    expect(rows.reservations().get(natUrn)).toMatchObject({ kind: "address", cidrs: ["198.51.100.0/32"] });
    const second = await provider.check(urn("ElasticIp", "nat2"), {}, { ipamPoolId: pub.id });
    expect(second.inputs.publicIp).toBe("198.51.100.1");

    const nat = await provider.create(natUrn, checked.inputs);
    expect(nat.id).toMatch(/^eipalloc-/);
    expect(nat.outs).toMatchObject({ publicIp: "198.51.100.0", allocationId: nat.id });
    expect(rows.count("ipam_addresses")).toBe(1);

    const same = await provider.check(natUrn, checked.inputs, { ipamPoolId: pub.id });
    expect(await provider.diff(nat.id, natUrn, nat.outs, same.inputs)).toMatchObject({ changes: false, replaces: [] });
    const tagged = await provider.check(natUrn, checked.inputs, { ipamPoolId: pub.id, tags: { team: "net" } });
    expect(await provider.diff(nat.id, natUrn, nat.outs, tagged.inputs)).toMatchObject({ changes: true, replaces: [] });
    const updated = await provider.update(nat.id, natUrn, nat.outs, tagged.inputs);
    expect(updated.outs).toMatchObject({ publicIp: "198.51.100.0", tags: { team: "net" } });

    const read = await provider.read(nat.id, natUrn, updated.outs, tagged.inputs);
    expect(read.id).toBe(nat.id);
    expect(read.props).toEqual(updated.outs);

    // Another pool is a replacement.
    const other = await up(urn("IpamPool", "other"), { addressFamily: "ipv4", cidrs: ["203.0.113.0/28"] });
    const moved = await provider.check(natUrn, tagged.inputs, { ipamPoolId: other.id, tags: { team: "net" } });
    expect(moved.inputs.publicIp).toBe("203.0.113.0");
    expect((await provider.diff(nat.id, natUrn, updated.outs, moved.inputs)).replaces).toEqual(expect.arrayContaining(["ipamPoolId", "publicIp"]));

    await provider.delete(nat.id, natUrn, updated.outs);
    expect(rows.count("ipam_addresses")).toBe(0);
    expect(await provider.read(nat.id, natUrn, updated.outs, tagged.inputs)).toMatchObject({ id: "" });
    // What remains is the plan of the move, never applied (its check replaced the held reservation).
    expect(rows.reservations().get(natUrn)).toMatchObject({ cidrs: ["203.0.113.0/32"] });
    await provider.delete(pub.id, urn("IpamPool", "public"), pub.outs);
    await provider.delete(other.id, urn("IpamPool", "other"), other.outs);
    for (const t of ["ipam_pools", "ipam_allocations", "ipam_addresses"] as const) expect([t, rows.count(t)]).toEqual([t, 0]);
  });

  test("read after a release outside Pulumi answers an empty id", async () => {
    const pub = await up(urn("IpamPool", "public"), { addressFamily: "ipv4", cidrs: ["198.51.100.0/28"] });
    const natUrn = urn("ElasticIp", "nat");
    const nat = await up(natUrn, { ipamPoolId: pub.id });
    const outside = new Ipam(openStore(store.url));
    await outside.releaseAddress({ allocationId: nat.id });
    await outside.store.close();
    expect(await provider.read(nat.id, natUrn, nat.outs, nat.inputs)).toEqual({ id: "", props: {}, inputs: {} });
    // Refresh forgot the plan: the resource's next incarnation gets a new ClientToken.
    expect(rows.reservations().has(natUrn)).toBe(false);
    // Refresh dropped it from the state; the next up makes it again: a live address, not the released one's record replayed.
    const again = await up(natUrn, { ipamPoolId: pub.id });
    expect(again.id).not.toBe(nat.id);
    expect(rows.count("ipam_addresses")).toBe(1);
    expect(await provider.read(again.id, natUrn, again.outs, again.inputs)).toMatchObject({ id: again.id, props: { publicIp: again.outs.publicIp } });
    // Deleting what is already gone succeeds (a destroy from a state that still had it).
    await provider.delete(nat.id, natUrn, nat.outs);
    expect(rows.count("ipam_addresses")).toBe(1);
  });
});

describe("import (read with no properties) then check with the program's inputs leaves no diff", () => {
  /**
   * read as an import calls it; then the check `pulumi import` makes of the read inputs against themselves;
   * then, as the next `up` (or the import option) does, check(olds = read's inputs, the program's inputs)
   * and diff(read's properties, checked inputs).
   */
  async function imported(kind: Kind, id: string, news: Props) {
    const u = urn(kind, `imported-${id}`);
    const read = await provider.read(id, u, {}, {});
    expect(read.id).toBe(id);
    expect(read.inputs).not.toHaveProperty("planKey");
    const before = rows.dump();
    expect((await provider.check(u, read.inputs, read.inputs)).failures).toEqual([]);
    const checked = await provider.check(u, read.inputs, news);
    expect(checked.failures).toEqual([]);
    const diff = await provider.diff(id, u, read.props, checked.inputs);
    // Nothing planned, nothing to change.
    expect(rows.dump()).toBe(before);
    return { urn: u, read, checked, diff };
  }

  test("IpamPool, top-level and nested", async () => {
    const outside = new Ipam(openStore(store.url));
    const corp = await outside.createPool({ addressFamily: "ipv4", cidrs: ["10.1.0.0/16"], allocationDefaultNetmaskLength: 24, description: "corp" });
    const east = await outside.createPool({ addressFamily: "ipv4", sourceIpamPoolId: corp.ipamPoolId, netmaskLength: 20, locale: "us-east-1" });
    await outside.store.close();

    const top = await imported("IpamPool", corp.ipamPoolId, { addressFamily: "ipv4", cidrs: ["10.1.0.0/16"], allocationDefaultNetmaskLength: 24, description: "corp" });
    expect(top.read.inputs).toMatchObject({ addressFamily: "ipv4", cidrs: ["10.1.0.0/16"], allocationDefaultNetmaskLength: 24, description: "corp" });
    expect(top.checked.inputs.ipamPoolId).toBe(corp.ipamPoolId);
    expect(top.diff).toMatchObject({ changes: false, replaces: [] });

    // Its inputs name its CIDRs, as `pulumi import` writes the program.
    const nested = await imported("IpamPool", east.ipamPoolId, { addressFamily: "ipv4", sourceIpamPoolId: corp.ipamPoolId, cidrs: east.cidrs, locale: "us-east-1" });
    expect(nested.read.inputs).toMatchObject({ sourceIpamPoolId: corp.ipamPoolId, cidrs: east.cidrs, locale: "us-east-1" });
    expect(nested.read.inputs).not.toHaveProperty("netmaskLength");
    expect(nested.checked.inputs).toMatchObject({ ipamPoolId: east.ipamPoolId, cidrs: east.cidrs });
    expect(nested.diff).toMatchObject({ changes: false, replaces: [] });
  });

  test("IpamPoolAllocation with a description and tags", async () => {
    const poolId = await corpPool();
    const outside = new Ipam(openStore(store.url));
    const a = await outside.allocate({ ipamPoolId: poolId, netmaskLength: 26, description: "vpn", resourceTags: { team: "net" } });
    await outside.store.close();
    const r = await imported("IpamPoolAllocation", a.ipamPoolAllocationId, { ipamPoolId: poolId, description: "vpn", tags: { team: "net" } });
    expect(r.read.inputs).toMatchObject({ ipamPoolId: poolId, cidr: a.cidr, description: "vpn", tags: { team: "net" } });
    expect(r.checked.inputs.cidr).toBe(a.cidr);
    expect(r.diff).toMatchObject({ changes: false, replaces: [] });
    // Destroying the imported resource releases the allocation.
    await provider.delete(r.read.id, r.urn, r.read.props);
    expect(rows.allocation(a.ipamPoolAllocationId)).toBeUndefined();
  });

  test("ElasticIp", async () => {
    const pub = await up(urn("IpamPool", "public"), { addressFamily: "ipv4", cidrs: ["198.51.100.0/28"] });
    const outside = new Ipam(openStore(store.url));
    const first = await outside.allocateAddress({ ipamPoolId: pub.id });
    const eip = await outside.allocateAddress({ ipamPoolId: pub.id, tags: { role: "nat" } });
    await outside.store.close();
    const r = await imported("ElasticIp", eip.allocationId, { ipamPoolId: pub.id, tags: { role: "nat" } });
    expect(r.read.inputs).toMatchObject({ ipamPoolId: pub.id, tags: { role: "nat" } });
    expect(r.checked.inputs.publicIp).toBe(eip.publicIp);
    expect(r.diff).toMatchObject({ changes: false, replaces: [] });
    // One without tags: none in its inputs either.
    const untagged = await imported("ElasticIp", first.allocationId, { ipamPoolId: pub.id });
    expect(untagged.read.inputs).not.toHaveProperty("tags");
    expect(untagged.checked.inputs.publicIp).toBe(first.publicIp);
    expect(untagged.diff).toMatchObject({ changes: false, replaces: [] });
  });
});

describe("check failures change nothing", () => {
  const wrong: [string, Props, string][] = [
    ["netmaskLength as a string", { netmaskLength: "24" }, "netmaskLength"],
    ["allowedCidrs as a boolean", { allowedCidrs: true }, "allowedCidrs"],
    ["tags as a list", { tags: ["a", "b"] }, "tags"],
    ["an unknown property", { netmask: 24 }, "netmask"],
  ];
  test.each(wrong)("%s: InvalidParameterValue naming the property", async (_what, bad, property) => {
    const poolId = await corpPool();
    const before = rows.dump();
    const r = await provider.check(urn("IpamPoolAllocation", "bad"), {}, { ipamPoolId: poolId, ...bad });
    expect(r.failures).toEqual([{ property, reason: expect.stringMatching(new RegExp(`^InvalidParameterValue: .*${property}`)) }]);
    expect(rows.dump()).toBe(before);
  });

  test("a pool's wrong types fail the same way", async () => {
    await corpPool();
    const before = rows.dump();
    const r = await provider.check(urn("IpamPool", "bad"), {}, { ...CORP, allocationMaxNetmaskLength: "28", cidrs: "10.0.0.0/16" });
    expect(r.failures.map((f) => f.property).sort()).toEqual(["allocationMaxNetmaskLength", "cidrs"]);
    for (const f of r.failures) expect(f.reason).toMatch(/^InvalidParameterValue: /);
    expect(rows.dump()).toBe(before);
  });

  test("a netmask outside the pool's rules: IllegalParam.CidrMask", async () => {
    const poolId = await corpPool();
    const before = rows.dump();
    const r = await provider.check(urn("IpamPoolAllocation", "big"), {}, { ipamPoolId: poolId, netmaskLength: 16 });
    expect(r.failures).toHaveLength(1);
    expect(r.failures[0].reason).toMatch(/^IllegalParam\.CidrMask: /);
    expect(rows.dump()).toBe(before);
  });

  test("a pool that does not exist: InvalidIpamPoolId.NotFound", async () => {
    await corpPool();
    const before = rows.dump();
    const r = await provider.check(urn("IpamPoolAllocation", "lost"), {}, { ipamPoolId: "ipam-pool-0123456789abcdef0" });
    expect(r.failures[0].reason).toMatch(/^InvalidIpamPoolId\.NotFound: /);
    expect(rows.dump()).toBe(before);
  });

  test("a URN of another type is InvalidParameterValue", async () => {
    await expect(provider.check("urn:pulumi:dev::proj::ipam:index:Vpc::x", {}, {})).rejects.toMatchObject({ code: "InvalidParameterValue" });
  });
});

describe("configure and checkConfig", () => {
  const SECRET = "4dabf18193072939515e22adb298388d";
  const secret = (value: unknown) => ({ [SECRET]: "1b47061264138c4ac30d75fd1eb44270", value });
  afterEach(() => { delete process.env.PULUMI_CONFIG; delete process.env.PULUMI_IPAM_STORE; });

  /** Plans a pool through the provider and says which of the stores got the plan. */
  async function plannedIn(...files: string[]): Promise<boolean[]> {
    const u = urn("IpamPool", `probe-${Math.random().toString(16).slice(2)}`);
    const r = await provider.check(u, {}, { addressFamily: "ipv4", cidrs: ["10.9.0.0/16"] });
    expect(r.failures).toEqual([]);
    return files.map((f) => {
      const s = new StoreFile(f);
      try { return s.reservations().has(u); } catch { return false; } finally { s.close(); }
    });
  }

  test("args' secret-wrapped values are unwrapped", async () => {
    const a = freshStore();
    provider.configure({ store: secret(a.url), strictPlan: secret(false) });
    expect(await plannedIn(a.file, store.file)).toEqual([true, false]);
  });

  test("args, else variables (ipam:config:<key>), else PULUMI_CONFIG; PULUMI_IPAM_STORE overrides them all", async () => {
    const [a, v, e, o] = [freshStore(), freshStore(), freshStore(), freshStore()];
    process.env.PULUMI_CONFIG = JSON.stringify({ "ipam:store": e.url });
    const files = [a.file, v.file, e.file, o.file];
    provider.configure({ store: a.url }, { "ipam:config:store": v.url });
    expect(await plannedIn(...files)).toEqual([true, false, false, false]);
    provider.configure({}, { "ipam:config:store": v.url });
    expect(await plannedIn(...files)).toEqual([false, true, false, false]);
    provider.configure({ store: "" }, {});
    expect(await plannedIn(...files)).toEqual([false, false, true, false]);
    process.env.PULUMI_IPAM_STORE = o.url;
    provider.configure({ store: a.url }, { "ipam:config:store": v.url });
    expect(await plannedIn(...files)).toEqual([false, false, false, true]);
  });

  test("configure refuses a bad value, and the configuration before it stays", async () => {
    expect(() => provider.configure({ backend: "gcp" })).toThrow(expect.objectContaining({ code: "InvalidParameterValue" }));
    expect(await plannedIn(store.file)).toEqual([true]);
  });

  test.each([
    ["backend", "gcp"],
    ["backend", secret("gcp")],
    ["strictPlan", "yes"],
    ["planTtlSeconds", "0"],
    ["planTtlSeconds", -5],
    ["planTtlSeconds", 1.5],
    ["store", 42],
    ["regoin", "eu-west-1"],
  ])("checkConfig rejects %s %j", (key, value) => {
    const r = provider.checkConfig({ version: "0.1.0", [key]: value });
    expect(r.failures).toEqual([{ property: expect.any(String), reason: expect.stringMatching(new RegExp(`^InvalidParameterValue: .*ipam:"?${key}`)) }]);
  });

  test("checkConfig accepts good values, as the engine sends them (strings from stack config, typed from a program, wrapped secrets)", () => {
    for (const news of [
      { version: "0.1.0", backend: "local", store: "sqlite:/tmp/x.db", strictPlan: "true", planTtlSeconds: "3600" },
      { backend: "aws", region: "us-east-1", strictPlan: false, planTtlSeconds: 60, scopeId: "ipam-scope-0123456789abcdef0" },
      { store: secret("postgres://ipam:pw@127.0.0.1:5432/ipam"), endpoint: "http://127.0.0.1:4566" },
    ]) {
      expect(provider.checkConfig(news)).toEqual({ inputs: news, failures: [] });
    }
  });
});
