/** The local backend: our allocator on the configured store. */
import { isIpamError } from "../core/errors";
import type { Ipam } from "../core/ipam";
import type { Backend } from "./backend";

export function localBackend(ipam: Ipam): Backend & { ipam: Ipam } {
  const orUndefined = <T>(p: Promise<T>, code: Parameters<typeof isIpamError>[1]) => p.catch((e) => {
    if (isIpamError(e, code)) return undefined;
    throw e;
  });
  return {
    kind: "local",
    ipam,
    createPool: (spec) => ipam.createPool(spec),
    getPool: (id) => orUndefined(ipam.getPool(id), "InvalidIpamPoolId.NotFound"),
    listPools: () => ipam.listPools(),
    updatePool: (input) => ipam.updatePool(input),
    provisionPoolCidr: async (id, cidr) => { await ipam.provisionPoolCidr({ ipamPoolId: id, cidr }); },
    deletePool: (id) => ipam.deletePool({ ipamPoolId: id }),
    allocate: (input) => ipam.allocate(input),
    previewNextCidr: (input) => ipam.previewNextCidr(input),
    getAllocation: (poolId, id) => orUndefined(ipam.getAllocation(poolId, id), "InvalidIpamPoolAllocationId.NotFound"),
    listAllocations: (poolId) => ipam.listAllocations(poolId),
    release: (poolId, id, cidr) => ipam.release({ ipamPoolId: poolId, ipamPoolAllocationId: id, cidr }),
    allocateAddress: (input) => {
      if (!input.ipamPoolId) throw new Error("internal: the local backend needs the pool of an address");
      return ipam.allocateAddress({ ...input, ipamPoolId: input.ipamPoolId });
    },
    getAddress: (id) => orUndefined(ipam.getAddress(id), "InvalidAllocationID.NotFound"),
    releaseAddress: (id) => ipam.releaseAddress({ allocationId: id }),
  };
}
