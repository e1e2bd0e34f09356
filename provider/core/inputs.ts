/**
 * The core's boundary: every public input of Ipam and Planner is checked
 * here for type and characters before anything reads a store, and comes out
 * normalized (null is absent, -0 is 0). What a value means (a CIDR's
 * address, a netmask's range, a pool's rules) is checked after, with the
 * seed's code; here a wrong type is InvalidParameterValue naming the field
 * and the type expected.
 *
 * Unknown fields are rejected (a field set to undefined counts as absent):
 * the AWS API answers UnknownParameter, and a misspelt `netmasklength`
 * quietly ignored would allocate the pool's default length instead.
 *
 * Characters, decided per field from the seeds:
 * - ids, ClientTokens, CIDRs, addresses, locale, resourceId: printable ASCII
 *   (the seeds' ids and tokens are ASCII; Alibaba: "ASCII characters" only).
 * - description, tag keys and values: any Unicode but control characters
 *   (tab, newline and carriage return are allowed in descriptions and tag
 *   values); PostgreSQL cannot store NUL, and a lone surrogate is not text
 *   either store can keep as given.
 * - plan keys (resource URNs): any Unicode but control characters.
 */
import { IpamError } from "./errors";
import type { ReservationRecord, ResourceType, Tags } from "./model";
import { quote } from "./quote";
import { badText, checkClientToken, checkDescription, checkTags, kindName } from "./rules";
import type {
  AllocateAddressInput, AllocateInput, CreatePoolInput, ProvisionCidrInput, ReleaseInput, UpdatePoolInput,
} from "./types";

/** A field's check: its normalized value, or undefined when absent. Called with null already turned into undefined. */
export type Check<T> = (v: unknown, name: string) => T | undefined;
/** One check per field of T, so that a field added to T without a check does not compile. */
export type Shape<T> = { [K in keyof Required<T>]: Check<T[K]> };

const invalid = (message: string) => new IpamError("InvalidParameterValue", message);
/** Required checks, marked so that readInput calls them for absent fields too. */
const REQUIRED = new WeakSet<Check<unknown>>();

export function isPlainObject(v: unknown): v is Record<string, unknown> {
  if (v === null || typeof v !== "object" || Array.isArray(v)) return false;
  const proto = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}

const wrongType = (name: string, expected: string, v: unknown) => invalid(`${name} must be ${expected}; got ${kindName(v)}.`);

const PRINTABLE_ASCII = /^[\x20-\x7e]*$/;

/** An id (pool, allocation, address, scope): printable ASCII. Its format is the lookup's business: an unknown id is NotFound. */
export const id: Check<string> = (v, name) => {
  if (v === undefined) return undefined;
  if (typeof v !== "string") throw wrongType(name, "an id string", v);
  if (v.length > 256 || !PRINTABLE_ASCII.test(v)) throw invalid(`${name} ${quote(v)} is not an id: ids are printable ASCII, at most 256 characters.`);
  return v;
};

export const requiredId: Check<string> = (v, name) => {
  if (v === undefined) throw invalid(`${name} is required.`);
  return id(v, name);
};
REQUIRED.add(requiredId);

/** A string field of printable ASCII (locale, resourceId). */
const ascii = (max: number): Check<string> => (v, name) => {
  if (v === undefined) return undefined;
  if (typeof v !== "string") throw wrongType(name, "a string", v);
  if (v.length > max || !PRINTABLE_ASCII.test(v)) throw invalid(`${name} ${quote(v)} is not allowed: printable ASCII, at most ${max} characters.`);
  return v;
};

// Only what a CIDR or an address is written with: anything else is no CIDR, and never reaches ip-num or a message raw.
const CIDR_CHARS = /^[0-9A-Fa-f.:/]{1,64}$/;

