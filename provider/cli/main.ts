#!/usr/bin/env node
/**
 * `pulumi-ipam`, the package's command line tool (npx pulumi-ipam ...): a
 * table of commands, each a thin adapter that parses its own arguments,
 * gathers data and writes what a renderer (provider/render) made of it.
 * Every command but `run` only reads.
 */
import type { Command } from "./command";
import { inWorker, shouldFork } from "./worker";

const run: Command = {
  summary: "run a Pulumi program with the real Pulumi CLI: run <dir> preview|up|refresh|destroy|cancel|outputs",
  main(argv) {
    // Loaded only here: @pulumi/pulumi's automation API costs ~60 MB and 0.3 s that the read commands never need.
    const { runAndExit, USAGE } = require("./run") as typeof import("./run");
    if (argv.includes("--help") || argv.includes("-h")) { process.stdout.write(`${USAGE}\n`); return Promise.resolve(0); }
    runAndExit(argv);
  },
};

/**
 * The commands, by name, each loaded when it runs (a read command's modules are loaded in its worker
 * only, worker.ts). Adding one is one line here.
 */
export const COMMANDS: Record<string, { load: () => Command; reads?: boolean }> = {
  run: { load: () => run },
  pools: { load: () => (require("./pools") as typeof import("./pools")).pools, reads: true },
  free: { load: () => (require("./free") as typeof import("./free")).free, reads: true },
  show: { load: () => (require("./show") as typeof import("./show")).show, reads: true },
  usage: { load: () => (require("./usage") as typeof import("./usage")).usage, reads: true },
  map: { load: () => (require("./map") as typeof import("./map")).map, reads: true },
  report: { load: () => (require("./report") as typeof import("./report")).report, reads: true },
  export: { load: () => (require("./export") as typeof import("./export")).exportCommand, reads: true },
};

function help(): string {
  const w = Math.max(...Object.keys(COMMANDS).map((k) => k.length));
  return `pulumi-ipam: IP address management as infrastructure code

commands:
${Object.entries(COMMANDS).map(([k, c]) => `  ${k.padEnd(w)}  ${c.load().summary}`).join("\n")}

Run 'pulumi-ipam <command> --help' for a command's options.`;
}

/** Exits once what was written has reached stdout (a pipe may still be draining). */
function exit(code: number): void {
  process.stdout.write("", () => process.exit(code));
}

export function cli(argv: string[]): void {
  // A reader that stops early (| head) is not an error.
  process.stdout.on("error", (e: NodeJS.ErrnoException) => { if (e.code === "EPIPE") process.exit(0); else throw e; });
  const [command, ...rest] = argv;
  if (!command || command === "--help" || command === "-h" || command === "help") {
    process.stdout.write(`${help()}\n`);
    return exit(command ? 0 : 2);
  }
  const c = Object.prototype.hasOwnProperty.call(COMMANDS, command) ? COMMANDS[command] : undefined;
  if (!c) {
    process.stderr.write(`InvalidParameterValue: unknown command ${JSON.stringify(command)}; run 'pulumi-ipam --help'\n`);
    return exit(2);
  }
  const done = c.reads && shouldFork() ? inWorker(command, rest) : c.load().main(rest);
  if (done) done.then(exit, (e) => { process.stderr.write(`${e instanceof Error ? e.message : String(e)}\n`); exit(1); });
}

if (require.main === module) cli(process.argv.slice(2));
