/**
 * Runs a Pulumi program directory with the real Pulumi CLI through the
 * Automation API's inline program host, for machines that have the CLI but
 * no Node.js language plugin (ours builds the CLI from its Go module; the
 * language host's module is not served there). With a full Pulumi install,
 * plain `pulumi preview` / `pulumi up` in the directory do the same.
 *
 *   ipam-run <dir> preview|up|refresh|destroy|cancel|outputs [--stack dev] [--json] [--expect-no-changes] [--skip-preview]
 *
 * `up` runs a preview and then the update, as `pulumi up` does (the
 * Automation API's up alone would skip the preview).
 *
 * State: PULUMI_BACKEND_URL, else file://<dir>/.pulumi-ipam/state.
 * Secrets passphrase: PULUMI_CONFIG_PASSPHRASE (empty for the local demo).
 */
import * as auto from "@pulumi/pulumi/automation";
import * as fs from "node:fs";
import * as path from "node:path";

interface Args { dir: string; command: string; stack: string; json: boolean; expectNoChanges: boolean; skipPreview: boolean }

function parse(argv: string[]): Args {
  const [dir, command, ...rest] = argv;
  if (!dir || !command) throw new Error("usage: ipam-run <dir> preview|up|refresh|destroy|outputs [--stack NAME] [--json] [--expect-no-changes]");
  const flag = (f: string) => rest.includes(f);
  const at = rest.indexOf("--stack");
  return { dir: path.resolve(dir), command, stack: at >= 0 ? rest[at + 1] : "dev", json: flag("--json"), expectNoChanges: flag("--expect-no-changes"), skipPreview: flag("--skip-preview") };
}

/** Loads the program's index.ts (or index.js) afresh and returns its exports as stack outputs. */
function program(dir: string): auto.PulumiFn {
  return async () => {
    const ts = path.join(dir, "index.ts");
    if (fs.existsSync(ts)) require("ts-node").register({ transpileOnly: true, compilerOptions: { module: "commonjs" } });
    const entry = fs.existsSync(ts) ? ts : path.join(dir, "index.js");
    // Each run (preview, then update) must execute the program afresh: drop it from the module cache.
    for (const k of Object.keys(require.cache)) if (k.startsWith(dir + path.sep) && !k.includes(`${path.sep}node_modules${path.sep}`)) delete require.cache[k];
    const mod = require(entry);
    return { ...mod };
  };
}

export async function main(argv: string[]): Promise<number> {
  const a = parse(argv);
  const project = (fs.readFileSync(path.join(a.dir, "Pulumi.yaml"), "utf8").match(/^name:\s*(\S+)/m) ?? [])[1];
  if (!project) throw new Error(`${a.dir}/Pulumi.yaml has no name`);
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
  const events: auto.EngineEvent[] = [];
  const onEvent = (e: auto.EngineEvent) => { events.push(e); };
  switch (a.command) {
    case "preview": {
      const r = await stack.preview({ diff: true, onOutput, onEvent, expectNoChanges: a.expectNoChanges });
      if (a.json) process.stdout.write(JSON.stringify({ changeSummary: r.changeSummary, steps: planned(events) }, null, 2) + "\n");
      else summary("Planned", planned(events).map((s) => ({ urn: s.urn, values: s.inputs })));
      break;
    }
    case "up": {
      if (!a.skipPreview) await stack.preview({ diff: true, onOutput, expectNoChanges: a.expectNoChanges });
      const r = await stack.up({ diff: true, onOutput, onEvent, expectNoChanges: a.expectNoChanges });
      if (a.json) process.stdout.write(JSON.stringify({ summary: r.summary.resourceChanges, outputs: plain(r.outputs) }, null, 2) + "\n");
      else summary("Allocated", events.filter((e) => e.resOutputsEvent).map((e) => ({ urn: e.resOutputsEvent!.metadata.urn, values: e.resOutputsEvent!.metadata.new?.outputs ?? {} })));
      break;
    }
    case "refresh": await stack.refresh({ onOutput, onEvent }); break;
    case "destroy": await stack.destroy({ onOutput, onEvent }); break;
    case "cancel": await stack.cancel(); break;
    case "outputs": process.stdout.write(JSON.stringify(plain(await stack.outputs()), null, 2) + "\n"); break;
    default: throw new Error(`unknown command ${a.command}`);
  }
  return 0;
}

/** One line per IPAM resource: its name and the CIDRs (or address) it has. */
function summary(title: string, rows: { urn: string; values: Record<string, any> }[]): void {
  const lines = rows.filter((r) => r.urn.includes("dynamic/ipam:")).map((r) => {
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

if (require.main === module) {
  main(process.argv.slice(2)).then((c) => process.exit(c), (e) => {
    process.stderr.write(`${e instanceof Error ? e.message : e}\n`);
    process.exit(1);
  });
}
