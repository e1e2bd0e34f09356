#!/usr/bin/env node
/**
 * `pulumi-ipam`, the package's command line tool (npx pulumi-ipam ...).
 * Today it runs Pulumi programs (`run`); each command is a thin adapter over
 * the shared wiring, parsing its own arguments.
 */
import { runAndExit, USAGE as RUN_USAGE } from "./run";

const HELP = `pulumi-ipam: IP address management as infrastructure code

commands:
  run <dir> preview|up|refresh|destroy|cancel|outputs   run a Pulumi program with the real Pulumi CLI
      [--stack NAME] [--json] [--expect-no-changes] [--skip-preview]
  export terraform -o DIR [--stack NAME | --store URL]   the plan as Terraform (CDKTF) with every CIDR pinned

Run 'pulumi-ipam <command> --help' for a command's options.`;

export function cli(argv: string[]): void {
  const [command, ...rest] = argv;
  if (!command || command === "--help" || command === "-h" || command === "help") {
    process.stdout.write(`${HELP}\n`);
    process.exit(command ? 0 : 2);
  }
  if (command === "run") {
    if (rest.includes("--help") || rest.includes("-h")) { process.stdout.write(`${RUN_USAGE}\n`); process.exit(0); }
    return runAndExit(rest);
  }
  if (command === "export") return (require("./export") as typeof import("./export")).exportAndExit(rest); // loads CDKTF only for this command
  process.stderr.write(`InvalidParameterValue: unknown command ${JSON.stringify(command)}; run 'pulumi-ipam --help'\n`);
  process.exit(2);
}

if (require.main === module) cli(process.argv.slice(2));
