/**
 * The provider plugin through its real gRPC server, in process: started by
 * serveProvider() as the engine starts it (the port read from what it
 * prints), called with the protocol's own client and messages (Struct
 * values), as the engine calls it.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import * as grpc from "@grpc/grpc-js";
import * as emptyproto from "google-protobuf/google/protobuf/empty_pb";
import * as structproto from "google-protobuf/google/protobuf/struct_pb";
import type * as plugproto from "@pulumi/pulumi/proto/plugin_pb";
import * as provrpc from "@pulumi/pulumi/proto/provider_grpc_pb";
import * as provproto from "@pulumi/pulumi/proto/provider_pb";
import { serveProvider } from "../../provider/plugin/server";
import { freshStore, isolateEnv, removeFreshStores, StoreFile, urn } from "../support/plugin";

type Props = Record<string, any>;
const SCHEMA = path.join(__dirname, "../../schema.json");
const secret = (value: unknown) => ({ "4dabf18193072939515e22adb298388d": "1b47061264138c4ac30d75fd1eb44270", value });
const struct = (o: Props) => structproto.Struct.fromJavaScript(o);
const js = (s: structproto.Struct | undefined): Props => (s ? (s.toJavaScript() as Props) : {});

let server: grpc.Server;
let client: provrpc.ResourceProviderClient;
let restoreEnv: () => void;
const cwd = process.cwd();
const store = freshStore();
let rows: StoreFile;

/** A unary call as a promise. */
function call<Req, Res>(method: (req: Req, cb: (err: grpc.ServiceError | null, res: Res) => void) => unknown, req: Req): Promise<Res> {
  return new Promise((resolve, reject) => method.call(client, req, (err, res) => (err ? reject(err) : resolve(res))));
}

beforeAll(async () => {
  restoreEnv = isolateEnv();
  process.chdir(store.dir);
  // The engine reads the port from the plugin's first line of output.
  const write = process.stdout.write;
  let printed = "";
  process.stdout.write = ((chunk: string | Uint8Array) => { printed += chunk.toString(); return true; }) as typeof process.stdout.write;
  try {
    server = await serveProvider();
  } finally {
    process.stdout.write = write;
  }
  expect(printed).toMatch(/^\d+\n$/);
  client = new provrpc.ResourceProviderClient(`127.0.0.1:${printed.trim()}`, grpc.credentials.createInsecure());
  rows = new StoreFile(store.file);
});

afterAll(async () => {
  rows?.close();
  client?.close();
  await new Promise<void>((resolve) => (server ? server.tryShutdown(() => resolve()) : resolve()));
  process.chdir(cwd);
  restoreEnv();
  removeFreshStores();
});

async function configure(args: Props, variables: Record<string, string> = {}): Promise<provproto.ConfigureResponse> {
  const req = new provproto.ConfigureRequest();
  req.setArgs(struct(args));
  for (const [k, v] of Object.entries(variables)) req.getVariablesMap().set(k, v);
  return call(client.configure, req);
}

async function check(u: string, olds: Props, news: Props) {
  const req = new provproto.CheckRequest();
  req.setUrn(u);
  req.setOlds(struct(olds));
  req.setNews(struct(news));
  const resp = await call<provproto.CheckRequest, provproto.CheckResponse>(client.check, req);
  return { inputs: js(resp.getInputs()), failures: resp.getFailuresList().map((f) => ({ property: f.getProperty(), reason: f.getReason() })) };
}

async function create(u: string, inputs: Props) {
  const req = new provproto.CreateRequest();
  req.setUrn(u);
  req.setProperties(struct(inputs));
  const resp = await call<provproto.CreateRequest, provproto.CreateResponse>(client.create, req);
  return { id: resp.getId(), outs: js(resp.getProperties()) };
}

async function diff(id: string, u: string, olds: Props, news: Props, oldInputs?: Props) {
  const req = new provproto.DiffRequest();
  req.setId(id);
  req.setUrn(u);
  req.setOlds(struct(olds));
  req.setNews(struct(news));
  if (oldInputs) req.setOldInputs(struct(oldInputs));
  const resp = await call<provproto.DiffRequest, provproto.DiffResponse>(client.diff, req);
  return { changes: resp.getChanges(), replaces: resp.getReplacesList() };
}

