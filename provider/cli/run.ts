/**
 * Runs a Pulumi program directory with the real Pulumi CLI through the
 * Automation API's inline program host, for machines that have the CLI but
 * no Node.js language plugin (ours builds the CLI from its Go module; the
 * language host's module is not served there). With a full Pulumi install,
 * plain `pulumi preview` / `pulumi up` in the directory do the same.
 *
 *   pulumi-ipam run <dir> preview|up|refresh|destroy|cancel|outputs [--stack dev] [--json] [--expect-no-changes] [--skip-preview] [--fast]
 *
 * `up` runs a preview and then the update, as `pulumi up` does (the
 * Automation API's up alone would skip the preview). `up --fast` and
 * `destroy --fast` save only the final checkpoint, when every resource is
 * one of ours (fast.ts); `up --fast` always previews first, to know that.
 * Previews (which save nothing) always skip the engine's per-step snapshot.
 *
 * State: PULUMI_BACKEND_URL, else file://<dir>/.pulumi-ipam/state.
 * Secrets passphrase: PULUMI_CONFIG_PASSPHRASE (empty for the local demo).
 */
import * as auto from "@pulumi/pulumi/automation";
import * as fs from "node:fs";
import * as path from "node:path";
import { refusal, SKIP_CHECKPOINTS, stateResources, stepResources } from "./fast";

export const USAGE = "usage: pulumi-ipam run <dir> preview|up|refresh|destroy|cancel|outputs [--stack NAME] [--json] [--expect-no-changes] [--skip-preview] [--fast]";
const COMMANDS = ["preview", "up", "refresh", "destroy", "cancel", "outputs"];

/** Bad arguments: exit 2. */
export class UsageError extends Error {}

interface Args { dir: string; command: string; stack: string; json: boolean; expectNoChanges: boolean; skipPreview: boolean; fast: boolean }

function parse(argv: string[]): Args {
  const [dir, command, ...rest] = argv;
  if (!dir || !command || !COMMANDS.includes(command)) throw new UsageError(USAGE);
  const flag = (f: string) => rest.includes(f);
  const at = rest.indexOf("--stack");
  return { dir: path.resolve(dir), command, stack: at >= 0 ? rest[at + 1] : "dev", json: flag("--json"), expectNoChanges: flag("--expect-no-changes"), skipPreview: flag("--skip-preview"), fast: flag("--fast") };
}

/**
 * Registers a TypeScript loader for the program, as Pulumi's Node.js host
 * does: the project's own ts-node and typescript when it has them, else ours;
 * the project's tsconfig.json when there is one, else options that today's
 * TypeScript accepts (TypeScript 6 rejects the node10 resolution that ts-node
 * implies for "commonjs", TS5107). Without any ts-node, Node's own type
 * stripping (Node >= 22.18) runs the program.
 */
function registerTypeScript(dir: string): void {
  const from = [dir, __dirname];
  const resolve = (m: string) => { for (const p of from) { try { return require.resolve(m, { paths: [p] }); } catch { /* next */ } } return undefined; };
  const tsNode = resolve("ts-node");
  const typescript = resolve("typescript");
  if (!tsNode || !typescript) {
    if ((process.features as { typescript?: string }).typescript) return;
    throw new RunError(`cannot run ${dir}/index.ts: install typescript and ts-node in the project (npm install -D typescript ts-node), or use Node >= 22.18`);
  }
  const tsconfig = path.join(dir, "tsconfig.json");
  const major = Number((require(typescript) as { version: string }).version.split(".")[0]);
  require(tsNode).register({
    transpileOnly: true, compiler: typescript,
    ...(fs.existsSync(tsconfig) ? { project: tsconfig } : {
      skipProject: true,
      compilerOptions: major >= 5
        ? { module: "node16", moduleResolution: "node16", target: "ES2022", esModuleInterop: true }
        : { module: "commonjs", target: "ES2017", esModuleInterop: true },
    }),
  });
}

