/**
 * What every provider method needs, resolved inside the provider process
 * each time it starts: the store (from PULUMI_IPAM_STORE, else stack config
 * ipam:store, else a SQLite file in .pulumi-ipam/ beside the project) and the
 * plan options. Nothing here is ever captured into the serialized provider.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import type { Backend, BackendKind, BackendSettings } from "../backends/backend";
import { localBackend } from "../backends/local";
import { IpamError } from "../core/errors";
import { Ipam } from "../core/ipam";
import { DEFAULT_PLAN_TTL_MS, Planner, RemotePools } from "../core/plan";
import { CONFIG_KEYS, parseSettings, Settings } from "./config";
import { openStore } from "../stores";
import { MemoryStore } from "../stores/memory";

/** The engine's marker for a value not known until apply (pulumi/pulumi#6310). */
export const UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";

/** The configured values by key; parsed (the environment overriding them) on every call, as the environment may change. */
let raw: Record<string, unknown> = {};
const current = (): Settings => parseSettings(raw);
let opened: { key: string; ipam: Ipam; planner: Planner; backend: Backend } | undefined;

/** A dynamic provider's configure(): the stack configuration (ipam:<key>), each value overridable by PULUMI_IPAM_<NAME>. */
export function configure(get: (key: string) => string | undefined): void {
  setSettings(Object.fromEntries(CONFIG_KEYS.map((k) => [k, get(`ipam:${k}`)]).filter(([, v]) => v !== undefined)));
}

/** The plugin's Configure (and the command line tool): values by bare key, as schema.json's config names them. */
export function setSettings(values: Record<string, unknown>): void {
  parseSettings(values); // fail at Configure, not at the first call
  raw = values;
}

function backendSettings(): BackendSettings & { kind: BackendKind } {
  const s = current();
  return { kind: s.backend ?? "local", region: s.region, endpoint: s.endpoint, scopeId: s.scopeId };
}

/** The backend of the given kind (the command line tool opens one from its own flags too). */
export function openBackend(b: BackendSettings & { kind: BackendKind }, ipam: Ipam): Backend {
  // Loaded on demand: a local stack never loads a cloud SDK.
  if (b.kind === "aws") return (require("../backends/aws") as typeof import("../backends/aws")).awsBackend(b);
  if (b.kind === "alicloud") return (require("../backends/alicloud") as typeof import("../backends/alicloud")).alicloudBackend(b);
  return localBackend(ipam);
}

/** Where the local store is when ipam:store is not set: .pulumi-ipam/ipam.db in the project's directory. Names it only. */
export const defaultStorePath = (projectDir: string) => path.join(projectDir, ".pulumi-ipam", "ipam.db");

export function storeUrl(): string {
  const { store } = current();
  if (store) return store;
  const file = defaultStorePath(process.cwd());
  const dir = path.dirname(file);
  fs.mkdirSync(dir, { recursive: true });
  // Keep the local store out of the user's repository.
  const ignore = path.join(dir, ".gitignore");
  if (!fs.existsSync(ignore)) fs.writeFileSync(ignore, "*\n");
  return `sqlite:${file}`;
}

/**
 * The store holds everything for the local backend; for a cloud backend it
 * holds the plan reservations (and their ClientTokens) only, and pools are
 * read from the cloud API when planning.
 */
export function context(): { ipam: Ipam; planner: Planner; backend: Backend; strict: boolean; ttlMs: number } {
  const url = storeUrl();
  const b = backendSettings();
  const key = JSON.stringify([url, b]);
  if (!opened || opened.key !== key) {
    const ipam = new Ipam(openStore(url));
    const backend = openBackend(b, ipam);
    const remote: RemotePools | undefined = backend.kind === "local" ? undefined : {
      async describe(id) {
        const info = await backend.getPool(id);
        return info && { info, used: (await backend.listAllocations(id)).map((a) => a.cidr) };
      },
    };
    // A cloud backend's top-level pools without ipamScopeId go in ipam:scopeId: plan them in that scope.
    const planner = new Planner(ipam, () => new MemoryStore(), remote, (remote && b.scopeId) || undefined);
    opened = { key, ipam, backend, planner };
  }
  return {
    ipam: opened.ipam, planner: opened.planner, backend: opened.backend,
    strict: current().strictPlan,
    ttlMs: current().planTtlMs ?? DEFAULT_PLAN_TTL_MS,
  };
}

export function isUnknown(v: unknown): boolean {
  if (v === UNKNOWN) return true;
  if (Array.isArray(v)) return v.some(isUnknown);
  if (v && typeof v === "object") return Object.values(v).some(isUnknown);
  return false;
}

/** A check() failure naming the seed's code, or rethrow what is not ours. */
export function checkFailure(e: unknown): { inputs: Record<string, unknown>; failures: { property: string; reason: string }[] } {
  if (e instanceof IpamError) return { inputs: {}, failures: [{ property: "", reason: e.message }] };
  throw e;
}

export const notFound = (e: unknown, ...codes: string[]) => e instanceof IpamError && codes.includes(e.code);

/** The note shown in preview when an earlier plan could not be kept. */
export function driftNote(name: string, before: string[] | undefined, now: string[]): string | undefined {
  if (!before) return undefined;
  return `${name}: planned ${before.join(", ")} earlier, but that is no longer available in the pool; it gets ${now.join(", ")} now`;
}

/** Drops undefined members: the provider protocol's Struct cannot carry them ("Unexpected struct type"). */
export function defined<T extends Record<string, unknown>>(o: T): T {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;
}