/** A Read; with no properties and no inputs set at all, as an import sends it. */
async function read(id: string, u: string, props?: Props, inputs?: Props) {
  const req = new provproto.ReadRequest();
  req.setId(id);
  req.setUrn(u);
  if (props) req.setProperties(struct(props));
  if (inputs) req.setInputs(struct(inputs));
  const resp = await call<provproto.ReadRequest, provproto.ReadResponse>(client.read, req);
  return { id: resp.getId(), props: js(resp.getProperties()), inputs: js(resp.getInputs()) };
}

async function update(id: string, u: string, olds: Props, news: Props) {
  const req = new provproto.UpdateRequest();
  req.setId(id);
  req.setUrn(u);
  req.setOlds(struct(olds));
  req.setNews(struct(news));
  const resp = await call<provproto.UpdateRequest, provproto.UpdateResponse>(client.update, req);
  return js(resp.getProperties());
}

async function remove(id: string, u: string, props: Props): Promise<void> {
  const req = new provproto.DeleteRequest();
  req.setId(id);
  req.setUrn(u);
  req.setProperties(struct(props));
  await call<provproto.DeleteRequest, emptyproto.Empty>(client.delete, req);
}

const { DIFF_NONE, DIFF_SOME } = provproto.DiffResponse.DiffChanges;

test("GetPluginInfo gives the schema's version; GetSchema gives schema.json", async () => {
  const file = JSON.parse(fs.readFileSync(SCHEMA, "utf8"));
  const info = await call<emptyproto.Empty, plugproto.PluginInfo>(client.getPluginInfo, new emptyproto.Empty());
  expect(info.getVersion()).toBe(file.version);
  const resp = await call<provproto.GetSchemaRequest, provproto.GetSchemaResponse>(client.getSchema, new provproto.GetSchemaRequest());
  expect(JSON.parse(resp.getSchema())).toEqual(file);
});

test("CheckConfig fails a bad value; Configure takes a secret-wrapped store and says it takes no secrets and no preview", async () => {
  const bad = new provproto.CheckRequest();
  bad.setUrn("urn:pulumi:dev::proj::pulumi:providers:ipam::default");
  bad.setNews(struct({ version: "0.1.0", strictPlan: "sometimes" }));
  const failed = await call<provproto.CheckRequest, provproto.CheckResponse>(client.checkConfig, bad);
  expect(failed.getFailuresList().map((f) => f.getReason())).toEqual([expect.stringMatching(/^InvalidParameterValue: ipam:strictPlan/)]);

  const good = new provproto.CheckRequest();
  good.setNews(struct({ version: "0.1.0", store: secret(store.url) }));
  expect((await call<provproto.CheckRequest, provproto.CheckResponse>(client.checkConfig, good)).getFailuresList()).toEqual([]);

  const resp = await configure({ store: secret(store.url) }, { "ipam:config:store": "sqlite:/nonexistent/dir/ipam.db" });
  expect(resp.getAcceptsecrets()).toBe(false);
  expect(resp.getSupportspreview()).toBe(false);
  await expect(configure({ backend: "gcp" })).rejects.toMatchObject({ code: grpc.status.UNKNOWN, details: expect.stringMatching(/^InvalidParameterValue: ipam:backend/) });
});

