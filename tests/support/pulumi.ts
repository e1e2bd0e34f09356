/**
 * Drives the real Pulumi CLI on a local file backend for end-to-end tests:
 * a project copied to a temporary directory, its own SQLite store, and
 * provider/cli/run.js (the Automation API's inline host, see its header).
 */
import { spawn, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { familyOf, overlaps, parseCidr } from "../../provider/core/cidr";
import { Ipam } from "../../provider/core/ipam";
import { SqliteStore } from "../../provider/stores/sqlite";

export const ROOT = path.resolve(__dirname, "../..");
const RUN = path.join(ROOT, "dist/provider/cli/run.js");

export interface Project { dir: string; store: string; env: NodeJS.ProcessEnv }

/** A copy of a program directory in a fresh temporary directory, with its own state and store. */
export function project(source: string, extraEnv: NodeJS.ProcessEnv = {}): Project {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "ipam-e2e-"));
  for (const f of fs.readdirSync(source)) {
    if (f === "node_modules" || f === ".pulumi-ipam" || f.startsWith("Pulumi.") && f !== "Pulumi.yaml") continue;
    fs.cpSync(path.join(source, f), path.join(dir, f), { recursive: true });
  }
  // The provider process resolves @pulumi/pulumi and pulumi-ipam from the project, as in a user's project.
  fs.symlinkSync(path.join(ROOT, "node_modules"), path.join(dir, "node_modules"));
  const store = path.join(dir, "ipam.db");
  return {
    dir, store,
    env: { ...process.env, PULUMI_CONFIG_PASSPHRASE: "e2e", PULUMI_IPAM_STORE: `sqlite:${store}`, PULUMI_BACKEND_URL: `file://${dir}/state`, ...extraEnv },
  };
}

export interface RunResult { code: number; stdout: string; stderr: string; json?: any }

