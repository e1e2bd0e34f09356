/** `pulumi-ipam usage [--fail-above P]`: utilization per pool, a pipeline's alarm. */
import { formatPercent } from "../render/format";
import { flatten, poolTree } from "../render/inventory";
import { renderUsage } from "../render/tree";
import { numberFlag, readCommand } from "./command";
import { gather } from "./gather";

export const usage = readCommand("usage", {
  summary: "utilization of every pool; with --fail-above P, exits 1 naming the pools above P%",
  usage: "usage [--fail-above PERCENT] [--json] [options]",
  description: `Prints each pool's utilization (allocated / total addresses; a nested pool's CIDRs count as
allocated in its source). With --fail-above, exits 1 and names on stderr every pool whose
utilization is above PERCENT (0 to 100), for a pipeline's alarm; exits 0 when none is.`,
  flags: {
    "fail-above": { type: "string", value: "PERCENT", help: "exit 1 when any pool is above this utilization" },
    json: { type: "boolean", help: "as JSON" },
  },
  positional: { min: 0, max: 0 },
  async run(p, io, conn) {
    const threshold = numberFlag(p.flags["fail-above"], "fail-above", 0, 100);
    const inv = await gather(conn!);
    const nodes = flatten(poolTree(inv));
    const above = threshold === undefined ? [] : nodes.filter((n) => n.usage.percent > threshold);
    if (p.flags.json) {
      io.out(`${JSON.stringify({
        threshold, above: above.map((n) => n.name),
        pools: nodes.map((n) => ({ ipamPoolId: n.pool.ipamPoolId, name: n.name, cidrs: n.pool.cidrs, total: n.usage.total.toString(), allocated: n.usage.allocated.toString(), utilization: n.usage.percent })),
      }, null, 2)}\n`);
    } else io.out(renderUsage(nodes, io.style, threshold));
    if (above.length) {
      io.err(`pools above ${threshold}%: ${above.map((n) => `${n.name} (${formatPercent(n.usage.percent)})`).join(", ")}\n`);
      return 1;
    }
    return 0;
  },
});
