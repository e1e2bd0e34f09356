/** IpamPool: check plans the pool's id and (for a nested pool) its CIDRs, create makes exactly that pool. */
import { tokenFor } from "../core/plan";
import type { CreatePoolInput } from "../core/types";
import { checkFailure, context, defined, driftNote, isUnknown, notFound, UNKNOWN } from "../runtime/context";

type Props = Record<string, any>;

const RULES = ["allocationMinNetmaskLength", "allocationMaxNetmaskLength", "allocationDefaultNetmaskLength", "allocationResourceTags"];
const REPLACING = ["addressFamily", "sourceIpamPoolId", "ipamScopeId", "locale", "netmaskLength", "allocationStrategy", "ipamPoolId"];

/** The user's request; after check() the planned CIDRs are in `cidrs` and the user's own in `requestedCidrs` ([] for none). */
function spec(p: Props): CreatePoolInput {
  const cidrs = "requestedCidrs" in p ? p.requestedCidrs : p.cidrs;
  return {
    addressFamily: p.addressFamily, sourceIpamPoolId: p.sourceIpamPoolId, ipamScopeId: p.ipamScopeId, locale: p.locale, description: p.description,
    tags: p.tags, allocationMinNetmaskLength: p.allocationMinNetmaskLength, allocationMaxNetmaskLength: p.allocationMaxNetmaskLength,
    allocationDefaultNetmaskLength: p.allocationDefaultNetmaskLength, allocationResourceTags: p.allocationResourceTags,
    allocationStrategy: p.allocationStrategy, cidrs: cidrs?.length ? cidrs : undefined, netmaskLength: p.netmaskLength,
    clientToken: p.clientToken,
  };
}

export async function check(olds: Props, news: Props) {
  if (isUnknown([news.sourceIpamPoolId, news.cidrs, news.netmaskLength])) {
    return { inputs: { ...news, ipamPoolId: UNKNOWN, cidrs: UNKNOWN } };
  }
  const requestedCidrs = news.cidrs ?? [];
  // An existing pool keeps its id and CIDRs; added top-level CIDRs are provisioned in place by update().
  if (olds.ipamPoolId && olds.ipamPoolId !== UNKNOWN && REPLACING.every((k) => k === "ipamPoolId" || JSON.stringify(olds[k]) === JSON.stringify(news[k]))
    && (news.sourceIpamPoolId ? !news.cidrs || JSON.stringify(news.cidrs) === JSON.stringify(olds.requestedCidrs) : (olds.cidrs ?? []).every((c: string) => requestedCidrs.includes(c)))) {
    const cidrs = news.sourceIpamPoolId ? olds.cidrs : requestedCidrs;
    return { inputs: { ...news, requestedCidrs, ipamPoolId: olds.ipamPoolId, cidrs, poolDepth: olds.poolDepth, planNonce: olds.planNonce ?? "" } };
  }
  const { planner, strict, ttlMs } = context();
  try {
    // A replaced top-level pool is deleted first (diff), so its CIDRs are no conflict in the scope.
    const replaces = olds.ipamPoolId && olds.ipamPoolId !== UNKNOWN ? olds.ipamPoolId : undefined;
    const plan = await planner.planPool(news.planKey, spec(news), { ttlMs, replaces });
    const note = driftNote(news.planKey, plan.previouslyPlanned, plan.cidrs);
    if (note && strict) return { inputs: {}, failures: [{ property: "cidrs", reason: `plan changed (ipam:strictPlan): ${note}` }] };
    return {
      inputs: {
        ...news, requestedCidrs, ipamPoolId: plan.ipamPoolId, cidrs: plan.cidrs, poolDepth: plan.poolDepth, planNonce: plan.nonce,
        ...(note ? { planNote: note } : {}),
      },
    };
  } catch (e) {
    return checkFailure(e);
  }
}

