/**
 * What every command of the table in main.ts is, and the shared wrapper of
 * the read commands: --help, argument parsing, the connection, exit codes.
 *
 * Exit codes: 0 done; 1 a failure while reading (a cloud API down) or what
 * a command reports as found (usage above the threshold, show of something
 * in no pool); 2 bad arguments or configuration (an unknown pool, a
 * malformed CIDR, a missing store), with one line on stderr that starts
 * with the error code.
 */
import { IpamError } from "../core/errors";
import type { Style } from "../render/format";
import { Flags, flagsHelp, Parsed, parseArgs } from "./args";
import { CONFIG_FLAGS, CONFIG_HELP, connect, Connection } from "./connect";
import { stdoutIsTTY } from "./tty";
import { inWorker, shouldFork } from "./worker";


export interface Command {
  /** One line for `pulumi-ipam --help`. */
  summary: string;
  /** Runs with the arguments after the command's name; resolves to the exit code (or exits itself). */
  main(argv: string[]): Promise<number> | void;
}

/** Codes that mean the arguments or the configuration are wrong: exit 2. */
const BAD_ARGUMENTS = new Set([
  "InvalidParameterValue", "InvalidParameterCombination", "IllegalParam.Cidr", "IllegalParam.CidrMask", "InvalidIpamPoolId.NotFound",
  "InvalidIpamPoolAllocationId.NotFound", "InvalidAllocationID.NotFound", "MissingRegionId", "MissingIpamScopeId", "InvalidCredentials",
]);

export const exitCodeOf = (e: unknown) => (e instanceof IpamError && BAD_ARGUMENTS.has(e.code) ? 2 : 1);

/** One line for stderr: the code and message, without a stack. */
export function errorLine(e: unknown): string {
  const text = e instanceof Error ? e.message : String(e);
  return (text.split("\n")[0] || "unknown error").trim();
}

export interface Io {
  out(text: string): void;
  err(text: string): void;
  style: Style;
}

export interface ReadSpec {
  summary: string;
  /** "pools [options]" */
  usage: string;
  /** What it shows, for --help. */
  description: string;
  flags: Flags;
  positional: { min: number; max: number };
  /** Whether it reads through a backend (false: report without a store works too). */
  connects?: "always" | "optional";
  run(p: Parsed, io: Io, conn: Connection | undefined): Promise<number>;
}

const COMMON: Flags = {
  ...CONFIG_FLAGS,
  "no-color": { type: "boolean", help: "no ANSI colours even on a terminal (NO_COLOR does the same)" },
  help: { type: "boolean", short: "h", help: "this help" },
};

export function helpOf(spec: ReadSpec): string {
  return `usage: pulumi-ipam ${spec.usage}\n\n${spec.description}\n\noptions:\n${flagsHelp({ ...spec.flags, ...COMMON })}\n\n${CONFIG_HELP}`;
}

/** A command that reads through the configured backend and writes one result. */
export function readCommand(name: string, spec: ReadSpec): Command {
  return {
    summary: spec.summary,
    async main(argv) {
      if (shouldFork()) return inWorker(name, argv);
      const io: Io = {
        out: (t) => { process.stdout.write(t); },
        err: (t) => { process.stderr.write(t); },
        style: { color: false, unicode: false },
      };
      let conn: Connection | undefined;
      try {
        if (argv.includes("--help") || argv.includes("-h")) { io.out(`${helpOf(spec)}\n`); return 0; }
        const p = parseArgs(argv, { ...spec.flags, ...COMMON }, spec.positional, name);
        const tty = stdoutIsTTY();
        io.style = { color: tty && !p.flags["no-color"] && !process.env.NO_COLOR, unicode: tty };
        if (spec.connects !== "optional") conn = await connect(p.flags);
        return await spec.run(p, io, conn);
      } catch (e) {
        io.err(`${errorLine(e)}\n`);
        return exitCodeOf(e);
      } finally {
        await conn?.close().catch(() => undefined);
      }
    },
  };
}

/** A whole number option within [min, max], else InvalidParameterValue. */
export function numberFlag(v: string | boolean | undefined, name: string, min: number, max: number): number | undefined {
  if (v === undefined) return undefined;
  const n = typeof v === "string" && /^\d+(\.\d+)?$/.test(v) ? Number(v) : NaN;
  if (!(n >= min && n <= max)) throw new IpamError("InvalidParameterValue", `--${name} must be a number from ${min} to ${max}; got ${JSON.stringify(v)}.`);
  return n;
}
