/**
 * The provider's configuration, as schema.json's `config` describes it:
 * one parser for every face (the plugin's Configure arguments, a dynamic
 * provider's stack config, the command line tool's flags). Each value can
 * be overridden by its PULUMI_IPAM_<NAME> environment variable, which wins,
 * as the README says. Every bad value is an InvalidParameterValue naming
 * the key; a secret (the store URL may hold a password) is never echoed.
 */
import { IpamError } from "../core/errors";
import { quote } from "../core/quote";

export interface Settings {
  store?: string;
  backend?: "local" | "aws" | "alicloud";
  region?: string;
  endpoint?: string;
  scopeId?: string;
  strictPlan: boolean;
  planTtlMs?: number;
}

export const CONFIG_KEYS = ["backend", "store", "region", "endpoint", "scopeId", "strictPlan", "planTtlSeconds"] as const;
type Key = (typeof CONFIG_KEYS)[number];

/** PULUMI_IPAM_STORE, PULUMI_IPAM_SCOPE_ID, PULUMI_IPAM_PLAN_TTL_SECONDS, ... */
export const envName = (k: Key) => `PULUMI_IPAM_${k.replace(/[A-Z]/g, (c) => `_${c}`).toUpperCase()}`;

/**
 * Settings from raw values by key (strings from stack config, or typed
 * values from a plugin's Configure), the environment overriding each.
 * Unknown keys are rejected so a typo does not silently fall back.
 */
export function parseSettings(values: Record<string, unknown>, env: NodeJS.ProcessEnv = process.env): Settings {
  for (const k of Object.keys(values)) {
    if (!(CONFIG_KEYS as readonly string[]).includes(k) && k !== "version") {
      throw new IpamError("InvalidParameterValue", `unknown provider configuration key ipam:${quote(k)}; the keys are ${CONFIG_KEYS.join(", ")}.`);
    }
  }
  const raw = (k: Key): unknown => env[envName(k)] || (values[k] === "" || values[k] === null ? undefined : values[k]);
  const str = (k: Key, secret = false): string | undefined => {
    const v = raw(k);
    if (v === undefined) return undefined;
    if (typeof v !== "string" || /[\u0000-\u001f\u007f]/.test(v)) {
      throw new IpamError("InvalidParameterValue", `ipam:${k} must be a string without control characters${secret ? "" : `; got ${quote(v)}`}.`);
    }
    return v;
  };
  const backend = str("backend");
  if (backend !== undefined && backend !== "local" && backend !== "aws" && backend !== "alicloud") {
    throw new IpamError("InvalidParameterValue", `ipam:backend ${quote(backend)} is not one of local, aws, alicloud.`);
  }
  const strict = raw("strictPlan");
  if (strict !== undefined && strict !== true && strict !== false && strict !== "true" && strict !== "false") {
    throw new IpamError("InvalidParameterValue", `ipam:strictPlan must be true or false; got ${quote(strict)}.`);
  }
  const ttl = raw("planTtlSeconds");
  const ttlSeconds = typeof ttl === "string" && /^\d+$/.test(ttl) ? Number(ttl) : ttl;
  if (ttlSeconds !== undefined && (typeof ttlSeconds !== "number" || !Number.isSafeInteger(ttlSeconds) || ttlSeconds < 1)) {
    throw new IpamError("InvalidParameterValue", `ipam:planTtlSeconds must be a whole number of seconds, at least 1; got ${quote(ttl)}.`);
  }
  return {
    store: str("store", true), backend: backend as Settings["backend"], region: str("region"), endpoint: str("endpoint"),
    scopeId: str("scopeId"), strictPlan: strict === true || strict === "true",
    planTtlMs: ttlSeconds === undefined ? undefined : (ttlSeconds as number) * 1000,
  };
}
