/**
 * `pulumi-ipam report <preview.json>`: a preview's IPAM changes as a
 * Markdown table for a pull request comment. Reads both the runner's
 * `pulumi-ipam run <dir> preview --json` ({steps: [{urn, op, type, inputs}]})
 * and `pulumi preview --json` ({steps: [{urn, op, newState, oldState}]}).
 * The planned CIDRs are in the checked inputs (check() puts them there);
 * what a delete releases comes from the old state, else from the store's
 * held reservation of the resource's URN. Pools' utilization after the
 * change is the store's (or cloud's) now, plus what is created, minus what
 * is deleted.
 */
import * as fs from "node:fs";
import { Block, blockSize, familyBits, familyOf, parseCidr } from "../core/cidr";
import { IpamError } from "../core/errors";
import { quote } from "../core/quote";
import { Inventory, PoolNode, flatten, planName, poolTree } from "../render/inventory";
import { PoolChange, renderMarkdown, ReportData, ReportRow } from "../render/markdown";
import { readCommand } from "./command";
import { checkStore, connect, Connection, resolveSettings } from "./connect";
import { gather } from "./gather";
import { defaultStorePath } from "../runtime/context";

const UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";
const KIND = /ipam:(?:index:)?(IpamPool|IpamPoolAllocation|ElasticIp)$/;
const REPLACING = new Set(["replace", "create-replacement", "delete-replaced"]);

type Values = Record<string, unknown>;

export interface Step {
  urn: string;
  op: string;
  type: string;
  /** The checked inputs (new), and outputs where the document has them. */
  news?: Values;
  /** The old state's inputs and outputs, merged (pulumi preview --json only). */
  olds?: Values;
}

/** The steps of either document, IPAM resources only. */
export function parsePreview(text: string, file: string): Step[] {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (e) {
    throw new IpamError("InvalidParameterValue", `${file} is not JSON (${String((e as Error).message).split("\n")[0]}); give the output of preview --json.`);
  }
  const steps = (doc as { steps?: unknown })?.steps;
  if (!Array.isArray(steps)) throw new IpamError("InvalidParameterValue", `${file} has no "steps" list: give the output of 'pulumi-ipam run <dir> preview --json' or 'pulumi preview --json'.`);
  const out: Step[] = [];
  for (const s of steps as Record<string, any>[]) {
    if (!s || typeof s.urn !== "string" || typeof s.op !== "string") continue;
    const type = String(s.type ?? s.newState?.type ?? s.oldState?.type ?? s.urn.split("::")[2] ?? "");
    if (!KIND.test(type)) continue;
    const state = (st: any): Values | undefined => (st ? { ...(st.outputs ?? {}), ...(st.inputs ?? {}) } : undefined);
    const news = s.newState ? state(s.newState) : s.inputs ? { ...(s.outputs ?? {}), ...s.inputs } : undefined;
    out.push({ urn: s.urn, op: s.op, type, news: news && Object.keys(news).length ? news : undefined, olds: state(s.oldState) });
  }
  return out;
}

const known = (v: unknown): v is string => typeof v === "string" && v !== "" && v !== UNKNOWN;

/** A resource's CIDRs in a state; undefined when unknown until apply. */
function cidrsOf(kind: string, v: Values | undefined): string[] | undefined {
  if (!v) return undefined;
  if (kind === "IpamPool") return Array.isArray(v.cidrs) && v.cidrs.every(known) ? (v.cidrs as string[]) : undefined;
  if (kind === "ElasticIp") return known(v.publicIp) ? [`${v.publicIp}/32`] : undefined;
  return known(v.cidr) ? [v.cidr] : undefined;
}

/** The pool it takes its space from: an allocation's or address's pool, a nested pool's source. */
function sourceOf(kind: string, v: Values | undefined): string | undefined {
  if (!v) return undefined;
  const id = kind === "IpamPool" ? v.sourceIpamPoolId : v.ipamPoolId;
  return known(id) ? id : undefined;
}

const sizeOf = (cidrs: string[]) => cidrs.reduce((s, c) => {
  const fam = familyOf(c);
  const b: Block = parseCidr(fam, c);
  return s + blockSize(familyBits(fam), b.prefix);
}, 0n);

