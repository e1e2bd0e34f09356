/**
 * Checks a resource's inputs against schema.json, the one description of
 * the resources' shapes: property names, types (string, integer, number,
 * boolean, arrays, maps) and enums. Both faces run it in check() before
 * anything else, so a wrong type from any language (Python passing "24"
 * for an integer, YAML a list for a string) fails at preview with
 * InvalidParameterValue naming the field and the type expected, and never
 * reaches the allocator or a store.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { quote } from "../core/quote";

interface Spec { type?: string; $ref?: string; items?: Spec; additionalProperties?: Spec; enum?: { value: unknown }[] }
interface ResourceSpec { inputProperties: Record<string, Spec>; requiredInputs?: string[] }
export interface Schema { name: string; version: string; resources: Record<string, ResourceSpec>; types: Record<string, Spec & { enum?: { value: unknown }[] }>; config: { variables: Record<string, Spec> } }

/** The engine's marker for a value not known until apply (pulumi/pulumi#6310): it matches every type. */
const UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";

let loaded: Schema | undefined;
/** schema.json at the package root (dist/provider/schema/ when built, provider/schema/ in a checkout). */
export function schema(): Schema {
  if (!loaded) {
    const candidates = [path.join(__dirname, "../../../schema.json"), path.join(__dirname, "../../schema.json")];
    const file = candidates.find((f) => fs.existsSync(f));
    if (!file) throw new Error(`internal: schema.json not found beside the package (${candidates.join(", ")})`);
    loaded = JSON.parse(fs.readFileSync(file, "utf8")) as Schema;
  }
  return loaded;
}

export const TYPE_TOKENS = { IpamPool: "ipam:index:IpamPool", IpamPoolAllocation: "ipam:index:IpamPoolAllocation", ElasticIp: "ipam:index:ElasticIp" } as const;

export interface Failure { property: string; reason: string }

/** The failures of `inputs` for resource `token`; `internal` names properties the faces add themselves. */
export function validateInputs(token: string, inputs: Record<string, unknown>, internal: readonly string[] = []): Failure[] {
  const res = schema().resources[token];
  if (!res) return [{ property: "", reason: `InvalidParameterValue: unknown resource type ${quote(token)}.` }];
  const out: Failure[] = [];
  for (const [k, v] of Object.entries(inputs)) {
    if (internal.includes(k) || v === undefined) continue;
    const spec = res.inputProperties[k];
    if (!spec) {
      out.push({ property: k, reason: `InvalidParameterValue: ${quote(k)} is not an input of ${token.split(":").pop()}; its inputs are ${Object.keys(res.inputProperties).join(", ")}.` });
      continue;
    }
    const why = mismatch(spec, v);
    if (why) out.push({ property: k, reason: `InvalidParameterValue: ${k} must be ${why}; got ${describe(v)}.` });
  }
  for (const k of res.requiredInputs ?? []) {
    if (inputs[k] === undefined || inputs[k] === null) out.push({ property: k, reason: `InvalidParameterValue: ${k} is required.` });
  }
  return out;
}

/** What the value should have been, or undefined when it matches. */
function mismatch(spec: Spec, v: unknown): string | undefined {
  if (v === UNKNOWN || v === null) return undefined;
  if (spec.$ref) {
    const t = schema().types[spec.$ref.replace("#/types/", "")];
    const values = (t?.enum ?? []).map((e) => e.value);
    return values.includes(v) ? undefined : `one of ${values.map((x) => JSON.stringify(x)).join(", ")}`;
  }
  switch (spec.type) {
    case "string": return typeof v === "string" ? undefined : "a string";
    case "boolean": return typeof v === "boolean" ? undefined : "a boolean";
    case "integer": return typeof v === "number" && Number.isSafeInteger(v) ? undefined : "an integer";
    case "number": return typeof v === "number" && Number.isFinite(v) ? undefined : "a number";
    case "array": {
      if (!Array.isArray(v)) return `a list of ${plural(spec.items)}`;
      const bad = v.map((x) => mismatch(spec.items ?? {}, x)).find((x) => x);
      return bad ? `a list of ${plural(spec.items)}` : undefined;
    }
    case "object": {
      if (typeof v !== "object" || Array.isArray(v)) return `a map of ${plural(spec.additionalProperties)}`;
      const bad = Object.values(v as object).map((x) => mismatch(spec.additionalProperties ?? {}, x)).find((x) => x);
      return bad ? `a map of ${plural(spec.additionalProperties)}` : undefined;
    }
    default: return undefined;
  }
}

const plural = (s?: Spec) => (s?.type === "integer" ? "integers" : s?.type ? `${s.type}s` : "values");

function describe(v: unknown): string {
  const kind = Array.isArray(v) ? "list" : v === null ? "null" : typeof v === "object" ? "map" : typeof v;
  return `${kind} ${quote(v, 60)}`;
}