export function run(p: Project, args: string[], env: NodeJS.ProcessEnv = {}): RunResult {
  fs.mkdirSync(path.join(p.dir, "state"), { recursive: true });
  const r = spawnSync(process.execPath, [RUN, p.dir, ...args], { env: { ...p.env, ...env }, encoding: "utf8", timeout: 240_000 });
  const out: RunResult = { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
  if (args.includes("--json") && out.code === 0) out.json = JSON.parse(r.stdout);
  return out;
}

/**
 * A failed command's message with its error lines first: CI keeps only the
 * head of a long failure, and the engine prints the cause last.
 */
export function failure(what: string, r: { code: number | null; stdout: string; stderr: string }): string {
  const all = `${r.stdout}\n${r.stderr}`;
  const errors = all.split("\n").filter((l) => /error|Error|failed|panic/.test(l)).slice(0, 15).join("\n");
  return `${what} failed (${r.code}):\n--- error lines ---\n${errors}\n--- stderr ---\n${r.stderr.slice(-3000)}\n--- stdout ---\n${r.stdout.slice(-3000)}`;
}

export interface Started {
  kill: () => void;
  /** The exit code: -9 when killed. */
  done: Promise<number>;
  /** Whether the command has exited on its own or been killed. */
  exited: () => boolean;
  /** What it printed so far. */
  output: () => { stdout: string; stderr: string };
}

/** Starts a command in its own process group, to be killed with kill -9 at a moment of the test's choosing. */
export function start(p: Project, args: string[]): Started {
  fs.mkdirSync(path.join(p.dir, "state"), { recursive: true });
  const child = spawn(process.execPath, [RUN, p.dir, ...args], { env: p.env, detached: true, stdio: ["ignore", "pipe", "pipe"] });
  let stdout = "", stderr = "", gone = false;
  child.stdout!.on("data", (d) => { stdout += d; });
  child.stderr!.on("data", (d) => { stderr += d; });
  const done = new Promise<number>((resolve) => child.on("exit", (c) => { gone = true; resolve(c ?? -9); }));
  return {
    kill: () => { try { process.kill(-child.pid!, "SIGKILL"); } catch { /* already gone */ } },
    done, exited: () => gone, output: () => ({ stdout, stderr }),
  };
}

/** Kills provider processes left running in the project (the CLI starts plugins in their own process groups). */
export function reapPlugins(p: Project): void {
  for (const pid of fs.readdirSync("/proc").filter((d) => /^\d+$/.test(d))) {
    try {
      if (fs.readlinkSync(`/proc/${pid}/cwd`).startsWith(p.dir)) process.kill(Number(pid), "SIGKILL");
    } catch { /* gone or not ours */ }
  }
}

export async function withIpam<T>(p: Project, fn: (ipam: Ipam) => Promise<T>): Promise<T> {
  const store = new SqliteStore(p.store);
  try { return await fn(new Ipam(store)); } finally { await store.close(); }
}

/** The checked inputs of each resource in a preview --json, by resource name. */
export function plannedByName(preview: any): Record<string, any> {
  const out: Record<string, any> = {};
  for (const s of preview.steps) if (s.type.startsWith("pulumi-nodejs:dynamic/ipam:")) out[s.urn.split("::").pop()] = { op: s.op, ...s.inputs };
  return out;
}

/**
 * `preview --json` of a program that must succeed without warnings and plan
 * a CIDR for each of `allocations`, none overlapping another of its family.
 * The checked inputs by resource name.
 */
export function previewPlans(p: Project, allocations: string[]): Record<string, any> {
  const r = run(p, ["preview", "--json"]);
  expect(r.stderr).toBe("");
  expect(r.code).toBe(0);
  const planned = plannedByName(r.json);
  for (const n of allocations) expect(planned[n].cidr).toMatch(/^[0-9a-f.:]+\/\d+$/);
  expectDisjoint(allocations.map((n) => planned[n].cidr));
  return planned;
}

/** Pulumi's stack state (resources with their outputs), read with `pulumi stack export`. */
export function exportState(p: Project): any[] {
  // maxBuffer: a state of hundreds of resources is several MB of JSON (the default 1 MB fails with ENOBUFS).
  const r = spawnSync("pulumi", ["stack", "export", "--stack", "dev", "--cwd", p.dir], { env: p.env, encoding: "utf8", maxBuffer: 1 << 28 });
  if (r.status !== 0) throw new Error(`pulumi stack export failed: ${r.stderr}`);
  return JSON.parse(r.stdout).deployment.resources ?? [];
}

export function cleanup(p: Project): void {
  reapPlugins(p);
  fs.rmSync(p.dir, { recursive: true, force: true });
}

/** Fails naming the first two CIDRs of one family that overlap. */
export function expectDisjoint(cidrs: string[]): void {
  const blocks = cidrs.map((c) => ({ c, fam: familyOf(c), b: parseCidr(familyOf(c), c) }));
  for (const [i, x] of blocks.entries()) for (const y of blocks.slice(i + 1)) {
    if (x.fam === y.fam) expect(overlaps(x.fam === "ipv4" ? 32 : 128, x.b, y.b) ? `${x.c} overlaps ${y.c}` : "").toBe("");
  }
}

/**
 * After a kill -9, what the file backend (gocloud's fileblob) can leave
 * half-written: it renames each blob into place, but writes the blob's
 * ".attrs" sidecar (content type, MD5) in place, so a kill there leaves it
 * empty and every later command fails with "failed to load checkpoint: EOF".
 * A sidecar that is not JSON is removed (fileblob treats a missing one as
 * defaults). A stack checkpoint that is not JSON is restored from the
 * backend's .bak, or removed when it was the first (the stack starts
 * afresh); the resources it held are re-adopted by ClientToken.
 * Returns the files it repaired.
 */
export function repairCheckpoint(p: Project): string[] {
  const restored: string[] = [];
  const parses = (f: string) => { try { JSON.parse(fs.readFileSync(f, "utf8")); return true; } catch { return false; } };
  const walk = (d: string): void => {
    if (!fs.existsSync(d)) return;
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const f = path.join(d, e.name);
      if (e.isDirectory()) { walk(f); continue; }
      if (e.name.endsWith(".attrs")) {
        if (!parses(f)) { fs.rmSync(f); restored.push(f); }
      } else if (e.name.endsWith(".json") && f.includes(`${path.sep}stacks${path.sep}`) && !parses(f)) {
        if (fs.existsSync(`${f}.bak`) && parses(`${f}.bak`)) fs.copyFileSync(`${f}.bak`, f); else fs.rmSync(f);
        restored.push(f);
      }
    }
  };
  walk(path.join(p.dir, "state", ".pulumi"));
  return restored;
}
