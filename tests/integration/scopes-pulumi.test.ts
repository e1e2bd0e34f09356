/**
 * Scopes through the IpamPool resource's handlers (pulumi/pool.ts, here
 * through the plugin's provider, which calls the same handlers as the
 * dynamic resource), without an engine: check is where preview rejects a
 * top-level pool overlapping another in its scope, and replacing a
 * top-level pool deletes the old one first so that the new one can take
 * its space.
 */
import { provider } from "../../provider/plugin/provider";
import { freshStore, isolateEnv, removeFreshStores, StoreFile, urn } from "../support/plugin";

type Props = Record<string, any>;

let restoreEnv: () => void;
let rows: StoreFile;
const cwd = process.cwd();
beforeAll(() => {
  restoreEnv = isolateEnv();
  process.chdir(freshStore().dir);
});
afterAll(() => {
  process.chdir(cwd);
  restoreEnv();
  removeFreshStores();
});
beforeEach(() => {
  const store = freshStore();
  provider.configure({ store: store.url });
  rows = new StoreFile(store.file);
});
afterEach(() => rows.close());

const CORP = { addressFamily: "ipv4", cidrs: ["10.0.0.0/8"] };

async function up(u: string, news: Props): Promise<{ id: string; outs: Props }> {
  const checked = await provider.check(u, {}, news);
  expect(checked.failures).toEqual([]);
  const created = await provider.create(u, checked.inputs);
  return { id: created.id, outs: created.outs };
}

test("check fails for a second top-level pool overlapping the first in its scope, and writes no plan; another scope is fine", async () => {
  await up(urn("IpamPool", "corp"), CORP);
  const plans = rows.count("ipam_reservations");
  const second = await provider.check(urn("IpamPool", "corp2"), {}, { addressFamily: "ipv4", cidrs: ["10.1.0.0/16"] });
  expect(second.failures?.map((f) => f.reason).join()).toContain("OperationDenied.CidrUnavailableInPool");
  expect(rows.count("ipam_reservations")).toBe(plans);
  const other = await up(urn("IpamPool", "lab"), { ...CORP, ipamScopeId: "ipam-scope-lab" });
  expect(other.outs.cidrs).toEqual(["10.0.0.0/8"]);
});

test("a nested pool naming another scope than its source's fails at check", async () => {
  const corp = await up(urn("IpamPool", "corp"), CORP);
  const bad = await provider.check(urn("IpamPool", "east"), {}, { addressFamily: "ipv4", sourceIpamPoolId: corp.id, netmaskLength: 12, ipamScopeId: "ipam-scope-lab" });
  expect(bad.failures?.map((f) => f.reason).join()).toContain("Mismatch.IpamScopeAndSourceIpamPool");
});

test("replacing a top-level pool in its scope: check plans it beside the old one, diff deletes the old one first, create succeeds", async () => {
  const u = urn("IpamPool", "corp");
  const old = await up(u, CORP);
  const moved = await provider.check(u, old.outs, { ...CORP, locale: "eu-west-1" });
  expect(moved.failures ?? []).toEqual([]);
  const d = await provider.diff(old.id, u, old.outs, moved.inputs);
  expect(d.replaces).toContain("locale");
  expect(d.deleteBeforeReplace).toBe(true);
  await provider.delete(old.id, u, old.outs);
  const made = await provider.create(u, moved.inputs);
  expect(made.id).not.toBe(old.id);
  expect(made.outs.cidrs).toEqual(["10.0.0.0/8"]);
  // Into another scope the new pool does not need the old one's space: create before delete, as usual.
  const away = await provider.check(u, made.outs, { ...CORP, locale: "eu-west-1", ipamScopeId: "ipam-scope-lab" });
  const d2 = await provider.diff(made.id, u, made.outs, away.inputs);
  expect(d2.replaces).toContain("ipamScopeId");
  expect(d2.deleteBeforeReplace).toBe(false);
});
