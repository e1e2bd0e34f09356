/** IpamPoolAllocation: check plans the CIDR, create allocates exactly it. */
import { IpamError } from "../core/errors";
import { Plan, tokenFor } from "../core/plan";
import type { AllocateInput } from "../core/types";
import { checkFailure, context, defined, driftNote, isUnknown, notFound, UNKNOWN } from "../runtime/context";

type Props = Record<string, any>;

/**
 * The cidr the user gave. After check() the planned CIDR is in `cidr`, the user's own in `requestedCidr`,
 * which is left out when there is none (state kept small); checked inputs always have planNonce. States
 * written before say requestedCidr "" for none.
 */
const requested = (p: Props): string | undefined => ("requestedCidr" in p ? p.requestedCidr : "planNonce" in p ? undefined : p.cidr) || undefined;
/** What check() adds to the program's inputs to keep the user's cidr beside the planned one. */
const given = (news: Props): Props => (news.cidr !== undefined && news.cidr !== null ? { requestedCidr: news.cidr } : {});

/** The user's request. */
function request(p: Props): AllocateInput {
  return {
    ipamPoolId: p.ipamPoolId, cidr: requested(p), netmaskLength: p.netmaskLength, allowedCidrs: p.allowedCidrs,
    disallowedCidrs: p.disallowedCidrs, description: p.description, resourceId: p.resourceId,
    resourceType: p.resourceType ?? "custom", resourceTags: p.tags, clientToken: p.clientToken,
  };
}

const prefixOf = (cidr: string) => Number(cidr.split("/")[1]);

export async function check(olds: Props, news: Props) {
  if (isUnknown([news.ipamPoolId, news.cidr, news.netmaskLength, news.allowedCidrs, news.disallowedCidrs, news.ipamPoolAllocationId])) {
    return { inputs: { ...news, cidr: UNKNOWN } };
  }
  if (news.ipamPoolAllocationId) {
    try {
      return { inputs: { ...news, ...given(news), cidr: (await adoptable(news)).cidr, planNonce: "" } };
    } catch (e) {
      return checkFailure(e);
    }
  }
  // An existing allocation keeps its CIDR while the request still admits it.
  if (olds.cidr && olds.cidr !== UNKNOWN && olds.ipamPoolId === news.ipamPoolId
    && (news.cidr === undefined || news.cidr === olds.cidr)
    && (news.netmaskLength === undefined || news.netmaskLength === prefixOf(olds.cidr))) {
    return { inputs: { ...news, ...given(news), cidr: olds.cidr, planNonce: olds.planNonce ?? "" } };
  }
  const { planner, strict, ttlMs } = context();
  try {
    const plan = await planner.planAllocation(news.planKey, request(news), { ttlMs });
    const note = driftNote(news.planKey, plan.previouslyPlanned, plan.cidrs);
    if (note && strict) return { inputs: {}, failures: [{ property: "cidr", reason: `plan changed (ipam:strictPlan): ${note}` }] };
    return { inputs: { ...news, ...given(news), cidr: plan.cidrs[0], planNonce: plan.nonce, ...(note ? { planNote: note } : {}) } };
  } catch (e) {
    return checkFailure(e);
  }
}

export async function diff(_id: string, olds: Props, news: Props) {
  const replaces = ["ipamPoolId", "cidr", "ipamPoolAllocationId"].filter((k) => k !== "ipamPoolAllocationId" || news[k] !== undefined).filter((k) => JSON.stringify(olds[k]) !== JSON.stringify(news[k]));
  const changes = ["description", "tags"].filter((k) => JSON.stringify(olds[k] ?? null) !== JSON.stringify(news[k] ?? null));
  // Cloud APIs cannot change an allocation's description or tags: they replace it.
  if (context().backend.kind !== "local") replaces.push(...changes);
  return { changes: replaces.length + changes.length > 0, replaces, deleteBeforeReplace: false };
}

/**
 * Import by allocation id. The engine's import path (`pulumi import`, the
 * `import` option) cannot reach a dynamic provider's read: @pulumi/pulumi's
 * dynamic-provider host deserializes the provider from the Read request's
 * properties, which an import leaves empty ("Cannot read properties of
 * undefined (reading 'toJavaScript')", seen with 3.259). So an allocation is
 * adopted through the ipamPoolAllocationId input instead.
 */
