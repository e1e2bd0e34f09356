/**
 * The provider protocol served over gRPC for `pulumi-resource-ipam`. Served
 * here rather than through @pulumi/pulumi/provider's main(), whose server
 * drops Configure's request (pulumi/pulumi#10915) and, on older engines,
 * fails an import before read() runs (it reads properties the engine does
 * not send). Methods not listed (invoke, call, construct, ...) answer
 * UNIMPLEMENTED, which grpc-js does for a service's missing handlers.
 */
import * as grpc from "@grpc/grpc-js";
import * as emptyproto from "google-protobuf/google/protobuf/empty_pb";
import * as structproto from "google-protobuf/google/protobuf/struct_pb";
import * as plugproto from "@pulumi/pulumi/proto/plugin_pb";
import * as provrpc from "@pulumi/pulumi/proto/provider_grpc_pb";
import * as provproto from "@pulumi/pulumi/proto/provider_pb";
import { IpamError } from "../core/errors";
import { schema } from "../schema/validate";
import { provider, CheckResult } from "./provider";

type Props = Record<string, any>;
type Call<Req> = { request: Req };
type Callback<Res> = (err: grpc.ServiceError | Partial<grpc.StatusObject> | null, res?: Res) => void;

const js = (s: structproto.Struct | undefined): Props => (s ? (s.toJavaScript() as Props) : {});
const struct = (o: Props | undefined) => structproto.Struct.fromJavaScript(defined(o ?? {}) as Record<string, structproto.JavaScriptValue>);
/** The protocol's Struct cannot carry undefined members. */
const defined = (o: Props): Props => Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined));

/** An error the engine prints as the operation's failure: the message alone (it already starts with the seed's code). */
function failure(e: unknown): Partial<grpc.StatusObject> {
  const message = e instanceof Error ? e.message : String(e);
  if (!(e instanceof IpamError)) process.stderr.write(`${e instanceof Error && e.stack ? e.stack : message}\n`);
  return { code: grpc.status.UNKNOWN, details: message };
}

/** Runs an async method and answers the call with its result or its error. */
function serve<Req, Res>(fn: (req: Req) => Promise<Res> | Res) {
  return (call: Call<Req>, callback: Callback<Res>) => {
    Promise.resolve().then(() => fn(call.request)).then((res) => callback(null, res), (e) => callback(failure(e)));
  };
}

function checkResponse(r: CheckResult): provproto.CheckResponse {
  const resp = new provproto.CheckResponse();
  resp.setInputs(struct(r.inputs));
  resp.setFailuresList(r.failures.map((f) => {
    const x = new provproto.CheckFailure();
    x.setProperty(f.property);
    x.setReason(f.reason);
    return x;
  }));
  return resp;
}

function diffResponse(r: { changes: boolean; replaces: string[]; deleteBeforeReplace?: boolean }): provproto.DiffResponse {
  const resp = new provproto.DiffResponse();
  resp.setChanges(r.changes ? provproto.DiffResponse.DiffChanges.DIFF_SOME : provproto.DiffResponse.DiffChanges.DIFF_NONE);
  resp.setReplacesList(r.replaces);
  resp.setDeletebeforereplace(!!r.deleteBeforeReplace);
  return resp;
}

