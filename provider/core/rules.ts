/** Input validation shared by every operation: the seeds' rules, each failing with its code. */
import { AddressFamily, familyBits } from "./cidr";
import { IpamError } from "./errors";
import type { AllocationStrategy, PoolRecord, Tags } from "./model";
import { quote } from "./quote";

export function checkFamily(v: unknown): AddressFamily {
  if (v !== "ipv4" && v !== "ipv6") {
    throw new IpamError("InvalidParameterValue", `addressFamily ${quote(v)} is not valid; use "ipv4" or "ipv6".`);
  }
  return v;
}

export function checkStrategy(v: unknown): AllocationStrategy {
  if (v === undefined) return "first-fit";
  if (v !== "first-fit" && v !== "best-fit") {
    throw new IpamError("InvalidParameterValue", `allocationStrategy ${quote(v)} is not valid; use "first-fit" or "best-fit".`);
  }
  return v;
}

/** AWS and Alibaba: ASCII only; AWS caps it at 64 characters. */
export function checkClientToken(token: unknown): string | undefined {
  if (token === undefined || token === null || token === "") return undefined;
  if (typeof token !== "string" || token.length > 64 || !/^[\x20-\x7e]+$/.test(token)) {
    throw new IpamError("InvalidParameterValue", `clientToken must be 1 to 64 printable ASCII characters; got ${quote(token)}.`);
  }
  return token;
}

export function checkNetmask(family: AddressFamily, v: unknown, name: string, code: "InvalidParameterValue" | "IllegalParam.CidrMask"): number | undefined {
  if (v === undefined || v === null) return undefined;
  const bits = familyBits(family);
  if (typeof v !== "number" || !Number.isInteger(v) || v < 0 || v > bits) {
    throw new IpamError(code, `${name} ${quote(v)} is out of range; an ${family} netmask length is an integer from 0 to ${bits}.`);
  }
  return v;
}

/** AWS: at most 50 tags a resource. */
export const MAX_TAGS = 50;

/** Keys: 1 to 128 characters, not "aws:", no control characters; values: strings of at most 256, no control characters but tab, LF, CR. */
export function checkTags(v: unknown, name: string): Tags {
  if (v === undefined || v === null) return {};
  if (typeof v !== "object" || Array.isArray(v)) {
    throw new IpamError("InvalidParameterValue", `${name} must be a map of tag keys to string values.`);
  }
  const entries = Object.entries(v as Record<string, unknown>);
  if (entries.length > MAX_TAGS) {
    throw new IpamError("InvalidParameterValue", `${name} has ${entries.length} tags; at most ${MAX_TAGS} are allowed.`);
  }
  for (const [k, val] of entries) {
    if (k.length === 0 || k.length > 128 || k.startsWith("aws:") || badText(k)) {
      throw new IpamError("InvalidParameterValue", `${name} key ${quote(k)} is not allowed; keys are 1 to 128 characters without control characters and may not start with "aws:".`);
    }
    if (typeof val !== "string" || val.length > 256 || badText(val, true)) {
      throw new IpamError("InvalidParameterValue", `${name}[${quote(k)}] must be a string of at most 256 characters without control characters (tab, newline and carriage return allowed); got ${typeof val === "string" ? quote(val) : kindName(val)}.`);
    }
  }
  // fromEntries defines each key as the map's own, "__proto__" included (assignment would set the prototype).
  return Object.fromEntries(entries) as Tags;
}

export function checkDescription(v: unknown): string | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v !== "string" || v.length > 255 || badText(v, true)) {
    throw new IpamError("InvalidParameterValue", `description must be a string of at most 255 characters without control characters (tab, newline and carriage return allowed); got ${typeof v === "string" ? quote(v) : kindName(v)}.`);
  }
  return v;
}

// Lone surrogates are not text: better-sqlite3 and pg would store U+FFFD instead of what was given.
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;
// The common case (plain text) in one scan of ASCII-and-BMP text: nothing to look at twice.
const PLAIN = /^[\u0020-\u007e\u00a0-\ud7ff\ue000-\uffff]*$/;

/** What makes `s` unfit to store as text (`lines`: tab, LF and CR allowed), or undefined. */
export function badText(s: string, lines = false): string | undefined {
  if (PLAIN.test(s)) return undefined;
  if (CONTROL.test(lines ? s.replace(/[\t\n\r]/g, "") : s)) return "a control character";
  if (LONE_SURROGATE.test(s)) return "a lone UTF-16 surrogate (not Unicode text)";
  return undefined;
}