/** A CIDR or an address as text; what it says is parsed later (IllegalParam.Cidr). */
export const cidrText: Check<string> = (v, name) => {
  if (v === undefined) return undefined;
  if (typeof v !== "string") throw wrongType(name, "a CIDR string", v);
  if (!CIDR_CHARS.test(v)) {
    throw new IpamError("IllegalParam.Cidr", `${name} ${quote(v)} is not a CIDR; give it as address/prefix, for example 10.0.0.0/16 or 2001:db8::/48.`);
  }
  return v;
};

const addressText: Check<string> = (v, name) => {
  if (v === undefined) return undefined;
  if (typeof v !== "string") throw wrongType(name, "an IP address string", v);
  if (!CIDR_CHARS.test(v)) throw new IpamError("IllegalParam.Cidr", `${name} ${quote(v)} is not an IP address; give it as 10.0.0.1.`);
  return v;
};

export const cidrList: Check<string[]> = (v, name) => {
  if (v === undefined) return undefined;
  if (!Array.isArray(v)) throw wrongType(name, "a list of CIDR strings", v);
  const out: string[] = new Array(v.length);
  // A for loop, not map: map skips the holes of a sparse list.
  for (let i = 0; i < v.length; i++) {
    const c = v[i];
    if (typeof c !== "string") throw wrongType(`${name}[${i}]`, "a CIDR string", c);
    out[i] = cidrText(c, `${name}[${i}]`)!;
  }
  return out;
};

/** A number (-0 read as 0); whether it is an integer in range is the caller's check, with its own code. */
export const number: Check<number> = (v, name) => {
  if (v === undefined) return undefined;
  if (typeof v !== "number") throw wrongType(name, "an integer", v);
  return v === 0 ? 0 : v;
};

export const boolean: Check<boolean> = (v, name) => {
  if (v === undefined) return undefined;
  if (typeof v !== "boolean") throw wrongType(name, "true or false", v);
  return v;
};

export const token: Check<string> = (v, name) => {
  if (v === undefined) return undefined;
  if (typeof v !== "string") throw wrongType(name, "a string of 1 to 64 printable ASCII characters", v);
  // "" means none, as the seeds' "autopopulated if not provided"; kept so that the fingerprint is the caller's.
  if (v !== "") checkClientToken(v);
  return v;
};

/** A map of tag keys to string values (the rules of rules.ts checkTags). */
export const tags: Check<Tags> = (v, name) => {
  if (v === undefined) return undefined;
  if (!isPlainObject(v)) throw wrongType(name, "a map of tag keys to string values", v);
  return checkTags(v, name);
};

export const description: Check<string> = (v, name) => {
  if (v === undefined) return undefined;
  if (typeof v !== "string") throw wrongType(name, "a string", v);
  return checkDescription(v);
};

const oneOf = <T extends string>(values: readonly T[]): Check<T> => (v, name) => {
  if (v === undefined) return undefined;
  if (typeof v !== "string") throw wrongType(name, `one of ${values.map((x) => `"${x}"`).join(", ")}`, v);
  if (!(values as readonly string[]).includes(v)) throw invalid(`${name} ${quote(v)} is not valid; use one of ${values.map((x) => `"${x}"`).join(", ")}.`);
  return v as T;
};

function required<T>(check: Check<T>): Check<T> {
  const f: Check<T> = (v, name) => {
    if (v === undefined) throw invalid(`${name} is required.`);
    return check(v, name);
  };
  REQUIRED.add(f as Check<unknown>);
  return f;
}

/**
 * The resource types a user may give. `ipam-pool` and `eip` are what the
 * core itself makes (nested pools' carve-outs, Elastic IPs) and can only be
 * released through them; `ec2-public-ipv4-pool` is AWS's own. Accepting any
 * of them from a user would make an allocation that skips the pool's
 * required tags and can never be released.
 */
export const PUBLIC_RESOURCE_TYPES = ["vpc", "subnet", "custom"] as const satisfies readonly ResourceType[];