/** Loads the program's index.ts (or index.js) afresh and returns its exports as stack outputs. */
function program(dir: string): auto.PulumiFn {
  let registered = false;
  return async () => {
    const ts = path.join(dir, "index.ts");
    if (fs.existsSync(ts) && !registered) { registerTypeScript(dir); registered = true; }
    const entry = fs.existsSync(ts) ? ts : path.join(dir, "index.js");
    // Each run (preview, then update) must execute the program afresh: drop it from the module cache.
    for (const k of Object.keys(require.cache)) if (k.startsWith(dir + path.sep) && !k.includes(`${path.sep}node_modules${path.sep}`)) delete require.cache[k];
    const mod = require(entry);
    return { ...mod };
  };
}

/** A failure the runner explains itself: printed as one line, without a stack. */
export class RunError extends Error {}

/** The engine's colour markup (<{%fg 1%}>, <{%reset%}>) that reaches error texts even with colour off. */
export const stripMarkup = (s: string) => s.replace(/<\{%[^%]*%\}>/g, "");

/**
 * What to print for a failed engine command: its own error lines, once.
 * The Automation API's CommandError wraps the whole stdout and stderr
 * ("code: -2\n stdout: ... stderr: ..."); stdout was already streamed.
 */
export function engineError(e: unknown, streamed: boolean): string {
  if (e instanceof auto.CommandError) {
    const r = (e as unknown as { commandResult: { stdout: string; stderr: string; err?: Error & { stdout?: string; stderr?: string } } }).commandResult;
    // A non-zero exit reaches us as execa's error (code -2), whose stdout and stderr are the command's own.
    const stdout = r.err?.stdout ?? r.stdout;
    const stderr = r.err?.stderr ?? r.stderr;
    const lines = (text: string) => stripMarkup(text).split("\n").map((l) => l.trimEnd());
    const errors = lines(stderr).filter((l) => l.trim());
    if (!streamed) {
      // Not streamed (--json): the diagnostics may be in stdout too.
      errors.unshift(...lines(stdout).filter((l) => /^\s*error:/.test(l)));
    }
    const seen = new Set<string>();
    return errors.filter((l) => !seen.has(l.trim()) && seen.add(l.trim())).join("\n") || (r.err?.message ?? "the Pulumi command failed");
  }
  return stripMarkup(e instanceof Error ? e.message : String(e));
}

export async function main(argv: string[]): Promise<number> {
  const a = parse(argv);
  const yaml = path.join(a.dir, "Pulumi.yaml");
  if (!fs.existsSync(yaml)) throw new UsageError(`${a.dir} has no Pulumi.yaml: give the directory of a Pulumi project`);
  const project = (fs.readFileSync(yaml, "utf8").match(/^name:\s*(\S+)/m) ?? [])[1];
  if (!project) throw new RunError(`${yaml} has no name`);
  const stateDir = path.join(a.dir, ".pulumi-ipam", "state");
  const backend = process.env.PULUMI_BACKEND_URL || `file://${stateDir}`;
  if (backend.startsWith("file://")) fs.mkdirSync(backend.slice("file://".length), { recursive: true });
  const envVars: Record<string, string> = {
    PULUMI_BACKEND_URL: backend, PULUMI_CONFIG_PASSPHRASE: process.env.PULUMI_CONFIG_PASSPHRASE ?? "", PULUMI_SKIP_UPDATE_CHECK: "true",
  };
  const stack = await auto.LocalWorkspace.createOrSelectStack(
    { stackName: a.stack, projectName: project, program: program(a.dir) },
    { workDir: a.dir, envVars },
  );
  const onOutput = a.json ? undefined : (s: string) => process.stdout.write(s);
  // Colour only for a person at a terminal; piped or captured output gets plain text.
  const color = process.stdout.isTTY && !process.env.NO_COLOR ? "always" : "never";
  const events: auto.EngineEvent[] = [];
  const onEvent = (e: auto.EngineEvent) => { events.push(e); };
  switch (a.command) {
    case "preview": {
      previewOnly(stack);
      const r = await stack.preview({ diff: true, color, onOutput, onEvent, expectNoChanges: a.expectNoChanges });
      if (a.json) process.stdout.write(JSON.stringify({ changeSummary: r.changeSummary, steps: planned(events) }, null, 2) + "\n");
      else summary("Planned", planned(events).map((s) => ({ urn: s.urn, values: s.inputs })));
      break;
    }
    case "up": {
      const previewed: auto.EngineEvent[] = [];
      previewOnly(stack);
      if (!a.skipPreview || a.fast) await stack.preview({ diff: true, color, onOutput, onEvent: (e) => { previewed.push(e); }, expectNoChanges: a.expectNoChanges });
      if (a.fast) fast(stack, refusal(stepResources(previewed), "the program registers"));
      else checkpointed(stack);
      const r = await stack.up({ diff: true, color, onOutput, onEvent, expectNoChanges: a.expectNoChanges });
      if (a.json) process.stdout.write(JSON.stringify({ summary: r.summary.resourceChanges, outputs: plain(r.outputs) }, null, 2) + "\n");
      else summary("Allocated", events.filter((e) => e.resOutputsEvent).map((e) => ({ urn: e.resOutputsEvent!.metadata.urn, values: e.resOutputsEvent!.metadata.new?.outputs ?? {} })));
      break;
    }
    case "refresh": checkpointed(stack); await stack.refresh({ color, onOutput, onEvent }); break;
    case "destroy": {
      if (a.fast) fast(stack, refusal(stateResources(await stack.exportStack()), "the stack holds"));
      else checkpointed(stack);
      await stack.destroy({ color, onOutput, onEvent });
      break;
    }
    case "cancel": await stack.cancel(); break;
    case "outputs": process.stdout.write(JSON.stringify(plain(await stack.outputs()), null, 2) + "\n"); break;
    default: throw new UsageError(USAGE);
  }
  return 0;
}

