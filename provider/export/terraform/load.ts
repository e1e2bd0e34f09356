/**
 * The optional packages the Terraform export builds with. They are
 * package.json's optionalDependencies and are loaded here only, inside the
 * export command: a user who never exports never loads them (CDKTF was
 * deprecated on 2025-12-10 and @cdktf/provider-aws is archived, so they stay
 * at arm's length). Each construct comes from its own submodule: the
 * provider's index loads bindings for every AWS resource.
 */
import type * as cdktf from "cdktf";
import type { AwsProvider } from "@cdktf/provider-aws/lib/provider";
import type { Eip } from "@cdktf/provider-aws/lib/eip";
import type { VpcIpamPool } from "@cdktf/provider-aws/lib/vpc-ipam-pool";
import type { VpcIpamPoolCidr } from "@cdktf/provider-aws/lib/vpc-ipam-pool-cidr";
import type { VpcIpamPoolCidrAllocation } from "@cdktf/provider-aws/lib/vpc-ipam-pool-cidr-allocation";
import { IpamError } from "../../core/errors";

export interface Cdk {
  cdktf: typeof cdktf;
  AwsProvider: typeof AwsProvider;
  VpcIpamPool: typeof VpcIpamPool;
  VpcIpamPoolCidr: typeof VpcIpamPoolCidr;
  VpcIpamPoolCidrAllocation: typeof VpcIpamPoolCidrAllocation;
  Eip: typeof Eip;
}

export const PACKAGES = ["cdktf", "@cdktf/provider-aws", "constructs"] as const;

/** The exact versions package.json pins, for the install hint. */
function pinned(): string[] {
  try {
    const pkg = require("../../../../package.json") as { optionalDependencies?: Record<string, string> };
    return PACKAGES.map((p) => (pkg.optionalDependencies?.[p] ? `${p}@${pkg.optionalDependencies[p]}` : p));
  } catch {
    return [...PACKAGES];
  }
}

/**
 * Loads the packages through `load` (require, or a stand-in in tests). When one is absent (installed
 * with --omit=optional, or not at all): InvalidParameterValue, a configuration to fix (exit 2), with the install line.
 */
export function loadCdk(load: (id: string) => unknown = require): Cdk {
  try {
    load("constructs");
    const sub = <T>(m: string, name: string) => (load(`@cdktf/provider-aws/lib/${m}`) as Record<string, T>)[name];
    return {
      cdktf: load("cdktf") as typeof cdktf,
      AwsProvider: sub("provider", "AwsProvider"),
      VpcIpamPool: sub("vpc-ipam-pool", "VpcIpamPool"),
      VpcIpamPoolCidr: sub("vpc-ipam-pool-cidr", "VpcIpamPoolCidr"),
      VpcIpamPoolCidrAllocation: sub("vpc-ipam-pool-cidr-allocation", "VpcIpamPoolCidrAllocation"),
      Eip: sub("eip", "Eip"),
    };
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    if (err.code !== "MODULE_NOT_FOUND") throw e;
    const missing = /Cannot find module '([^']+)'/.exec(err.message)?.[1] ?? "a package";
    throw new IpamError("InvalidParameterValue", `export terraform needs the optional packages ${PACKAGES.join(", ")} (${missing} is not installed): npm install ${pinned().join(" ")}`);
  }
}
