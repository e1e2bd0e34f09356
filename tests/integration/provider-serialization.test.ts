/**
 * What each resource's state carries as its provider (__provider), through
 * Pulumi's own closure serializer: from the package installed under
 * node_modules (as `make build` and npm install it), a one-line require of
 * the kind's provider module; from a build outside node_modules (a linked
 * checkout), the trampoline by value. Both must run the installed handlers.
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
