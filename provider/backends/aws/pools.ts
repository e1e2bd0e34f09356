/** Reading IPAM pools and their CIDRs, and waiting for their asynchronous state changes. */
import {
  DescribeIpamPoolsCommand, GetIpamPoolCidrsCommand, ProvisionIpamPoolCidrCommand,
  type EC2Client, type IpamPool, type IpamPoolCidr,
} from "@aws-sdk/client-ec2";
import { IpamError, isIpamError } from "../../core/errors";
import type { Caller } from "./call";

export interface Ec2 {
  client: EC2Client;
  call: Caller;
}

/** The pool, or undefined when EC2 does not know it (InvalidIpamPoolId.NotFound). */
export async function describePool({ client, call }: Ec2, ipamPoolId: string): Promise<IpamPool | undefined> {
  try {
    const out = await call.send("DescribeIpamPools", () => client.send(new DescribeIpamPoolsCommand({ IpamPoolIds: [ipamPoolId] })));
    return out.IpamPools?.find((p) => p.IpamPoolId === ipamPoolId);
  } catch (e) {
    if (isIpamError(e, "InvalidIpamPoolId.NotFound")) return undefined;
    throw e;
  }
}

/** Every pool EC2 lists in the region (all pages), in any state. */
export async function listAllPools({ client, call }: Ec2): Promise<IpamPool[]> {
  const all: IpamPool[] = [];
  let next: string | undefined;
  do {
    const token = next;
    const out = await call.send("DescribeIpamPools", () => client.send(new DescribeIpamPoolsCommand({ NextToken: token })));
    all.push(...(out.IpamPools ?? []));
    next = out.NextToken || undefined;
  } while (next);
  return all;
}

/** Every CIDR of the pool in any state (all pages). */
export async function poolCidrs({ client, call }: Ec2, ipamPoolId: string): Promise<IpamPoolCidr[]> {
  const all: IpamPoolCidr[] = [];
  let next: string | undefined;
  do {
    const token = next;
    const out = await call.send("GetIpamPoolCidrs", () => client.send(new GetIpamPoolCidrsCommand({ IpamPoolId: ipamPoolId, NextToken: token })));
    all.push(...(out.IpamPoolCidrs ?? []));
    next = out.NextToken || undefined;
  } while (next);
  return all;
}

/** ProvisionIpamPoolCidr of a CIDR or (nested pools) a netmask length; returns the CIDR. Does not wait. */
export async function provision({ client, call }: Ec2, ipamPoolId: string, what: { Cidr?: string; NetmaskLength?: number }, clientToken: string): Promise<string> {
  const out = await call.send("ProvisionIpamPoolCidr", () => client.send(new ProvisionIpamPoolCidrCommand({ IpamPoolId: ipamPoolId, ...what, ClientToken: clientToken })));
  const cidr = out.IpamPoolCidr?.Cidr ?? what.Cidr;
  if (!cidr) throw new IpamError("IncorrectState", `ProvisionIpamPoolCidr in ${ipamPoolId} returned no CIDR.`);
  return cidr;
}

/** Until the pool reaches `state`; a NotFound just after CreateIpamPool is eventual consistency and waited out. */
export async function waitPool(ec2: Ec2, ipamPoolId: string, state: "create-complete" | "modify-complete", first?: IpamPool): Promise<void> {
  let known = first;
  await ec2.call.waitFor(`pool ${ipamPoolId} to reach ${state}`, async () => {
    const p = known ?? (await describePool(ec2, ipamPoolId));
    known = undefined;
    const s = p?.State;
    if (s === "create-failed" || s === "modify-failed" || s?.startsWith("delete")) {
      throw new IpamError("IncorrectState", `pool ${ipamPoolId} is ${s}: ${p?.StateMessage ?? "no reason given"}`);
    }
    // A modification that completed at once leaves the pool create-complete.
    return s === state || (state === "modify-complete" && s === "create-complete") ? true : undefined;
  });
}

/** Until every CIDR in `cidrs` is `state` (deprovisioned: or no longer listed); a failed-* state is an error with EC2's reason. */
export async function waitCidrs(ec2: Ec2, ipamPoolId: string, cidrs: string[], state: "provisioned" | "deprovisioned"): Promise<void> {
  if (!cidrs.length) return;
  await ec2.call.waitFor(`${cidrs.join(", ")} in ${ipamPoolId} to be ${state}`, async () => {
    const now = await poolCidrs(ec2, ipamPoolId);
    for (const cidr of cidrs) {
      const c = now.filter((x) => x.Cidr === cidr);
      const failed = c.find((x) => x.State?.startsWith("failed"));
      if (failed) {
        throw new IpamError(failed.FailureReason?.Code ?? "IncorrectState", `${cidr} in ${ipamPoolId}: ${failed.State}: ${failed.FailureReason?.Message ?? "no reason given"}`);
      }
      const done = state === "provisioned" ? c.some((x) => x.State === "provisioned") : c.every((x) => x.State === "deprovisioned");
      if (!done) return undefined;
    }
    return true;
  });
}

/** Waits until DeleteIpamPool has finished (the pool is gone or delete-complete). */
export async function waitDeleted(ec2: Ec2, ipamPoolId: string): Promise<void> {
  await ec2.call.waitFor(`pool ${ipamPoolId} to be deleted`, async () => {
    const p = await describePool(ec2, ipamPoolId);
    if (p?.State === "delete-failed") throw new IpamError("IncorrectState", `DeleteIpamPool ${ipamPoolId} failed: ${p.StateMessage ?? "no reason given"}`);
    return !p || p.State === "delete-complete" ? true : undefined;
  });
}
