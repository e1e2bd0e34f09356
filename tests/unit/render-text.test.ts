/**
 * The text renderers: colours only when asked for, hostile names (control
 * characters, markup, pipes) never reaching a terminal, an SVG or a
 * Markdown table raw, and the count and bar formats.
 */
import type { PoolInfo } from "../../provider/core/types";
import { bar, formatCount, PLAIN, Style } from "../../provider/render/format";
import { renderHtml } from "../../provider/render/html";
import { Inventory, poolTree } from "../../provider/render/inventory";
import { layoutMap } from "../../provider/render/map";
import { renderMarkdown } from "../../provider/render/markdown";
import { renderSvg } from "../../provider/render/svg";
import { renderPools } from "../../provider/render/tree";
import { findAll, hasClass, parseXml, textOf } from "../support/xml";

const COLOR: Style = { color: true, unicode: true };
const EVIL = "evil\u001b[31m</title><script>alert(1)</script>|x\n";

function inventory(): Inventory {
  const base: PoolInfo = { ipamPoolId: "ipam-pool-aaaaaaaaaaaaaaaaa", addressFamily: "ipv4", poolDepth: 1, tags: { Name: EVIL }, allocationResourceTags: {}, allocationStrategy: "first-fit", cidrs: ["10.0.0.0/16"], allocationMinNetmaskLength: 16, allocationMaxNetmaskLength: 28 };
  return {
    backend: "local", now: 0, plans: [], pools: [base],
    allocations: { [base.ipamPoolId]: [{ ipamPoolAllocationId: "ipam-pool-alloc-1", ipamPoolId: base.ipamPoolId, cidr: "10.0.0.0/18", resourceType: "custom", description: EVIL, resourceId: "r&d" }] },
  };
}

describe("formats", () => {
  test("counts: separators, then units, then powers of two", () => {
    expect(formatCount(65536n)).toBe("65,536");
    expect(formatCount(16777216n)).toBe("16.8M");
    expect(formatCount(4294967296n)).toBe("4.29G");
    expect(formatCount(1n << 80n)).toBe("2^80");
    expect(formatCount((1n << 80n) + (1n << 79n))).toBe("~2^80.6");
  });

  test("bars: width kept; a little use shows; plain bars are ASCII", () => {
    expect(bar(PLAIN, 0)).toBe(`[${".".repeat(20)}]`);
    expect(bar(PLAIN, 0.01)).toBe(`[#${".".repeat(19)}]`);
    expect(bar(PLAIN, 99.9)).toBe(`[${"#".repeat(19)}.]`);
    expect(bar(PLAIN, 100)).toBe(`[${"#".repeat(20)}]`);
    expect(bar(COLOR, 95)).toBe(`[\u001b[31m${"█".repeat(19)}\u001b[0m░]`);
  });
});

describe("the pool tree as text", () => {
  test("plain: no escape sequence at all, a name's control characters shown escaped; with colour: ANSI only where the renderer puts it", () => {
    const roots = poolTree(inventory());
    const plain = renderPools(roots, { style: PLAIN, limit: 50, now: 0 });
    expect(plain).not.toMatch(/\u001b/);
    expect(plain).toContain("evil\\u001b[31m");
    expect(plain).toContain("/16-/28");
    const coloured = renderPools(roots, { style: COLOR, limit: 50, now: 0 });
    expect(coloured).toMatch(/\u001b\[1mevil\\u001b\[31m/);
    // Every escape is one of ours: SGR codes 0, 1, 2, 3x.
    for (const m of coloured.match(/\u001b\[[0-9;]*m/g)!) expect(m).toMatch(/^\u001b\[(0|1|2|3[0-9])m$/);
  });
});

describe("the map's files", () => {
  test("SVG: well-formed with a hostile name and description; the text is escaped, not markup", () => {
    const svg = renderSvg(layoutMap(poolTree(inventory())));
    const root = parseXml(svg);
    expect(findAll(root, (e) => e.name === "script")).toEqual([]);
    const alloc = findAll(root, (e) => hasClass(e, "alloc"))[0];
    expect(textOf(alloc.children.find((c) => c.name === "title")!)).toContain("</title><script>alert(1)</script>");
    expect(svg).not.toMatch(/\u001b/);
  });

  test("HTML: one document with no external reference; the pools' JSON cannot end its script element", () => {
    const html = renderHtml(layoutMap(poolTree(inventory())));
    expect(html.replace(/xmlns="http:\/\/www\.w3\.org\/2000\/svg"/g, "")).not.toMatch(/https?:|src=|<link/);
    expect(html.match(/<script/g)).toHaveLength(2);
    const json = /<script type="application\/json" id="ipam-pools">(.*?)<\/script>/s.exec(html)![1];
    expect(json).not.toContain("</");
    expect(Object.values(JSON.parse(json) as Record<string, { name: string }>)[0].name).toBe(EVIL);
  });
});

describe("the Markdown report", () => {
  test("cells escape pipes, newlines and HTML; unknown CIDRs say so; counts in the heading", () => {
    const md = renderMarkdown({
      rows: [
        { urn: "u1", name: "a|b", kind: "IpamPoolAllocation", op: "create", cidrs: ["10.0.0.0/24"], pool: "p<1>", note: "line1\nline2 | x" },
        { urn: "u2", name: "c", kind: "IpamPool", op: "create", cidrs: undefined },
        { urn: "u3", name: "d", kind: "IpamPool", op: "same", cidrs: ["10.1.0.0/16"] },
      ],
      pools: [{ name: "p<1>", ipamPoolId: "ipam-pool-x", cidrs: ["10.0.0.0/16"], before: { allocated: 0n, total: 65536n }, after: { allocated: 256n, total: 65536n }, isNew: false }],
      notes: [],
    });
    const lines = md.split("\n");
    expect(lines[0]).toBe("### pulumi-ipam: 2 to create");
    const row = lines.find((l) => l.startsWith("| `a\\|b`"))!;
    expect(row.split(/(?<!\\)\|/).length - 2).toBe(6);
    expect(row).toContain("p&lt;1&gt;");
    expect(row).toContain("line1 line2 \\| x");
    expect(md).toContain("| `c` | IpamPool | create | _known after apply_ |");
    expect(md).not.toContain("`d`");
    expect(md).toContain("| 0.0% (0 / 65,536) | 0.4% (256 / 65,536) +256 |");
  });
});