export async function diff(_id: string, olds: Props, news: Props) {
  // A cloud assigns the pool's id at create, so the state's id differs from the planned one check() carries
  // forward; within one plan (same nonce) that is the same pool, not a change.
  const samePlan = !!olds.planNonce && olds.planNonce === news.planNonce;
  const replaces = REPLACING.filter((k) => !(k === "ipamPoolId" && samePlan)).filter((k) => JSON.stringify(olds[k] ?? null) !== JSON.stringify(news[k] ?? null));
  if (!(olds.cidrs ?? []).every((c: string) => (news.cidrs ?? []).includes(c))) replaces.push("cidrs");
  const changes = ["description", "tags", ...RULES, "cidrs"].filter((k) => JSON.stringify(olds[k] ?? null) !== JSON.stringify(news[k] ?? null));
  // Top-level pools of one scope never overlap: the replacement of one needs the old one's space, so the old goes first.
  const deleteBeforeReplace = replaces.length > 0 && !news.sourceIpamPoolId && (olds.ipamScopeId ?? null) === (news.ipamScopeId ?? null);
  return { changes: replaces.length + changes.length > 0, replaces, deleteBeforeReplace };
}

export async function create(inputs: Props) {
  const { planner, backend } = context();
  const plan = {
    cidrs: inputs.cidrs, nonce: inputs.planNonce, ipamPoolId: inputs.ipamPoolId,
    clientToken: inputs.clientToken || tokenFor(inputs.planKey, inputs.planNonce),
  };
  const pool = backend.kind === "local"
    ? await planner.commitPool(inputs.planKey, spec(inputs), plan)
    : await planner.commitRemote(inputs.planKey, plan,
      () => backend.createPool({ ...spec(inputs), netmaskLength: undefined, cidrs: plan.cidrs, clientToken: plan.clientToken }),
      (p) => p.ipamPoolId);
  return { id: pool.ipamPoolId, outs: defined({ ...inputs, ipamPoolId: pool.ipamPoolId, cidrs: pool.cidrs, poolDepth: pool.poolDepth }) };
}

export async function read(id: string, props: Props) {
  const { backend, planner } = context();
  // Gone outside Pulumi: a new resource of this name must not reuse its ClientToken (a cloud would replay the deleted one).
  const gone = async () => {
    if (props.planKey && props.planNonce) await planner.forget(props.planKey, props.planNonce);
    return {};
  };
  try {
    const found = await backend.getPool(id);
    if (!found) return gone();
    const { allocationStrategy, ...info } = found;
    // Refresh: report what the store says for the fields this resource has. Import (no props): everything set.
    const importing = !props.ipamPoolId;
    const out: Props = { ...props };
    for (const [k, v] of Object.entries(info)) {
      const empty = v && typeof v === "object" && !Array.isArray(v) && Object.keys(v).length === 0;
      if (k in props || (importing && !empty)) out[k] = v;
    }
    if (importing && allocationStrategy !== "first-fit") out.allocationStrategy = allocationStrategy;
    return { id, props: defined(out) };
  } catch (e) {
    if (notFound(e, "InvalidIpamPoolId.NotFound")) return gone();
    throw e;
  }
}

export async function update(id: string, olds: Props, news: Props) {
  const { backend } = context();
  for (const cidr of news.cidrs ?? []) {
    if (!(olds.cidrs ?? []).includes(cidr)) await backend.provisionPoolCidr(id, cidr);
  }
  const p = await backend.updatePool({
    ipamPoolId: id, description: news.description, tags: news.tags, allocationMinNetmaskLength: news.allocationMinNetmaskLength,
    allocationMaxNetmaskLength: news.allocationMaxNetmaskLength, allocationDefaultNetmaskLength: news.allocationDefaultNetmaskLength,
    allocationResourceTags: news.allocationResourceTags,
  });
  return { outs: defined({ ...news, cidrs: p.cidrs, poolDepth: p.poolDepth }) };
}

export async function remove(id: string, props: Props) {
  const { backend, planner } = context();
  try {
    await backend.deletePool(id);
  } catch (e) {
    if (!notFound(e, "InvalidIpamPoolId.NotFound")) throw e;
  }
  if (props.planKey && props.planNonce) await planner.forget(props.planKey, props.planNonce);
}
