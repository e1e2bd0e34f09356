/** `pulumi-ipam pools`: the pool tree with utilization. */
import { poolTree } from "../render/inventory";
import { renderPools, renderPoolsJson } from "../render/tree";
import { numberFlag, readCommand } from "./command";
import { gather } from "./gather";

export const NAMES_HELP = `A pool is named by its id, its Pulumi resource name (the store's plan reservations are keyed by
each resource's URN, urn:pulumi:<stack>::<project>::...:IpamPool::<name>, and hold the pool's id), its
URN, or one of its CIDRs. A name two stacks use resolves in --stack's first, else give the URN.`;

export const pools = readCommand("pools", {
  summary: "the pool tree (pool, nested pools, allocations) with CIDRs, locale, rules and utilization",
  usage: "pools [--json] [--all | --limit N] [options]",
  description: `Prints every pool as a tree: pool, its nested pools, its allocations (and live plans not yet
allocated), each pool line with its CIDRs, locale, netmask rules, a utilization bar, and
allocated / total addresses. Colours on a terminal only; --json prints the tree as JSON.

${NAMES_HELP}`,
  flags: {
    json: { type: "boolean", help: "the tree as JSON (every allocation, numbers as decimal strings)" },
    all: { type: "boolean", help: "list every allocation (default: the first 50 of each pool)" },
    limit: { type: "string", value: "N", help: "allocations listed per pool (default 50)" },
  },
  positional: { min: 0, max: 0 },
  async run(p, io, conn) {
    const limit = p.flags.all ? Infinity : numberFlag(p.flags.limit, "limit", 0, 1e9) ?? 50;
    const inv = await gather(conn!);
    const roots = poolTree(inv);
    io.out(p.flags.json ? renderPoolsJson(roots, inv) : renderPools(roots, { style: io.style, limit, now: inv.now }));
    return 0;
  },
});
