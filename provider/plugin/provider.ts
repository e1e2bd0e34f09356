/**
 * The provider plugin's resource methods: a thin adapter from the provider
 * protocol (type token and URN with every call) to the same handlers the
 * Node dynamic resources run (provider/pulumi/handlers.ts). The plan key is
 * the resource's URN, given with every call, so it is never stored; what
 * the handlers keep between calls (the plan's nonce, the user's own
 * cidr/cidrs) stays in the state as properties the schema does not list.
 * Tested in process, without an engine (tests/integration/plugin.test.ts).
 */
import { IpamError } from "../core/errors";
import { quote } from "../core/quote";
import { handlers } from "../pulumi/handlers";
import { setSettings } from "../runtime/context";
import { CONFIG_KEYS, parseSettings } from "../runtime/config";
import { DEFAULT_SCOPE_ID } from "../core/scopes";
import { schema, TYPE_TOKENS } from "../schema/validate";

type Props = Record<string, any>;
type Kind = keyof typeof TYPE_TOKENS;
export interface CheckResult { inputs: Props; failures: { property: string; reason: string }[] }

function kindOf(urn: string): Kind {
  const type = urn.split("::")[2]?.split("$").pop() ?? "";
  const kind = (Object.keys(TYPE_TOKENS) as Kind[]).find((k) => TYPE_TOKENS[k] === type);
  if (!kind) throw new IpamError("InvalidParameterValue", `unknown resource type ${quote(type)}; this provider has ${Object.values(TYPE_TOKENS).join(", ")}.`);
  return kind;
}

const withKey = (urn: string, p: Props | undefined): Props => ({ ...(p ?? {}), planKey: urn });
const withoutKey = (p: Props | undefined): Props => {
  const { planKey: _k, ...rest } = p ?? {};
  return rest;
};

const declared = (kind: Kind) => schema().resources[TYPE_TOKENS[kind]].inputProperties;

/** Values a program leaves out: a read reports them, but as inputs they would read as a change. */
function defaulted(k: string, v: unknown): boolean {
  return k === "ipamPoolAllocationId" || (k === "resourceType" && v === "custom") || (k === "allocationStrategy" && v === "first-fit");
}

/**
 * An import's read (no properties): the inputs a program gives for what
 * exists, the real cidr among them, plus what check() keeps beside them in
 * a created resource's inputs (a pool's id, an address), so the next check
 * keeps the resource instead of planning a new one and the diff is empty.
 * A nested pool's inputs name its CIDRs (cidrs), as the store knows them.
 */
function imported(kind: Kind, outs: Props): { props: Props; inputs: Props } {
  const props = { ...outs };
  // A scope a program would not name: the default one, or a nested pool's, inherited from its source.
  if (kind === "IpamPool" && (props.sourceIpamPoolId || props.ipamScopeId === DEFAULT_SCOPE_ID)) delete props.ipamScopeId;
  const inputs: Props = {};
  for (const k of Object.keys(declared(kind))) if (props[k] !== undefined && !defaulted(k, props[k])) inputs[k] = props[k];
  if (kind === "IpamPool") Object.assign(inputs, { ipamPoolId: props.ipamPoolId, requestedCidrs: props.cidrs, poolDepth: props.poolDepth });
  if (kind === "ElasticIp") Object.assign(inputs, { requestedPoolId: props.ipamPoolId ?? "", publicIp: props.publicIp });
  return { props, inputs };
}

/**
 * The program's inputs without what the state keeps beside them: `pulumi
 * import` checks an import's inputs against themselves (news = olds), so
 * what imported() added comes back in news; it is check()'s own to set, and
 * the schema would reject it as unknown.
 */
function ownInputs(kind: Kind, olds: Props | undefined, news: Props): Props {
  const inputs = declared(kind);
  return Object.fromEntries(Object.entries(news ?? {}).filter(([k, v]) => k in inputs || JSON.stringify(v) !== JSON.stringify(olds?.[k])));
}

