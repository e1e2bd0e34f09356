/** ElasticIp: check plans the address (lowest free first), create allocates exactly it. */
import { IpamError } from "../core/errors";
import { tokenFor } from "../core/plan";
import { checkFailure, context, defined, driftNote, isUnknown, notFound, UNKNOWN } from "../runtime/context";

type Props = Record<string, any>;

/** The pool an address-only ElasticIp comes from: the one whose provisioned CIDRs hold it. */
async function poolFor(p: Props): Promise<string> {
  if (p.ipamPoolId) return p.ipamPoolId;
  if (!p.address) throw new IpamError("InvalidParameterCombination", "give ipamPoolId, address, or both.");
  const { ipam } = context();
  const ip = p.address as string;
  for (const pool of await ipam.listPools()) {
    if (pool.addressFamily !== "ipv4") continue;
    try {
      await ipam.previewNextAddress({ ipamPoolId: pool.ipamPoolId, address: ip });
      return pool.ipamPoolId;
    } catch { /* not this pool */ }
  }
  throw new IpamError("OperationDenied.CidrUnavailableInPool", `no pool holds ${ip} free; give ipamPoolId or a free address.`);
}

export async function check(olds: Props, news: Props) {
  if (context().backend.kind === "alicloud") {
    // Fail in preview, not half-way through up: Alibaba's EIP API takes no IPAM pool.
    return checkFailure(new IpamError("UnsupportedOperation", "Alibaba Cloud cannot allocate an Elastic IP from an IPAM pool (AllocateEipAddress has no IPAM pool parameter); remove the ElasticIp, or allocate the EIP with the Pulumi alicloud provider (alicloud.ecs.EipAddress)."));
  }
  if (isUnknown([news.ipamPoolId, news.address])) return { inputs: { ...news, publicIp: UNKNOWN } };
  if (olds.publicIp && olds.publicIp !== UNKNOWN && (olds.requestedPoolId ?? "") === (news.ipamPoolId ?? "") && (olds.address ?? "") === (news.address ?? "")) {
    return { inputs: { ...news, requestedPoolId: news.ipamPoolId ?? "", ipamPoolId: olds.ipamPoolId, publicIp: olds.publicIp, planNonce: olds.planNonce ?? "" } };
  }
  const { planner, strict, ttlMs } = context();
  try {
    const ipamPoolId = await poolFor(news);
    const plan = await planner.planAddress(news.planKey, { ipamPoolId, address: news.address, tags: news.tags, clientToken: news.clientToken }, { ttlMs });
    const publicIp = plan.cidrs[0].split("/")[0];
    const note = driftNote(news.planKey, plan.previouslyPlanned, plan.cidrs);
    if (note && strict) return { inputs: {}, failures: [{ property: "publicIp", reason: `plan changed (ipam:strictPlan): ${note}` }] };
    return { inputs: { ...news, requestedPoolId: news.ipamPoolId ?? "", ipamPoolId, publicIp, planNonce: plan.nonce, ...(note ? { planNote: note } : {}) } };
  } catch (e) {
    return checkFailure(e);
  }
}

export async function diff(_id: string, olds: Props, news: Props) {
  const replaces = ["ipamPoolId", "publicIp"].filter((k) => olds[k] !== news[k]);
  const changes = JSON.stringify(olds.tags ?? null) !== JSON.stringify(news.tags ?? null);
  if (changes && context().backend.kind !== "local") replaces.push("tags");
  return { changes: replaces.length > 0 || changes, replaces, deleteBeforeReplace: false };
}

export async function create(inputs: Props) {
  const { planner, backend } = context();
  const req = { ipamPoolId: inputs.ipamPoolId, address: inputs.address, tags: inputs.tags };
  const plan = {
    cidrs: [`${inputs.publicIp}/32`], nonce: inputs.planNonce, ipamPoolId: inputs.ipamPoolId,
    clientToken: inputs.clientToken || tokenFor(inputs.planKey, inputs.planNonce),
  };
  const a = backend.kind === "local"
    ? await planner.commitAddress(inputs.planKey, req, plan)
    : await planner.commitRemote(inputs.planKey, plan, () => backend.allocateAddress({ ...req, address: inputs.publicIp, clientToken: plan.clientToken }));
  return { id: a.allocationId, outs: defined({ ...inputs, publicIp: a.publicIp, allocationId: a.allocationId, ipamPoolAllocationId: a.ipamPoolAllocationId }) };
}

export async function read(id: string, props: Props) {
  const { backend, planner } = context();
  // Released outside Pulumi: a new resource of this name must not reuse its ClientToken (it would replay the released one).
  const gone = async () => {
    if (props.planKey && props.planNonce) await planner.forget(props.planKey, props.planNonce);
    return {};
  };
  try {
    const a = await backend.getAddress(id);
    if (!a) return gone();
    // No tags stored and none in the state: leave tags out, or the next diff sees {} against none as a change.
    const tags = props.tags !== undefined || Object.keys(a.tags ?? {}).length > 0 ? a.tags : undefined;
    return { id, props: defined({ ...props, ipamPoolId: a.ipamPoolId, publicIp: a.publicIp, allocationId: a.allocationId, ipamPoolAllocationId: a.ipamPoolAllocationId, tags }) };
  } catch (e) {
    if (notFound(e, "InvalidAllocationID.NotFound")) return gone();
    throw e;
  }
}

export async function update(id: string, _olds: Props, news: Props) {
  const { ipam, backend } = context();
  if (backend.kind !== "local") throw new IpamError("InvalidParameterCombination", "internal: cloud addresses are replaced, not updated");
  const a = await ipam.tagAddress({ allocationId: id, tags: news.tags });
  return { outs: defined({ ...news, allocationId: id, publicIp: a.publicIp, ipamPoolAllocationId: a.ipamPoolAllocationId }) };
}

export async function remove(id: string, props: Props) {
  const { backend, planner } = context();
  try {
    await backend.releaseAddress(id);
  } catch (e) {
    if (!notFound(e, "InvalidAllocationID.NotFound", "InvalidIpamPoolId.NotFound")) throw e;
  }
  if (props.planKey && props.planNonce) await planner.forget(props.planKey, props.planNonce);
}
