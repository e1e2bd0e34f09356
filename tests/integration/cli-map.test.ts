/**
 * The HTML map in headless Chromium (Debian's package, scripts/install-chromium.sh):
 * the DOM after its script ran (regions, tooltips, legend, zoom into a pool by
 * #pool=) and a screenshot whose pixels are counted per colour: each
 * allocation's colour covers an area in proportion to its addresses, the
 * legend shows every colour, free space is visible, and zooming into a pool
 * enlarges its allocations. IPAM_UPDATE_DOCS=1 keeps the screenshot as docs/map.png (the README's).
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { BACKENDS } from "../support/backends";
import { chromiumMissingReason, chromiumPath, dumpDom, screenshot } from "../support/chromium";
import { Bitmap, ROOT, runCli, Seeded, seedStore } from "../support/cli";
import { countColor, decodePng } from "../support/png";
import { findAll, hasClass, parseXml, textOf } from "../support/xml";

const FREE = "#e9ecef";
const W = 1400, H = 900;
/** The legend column's width (html.ts: 360 px, border included). */
const LEGEND = 360;

const withChromium = chromiumPath() ? describe : describe.skip;
withChromium(`the HTML map in headless Chromium${chromiumPath() ? "" : ` — skipped: ${chromiumMissingReason()}`}`, () => {
  const sqlite = BACKENDS.find((b) => b.name === "sqlite")!;
  let url: string;
  let seeded: Seeded;
  let dir: string;
  let html: string;
  const corpAllocations = ["vpc-a", "vpc-b", "vpc-c", "vpc-w", "dc-1"];

  beforeAll(async () => {
    url = await sqlite.create();
    seeded = await seedStore(url);
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "ipam-chromium-map-"));
    html = path.join(dir, "corp.html");
    const r = runCli(["map", "corp", "-o", html, "--store", url]);
    expect(r.code).toBe(0);
  }, 120_000);
  afterAll(async () => {
    fs.rmSync(dir, { recursive: true, force: true });
    await sqlite.destroy(url);
  });

  test("the DOM after the script ran: one region per allocation with its CIDR in a tooltip, a legend entry per owner, frames for nested pools", () => {
    const root = parseXml(dumpDom(`file://${html}`, W, H), false);
    expect(findAll(root, (e) => e.name === "body")[0].attrs["data-ready"]).toBe("1");
    const allocs = findAll(root, (e) => e.name === "rect" && hasClass(e, "alloc"));
    expect(allocs.map((e) => e.attrs["data-id"]).sort()).toEqual(corpAllocations.map((n) => seeded.allocations[n].id).sort());
    for (const e of allocs) {
      const title = e.children.find((c) => c.name === "title");
      expect(textOf(title!)).toContain(e.attrs["data-cidr"]);
    }
    const legend = findAll(root, (e) => e.name === "li" && hasClass(e, "legend-entry"));
    const owners = new Set(allocs.map((e) => e.attrs["data-owner"]));
    expect(new Set(legend.filter((e) => e.attrs["data-kind"] === "allocation").map((e) => e.attrs["data-owner"]))).toEqual(owners);
    expect(legend.filter((e) => e.attrs["data-kind"] === "pool").map((e) => e.attrs["data-owner"]).sort()).toEqual(["east", "west"]);
    expect(findAll(root, (e) => e.name === "g" && hasClass(e, "pool")).map((e) => e.attrs["data-pool"]).sort()).toEqual([seeded.pools.east.id, seeded.pools.west.id].sort());
    // The breadcrumb the script built.
    expect(findAll(root, (e) => e.name === "nav")[0].children.map((c) => textOf(c))).toEqual(["all"]);
  });

  test("#pool=east opens zoomed into east: the viewBox is east's region, the breadcrumb its path", () => {
    const root = parseXml(dumpDom(`file://${html}#pool=east`, W, H), false);
    const svg = findAll(root, (e) => e.name === "svg" && e.attrs.id === "ipam-map")[0];
    const pools = JSON.parse(textOf(findAll(root, (e) => e.attrs.id === "ipam-pools")[0])) as Record<string, { box: number[] }>;
    const [x, y, w, h] = svg.attrs.viewbox.split(" ").map(Number);
    const [bx, by, bw, bh] = pools[seeded.pools.east.id].box;
    expect(x).toBeLessThanOrEqual(bx);
    expect(y).toBeLessThanOrEqual(by);
    expect(x + w).toBeGreaterThanOrEqual(bx + bw);
    expect(y + h).toBeGreaterThanOrEqual(by + bh);
    expect(w).toBeLessThan(bw * 1.2);
    const nav = findAll(root, (e) => e.name === "nav")[0];
    expect(findAll(nav, (e) => e.name === "button").map(textOf)).toEqual(["all", "corp", "east"]);
  });

  test("the screenshot: each allocation's colour covers an area in proportion to its addresses; the legend shows every colour; free space is visible; zooming into east enlarges its allocations", () => {
    const png = path.join(dir, "corp.png");
    screenshot(`file://${html}`, png, W, H);
    const img = decodePng(fs.readFileSync(png));
    expect([img.width, img.height]).toEqual([W, H]);
    const svg = parseXml(fs.readFileSync(html, "utf8"), false);
    const allocs = findAll(svg, (e) => e.name === "rect" && hasClass(e, "alloc"));
    const map = { x0: 0, y0: 0, x1: W - LEGEND, y1: H };
    const legend = { x0: W - LEGEND + 1, y0: 0, x1: W, y1: H };
    const size = (cidr: string) => 2 ** (32 - Number(cidr.split("/")[1]));
    // Pixels per address from the largest allocation; every other one within 35% of its share (labels cover some).
    const counts = allocs.map((e) => ({ cidr: e.attrs["data-cidr"], color: e.attrs.fill, px: countColor(img, e.attrs.fill, map) }));
    const largest = counts.reduce((a, b) => (size(a.cidr) > size(b.cidr) ? a : b));
    const perAddress = largest.px / size(largest.cidr);
    expect(largest.px).toBeGreaterThan(20_000);
    for (const c of counts) {
      expect(c.px).toBeGreaterThan(size(c.cidr) * perAddress * 0.65);
      expect(c.px).toBeLessThan(size(c.cidr) * perAddress * 1.35);
      expect(countColor(img, c.color, legend)).toBeGreaterThan(150);
    }
    // Free: corp's unallocated /18 and the nested pools' free space, in the map's grey.
    const freeOf = (n: string) => { const b = new Bitmap(seeded.pools[n].cidrs[0], 28, seeded.pools[n].used); return Number(b.total() - b.allocated()); };
    const free = freeOf("corp") + freeOf("east") + freeOf("west");
    expect(countColor(img, FREE, map)).toBeGreaterThan(free * perAddress * 0.8);
    // The README's picture: refreshed on request only, so a test run leaves the checkout as it was.
    if (process.env.IPAM_UPDATE_DOCS === "1") fs.copyFileSync(png, path.join(ROOT, "docs", "map.png"));

    const zoomed = path.join(dir, "east.png");
    screenshot(`file://${html}#pool=east`, zoomed, W, H);
    const zimg = decodePng(fs.readFileSync(zoomed));
    for (const n of ["vpc-a", "vpc-b"]) {
      const c = counts.find((x) => x.cidr === seeded.allocations[n].cidr)!;
      expect(countColor(zimg, c.color, map)).toBeGreaterThan(c.px * 3);
    }
    // West is out of view once zoomed into east.
    const west = counts.find((x) => x.cidr === seeded.allocations["vpc-w"].cidr)!;
    expect(countColor(zimg, west.color, map)).toBeLessThan(west.px * 0.2);
  });
});
