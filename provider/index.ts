/**
 * pulumi-ipam: `import * as ipam from "pulumi-ipam"`.
 * The Pulumi resources, and the allocator itself for programs that use it directly.
 */
export { ElasticIp, IpamPool, IpamPoolAllocation } from "./pulumi/resources";
export type { ElasticIpArgs, IpamPoolAllocationArgs, IpamPoolArgs } from "./pulumi/resources";
export { IpamError } from "./core/errors";
export type { IpamErrorCode } from "./core/errors";
export { Ipam } from "./core/ipam";
export { Planner } from "./core/plan";
export { openStore } from "./stores";
export type * from "./core/types";
