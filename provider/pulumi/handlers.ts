/**
 * The provider methods, loaded by name inside each call of the serialized
 * trampoline (resources.ts): a deployment always runs the installed
 * pulumi-ipam, never code frozen into an old state file.
 */
import * as address from "./address";
import * as allocation from "./allocation";
import * as pool from "./pool";

export { configure } from "./context";
export const handlers = { IpamPool: pool, IpamPoolAllocation: allocation, ElasticIp: address } as const;
