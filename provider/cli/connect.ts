/**
 * The configuration the resources read, for the command line tool: flags
 * (--store, --backend, --region, --endpoint, --scope-id) win, then the
 * PULUMI_IPAM_* environment, then the Pulumi project's config (`ipam:*`
 * in Pulumi.yaml, and in Pulumi.<stack>.yaml with --stack), from --cwd or
 * the current directory. The store defaults to .pulumi-ipam/ipam.db there,
 * as for the resources.
 *
 * Read-only: a store that does not exist is an error (exit 2), never
 * created; a store of an older schema is refused rather than migrated, since
 * a migration writes. The local backend needs the store; a cloud backend
 * reads pools from its API and the store (if there is one) only for the
 * plan reservations that name resources.
 */
import Database from "better-sqlite3";
import * as fs from "node:fs";
import * as path from "node:path";
import { Client } from "pg";
import type { Backend, BackendKind } from "../backends/backend";
import { localBackend } from "../backends/local";
import { IpamError } from "../core/errors";
import { Ipam } from "../core/ipam";
import { quote } from "../core/quote";
import type { Store } from "../core/store";
import { CONFIG_KEYS, envName, parseSettings, Settings } from "../runtime/config";
import { defaultStorePath, openBackend } from "../runtime/context";
import { describeUrl, openStore, parseStoreUrl } from "../stores";
import { MIGRATIONS } from "../stores/sql";
import type { Flags } from "./args";

export const CONFIG_FLAGS: Flags = {
  store: { type: "string", value: "URL", help: "the store: sqlite:<path> or postgres://... (default: .pulumi-ipam/ipam.db in --cwd)" },
  backend: { type: "string", value: "KIND", help: "local (default), aws or alicloud" },
  region: { type: "string", value: "REGION", help: "cloud region (aws, alicloud)" },
  endpoint: { type: "string", value: "URL", help: "cloud API endpoint override (emulators, private endpoints)" },
  "scope-id": { type: "string", value: "ID", help: "the IPAM scope (as ipam:scopeId)" },
  stack: { type: "string", value: "NAME", help: "read the ipam:* config of Pulumi.<NAME>.yaml; a pool name resolves in that stack first" },
  cwd: { type: "string", value: "DIR", help: "the Pulumi project directory (default: the current one)" },
};

export const CONFIG_HELP = `Configuration, as the resources read it: the options above win, then PULUMI_IPAM_STORE,
PULUMI_IPAM_BACKEND, PULUMI_IPAM_REGION, PULUMI_IPAM_ENDPOINT, PULUMI_IPAM_SCOPE_ID, then ipam:* in
the project's Pulumi.yaml and (with --stack) Pulumi.<stack>.yaml. Cloud credentials come from the
SDKs' usual environment (AWS_*, ALIBABA_CLOUD_ACCESS_KEY_ID/_SECRET). Nothing is ever written.`;

export interface Connection {
  settings: Settings;
  kind: BackendKind;
  backend: Backend;
  /** The store, when there is one to read (always for the local backend). */
  store?: Store;
  /** Its URL, passwords hidden. */
  storeUrl?: string;
  stack?: string;
  cwd: string;
  close(): Promise<void>;
}

type FlagValues = Record<string, string | boolean | undefined>;

/** ipam:* values of a Pulumi project's config (Pulumi.yaml) and stack config (Pulumi.<stack>.yaml). */
export function projectConfig(cwd: string, stack?: string): Record<string, unknown> {
  const values: Record<string, unknown> = {};
  const read = (file: string, project: boolean) => {
    const doc = loadYaml(file) as { config?: Record<string, unknown> } | undefined;
    for (const [k, raw] of Object.entries(doc?.config ?? {})) {
      if (!k.startsWith("ipam:")) continue;
      let v: unknown = raw;
      // Project config may give { default: v } or { value: v }, with a type.
      if (project && v && typeof v === "object" && !Array.isArray(v)) v = (v as Record<string, unknown>).value ?? (v as Record<string, unknown>).default;
      if (v && typeof v === "object" && "secure" in (v as object)) v = { secret: path.basename(file) };
      values[k.slice("ipam:".length)] = typeof v === "number" || typeof v === "boolean" ? String(v) : v;
    }
  };
  const yaml = path.join(cwd, "Pulumi.yaml");
  if (fs.existsSync(yaml)) read(yaml, true);
  if (stack !== undefined) {
    if (!/^[A-Za-z0-9_.\-/]+$/.test(stack)) throw new IpamError("InvalidParameterValue", `--stack ${quote(stack)} is not a stack name.`);
    const file = path.join(cwd, `Pulumi.${stack.split("/").pop()}.yaml`);
    if (!fs.existsSync(file)) {
      throw new IpamError("InvalidParameterValue", `--stack ${quote(stack)}: ${file} does not exist; run in the project's directory (or give --cwd) and name a stack it has.`);
    }
    read(file, false);
  }
  return values;
}

function loadYaml(file: string): unknown {
  // js-yaml comes with @pulumi/pulumi (which reads these files with it): resolved from there, not declared twice.
  const yaml = require(require.resolve("js-yaml", { paths: [path.dirname(require.resolve("@pulumi/pulumi"))] })) as { load(s: string): unknown };
  try {
    return yaml.load(fs.readFileSync(file, "utf8"));
  } catch (e) {
    throw new IpamError("InvalidParameterValue", `${file} is not valid YAML: ${String((e as Error).message).split("\n")[0]}`);
  }
}