export function reportData(steps: Step[], inv: Inventory | undefined, notes: string[]): ReportData {
  const nodes = inv ? flatten(poolTree(inv)) : [];
  const byId = new Map<string, PoolNode>(nodes.map((n) => [n.pool.ipamPoolId, n]));
  const plans = new Map((inv?.plans ?? []).map((p) => [p.key, p]));
  const groups = new Map<string, Step[]>();
  for (const s of steps) groups.set(s.urn, [...(groups.get(s.urn) ?? []), s]);
  const poolNames = new Map<string, string>(nodes.map((n) => [n.pool.ipamPoolId, n.name]));
  // Pools this preview creates, by their planned id.
  const planned = new Map<string, { name: string; cidrs?: string[] }>();
  for (const [urn, group] of groups) {
    const kind = KIND.exec(group[0].type)![1];
    const news = group.find((s) => s.news)?.news;
    if (kind === "IpamPool" && news && known(news.ipamPoolId)) {
      poolNames.set(news.ipamPoolId, planName(urn));
      planned.set(news.ipamPoolId, { name: planName(urn), cidrs: cidrsOf(kind, news) });
    }
  }
  const delta = new Map<string, bigint>();
  const add = (id: string | undefined, n: bigint) => { if (id) delta.set(id, (delta.get(id) ?? 0n) + n); };
  const rows: ReportRow[] = [];
  let unknownRelease = false;
  for (const [urn, group] of groups) {
    const kind = KIND.exec(group[0].type)![1];
    const ops = group.map((s) => s.op);
    const op = ops.some((o) => REPLACING.has(o)) ? "replace" : ops[0];
    const news = group.find((s) => s.news && s.op !== "delete" && s.op !== "delete-replaced")?.news;
    let olds = group.find((s) => s.olds)?.olds;
    const creates = op === "create" || op === "replace" || op === "create-replacement";
    const deletes = op === "delete" || op === "replace";
    const held = plans.get(urn);
    if (!olds && deletes && held && (op === "delete" || held.state !== "planned")) {
      // The runner's document has no old state: the store's held reservation says what the resource holds.
      const source = held.kind === "pool" ? byId.get(held.ipamPoolId)?.pool.sourceIpamPoolId : held.ipamPoolId;
      olds = kind === "IpamPool" ? { cidrs: held.cidrs, sourceIpamPoolId: source } : kind === "ElasticIp" ? { publicIp: held.cidrs[0]?.split("/")[0], ipamPoolId: source } : { cidr: held.cidrs[0], ipamPoolId: source };
    }
    const newCidrs = cidrsOf(kind, news);
    const oldCidrs = cidrsOf(kind, olds);
    if (creates && newCidrs) add(sourceOf(kind, news), sizeOf(newCidrs));
    if (deletes) {
      if (oldCidrs) add(sourceOf(kind, olds), -sizeOf(oldCidrs));
      else unknownRelease = true;
    }
    const from = sourceOf(kind, op === "delete" ? olds : news);
    rows.push({
      urn, name: planName(urn), kind, op,
      cidrs: op === "delete" ? oldCidrs : newCidrs,
      pool: from ? poolNames.get(from) ?? from : kind === "IpamPool" ? "(top level)" : undefined,
      note: typeof news?.planNote === "string" && news.planNote ? news.planNote : undefined,
    });
  }
  const touched = new Set<string>([...delta.keys(), ...planned.keys()]);
  const pools: PoolChange[] = [];
  for (const id of touched) {
    const node = byId.get(id);
    const p = planned.get(id);
    const name = poolNames.get(id) ?? id;
    const cidrs = node?.pool.cidrs ?? p?.cidrs ?? [];
    const total = p?.cidrs && !node ? sizeOf(p.cidrs) : node?.usage.total;
    if (total === undefined) continue;
    const before = node ? { allocated: node.usage.allocated, total: node.usage.total } : undefined;
    const base = before?.allocated ?? 0n;
    let allocated = base + (delta.get(id) ?? 0n);
    if (allocated < 0n) allocated = 0n;
    if (allocated > total) allocated = total;
    pools.push({ name, ipamPoolId: id, cidrs, before, after: { allocated, total }, isNew: !node });
  }
  pools.sort((a, b) => a.name.localeCompare(b.name));
  if (unknownRelease) notes.push("Some deleted or replaced resources' old CIDRs are not in this preview nor held in the store: utilization after counts only what is added.");
  if (rows.some((r) => r.op !== "same" && r.op !== "delete" && r.cidrs === undefined)) notes.push("Known after apply: CIDRs that depend on values the preview does not know yet.");
  return { rows, pools, notes };
}

export const report = readCommand("report", {
  summary: "a preview's planned CIDRs as a Markdown table for a pull request comment",
  usage: "report <preview.json | -> [options]",
  description: `Reads the output of 'pulumi-ipam run <dir> preview --json' or 'pulumi preview --json' (a file, or
- for stdin) and prints Markdown: one row per IPAM resource that changes (resource, kind,
change, planned CIDR, pool, plan notes), then each affected pool's utilization now and after
the change. Utilization comes from the configured store (or cloud); when there is no store
(the default one missing), only what the preview itself shows is counted.`,
  flags: {},
  positional: { min: 1, max: 1 },
  connects: "optional",
  async run(p, io) {
    const file = p.args[0];
    if (file !== "-" && !fs.existsSync(file)) throw new IpamError("InvalidParameterValue", `${quote(file)} does not exist; give the file preview --json wrote, or - for stdin.`);
    const steps = parsePreview(fs.readFileSync(file === "-" ? 0 : file, "utf8"), file === "-" ? "stdin" : file);
    const notes: string[] = [];
    let conn: Connection | undefined;
    let inv: Inventory | undefined;
    try {
      const { settings, cwd, explicitStore } = resolveSettings(p.flags);
      if ((settings.backend ?? "local") === "local" && !explicitStore && !fs.existsSync(defaultStorePath(cwd))) {
        notes.push(`No store at ${defaultStorePath(cwd)}: utilization counts only what this preview shows.`);
      } else {
        if (explicitStore) await checkStore(settings.store!);
        conn = await connect(p.flags);
        inv = await gather(conn);
      }
      io.out(renderMarkdown(reportData(steps, inv, notes)));
      return 0;
    } finally {
      await conn?.close();
    }
  },
});
