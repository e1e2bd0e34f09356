/**
 * IpamPool, IpamPoolAllocation and ElasticIp for Pulumi programs, as Node
 * dynamic resources (type tokens pulumi-nodejs:dynamic/ipam:<Type>).
 *
 * The provider object is serialized into every resource's state, so it is a
 * trampoline (providers/trampoline.ts) that loads the installed pulumi-ipam
 * inside each call.
 */
import * as pulumi from "@pulumi/pulumi";
import type { ElasticIpArgs, IpamPoolAllocationArgs, IpamPoolArgs } from "../schema/types";
import * as path from "node:path";
import ElasticIpProvider = require("./providers/ElasticIp");
import IpamPoolProvider = require("./providers/IpamPool");
import IpamPoolAllocationProvider = require("./providers/IpamPoolAllocation");
import type { Kind } from "./providers/trampoline";

/** One provider object per kind, each the exports of its own module (providers/<Kind>.ts). */
const providers = { IpamPool: IpamPoolProvider, IpamPoolAllocation: IpamPoolAllocationProvider, ElasticIp: ElasticIpProvider };

/**
 * The package as a program's node_modules names it ("pulumi-ipam/dist/provider/pulumi"), or undefined for a
 * checkout outside node_modules (run from its TypeScript sources, say).
 */
const installedAs = ((): string | undefined => {
  const at = __dirname.lastIndexOf(`${path.sep}node_modules${path.sep}`);
  return at < 0 ? undefined : __dirname.slice(at + "/node_modules/".length).split(path.sep).join("/");
})();

/**
 * What a dynamic resource keeps as `__provider` (in its inputs and again in
 * its outputs): the text the dynamic-provider host runs to get the provider.
 * Installed, one require of the kind's module, about 0.1 KB, written here
 * rather than by Pulumi's closure serializer (0.3 KB of wrapper for the same
 * require): state is what the file backend rewrites after every step of an
 * update. Elsewhere the serializer writes the trampoline by value, which
 * works the same. One promise per kind: every resource shares the text.
 */
const providerTexts = new Map<Kind, pulumi.Input<string>>();
function providerText(kind: Kind): pulumi.Input<string> {
  let t = providerTexts.get(kind);
  if (!t) {
    t = installedAs
      ? `exports.handler = () => require(${JSON.stringify(`${installedAs}/providers/${kind}.js`)});\n`
      : pulumi.runtime.serializeFunction(() => providers[kind], { allowSecrets: false }).then((f) => f.text);
    providerTexts.set(kind, t);
  }
  return t;
}

/**
 * Cuts the stack trace Pulumi records for a registration (in every
 * resource's state, about 0.5 KB) to the program's own frame, until the
 * returned function restores it: the SDK's frames, one of ours (it skips one
 * per resource class level), then the first frame outside the SDK and this
 * package, which becomes the resource's source position. Formatting fewer
 * frames also makes each registration cheaper.
 */
function shortTraces(): () => void {
  const previous = Error.prepareStackTrace;
  const ours = path.resolve(__dirname, "..");
  const sdk = `${path.sep}@pulumi${path.sep}pulumi${path.sep}`;
  Error.prepareStackTrace = (error, sites) => {
    const file = (s: NodeJS.CallSite) => s.getFileName() ?? "";
    const firstOurs = sites.findIndex((s) => file(s).startsWith(ours));
    const user = sites.findIndex((s, i) => i > firstOurs && !file(s).startsWith(ours) && !file(s).includes(sdk));
    const kept = firstOurs < 0 || user < 0 ? sites : [...sites.slice(0, firstOurs + 1), sites[user]];
    return previous ? previous(error, kept) : `${error}\n${kept.map((s) => `    at ${s}`).join("\n")}`;
  };
  return () => { Error.prepareStackTrace = previous; };
}

/** A dynamic resource of ours: what pulumi.dynamic.Resource registers, with the short provider text and trace. */
abstract class IpamResource extends pulumi.CustomResource {
  constructor(kind: Kind, name: string, props: pulumi.Inputs, opts?: pulumi.CustomResourceOptions) {
    const restore = shortTraces();
    try {
      super(`pulumi-nodejs:dynamic/ipam:${kind}`, name, { ...props, __provider: providerText(kind) }, opts);
    } finally {
      restore();
    }
  }
}

