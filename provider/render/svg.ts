/** The map as SVG: the panels, one element per allocation with its tooltip (<title>), and a legend. */
import { formatCount } from "./format";
import { FREE_COLOR, labelOf, MapLayout, PANEL, Shape, tipOf } from "./map";

/** Text for XML content and attribute values; control characters (not allowed in XML 1.0) shown escaped. */
export function xml(s: string): string {
  return s
    .replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`)
    .replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;").replace(/'/g, "&#39;");
}

const n = (v: number) => String(Math.round(v * 1000) / 1000);

/** Dark text on light fills, white on dark ones. */
function ink(hex: string): string {
  const v = parseInt(hex.slice(1), 16);
  const lum = 0.2126 * ((v >> 16) & 255) + 0.7152 * ((v >> 8) & 255) + 0.0722 * (v & 255);
  return lum > 150 ? "#1b1b1b" : "#ffffff";
}

/**
 * A label in the shape's top left corner (a pool's: in its label box, with a halo), sized to fit;
 * none when the shape is too small to hold one.
 */
function label(s: Shape, color: string): string {
  const b = s.labelBox ?? s;
  if (b.w < 60 || b.h < 14) return "";
  const text = labelOf(s);
  if (!text) return "";
  const size = Math.max(6, Math.min(b.h * 0.32, (b.w * 1.6) / Math.max(8, text.length), 22));
  const halo = s.labelBox ? ' stroke="#ffffff" stroke-width="3" paint-order="stroke"' : "";
  return `\n<text class="label" x="${n(b.x + size * 0.4)}" y="${n(b.y + size * 1.15)}" font-size="${n(size)}" fill="${color}"${halo} pointer-events="none">${xml(text)}</text>`;
}

const tip = (s: Shape) => `<title>${xml(tipOf(s))}</title>`;

/**
 * The <g id="map"> element: panels, pools, allocations and plans, in drawing order, as chunks of
 * text (a map of 100k allocations is tens of MB: written as it is made, never held whole).
 */
export function* mapGroupChunks(l: MapLayout): Generator<string> {
  yield '<g id="map">\n';
  for (const p of l.panels) {
    yield `<text class="panel-title" x="${n(p.x)}" y="${n(p.y - 14)}" font-size="22" font-weight="bold" fill="#222">${xml(p.title)}</text>\n`;
    yield `<rect class="panel" data-pool="${xml(p.poolId)}" x="${n(p.x)}" y="${n(p.y)}" width="${n(p.w)}" height="${n(p.h)}" fill="${FREE_COLOR}" stroke="#555" stroke-width="1"/>\n`;
  }
  let chunk = "";
  for (const e of l.events()) {
    if ("close" in e) {
      const s = e.close;
      chunk += `<rect class="pool-frame" x="${n(s.x)}" y="${n(s.y)}" width="${n(s.w)}" height="${n(s.h)}" fill="none" stroke="${s.color}" stroke-width="3" vector-effect="non-scaling-stroke" pointer-events="none"/>${label(s, "#222")}\n</g>\n`;
      continue;
    }
    const s = "open" in e ? e.open : e.shape;
    const box = `x="${n(s.x)}" y="${n(s.y)}" width="${n(s.w)}" height="${n(s.h)}"`;
    if (s.kind === "pool") {
      chunk += `<g class="pool" data-pool="${xml(s.id)}" data-cidr="${xml(s.cidr)}" data-owner="${xml(s.owner)}">\n<rect class="pool-area" data-pool="${xml(s.id)}" ${box} fill="${FREE_COLOR}">${tip(s)}</rect>\n`;
    } else if (s.kind === "allocation") {
      chunk += `<rect class="alloc" data-id="${xml(s.id)}" data-cidr="${xml(s.cidr)}" data-pool="${xml(s.poolId)}" data-owner="${xml(s.owner)}" ${box} fill="${s.color}" stroke="#ffffff" stroke-width="0.5" vector-effect="non-scaling-stroke">${tip(s)}</rect>${label(s, ink(s.color))}\n`;
    } else {
      chunk += `<rect class="plan" data-id="${xml(s.id)}" data-cidr="${xml(s.cidr)}" data-pool="${xml(s.poolId)}" ${box} fill="none" stroke="${s.color}" stroke-width="2" stroke-dasharray="6 4" vector-effect="non-scaling-stroke">${tip(s)}</rect>\n`;
    }
    if (chunk.length > 1 << 16) { yield chunk; chunk = ""; }
  }
  yield `${chunk}</g>\n`;
}

export function mapGroup(l: MapLayout): string {
  return [...mapGroupChunks(l)].join("");
}

/** Legend rows: owners with their colour, count and addresses (the first LEGEND_MAX), then free space and plans. */
export function legendGroup(l: MapLayout, x: number, y: number): { svg: string; height: number } {
  const out: string[] = [`<g id="legend" transform="translate(${n(x)},${n(y)})">`, '<text x="0" y="0" font-size="20" font-weight="bold" fill="#222">Legend</text>'];
  let row = 1;
  const line = (swatch: string, text: string, attrs: string) => {
    const ty = row * 28;
    out.push(`<g class="legend-entry" ${attrs}>${swatch.replace(/Y/g, n(ty - 15))}<text x="30" y="${n(ty)}" font-size="15" fill="#222">${xml(text)}</text></g>`);
    row++;
  };
  for (const e of l.legend) {
    const swatch = e.kind === "pool"
      ? `<rect x="0" y="Y" width="20" height="20" fill="${FREE_COLOR}" stroke="${e.color}" stroke-width="3"/>`
      : `<rect x="0" y="Y" width="20" height="20" fill="${e.color}"/>`;
    const what = e.kind === "pool" ? "nested pool" : `${e.count} allocation${e.count === 1 ? "" : "s"}`;
    line(swatch, `${e.owner}: ${what}, ${formatCount(e.addresses)} addresses`, `data-owner="${xml(e.owner)}" data-kind="${e.kind}" data-color="${e.color}"`);
  }
  if (l.legendMore > 0) line("", `... and ${l.legendMore} more owners`, 'data-kind="more"');
  line(`<rect x="0" y="Y" width="20" height="20" fill="${FREE_COLOR}" stroke="#555" stroke-width="1"/>`, "free", `data-kind="free" data-color="${FREE_COLOR}"`);
  line('<rect x="1" y="Y" width="18" height="18" fill="none" stroke="#333" stroke-width="2" stroke-dasharray="4 3"/>', "planned, not yet allocated", 'data-kind="plan"');
  out.push("</g>");
  return { svg: out.join("\n"), height: row * 28 };
}

export const LEGEND_WIDTH = 520;

/** A standalone SVG file of the map with its legend on the right, as chunks of text. */
export function* renderSvgChunks(l: MapLayout): Generator<string> {
  const legend = legendGroup(l, l.width + 50, 40);
  const w = l.width + 50 + LEGEND_WIDTH, h = Math.max(l.height + 30, legend.height + 60, PANEL / 2);
  yield `<svg xmlns="http://www.w3.org/2000/svg" viewBox="-20 0 ${n(w + 20)} ${n(h)}" width="${n(w + 20)}" height="${n(h)}" font-family="DejaVu Sans, Arial, sans-serif">\n`;
  yield `<title>${xml(`pulumi-ipam map: ${l.title}`)}</title>\n<rect x="-20" width="${n(w + 20)}" height="${n(h)}" fill="#ffffff"/>\n`;
  yield* mapGroupChunks(l);
  yield `${legend.svg}\n</svg>\n`;
}

/** A standalone SVG file of the map with its legend on the right. */
export function renderSvg(l: MapLayout): string {
  return [...renderSvgChunks(l)].join("");
}
