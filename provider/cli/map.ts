/** `pulumi-ipam map [<pool>] -o file.svg|file.html`: a picture of the address space. */
import * as fs from "node:fs";
import * as path from "node:path";
import { IpamError } from "../core/errors";
import { renderHtmlChunks } from "../render/html";
import { findPool, poolTree } from "../render/inventory";
import { layoutMap } from "../render/map";
import { renderSvgChunks } from "../render/svg";
import { readCommand } from "./command";
import { gather } from "./gather";
import { NAMES_HELP } from "./pools";
import { progress } from "./progress";

export const map = readCommand("map", {
  summary: "a picture of a pool's address space (Hilbert curve), as SVG or one self-contained HTML file",
  usage: "map [<pool>] -o FILE.svg|FILE.html [options]",
  description: `Draws each CIDR of the pool (default: every top-level pool) as a panel whose addresses run along
a Hilbert curve, so consecutive addresses stay together and every allocation is one square or
2:1 rectangle: one colour per allocation owner (its owner tag, else its resource name), nested
pools as framed regions holding their own allocations, free space grey, live plans dashed, a
legend, and each allocation's CIDR, resource and tags in its tooltip. The HTML file needs no
network; click a pool to zoom into it, Escape zooms out; open it at #pool=<name> to start zoomed.

${NAMES_HELP}`,
  flags: {
    output: { type: "string", short: "o", value: "FILE", help: "where to write: .svg or .html (required)" },
  },
  positional: { min: 0, max: 1 },
  async run(p, io, conn) {
    const file = p.flags.output;
    if (typeof file !== "string") throw new IpamError("InvalidParameterValue", "give the output file with -o FILE.svg or -o FILE.html; run 'pulumi-ipam map --help'.");
    const ext = path.extname(file).toLowerCase();
    if (ext !== ".svg" && ext !== ".html" && ext !== ".htm") throw new IpamError("InvalidParameterValue", `-o ${JSON.stringify(file)}: the file must end in .svg or .html.`);
    const dir = path.dirname(path.resolve(file));
    if (!fs.existsSync(dir)) throw new IpamError("InvalidParameterValue", `-o ${JSON.stringify(file)}: the directory ${dir} does not exist.`);
    const inv = await gather(conn!);
    const roots = poolTree(inv);
    const nodes = p.args.length ? [findPool(roots, p.args[0], conn!.stack)] : roots;
    if (!nodes.length) throw new IpamError("InvalidIpamPoolId.NotFound", "the store holds no pools to draw.");
    const bar = progress("laying out the map");
    const layout = layoutMap(nodes, { onProgress: (done, total) => bar.update(done, total, "allocations") });
    bar.end();
    // Written as it is rendered: a map of 100k allocations is tens of MB of text.
    const fd = fs.openSync(file, "w");
    try {
      for (const chunk of ext === ".svg" ? renderSvgChunks(layout) : renderHtmlChunks(layout)) fs.writeSync(fd, chunk);
    } finally {
      fs.closeSync(fd);
    }
    io.err(`wrote ${file}: ${layout.allocationCount} allocations in ${layout.pools.length} pools\n`);
    return 0;
  },
});