export const service = {
  getPluginInfo: serve<emptyproto.Empty, plugproto.PluginInfo>(() => {
    const info = new plugproto.PluginInfo();
    info.setVersion(provider.version());
    return info;
  }),
  getSchema: serve<provproto.GetSchemaRequest, provproto.GetSchemaResponse>(() => {
    const resp = new provproto.GetSchemaResponse();
    resp.setSchema(JSON.stringify(schema()));
    return resp;
  }),
  checkConfig: serve<provproto.CheckRequest, provproto.CheckResponse>((req) => checkResponse(provider.checkConfig(js(req.getNews())))),
  diffConfig: serve<provproto.DiffRequest, provproto.DiffResponse>((req) => {
    const olds = js(req.getOldInputs() ?? req.getOlds());
    const news = js(req.getNews());
    const changed = Object.keys({ ...olds, ...news }).filter((k) => JSON.stringify(olds[k]) !== JSON.stringify(news[k]));
    // A provider configured differently (another store or backend) manages other resources: replace what it owns.
    const replaces = changed.filter((k) => ["backend", "store", "region", "endpoint"].includes(k));
    return diffResponse({ changes: changed.length > 0, replaces });
  }),
  configure: serve<provproto.ConfigureRequest, provproto.ConfigureResponse>((req) => {
    const variables: Record<string, string> = {};
    req.getVariablesMap().forEach((v, k) => { variables[k] = v; });
    provider.configure(req.getArgs() ? js(req.getArgs()) : undefined, variables);
    const resp = new provproto.ConfigureResponse();
    // No secrets: the engine unwraps them before check/create and marks outputs secret from the inputs.
    resp.setAcceptsecrets(false);
    resp.setAcceptresources(false);
    resp.setAcceptoutputs(false);
    // Not supportsPreview: preview then calls check() only, which is where plans are made.
    resp.setSupportspreview(false);
    return resp;
  }),
  check: serve<provproto.CheckRequest, provproto.CheckResponse>(async (req) =>
    checkResponse(await provider.check(req.getUrn(), js(req.getOlds()), js(req.getNews())))),
  diff: serve<provproto.DiffRequest, provproto.DiffResponse>(async (req) =>
    diffResponse(await provider.diff(req.getId(), req.getUrn(), js(req.getOlds()), js(req.getNews())))),
  create: serve<provproto.CreateRequest, provproto.CreateResponse>(async (req) => {
    const r = await provider.create(req.getUrn(), js(req.getProperties()));
    const resp = new provproto.CreateResponse();
    resp.setId(r.id);
    resp.setProperties(struct(r.outs));
    return resp;
  }),
  read: serve<provproto.ReadRequest, provproto.ReadResponse>(async (req) => {
    const r = await provider.read(req.getId(), req.getUrn(), js(req.getProperties()), js(req.getInputs()));
    const resp = new provproto.ReadResponse();
    resp.setId(r.id);
    resp.setProperties(struct(r.props));
    resp.setInputs(struct(r.inputs));
    return resp;
  }),
  update: serve<provproto.UpdateRequest, provproto.UpdateResponse>(async (req) => {
    const r = await provider.update(req.getId(), req.getUrn(), js(req.getOlds()), js(req.getNews()));
    const resp = new provproto.UpdateResponse();
    resp.setProperties(struct(r.outs));
    return resp;
  }),
  delete: serve<provproto.DeleteRequest, emptyproto.Empty>(async (req) => {
    await provider.delete(req.getId(), req.getUrn(), js(req.getProperties()));
    return new emptyproto.Empty();
  }),
  cancel: serve<emptyproto.Empty, emptyproto.Empty>(() => new emptyproto.Empty()),
  attach: serve<unknown, emptyproto.Empty>(() => new emptyproto.Empty()),
};

/** Starts the server on 127.0.0.1, on a free port unless given one. */
export async function listen(port = 0): Promise<{ server: grpc.Server; port: number }> {
  const server = new grpc.Server({ "grpc.max_receive_message_length": 400 * 1024 * 1024 });
  server.addService(provrpc.ResourceProviderService, service as unknown as grpc.UntypedServiceImplementation);
  const bound = await new Promise<number>((resolve, reject) =>
    server.bindAsync(`127.0.0.1:${port}`, grpc.ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p))));
  return { server, port: bound };
}

/** Starts the server and prints its port, which is how the engine finds it. */
export async function serveProvider(): Promise<grpc.Server> {
  const { server, port } = await listen();
  process.stdout.write(`${port}\n`);
  return server;
}
