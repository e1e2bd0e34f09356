/** `pulumi-ipam show <cidr|address|id|name>`: what it belongs to. */
import { locate, poolTree } from "../render/inventory";
import { renderShow, renderShowJson } from "../render/show";
import { readCommand } from "./command";
import { gather } from "./gather";
import { NAMES_HELP } from "./pools";

export const show = readCommand("show", {
  summary: "what an address, CIDR, id or resource name belongs to: pool, allocation, resource, tags, plans",
  usage: "show <address|cidr|id|name> [--json] [options]",
  description: `Prints the pools (outermost first) whose CIDRs hold or overlap the address or CIDR, the allocations
overlapping it with their resource, type, description and tags, and the plan reservations
(held, or planned and not yet allocated) that overlap it. Also takes a pool id
(ipam-pool-...), an allocation id (ipam-pool-alloc-...), an Elastic IP's allocation id
(eipalloc-...), a resource name or a URN. Exits 1 when an address or CIDR is in no pool.

${NAMES_HELP}`,
  flags: {
    json: { type: "boolean", help: "as JSON" },
  },
  positional: { min: 1, max: 1 },
  async run(p, io, conn) {
    const inv = await gather(conn!);
    const found = locate(poolTree(inv), inv.plans, p.args[0]);
    io.out(p.flags.json ? renderShowJson(found) : renderShow(found, io.style, inv.now));
    return found.block && !found.pools.length && !found.plans.length ? 1 : 0;
  },
});