/** The secret wrapper Configure's arguments carry even when the provider accepts no secrets. */
const SECRET_SIG = "4dabf18193072939515e22adb298388d";
export function unwrapSecrets(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(unwrapSecrets);
  if (v && typeof v === "object") {
    const o = v as Record<string, unknown>;
    if (o[SECRET_SIG] === "1b47061264138c4ac30d75fd1eb44270") return unwrapSecrets(o.value);
    return Object.fromEntries(Object.entries(o).map(([k, x]) => [k, unwrapSecrets(x)]));
  }
  return v;
}

/** The config keys' values from Configure's args, else its `variables` (ipam:config:<key>), else PULUMI_CONFIG. */
export function configValues(args: Props | undefined, variables: Record<string, string> = {}, env = process.env): Props {
  const a = (unwrapSecrets(args ?? {}) ?? {}) as Props;
  const out: Props = {};
  let stack: Props = {};
  try { stack = env.PULUMI_CONFIG ? JSON.parse(env.PULUMI_CONFIG) : {}; } catch { /* not ours to judge */ }
  for (const k of CONFIG_KEYS) {
    // An empty value is an unset one (as parseSettings reads it): the next source decides.
    const v = [a[k], variables[`ipam:config:${k}`], stack[`ipam:${k}`], stack[`ipam:config:${k}`]].find((x) => x !== undefined && x !== null && x !== "");
    if (v !== undefined) out[k] = v;
  }
  return out;
}

export const provider = {
  version: (): string => schema().version,

  checkConfig(news: Props): CheckResult {
    const values = unwrapSecrets(news) as Props;
    const { version: _v, ...rest } = values;
    try {
      parseSettings(rest);
      return { inputs: news, failures: [] };
    } catch (e) {
      if (e instanceof IpamError) return { inputs: news, failures: [{ property: "", reason: e.message }] };
      throw e;
    }
  },

  configure(args: Props | undefined, variables?: Record<string, string>): void {
    setSettings(configValues(args, variables));
  },

  async check(urn: string, olds: Props, news: Props): Promise<CheckResult> {
    const kind = kindOf(urn);
    const r = await handlers[kind].check(olds ?? {}, withKey(urn, ownInputs(kind, olds, news))) as { inputs: Props; failures?: CheckResult["failures"] };
    return { inputs: withoutKey(r.inputs), failures: r.failures ?? [] };
  },

  async diff(id: string, urn: string, olds: Props, news: Props) {
    return handlers[kindOf(urn)].diff(id, withKey(urn, olds), withKey(urn, news));
  },

  async create(urn: string, inputs: Props) {
    const r = await handlers[kindOf(urn)].create(withKey(urn, inputs));
    return { id: r.id, outs: withoutKey(r.outs) };
  },

  /**
   * Refresh, and import (`pulumi import`, the import option), where the
   * engine gives only the id. Returns the inputs a program would give for
   * what exists (the real cidr among them), so the next check keeps it and
   * the next preview shows no change; an empty id when it is gone.
   */
  async read(id: string, urn: string, props: Props, inputs: Props) {
    const kind = kindOf(urn);
    const r = await handlers[kind].read(id, withKey(urn, props)) as { id?: string; props?: Props };
    if (!r.id) return { id: "", props: {}, inputs: {} };
    const outs = withoutKey(r.props);
    if (!props || Object.keys(props).length === 0) return { id: r.id, ...imported(kind, outs) };
    const next: Props = { ...inputs };
    for (const k of Object.keys(declared(kind))) {
      if (k in next && !defaulted(k, outs[k])) next[k] = outs[k];
    }
    return { id: r.id, props: outs, inputs: next };
  },

  async update(id: string, urn: string, olds: Props, news: Props) {
    const r = await handlers[kindOf(urn)].update(id, withKey(urn, olds), withKey(urn, news));
    return { outs: withoutKey(r.outs) };
  },

  async delete(id: string, urn: string, props: Props): Promise<void> {
    await handlers[kindOf(urn)].remove(id, withKey(urn, props));
  },
};