async function adoptable(p: Props) {
  const { ipam, backend } = context();
  const a = backend.kind === "local" ? await ipam.findAllocation(p.ipamPoolAllocationId) : await backend.getAllocation(p.ipamPoolId, p.ipamPoolAllocationId);
  if (!a || a.ipamPoolId !== p.ipamPoolId) {
    throw new IpamError("InvalidIpamPoolAllocationId.NotFound", `allocation ${p.ipamPoolAllocationId} does not exist in pool ${p.ipamPoolId}; check ipamPoolAllocationId and ipamPoolId.`);
  }
  const wanted = requested(p);
  if (wanted && wanted !== a.cidr) {
    throw new IpamError("InvalidParameterValue", `allocation ${a.ipamPoolAllocationId} holds ${a.cidr}, not ${wanted}; give its cidr or leave cidr out.`);
  }
  return a;
}

export async function create(inputs: Props) {
  const { planner, strict, ipam, backend } = context();
  if (inputs.ipamPoolAllocationId) {
    const found = await adoptable(inputs);
    const a = backend.kind === "local"
      ? await ipam.updateAllocation({ ipamPoolId: found.ipamPoolId, ipamPoolAllocationId: found.ipamPoolAllocationId, description: inputs.description, resourceTags: inputs.tags })
      : found;
    return { id: a.ipamPoolAllocationId, outs: defined({ ...inputs, cidr: a.cidr, resourceType: a.resourceType }) };
  }
  const commit = (plan: Plan) => backend.kind === "local"
    ? planner.commitAllocation(inputs.planKey, req, plan)
    : planner.commitRemote(inputs.planKey, plan, () => backend.allocate({ ...req, cidr: plan.cidrs[0], clientToken: plan.clientToken }));
  const req = request(inputs);
  const plan = { cidrs: [inputs.cidr], nonce: inputs.planNonce, ipamPoolId: inputs.ipamPoolId, clientToken: inputs.clientToken || tokenFor(inputs.planKey, inputs.planNonce) };
  let note: string | undefined;
  let a;
  try {
    a = await commit(plan);
  } catch (e) {
    // The planned CIDR was taken since check() by someone outside this deployment: plan again unless strict.
    if (strict || req.cidr != null || !notFound(e, "OperationDenied.CidrUnavailableInPool")) throw e;
    const fresh = await planner.planAllocation(inputs.planKey, req, {});
    note = driftNote(inputs.planKey, [inputs.cidr], fresh.cidrs);
    a = await commit(fresh);
    inputs = { ...inputs, planNonce: fresh.nonce };
  }
  if (note) process.stderr.write(`warning: ${note}\n`);
  return { id: a.ipamPoolAllocationId, outs: defined({ ...inputs, cidr: a.cidr, ipamPoolAllocationId: a.ipamPoolAllocationId, resourceType: a.resourceType, ...(note ? { planNote: note } : {}) }) };
}

export async function read(id: string, props: Props) {
  const { ipam, backend, planner } = context();
  const a = backend.kind === "local" || !props.ipamPoolId ? await ipam.findAllocation(id) : await backend.getAllocation(props.ipamPoolId, id);
  if (!a) {
    // Gone outside Pulumi: a new resource of this name must not reuse its ClientToken (a cloud would replay the deleted one).
    if (props.planKey && props.planNonce) await planner.forget(props.planKey, props.planNonce);
    return {};
  }
  // Cloud APIs keep no tags, type or resource id on these allocations (EC2 reports every one as custom):
  // there, what the resource says stands; the local store keeps them, so it is the truth.
  const local = backend.kind === "local";
  return {
    id,
    props: defined({
      ...props, ipamPoolId: a.ipamPoolId, cidr: a.cidr, ipamPoolAllocationId: a.ipamPoolAllocationId,
      description: local ? a.description : a.description ?? props.description,
      tags: local ? a.resourceTags : props.tags, resourceType: local ? a.resourceType : props.resourceType ?? a.resourceType,
      resourceId: local ? a.resourceId : props.resourceId,
    }),
  };
}

export async function update(id: string, olds: Props, news: Props) {
  const { ipam, backend } = context();
  if (backend.kind !== "local") throw new IpamError("InvalidParameterCombination", "internal: cloud allocations are replaced, not updated");
  const a = await ipam.updateAllocation({ ipamPoolId: olds.ipamPoolId, ipamPoolAllocationId: id, description: news.description, resourceTags: news.tags });
  return { outs: defined({ ...news, cidr: a.cidr, ipamPoolAllocationId: id, resourceType: a.resourceType }) };
}

export async function remove(id: string, props: Props) {
  const { planner, backend } = context();
  try {
    await backend.release(props.ipamPoolId, id, props.cidr);
  } catch (e) {
    // Already released (outside Pulumi, or the pool is gone): nothing left to give back.
    if (!notFound(e, "InvalidIpamPoolAllocationId.NotFound", "InvalidIpamPoolId.NotFound")) throw e;
  }
  if (props.planKey && props.planNonce) await planner.forget(props.planKey, props.planNonce);
}
