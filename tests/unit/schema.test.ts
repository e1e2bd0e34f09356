/**
 * schema.json, the one description of the package's shapes: the three
 * resources, the provider's configuration with its environment fallbacks, a
 * description on everything an SDK documents, an import section per
 * resource, and provider/schema/types.ts generated from exactly this schema.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { PackageSpec, typesFromSchema } from "../../scripts/gen-types";

const ROOT = path.join(__dirname, "../..");
const read = (p: string) => fs.readFileSync(path.join(ROOT, p), "utf8");
const spec: PackageSpec & Record<string, any> = JSON.parse(read("schema.json"));

type Prop = Record<string, any>;
const RESOURCES: Record<string, string> = {
  "ipam:index:IpamPool": "ipam-pool-",
  "ipam:index:IpamPoolAllocation": "ipam-pool-alloc-",
  "ipam:index:ElasticIp": "eipalloc-",
};
const CONFIG = ["backend", "store", "region", "endpoint", "scopeId", "strictPlan", "planTtlSeconds"];

/** Every property map in the schema, named for failure messages. */
function propertyMaps(): [string, Record<string, Prop>][] {
  const maps: [string, Record<string, Prop>][] = [
    ["config.variables", spec.config?.variables ?? {}],
    ["provider.inputProperties", spec.provider?.inputProperties ?? {}],
  ];
  for (const [token, r] of Object.entries(spec.resources)) {
    maps.push([`${token} inputs`, r.inputProperties], [`${token} outputs`, r.properties]);
  }
  return maps;
}

describe("schema.json", () => {
  test("names the package and version of package.json", () => {
    expect(spec.name).toBe("ipam");
    expect(spec.version).toBe(JSON.parse(read("package.json")).version);
  });

  test("declares exactly the three resources, each with inputs and outputs", () => {
    expect(Object.keys(spec.resources).sort()).toEqual(Object.keys(RESOURCES).sort());
    for (const r of Object.values(spec.resources)) {
      expect(Object.keys(r.inputProperties).length).toBeGreaterThan(0);
      expect(Object.keys(r.properties).length).toBeGreaterThan(0);
    }
  });

  test("configures backend, store, region, endpoint, scopeId, strictPlan and planTtlSeconds, each falling back to PULUMI_IPAM_<NAME>", () => {
    const variables = spec.config?.variables ?? {};
    expect(Object.keys(variables).sort()).toEqual([...CONFIG].sort());
    expect(spec.provider?.inputProperties).toEqual(variables);
    for (const key of CONFIG) {
      const env = `PULUMI_IPAM_${key.replace(/[A-Z]/g, (c) => `_${c}`).toUpperCase()}`;
      expect([key, variables[key].defaultInfo?.environment]).toEqual([key, [env]]);
    }
    expect(variables.strictPlan.type).toBe("boolean");
    expect(variables.planTtlSeconds.type).toBe("integer");
  });

  test("every property, resource, type and enum value has a description", () => {
    const missing: string[] = [];
    const has = (where: string, x: { description?: string }) => { if (!x.description?.trim()) missing.push(where); };
    for (const [where, props] of propertyMaps()) {
      for (const [key, p] of Object.entries(props)) has(`${where}.${key}`, p);
    }
    for (const [token, r] of Object.entries(spec.resources)) has(token, r);
    for (const [token, t] of Object.entries(spec.types ?? {})) {
      has(token, t);
      for (const e of t.enum) has(`${token}.${e.value}`, e);
    }
    has("provider", (spec.provider ?? {}) as { description?: string });
    expect(missing).toEqual([]);
  });

  test.each(Object.entries(RESOURCES))("%s documents its import by an id starting %s", (token, prefix) => {
    const description = spec.resources[token].description ?? "";
    expect(description).toContain("\n## Import\n");
    expect(description).toMatch(new RegExp(`pulumi import ${token} <name> ${prefix}[0-9a-f]+`));
  });

  test("types are strings, integers, booleans, string arrays, string maps or the schema's own enums", () => {
    const odd: string[] = [];
    for (const [where, props] of propertyMaps()) {
      for (const [key, p] of Object.entries(props)) {
        const ok = p.$ref ? p.$ref.replace("#/types/", "") in (spec.types ?? {})
          : ["string", "integer", "boolean"].includes(p.type)
            || (p.type === "array" && p.items?.type === "string")
            || (p.type === "object" && p.additionalProperties?.type === "string");
        if (!ok) odd.push(`${where}.${key}`);
      }
    }
    expect(odd).toEqual([]);
  });

  test("required properties exist, and every input is also an output (state carries the inputs, so an import reads them all)", () => {
    for (const [token, r] of Object.entries(spec.resources)) {
      for (const k of r.requiredInputs ?? []) expect([token, k, k in r.inputProperties]).toEqual([token, k, true]);
      for (const k of r.required ?? []) expect([token, k, k in r.properties]).toEqual([token, k, true]);
      for (const k of Object.keys(r.inputProperties)) expect([token, k, k in r.properties]).toEqual([token, k, true]);
    }
  });

  test("keeps the plugin's bookkeeping out of the inputs, and the internal allocation types out of resourceType", () => {
    for (const r of Object.values(spec.resources)) {
      for (const k of ["planKey", "planNonce", "requestedCidr", "requestedCidrs", "requestedPoolId"]) expect(Object.keys(r.inputProperties)).not.toContain(k);
    }
    const resourceTypes = spec.types?.["ipam:index:ResourceType"].enum.map((e) => e.value);
    expect(resourceTypes).toEqual(expect.arrayContaining(["vpc", "subnet", "custom"]));
    expect(resourceTypes).not.toContain("ipam-pool");
    expect(resourceTypes).not.toContain("eip");
  });

  test("language sections name the packages, keep the schema's version, and the Go import path is inside sdk/go's module", () => {
    const { nodejs, python, go } = spec.language;
    expect(nodejs.packageName).toMatch(/^@[a-z0-9-]+\/[a-z0-9-]+$/);
    expect(python.packageName).toBe("pulumi_ipam");
    expect([nodejs.respectSchemaVersion, python.respectSchemaVersion, go.respectSchemaVersion]).toEqual([true, true, true]);
    const module = /^module (\S+)$/m.exec(read("sdk/go/go.mod"))?.[1];
    expect(go.importBasePath).toBe(`${module}/${spec.name}`);
    expect(JSON.parse(read("sdk/nodejs/package.json")).name).toBe(nodejs.packageName);
  });

  test("provider/schema/types.ts is what scripts/gen-types.ts makes of it (else run scripts/codegen.sh)", () => {
    expect(read("provider/schema/types.ts")).toBe(typesFromSchema(spec));
  });
});
