/**
 * IpamPool, IpamPoolAllocation and ElasticIp for Pulumi programs, as Node
 * dynamic resources (type tokens pulumi-nodejs:dynamic/ipam:<Type>).
 *
 * The provider object is serialized into every resource's state, so it is a
 * trampoline (providers/trampoline.ts) that loads the installed pulumi-ipam
 * inside each call.
 */
import * as pulumi from "@pulumi/pulumi";
import ElasticIpProvider = require("./providers/ElasticIp");
import IpamPoolProvider = require("./providers/IpamPool");
import IpamPoolAllocationProvider = require("./providers/IpamPoolAllocation");
import type { Kind } from "./providers/trampoline";

/**
 * One provider object per kind, each the exports of its own module: Pulumi's
 * closure serializer writes a module's exports found under node_modules as
 * require("pulumi-ipam/dist/provider/pulumi/providers/<Kind>.js"), about 0.3
 * KB in every resource's inputs and outputs instead of 2.7 KB of trampoline
 * code (state size is what the file backend rewrites after every step of an
 * update). From a checkout linked outside node_modules it falls back to
 * serializing the trampoline by value, which works the same. @pulumi/pulumi
 * also caches a serialization by object identity, so one object per kind.
 */
const providers = { IpamPool: IpamPoolProvider, IpamPoolAllocation: IpamPoolAllocationProvider, ElasticIp: ElasticIpProvider };

/**
 * The key plans are kept under: the resource's URN, the same in every run
 * of this stack. It includes the parent chain's types, so two children with
 * one name under components of different types never share a plan.
 */
function planKey(kind: Kind, name: string, opts?: pulumi.CustomResourceOptions): pulumi.Input<string> {
  const urn = (parentType?: string) => `urn:pulumi:${pulumi.getStack()}::${pulumi.getProject()}::${parentType ? `${parentType}$` : ""}pulumi-nodejs:dynamic/ipam:${kind}::${name}`;
  const parent = opts?.parent;
  if (!parent) return urn();
  // A child's type is its parent's qualified type, '$', its own; the stack itself is left out.
  return parent.urn.apply((u) => {
    const type = u.split("::")[2];
    return urn(type === "pulumi:pulumi:Stack" ? undefined : type);
  });
}

type In<T> = { [K in keyof T]: pulumi.Input<T[K]> };
type Tags = Record<string, string>;

export interface IpamPoolArgs {
  addressFamily: "ipv4" | "ipv6";
  /** CIDRs provisioned to the pool. For a nested pool, each is carved out of the source pool. */
  cidrs?: string[];
  sourceIpamPoolId?: string;
  /**
   * The scope of a top-level pool: its CIDRs may not overlap another top-level pool's in the same scope.
   * A nested pool is in its source's scope (if given, it must be that one).
   * @default local: "ipam-scope-default"; aws/alicloud: ipam:scopeId
   */
  ipamScopeId?: string;
  /** Nested pools: carve one CIDR of this netmask length out of the source pool (planned in preview). */
  netmaskLength?: number;
  locale?: string;
  description?: string;
  allocationMinNetmaskLength?: number;
  allocationMaxNetmaskLength?: number;
  allocationDefaultNetmaskLength?: number;
  /** Tags every allocation from this pool must carry. */
  allocationResourceTags?: Tags;
  /** @default "first-fit": the lowest-address aligned free block. "best-fit": the smallest free block that fits. */
  allocationStrategy?: "first-fit" | "best-fit";
  /** @default derived from the stack, the resource and a nonce kept in state */
  clientToken?: string;
  tags?: Tags;
}

export class IpamPool extends pulumi.dynamic.Resource {
  /** Known in preview: planned from the resource's key. */
  declare readonly ipamPoolId: pulumi.Output<string>;
  /** The provisioned CIDRs; for a nested pool carved by netmaskLength, the planned ones (known in preview). */
  declare readonly cidrs: pulumi.Output<string[]>;
  declare readonly poolDepth: pulumi.Output<number>;
  declare readonly addressFamily: pulumi.Output<string>;
  declare readonly planNote: pulumi.Output<string | undefined>;

  constructor(name: string, args: In<IpamPoolArgs>, opts?: pulumi.CustomResourceOptions) {
    super(providers.IpamPool, name, {
      ...args, cidrs: args.cidrs, planKey: planKey("IpamPool", name, opts), ipamPoolId: undefined, poolDepth: undefined, planNote: undefined,
    }, opts, "ipam", "IpamPool");
  }
}

export interface IpamPoolAllocationArgs {
  ipamPoolId: string;
  /** A given CIDR; otherwise planned from netmaskLength or the pool's allocationDefaultNetmaskLength. */
  cidr?: string;
  netmaskLength?: number;
  /** Only with netmaskLength: where the CIDR may come from. */
  allowedCidrs?: string[];
  /** Only with netmaskLength: where it may not. */
  disallowedCidrs?: string[];
  description?: string;
  resourceId?: string;
  resourceType?: "vpc" | "subnet" | "custom";
  /** @default derived from the stack, the resource and a nonce kept in state */
  clientToken?: string;
  tags?: Tags;
  /**
   * Import: adopt this existing allocation (made outside Pulumi) instead of allocating.
   * Use it instead of the `import` option, which the engine cannot deliver to dynamic resources.
   */
  ipamPoolAllocationId?: string;
}

export class IpamPoolAllocation extends pulumi.dynamic.Resource {
  /** Known in preview: the CIDR this allocation gets. */
  declare readonly cidr: pulumi.Output<string>;
  declare readonly ipamPoolAllocationId: pulumi.Output<string>;
  declare readonly ipamPoolId: pulumi.Output<string>;
  /** Present when resourceType was given. */
  declare readonly resourceType: pulumi.Output<string> | undefined;
  /** Set when an earlier plan could not be kept (the pool changed): what was planned and what it gets. */
  declare readonly planNote: pulumi.Output<string | undefined>;

  constructor(name: string, args: In<IpamPoolAllocationArgs>, opts?: pulumi.CustomResourceOptions) {
    super(providers.IpamPoolAllocation, name, {
      // Only outputs a user reads are declared here: every property costs the SDK promises, each with a
      // source-mapped stack trace (resourceType is an output when given, through ...args).
      ...args, cidr: args.cidr, planKey: planKey("IpamPoolAllocation", name, opts), ipamPoolAllocationId: args.ipamPoolAllocationId, planNote: undefined,
    }, opts, "ipam", "IpamPoolAllocation");
  }
}

export interface ElasticIpArgs {
  /** The pool the address comes from (lowest free address first). */
  ipamPoolId?: string;
  /** A given address (from ipamPoolId, or from whichever pool holds it). */
  address?: string;
  /** @default derived from the stack, the resource and a nonce kept in state */
  clientToken?: string;
  tags?: Tags;
}

export class ElasticIp extends pulumi.dynamic.Resource {
  /** Known in preview. */
  declare readonly publicIp: pulumi.Output<string>;
  declare readonly allocationId: pulumi.Output<string>;
  declare readonly ipamPoolId: pulumi.Output<string>;
  declare readonly ipamPoolAllocationId: pulumi.Output<string>;
  declare readonly planNote: pulumi.Output<string | undefined>;

  constructor(name: string, args: In<ElasticIpArgs>, opts?: pulumi.CustomResourceOptions) {
    super(providers.ElasticIp, name, {
      ...args, planKey: planKey("ElasticIp", name, opts), publicIp: undefined, allocationId: undefined, ipamPoolAllocationId: undefined, planNote: undefined,
    }, opts, "ipam", "ElasticIp");
  }
}