/** What a value is, in the words of the messages: "list", "null", "NaN", "map" rather than typeof's "object" and "number". */
export function kindName(v: unknown): string {
  if (v === null) return "null";
  if (Array.isArray(v)) return "list";
  if (typeof v === "number" && Number.isNaN(v)) return "NaN";
  if (typeof v === "object") {
    const proto = Object.getPrototypeOf(v);
    return proto === Object.prototype || proto === null ? "map" : `object ${Object.prototype.toString.call(v).slice(8, -1)}`;
  }
  return typeof v;
}

type NetmaskRules = Pick<PoolRecord, "allocationMinNetmaskLength" | "allocationMaxNetmaskLength" | "allocationDefaultNetmaskLength">;

/** min < max and default within them (seed 001); each within 0..32 or 0..128. */
export function checkNetmaskRules(family: AddressFamily, input: Record<string, unknown>): NetmaskRules {
  const min = checkNetmask(family, input.allocationMinNetmaskLength, "allocationMinNetmaskLength", "InvalidParameterValue");
  const max = checkNetmask(family, input.allocationMaxNetmaskLength, "allocationMaxNetmaskLength", "InvalidParameterValue");
  const def = checkNetmask(family, input.allocationDefaultNetmaskLength, "allocationDefaultNetmaskLength", "InvalidParameterValue");
  if (min !== undefined && max !== undefined && min >= max) {
    throw new IpamError("InvalidParameterValue", `allocationMinNetmaskLength (${min}) must be less than allocationMaxNetmaskLength (${max}).`);
  }
  if (def !== undefined && ((min !== undefined && def < min) || (max !== undefined && def > max))) {
    throw new IpamError("InvalidParameterValue", `allocationDefaultNetmaskLength (${def}) must lie between allocationMinNetmaskLength (${min ?? 0}) and allocationMaxNetmaskLength (${max ?? familyBits(family)}).`);
  }
  return { allocationMinNetmaskLength: min, allocationMaxNetmaskLength: max, allocationDefaultNetmaskLength: def };
}

/** A netmask length the pool's rules accept; IllegalParam.CidrMask otherwise. */
export function checkWithinRules(pool: PoolRecord, length: number, what: string): void {
  const min = pool.allocationMinNetmaskLength ?? 0;
  const max = pool.allocationMaxNetmaskLength ?? familyBits(pool.addressFamily);
  if (length < min || length > max) {
    throw new IpamError("IllegalParam.CidrMask", `${what} /${length} is outside the rules of pool ${pool.ipamPoolId}: netmask length must be from ${min} to ${max}.`);
  }
}

/** Every tag of allocationResourceTags must be on the allocation with the same value. */
export function checkRequiredTags(pool: PoolRecord, tags: Tags): void {
  for (const [k, v] of Object.entries(pool.allocationResourceTags)) {
    if (tags[k] !== v) {
      throw new IpamError("InvalidParameterValue", `pool ${pool.ipamPoolId} requires allocations to carry tag ${quote(k)}=${quote(v)} (allocationResourceTags); add it to the allocation's tags.`);
    }
  }
}

/** Canonical JSON (sorted keys, bigint as string) for comparing the parameters sent with a ClientToken. */
export function fingerprint(v: unknown): string {
  return JSON.stringify(v, (_k, val) => {
    if (typeof val === "bigint") return val.toString();
    if (val && typeof val === "object" && !Array.isArray(val)) {
      return Object.fromEntries(Object.entries(val).filter(([, x]) => x !== undefined).sort(([a], [b]) => (a < b ? -1 : 1)));
    }
    return val;
  });
}

/** The fingerprint a ClientToken is remembered with: the request as its boundary read it, less the token and dryRun. */
export function requestFingerprint(input: object): string {
  return fingerprint({ ...input, clientToken: undefined, dryRun: undefined });
}

/** A ClientToken (key "Operation:token") first used with another request. */
export function mismatchError(tokenKey: string): IpamError {
  const token = tokenKey.split(":").slice(1).join(":");
  return new IpamError("IdempotentParameterMismatch", `clientToken ${quote(token)} was already used with other parameters; use a new clientToken or repeat the original parameters.`);
}