/** Reads `v` as the input of `what`: a map with only the shape's fields, each checked; the fields given (even as undefined) are kept. */
export function readInput<T>(v: unknown, what: string, shape: Shape<T>): T {
  if (!isPlainObject(v)) throw invalid(`the ${what} input must be a map of named fields; got ${kindName(v)}.`);
  const { checks, required } = compiled(shape);
  const out: Record<string, unknown> = {};
  // Only the fields given are visited: this runs on every allocation (about 0.5 µs for a typical one here).
  for (const k of Object.keys(v)) {
    const check = checks.get(k);
    const raw = v[k];
    if (!check) {
      if (raw === undefined) continue;
      throw invalid(`${what} has no field ${quote(k)}; its fields are ${[...checks.keys()].join(", ")}.`);
    }
    out[k] = check(raw === null ? undefined : raw, k);
  }
  for (const k of required) if (out[k] === undefined) checks.get(k)!(undefined, k);
  return out as T;
}

const shapes = new WeakMap<object, { checks: Map<string, Check<unknown>>; required: string[] }>();

function compiled(shape: object): { checks: Map<string, Check<unknown>>; required: string[] } {
  let c = shapes.get(shape);
  if (!c) {
    const checks = new Map(Object.entries(shape as Record<string, Check<unknown>>));
    c = { checks, required: [...checks].filter(([, f]) => REQUIRED.has(f)).map(([k]) => k) };
    shapes.set(shape, c);
  }
  return c;
}

const common = { clientToken: token, dryRun: boolean };
const rules = { allocationMinNetmaskLength: number, allocationMaxNetmaskLength: number, allocationDefaultNetmaskLength: number };

export const CREATE_POOL: Shape<CreatePoolInput> = {
  ...common, ...rules,
  addressFamily: required(oneOf(["ipv4", "ipv6"])),
  sourceIpamPoolId: id, ipamScopeId: id, locale: ascii(64), description, tags, allocationResourceTags: tags,
  allocationStrategy: oneOf(["first-fit", "best-fit"] as const), cidrs: cidrList, netmaskLength: number, ipamPoolId: id,
};

export const UPDATE_POOL: Shape<UpdatePoolInput> = {
  ...common, ...rules, ipamPoolId: requiredId, description, tags, allocationResourceTags: tags,
};

export const PROVISION_CIDR: Shape<ProvisionCidrInput> = { ...common, ipamPoolId: requiredId, cidr: cidrText, netmaskLength: number };

export const DELETE_POOL: Shape<{ ipamPoolId: string; dryRun?: boolean }> = { ipamPoolId: requiredId, dryRun: boolean };

export const ALLOCATE: Shape<AllocateInput> = {
  ...common, ipamPoolId: requiredId, cidr: cidrText, netmaskLength: number, allowedCidrs: cidrList, disallowedCidrs: cidrList,
  description, resourceId: ascii(256), resourceType: oneOf(PUBLIC_RESOURCE_TYPES), resourceTags: tags, excludedCidrs: cidrList,
};

export const RELEASE: Shape<ReleaseInput> = { ipamPoolId: requiredId, ipamPoolAllocationId: requiredId, cidr: cidrText, dryRun: boolean };

export const UPDATE_ALLOCATION: Shape<{ ipamPoolId: string; ipamPoolAllocationId: string; description?: string; resourceTags?: Tags }> = {
  ipamPoolId: requiredId, ipamPoolAllocationId: requiredId, description, resourceTags: tags,
};

export const PREVIEW_ADDRESS: Shape<{ ipamPoolId: string; address?: string; excludedCidrs?: string[] }> = {
  ipamPoolId: requiredId, address: addressText, excludedCidrs: cidrList,
};

export const ALLOCATE_ADDRESS: Shape<AllocateAddressInput> = { ...common, ipamPoolId: requiredId, address: addressText, tags };

