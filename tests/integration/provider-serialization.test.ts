/**
 * What each resource's state carries as its provider (__provider): from the
 * package installed under node_modules (as `make build` and npm install it),
 * a one-line require of the kind's provider module, written by resources.ts
 * (the closure serializer's own form of it is checked too); from a build
 * outside node_modules (a linked checkout), the trampoline by value. Both
 * must run the installed handlers.
 */
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { ROOT } from "../support/pulumi";

const KINDS = ["IpamPool", "IpamPoolAllocation", "ElasticIp"] as const;
const METHODS = ["configure", "check", "diff", "create", "read", "update", "delete"];

async function serialize(provider: unknown): Promise<string> {
  return (await pulumi.runtime.serializeFunction(() => provider, { allowSecrets: true })).text;
}

describe("the serialized provider", () => {
  test.each(KINDS)("%s from node_modules/pulumi-ipam is a require of its module, under 400 bytes", async (kind) => {
    const file = require.resolve(`pulumi-ipam/dist/provider/pulumi/providers/${kind}.js`, { paths: [ROOT] });
    expect(file).toContain(`${path.sep}node_modules${path.sep}pulumi-ipam${path.sep}`);
    const provider = require(file);
    expect(Object.keys(provider).sort()).toEqual([...METHODS].sort());
    const text = await serialize(provider);
    expect(text).toContain(`require("pulumi-ipam/dist/provider/pulumi/providers/${kind}.js")`);
    expect(text).not.toContain("handlers[kind]");
    expect(text.length).toBeLessThan(400);
  });

  test("from a build outside node_modules it is the trampoline by value, loading the installed handlers in each call", async () => {
    const provider = require(path.join(ROOT, "dist/provider/pulumi/providers/IpamPoolAllocation.js"));
    const text = await serialize(provider);
    expect(text).toContain('require(process.env.PULUMI_IPAM_HANDLERS || "pulumi-ipam/dist/provider/pulumi/handlers")');
    expect(text).toContain('kind: "IpamPoolAllocation"');
    for (const m of METHODS) expect(text).toContain(`/*${m}*/`);
  });
});

/** The __provider each resource class registers, through Pulumi's mocks (no engine): what goes into state. */
async function registeredProvider(resourcesModule: string): Promise<{ text: string; inputs: Record<string, unknown> }> {
  let seen: Record<string, unknown> | undefined;
  await pulumi.runtime.setMocks({
    newResource: (args) => {
      if (args.type.endsWith(":IpamPoolAllocation")) seen = args.inputs;
      return { id: `${args.name}-id`, state: args.inputs };
    },
    call: () => ({}),
  }, "proj", "dev", false);
  const { IpamPoolAllocation } = require(resourcesModule);
  const a = new IpamPoolAllocation("a", { ipamPoolId: "ipam-pool-0123456789abcdef0", netmaskLength: 24 });
  await new Promise<void>((resolve) => a.urn.apply(() => resolve()));
  for (let i = 0; i < 50 && !seen; i++) await new Promise((r) => setTimeout(r, 10));
  return { text: String(seen!.__provider), inputs: seen! };
}

describe("the provider text a resource registers", () => {
  test("installed: one short require of the kind's module, which the dynamic-provider host loads as the provider", async () => {
    const { text, inputs } = await registeredProvider(require.resolve("pulumi-ipam/dist/provider/pulumi/resources.js", { paths: [ROOT] }));
    expect(text).toBe('exports.handler = () => require("pulumi-ipam/dist/provider/pulumi/providers/IpamPoolAllocation.js");\n');
    expect(text.length).toBeLessThan(110);
    // As the host does (require-from-string, resolving from the project): the kind's provider with every method.
    const requireFromString = require("require-from-string");
    const provider = requireFromString(text, path.join(ROOT, "program.js")).handler();
    expect(Object.keys(provider).sort()).toEqual([...METHODS].sort());
    expect(inputs.planKey).toBe("urn:pulumi:dev::proj::pulumi-nodejs:dynamic/ipam:IpamPoolAllocation::a");
  });

  test("from a build outside node_modules: the trampoline by value, as the closure serializer writes it", async () => {
    jest.resetModules();
    const { text } = await registeredProvider(path.join(ROOT, "dist/provider/pulumi/resources.js"));
    expect(text).toContain('kind: "IpamPoolAllocation"');
    for (const m of METHODS) expect(text).toContain(`/*${m}*/`);
  });
});
