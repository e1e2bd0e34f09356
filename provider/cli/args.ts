/**
 * Command line arguments: `--name value`, `--name=value`, boolean `--flag`,
 * `-o value` for the short names a command declares, `--` ending the flags.
 * Anything else is InvalidParameterValue (exit 2), naming what was wrong.
 */
import { IpamError } from "../core/errors";
import { quote } from "../core/quote";

export interface FlagSpec {
  type: "string" | "boolean";
  short?: string;
  /** Placeholder in the help text. */
  value?: string;
  help: string;
}

export type Flags = Record<string, FlagSpec>;

export interface Parsed {
  flags: Record<string, string | boolean | undefined>;
  args: string[];
}

export function parseArgs(argv: string[], spec: Flags, positional: { min: number; max: number }, command: string): Parsed {
  const flags: Parsed["flags"] = {};
  const args: string[] = [];
  const bad = (why: string) => new IpamError("InvalidParameterValue", `${why}; run 'pulumi-ipam ${command} --help'.`);
  const byShort = new Map(Object.entries(spec).filter(([, s]) => s.short).map(([k, s]) => [s.short!, k]));
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === "--") { args.push(...argv.slice(i + 1)); break; }
    let name: string | undefined, inline: string | undefined;
    if (a.startsWith("--")) {
      const eq = a.indexOf("=");
      name = eq < 0 ? a.slice(2) : a.slice(2, eq);
      inline = eq < 0 ? undefined : a.slice(eq + 1);
    } else if (/^-[A-Za-z]$/.test(a)) {
      name = byShort.get(a.slice(1));
      if (!name) throw bad(`unknown option ${quote(a)}`);
    } else {
      args.push(a);
      continue;
    }
    const s = spec[name];
    if (!s) throw bad(`unknown option ${quote(`--${name}`)}`);
    if (name in flags) throw bad(`option --${name} is given more than once`);
    if (s.type === "boolean") {
      if (inline !== undefined) throw bad(`option --${name} takes no value`);
      flags[name] = true;
    } else {
      const v = inline ?? argv[++i];
      if (v === undefined || (inline === undefined && v.startsWith("--"))) throw bad(`option --${name} needs a value`);
      flags[name] = v;
    }
  }
  if (args.length < positional.min) throw bad(args.length ? "too few arguments" : "missing argument");
  if (args.length > positional.max) throw bad(`unexpected argument ${quote(args[positional.max])}`);
  return { flags, args };
}

/** The options part of a help text, one line each. */
export function flagsHelp(spec: Flags): string {
  const rows = Object.entries(spec).map(([k, s]) => [`  ${s.short ? `-${s.short}, ` : ""}--${k}${s.type === "string" ? ` ${s.value ?? "VALUE"}` : ""}`, s.help]);
  const w = Math.max(...rows.map((r) => r[0].length));
  return rows.map(([a, b]) => `${a.padEnd(w)}  ${b}`).join("\n");
}
