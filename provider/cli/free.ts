/** `pulumi-ipam free <pool>`: free blocks and how many /N fit. */
import { IpamError } from "../core/errors";
import { defaultLengths, freeData, renderFree, renderFreeJson } from "../render/free";
import { findPool, poolTree } from "../render/inventory";
import { readCommand } from "./command";
import { gather } from "./gather";
import { NAMES_HELP } from "./pools";

export const free = readCommand("free", {
  summary: "a pool's free blocks, and how many /N still fit for each N",
  usage: "free <pool> [--length N[,N...]] [--json] [options]",
  description: `Prints the pool's free space as maximal aligned blocks, then for each netmask length N how many
aligned /N fit in it ("can I still get a /20 here?"), and, when live plans of other resources
hold space in the pool, how many fit outside them. Lengths outside the pool's netmask rules are
marked. A nested pool's space is free in its source only until the nested pool holds it.

${NAMES_HELP}`,
  flags: {
    length: { type: "string", value: "N,...", help: "the lengths to count (default: from the largest free block on, up to 12, and the default length)" },
    json: { type: "boolean", help: "as JSON (counts as decimal strings)" },
    all: { type: "boolean", help: "list every free block (default: the first 100)" },
  },
  positional: { min: 1, max: 1 },
  async run(p, io, conn) {
    const inv = await gather(conn!);
    const node = findPool(poolTree(inv), p.args[0], conn!.stack);
    let lengths = defaultLengths(node);
    if (typeof p.flags.length === "string") {
      lengths = p.flags.length.split(",").map((s) => {
        const n = /^\/?\d{1,3}$/.test(s.trim()) ? Number(s.trim().replace("/", "")) : NaN;
        if (!(n >= 0 && n <= node.bits)) throw new IpamError("IllegalParam.CidrMask", `--length ${JSON.stringify(s)} is not a netmask length of ${node.family} (0 to ${node.bits}).`);
        return n;
      });
    }
    const d = freeData(node, lengths);
    io.out(p.flags.json ? renderFreeJson(d) : renderFree(d, io.style, p.flags.all ? Infinity : 100));
    return 0;
  },
});