/** Settings from flags, environment and project config, in that order. */
export function resolveSettings(flags: FlagValues, env: NodeJS.ProcessEnv = process.env): { settings: Settings; cwd: string; stack?: string; explicitStore: boolean } {
  const cwd = path.resolve(String(flags.cwd ?? process.cwd()));
  if (!fs.existsSync(cwd) || !fs.statSync(cwd).isDirectory()) throw new IpamError("InvalidParameterValue", `--cwd ${quote(String(flags.cwd))} is not a directory.`);
  const stack = flags.stack === undefined ? undefined : String(flags.stack);
  const fromProject = projectConfig(cwd, stack);
  const given: Record<string, string> = {};
  for (const [flag, key] of [["store", "store"], ["backend", "backend"], ["region", "region"], ["endpoint", "endpoint"], ["scope-id", "scopeId"]] as const) {
    if (typeof flags[flag] === "string") given[key] = flags[flag] as string;
  }
  // A flag beats the environment: drop the variables of the keys given as flags.
  const envLeft = { ...env };
  for (const k of Object.keys(given)) delete envLeft[envName(k as (typeof CONFIG_KEYS)[number])];
  const values = { ...fromProject, ...given };
  for (const [k, v] of Object.entries(values)) {
    const secret = v && typeof v === "object" ? (v as { secret?: string }).secret : undefined;
    if (secret && !envLeft[envName(k as (typeof CONFIG_KEYS)[number])]) {
      throw new IpamError("InvalidParameterValue", `ipam:${k} is a secret in ${secret}, which this tool cannot decrypt; give it with --${k === "scopeId" ? "scope-id" : k} or ${envName(k as (typeof CONFIG_KEYS)[number])} (\`pulumi config get ipam:${k}\` prints it).`);
    }
    if (secret) delete values[k];
  }
  const settings = parseSettings(values, envLeft);
  return { settings, cwd, stack, explicitStore: settings.store !== undefined };
}

/** Fails (exit 2) unless `url` is an existing pulumi-ipam store of this version's schema; reads only. */
export async function checkStore(url: string): Promise<void> {
  const u = parseStoreUrl(url);
  const shown = describeUrl(url);
  const older = (v: number) => new IpamError("InvalidParameterValue", `store ${shown} has schema version ${v}, older than this pulumi-ipam's ${MIGRATIONS.length}; it is migrated by the first change made with this version (pulumi up), and this tool only reads.`);
  const newer = (v: number) => new IpamError("InvalidParameterValue", `store ${shown} has schema version ${v}, newer than this pulumi-ipam's ${MIGRATIONS.length}; upgrade pulumi-ipam.`);
  if (u.kind === "memory") throw new IpamError("InvalidParameterValue", "store memory: holds nothing another process can read; give a sqlite: or postgres:// store.");
  if (u.kind === "sqlite") {
    const file = path.resolve(u.file);
    if (!fs.existsSync(file) || fs.statSync(file).size === 0) {
      throw new IpamError("InvalidParameterValue", `store ${shown} does not exist (${file}); run pulumi up first, or give --store, --cwd or --stack.`);
    }
    let version: number | undefined;
    try {
      const db = new Database(file, { readonly: true, fileMustExist: true });
      try {
        const has = db.prepare("SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'ipam_schema'").pluck().get();
        version = has ? (db.prepare("SELECT version FROM ipam_schema").pluck().get() as number) : undefined;
      } finally {
        db.close();
      }
    } catch (e) {
      throw new IpamError("InvalidParameterValue", `store ${shown} could not be read: ${String((e as Error).message).split("\n")[0]}.`);
    }
    if (version === undefined) throw new IpamError("InvalidParameterValue", `store ${shown} is not a pulumi-ipam store (it has no ipam_schema table).`);
    if (version < MIGRATIONS.length) throw older(version);
    if (version > MIGRATIONS.length) throw newer(version);
    return;
  }
  const c = new Client({ connectionString: u.url, connectionTimeoutMillis: 10_000 });
  c.on("error", () => undefined);
  try {
    await c.connect();
    const r = await c.query("SELECT version FROM ipam_schema");
    const v = r.rows[0]?.version as number | undefined;
    if (v === undefined || v < MIGRATIONS.length) throw older(v ?? 0);
    if (v > MIGRATIONS.length) throw newer(v);
  } catch (e) {
    if (e instanceof IpamError) throw e;
    const code = (e as { code?: string }).code;
    if (code === "42P01") throw new IpamError("InvalidParameterValue", `store ${shown} is not a pulumi-ipam store (its database has no ipam_schema table); check --store.`);
    if (code === "3D000") throw new IpamError("InvalidParameterValue", `store ${shown} does not exist (no such database); check --store.`);
    throw new IpamError("ServiceUnavailable.StoreConnectionLost", `store ${shown} could not be reached: ${String((e as Error).message).split("\n")[0]}.`);
  } finally {
    await c.end().catch(() => undefined);
  }
}

/** Opens the backend (and the store, if any) the flags and configuration name. */
export async function connect(flags: FlagValues): Promise<Connection> {
  const { settings, cwd, stack, explicitStore } = resolveSettings(flags);
  const kind: BackendKind = settings.backend ?? "local";
  const url = settings.store ?? `sqlite:${defaultStorePath(cwd)}`;
  let store: Store | undefined;
  // A cloud backend without a store of its own still lists pools; only names are missing then.
  if (kind === "local" || explicitStore || fs.existsSync(defaultStorePath(cwd))) {
    await checkStore(url);
    store = openStore(url);
  }
  const ipam = store ? new Ipam(store) : undefined;
  const backend = kind === "local" ? localBackend(ipam!) : openBackend({ kind, region: settings.region, endpoint: settings.endpoint, scopeId: settings.scopeId }, ipam!);
  return {
    settings, kind, backend, store, storeUrl: store ? describeUrl(url).replace(/^"|"$/g, "") : undefined, stack, cwd,
    close: async () => { await store?.close(); },
  };
}