/** planAddress's request: an address's inputs without dryRun (planning never writes what it checks). */
export const PLAN_ADDRESS: Shape<{ ipamPoolId: string; address?: string; tags?: Tags; clientToken?: string }> = {
  ipamPoolId: requiredId, address: addressText, tags, clientToken: token,
};

export const TAG_ADDRESS: Shape<{ allocationId: string; tags?: Tags }> = { allocationId: requiredId, tags };

export const RELEASE_ADDRESS: Shape<{ allocationId: string; dryRun?: boolean }> = { allocationId: requiredId, dryRun: boolean };

/** A plan's key (the resource's URN): the same in every run, so any Unicode text but control characters. */
export function checkPlanKey(v: unknown, name = "plan key"): string {
  if (typeof v !== "string") throw wrongType(name, "a string", v);
  const bad = badText(v);
  if (v.length === 0 || v.length > 4096 || bad) throw invalid(`${name} ${quote(v)} is not allowed: 1 to 4096 characters${bad ? `, and it has ${bad}` : ""}.`);
  return v;
}

/** A plan's nonce: "" (an imported resource) or what newNonce made; printable ASCII. */
export function checkNonce(v: unknown, name = "nonce"): string {
  if (typeof v !== "string") throw wrongType(name, "a string", v);
  return ascii(64)(v, name)!;
}

/** Ten years: a plan's expiry (now + ttl) stays an integer both stores keep exactly. */
export const MAX_PLAN_TTL_MS = 10 * 366 * 24 * 3600 * 1000;

const epochMs: Check<number> = (v, name) => {
  if (v === undefined) return undefined;
  if (typeof v !== "number" || !Number.isFinite(v) || v < 0 || v > Number.MAX_SAFE_INTEGER - MAX_PLAN_TTL_MS) {
    throw invalid(`${name} must be a time in epoch milliseconds; got ${typeof v === "number" ? String(v) : kindName(v)}.`);
  }
  return Math.floor(v);
};

/** A plan's time to live: a NaN, negative or infinite one would store no expiry at all (SQLite: NOT NULL constraint). */
const ttlMs: Check<number> = (v, name) => {
  if (v === undefined) return undefined;
  if (typeof v !== "number" || !Number.isFinite(v) || v <= 0 || v > MAX_PLAN_TTL_MS) {
    throw invalid(`${name} (how long a plan steers other plans, ipam:planTtlSeconds) must be a number of milliseconds above 0 and at most ${MAX_PLAN_TTL_MS} (ten years); got ${typeof v === "number" ? String(v) : kindName(v)}.`);
  }
  return Math.ceil(v);
};

export const PLAN_OPTIONS: Shape<{ now?: number; ttlMs?: number; replaces?: string }> = { now: epochMs, ttlMs, replaces: id };

/** What commit* take back from a plan: the planned CIDRs, the nonce and token, the pool. */
export const PLAN: Shape<{ cidrs: string[]; nonce: string; clientToken: string; ipamPoolId: string; poolDepth?: number; previouslyPlanned?: string[] }> = {
  cidrs: required(cidrList), nonce: (v, name) => checkNonce(v, name), clientToken: required(token), ipamPoolId: requiredId,
  poolDepth: number, previouslyPlanned: cidrList,
};

/** Planner.adopt: an imported resource's reservation. */
export const ADOPT: Shape<Omit<ReservationRecord, "expiresAt" | "request"> & { request: unknown }> = {
  key: (v, name) => checkPlanKey(v, name), kind: required(oneOf(["pool", "allocation", "address"] as const)),
  nonce: (v, name) => checkNonce(v, name), ipamPoolId: requiredId, spacePoolId: id, cidrs: required(cidrList),
  request: (v) => v, pool: (v, name) => {
    if (v !== undefined && typeof v !== "string") throw wrongType(name, "a string", v);
    return v;
  },
  committing: boolean, replaced: cidrList,
};