/** Fast mode for the next command, or the refusal (before anything changed). */
function fast(stack: auto.Stack, refused: string | undefined): void {
  if (refused) throw new RunError(refused);
  stack.workspace.envVars[SKIP_CHECKPOINTS] = "true";
}

/**
 * A preview changes nothing and saves nothing, yet the engine serializes
 * and verifies the whole snapshot after each of its steps unless told to
 * skip checkpoints: O(N^2) in the CLI (2,000 resources: 58 s, 5 s without).
 */
function previewOnly(stack: auto.Stack): void {
  stack.workspace.envVars[SKIP_CHECKPOINTS] = "true";
}

/** Every step checkpointed: the default for what changes resources, whatever the caller's environment says. */
function checkpointed(stack: auto.Stack): void {
  stack.workspace.envVars[SKIP_CHECKPOINTS] = "false";
}

/** One line per IPAM resource: its name and the CIDRs (or address) it has. */
function summary(title: string, rows: { urn: string; values: Record<string, any> }[]): void {
  const lines = rows.filter((r) => /::(pulumi-nodejs:dynamic\/ipam|ipam:index):/.test(r.urn)).map((r) => {
    const v = r.values;
    const what = v.publicIp ?? v.cidr ?? (Array.isArray(v.cidrs) ? v.cidrs.join(", ") : v.cidrs);
    return `  ${r.urn.split("::").pop()!.padEnd(24)} ${String(what ?? "(unknown)")}${v.planNote ? `   (${v.planNote})` : ""}`;
  });
  if (lines.length) process.stdout.write(`\n${title} CIDRs:\n${lines.sort().join("\n")}\n`);
}

const plain = (o: auto.OutputMap) => Object.fromEntries(Object.entries(o).map(([k, v]) => [k, v.value]));

/** Per resource: the operation and the checked inputs preview shows (the planned cidr among them). */
function planned(events: auto.EngineEvent[]) {
  return events.filter((e) => e.resourcePreEvent).map((e) => {
    const m = e.resourcePreEvent!.metadata;
    return { urn: m.urn, op: m.op, type: m.type, inputs: m.new?.inputs ?? {}, outputs: m.new?.outputs ?? {} };
  });
}

/** Runs main and exits: 0, or 1 with the engine's error printed once (2 for bad arguments). */
export function runAndExit(argv: string[]): void {
  main(argv).then((c) => process.exit(c), (e) => {
    process.stderr.write(`${engineError(e, !argv.includes("--json"))}\n`);
    process.exit(e instanceof UsageError ? 2 : 1);
  });
}

if (require.main === module) runAndExit(process.argv.slice(2));