/**
 * The key plans are kept under: the resource's URN, the same in every run
 * of this stack. It includes the parent chain's types, so two children with
 * one name under components of different types never share a plan.
 */
function planKey(kind: Kind, name: string, opts?: pulumi.CustomResourceOptions): string {
  // Computed here from the parents' types rather than from the parent's urn output: an input that waits for
  // the parent's urn, given to two or more children of one component, never resolves (seen with 3.276).
  const types: string[] = [];
  for (let r: pulumi.Resource | undefined = opts?.parent; r; r = (r as unknown as { __parentResource?: pulumi.Resource }).__parentResource) {
    const type = pulumi.resourceType(r);
    // A child's type is its parent's qualified type, '$', its own; the stack itself is left out.
    if (type === "pulumi:pulumi:Stack") break;
    types.unshift(type);
  }
  return `urn:pulumi:${pulumi.getStack()}::${pulumi.getProject()}::${[...types, `pulumi-nodejs:dynamic/ipam:${kind}`].join("$")}::${name}`;
}

type In<T> = { [K in keyof T]: pulumi.Input<T[K]> };

// The resources' inputs, generated from schema.json (the one description of their shapes), as the SDKs are.
export type { ElasticIpArgs, IpamPoolAllocationArgs, IpamPoolArgs } from "../schema/types";

export class IpamPool extends IpamResource {
  /** Known in preview: planned from the resource's key. */
  declare readonly ipamPoolId: pulumi.Output<string>;
  /** The provisioned CIDRs; for a nested pool carved by netmaskLength, the planned ones (known in preview). */
  declare readonly cidrs: pulumi.Output<string[]>;
  declare readonly poolDepth: pulumi.Output<number>;
  declare readonly addressFamily: pulumi.Output<string>;
  declare readonly planNote: pulumi.Output<string | undefined>;

  constructor(name: string, args: In<IpamPoolArgs>, opts?: pulumi.CustomResourceOptions) {
    super("IpamPool", name, {
      ...args, cidrs: args.cidrs, planKey: planKey("IpamPool", name, opts), ipamPoolId: undefined, poolDepth: undefined, planNote: undefined,
    }, opts);
  }
}

export class IpamPoolAllocation extends IpamResource {
  /** Known in preview: the CIDR this allocation gets. */
  declare readonly cidr: pulumi.Output<string>;
  declare readonly ipamPoolAllocationId: pulumi.Output<string>;
  declare readonly ipamPoolId: pulumi.Output<string>;
  /** Present when resourceType was given. */
  declare readonly resourceType: pulumi.Output<string> | undefined;
  /** Set when an earlier plan could not be kept (the pool changed): what was planned and what it gets. */
  declare readonly planNote: pulumi.Output<string | undefined>;

  constructor(name: string, args: In<IpamPoolAllocationArgs>, opts?: pulumi.CustomResourceOptions) {
    super("IpamPoolAllocation", name, {
      // Only outputs a user reads are declared here: every property costs the SDK promises, each with a
      // source-mapped stack trace (resourceType is an output when given, through ...args).
      ...args, cidr: args.cidr, planKey: planKey("IpamPoolAllocation", name, opts), ipamPoolAllocationId: args.ipamPoolAllocationId, planNote: undefined,
    }, opts);
  }
}

export class ElasticIp extends IpamResource {
  /** Known in preview. */
  declare readonly publicIp: pulumi.Output<string>;
  declare readonly allocationId: pulumi.Output<string>;
  declare readonly ipamPoolId: pulumi.Output<string>;
  declare readonly ipamPoolAllocationId: pulumi.Output<string>;
  declare readonly planNote: pulumi.Output<string | undefined>;

  constructor(name: string, args: In<ElasticIpArgs>, opts?: pulumi.CustomResourceOptions) {
    super("ElasticIp", name, {
      ...args, planKey: planKey("ElasticIp", name, opts), publicIp: undefined, allocationId: undefined, ipamPoolAllocationId: undefined, planNote: undefined,
    }, opts);
  }
}