test("Check, Create, Diff, Update, Read, Delete round trip of a pool and an allocation on the configured store", async () => {
  await configure({ store: secret(store.url) });
  const poolUrn = urn("IpamPool", "corp");
  const poolNews = { addressFamily: "ipv4", cidrs: ["10.20.0.0/16"], allocationDefaultNetmaskLength: 24 };
  const poolChecked = await check(poolUrn, {}, poolNews);
  expect(poolChecked.failures).toEqual([]);
  const pool = await create(poolUrn, poolChecked.inputs);
  expect(pool.id).toBe(poolChecked.inputs.ipamPoolId);
  expect(rows.count("ipam_pools")).toBe(1);

  const app = urn("IpamPoolAllocation", "app");
  const news = { ipamPoolId: pool.id, description: "app" };
  const checked = await check(app, {}, news);
  expect(checked.failures).toEqual([]);
  expect(checked.inputs.cidr).toMatch(/^10\.20\.\d+\.0\/24$/);
  expect(rows.reservations().get(app)?.cidrs).toEqual([checked.inputs.cidr]);
  const made = await create(app, checked.inputs);
  expect(made.outs).toMatchObject({ cidr: checked.inputs.cidr, ipamPoolAllocationId: made.id, description: "app" });
  expect(rows.allocation(made.id)?.cidr).toBe(checked.inputs.cidr);

  const same = await check(app, checked.inputs, news);
  expect(await diff(made.id, app, made.outs, same.inputs, checked.inputs)).toEqual({ changes: DIFF_NONE, replaces: [] });
  const renamed = await check(app, checked.inputs, { ...news, description: "application" });
  expect(await diff(made.id, app, made.outs, renamed.inputs, checked.inputs)).toEqual({ changes: DIFF_SOME, replaces: [] });
  const outs = await update(made.id, app, made.outs, renamed.inputs);
  expect(outs).toMatchObject({ cidr: made.outs.cidr, description: "application" });
  expect(rows.allocation(made.id)?.description).toBe("application");
  const moved = await check(app, renamed.inputs, { ...news, netmaskLength: 28 });
  expect((await diff(made.id, app, outs, moved.inputs, renamed.inputs)).replaces).toContain("cidr");

  const refreshed = await read(made.id, app, outs, renamed.inputs);
  expect(refreshed).toEqual({ id: made.id, props: outs, inputs: expect.objectContaining({ cidr: made.outs.cidr, description: "application" }) });
  // An import's Read, with no properties at all (older engines send none).
  const imported = await read(made.id, urn("IpamPoolAllocation", "again"));
  expect(imported.id).toBe(made.id);
  expect(imported.inputs).toMatchObject({ ipamPoolId: pool.id, cidr: made.outs.cidr, description: "application" });

  await remove(made.id, app, outs);
  expect(rows.allocation(made.id)).toBeUndefined();
  expect((await read(made.id, app, outs, renamed.inputs)).id).toBe("");
  await remove(pool.id, poolUrn, pool.outs);
  expect(rows.count("ipam_pools")).toBe(0);
  expect(rows.count("ipam_allocations")).toBe(0);
});

test("check failures come back as failures; a failed Create is an error carrying the seed's code, and changes nothing", async () => {
  await configure({ store: store.url });
  expect((await check(urn("IpamPool", "opens-the-store"), {}, { addressFamily: "ipv4", cidrs: ["10.30.0.0/16"] })).failures).toEqual([]);
  const u = urn("IpamPoolAllocation", "bad");
  const r = await check(u, {}, { ipamPoolId: "ipam-pool-0123456789abcdef0", netmaskLength: "24" });
  expect(r.failures).toEqual([{ property: "netmaskLength", reason: expect.stringMatching(/^InvalidParameterValue: netmaskLength must be an integer/) }]);
  const before = rows.dump();
  await expect(create(u, { ipamPoolId: "ipam-pool-0123456789abcdef0", cidr: "10.0.0.0/24", planNonce: "0011223344556677" }))
    .rejects.toMatchObject({ code: grpc.status.UNKNOWN, details: expect.stringMatching(/^InvalidIpamPoolId\.NotFound: /) });
  expect(rows.dump()).toBe(before);
});

test("DiffConfig: a changed store or backend replaces what the provider owns, a changed strictPlan does not", async () => {
  const diffConfig = async (olds: Props, news: Props) => {
    const req = new provproto.DiffRequest();
    req.setUrn("urn:pulumi:dev::proj::pulumi:providers:ipam::default");
    req.setOldInputs(struct(olds));
    req.setOlds(struct(olds));
    req.setNews(struct(news));
    const resp = await call<provproto.DiffRequest, provproto.DiffResponse>(client.diffConfig, req);
    return { changes: resp.getChanges(), replaces: resp.getReplacesList() };
  };
  const base = { version: "0.1.0", store: store.url };
  expect(await diffConfig(base, base)).toEqual({ changes: DIFF_NONE, replaces: [] });
  expect(await diffConfig(base, { ...base, strictPlan: "true" })).toEqual({ changes: DIFF_SOME, replaces: [] });
  expect(await diffConfig(base, { ...base, store: "sqlite:/tmp/elsewhere.db" })).toEqual({ changes: DIFF_SOME, replaces: ["store"] });
});

test("methods it does not serve answer UNIMPLEMENTED", async () => {
  const invoke = new provproto.InvokeRequest();
  invoke.setTok("ipam:index:getPool");
  await expect(call(client.invoke, invoke)).rejects.toMatchObject({ code: grpc.status.UNIMPLEMENTED });
  await expect(call(client.construct, new provproto.ConstructRequest())).rejects.toMatchObject({ code: grpc.status.UNIMPLEMENTED });
});
