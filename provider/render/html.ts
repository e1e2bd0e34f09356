/**
 * The map as one self-contained HTML file (no network: styles, script and
 * the SVG inline): hover shows an element's tooltip, a click zooms into the
 * pool it belongs to, the breadcrumb and Escape zoom out, the wheel zooms and
 * dragging pans. `#pool=<id or name>` in the URL opens zoomed into a pool.
 */
import { formatCount } from "./format";
import { FREE_COLOR, MapLayout } from "./map";
import { mapGroupChunks, xml } from "./svg";

const STYLE = `
body{margin:0;font:14px "DejaVu Sans",Arial,sans-serif;color:#222;background:#fff;display:flex;flex-direction:column;height:100vh}
header{padding:8px 14px;border-bottom:1px solid #ccc;display:flex;gap:12px;align-items:center;flex-wrap:wrap}
header h1{font-size:17px;margin:0}
#crumbs button,#controls button{font:inherit;border:1px solid #aaa;background:#f6f6f6;border-radius:4px;padding:2px 8px;cursor:pointer}
#crumbs span{margin:0 4px;color:#888}
#wrap{flex:1;display:flex;min-height:0}
#ipam-map{flex:1;min-width:0;height:100%;cursor:zoom-in;user-select:none}
#legend{width:360px;box-sizing:border-box;flex:none;overflow:auto;border-left:1px solid #ccc;padding:10px 14px}
#legend h2{font-size:15px;margin:0 0 8px}
#legend ul{list-style:none;margin:0;padding:0}
#legend li{display:flex;align-items:center;gap:8px;margin:4px 0}
#legend .sw{width:16px;height:16px;flex:none;box-sizing:border-box}
#tip{position:fixed;pointer-events:none;background:rgba(25,25,25,.92);color:#fff;padding:6px 9px;border-radius:4px;white-space:pre;font:12px/1.4 "DejaVu Sans Mono",monospace;z-index:9}
.alloc:hover,.pool-area:hover{opacity:.8}
`;

/** The page's script: plain DOM, no library. */
const SCRIPT = `
(function () {
  var svg = document.getElementById("ipam-map");
  var pools = JSON.parse(document.getElementById("ipam-pools").textContent);
  var home = svg.getAttribute("viewBox").split(" ").map(Number);
  var view = home.slice();
  var current = null;
  var tip = document.getElementById("tip");
  function set(v) { view = v; svg.setAttribute("viewBox", v.map(function (x) { return +x.toFixed(3); }).join(" ")); }
  function byName(q) {
    if (pools[q]) return q;
    for (var id in pools) if (pools[id].name === q) return id;
    return null;
  }
  function crumbs() {
    var el = document.getElementById("crumbs");
    el.textContent = "";
    var path = [];
    for (var id = current; id; id = pools[id] && pools[id].parent) path.unshift(id);
    var all = document.createElement("button");
    all.textContent = "all";
    all.onclick = function () { zoom(null); };
    el.appendChild(all);
    path.forEach(function (id) {
      var s = document.createElement("span"); s.textContent = "\\u203a"; el.appendChild(s);
      var b = document.createElement("button"); b.textContent = pools[id].name; b.dataset.pool = id;
      b.onclick = function () { zoom(id); };
      el.appendChild(b);
    });
  }
  function zoom(id) {
    var p = id && pools[id];
    if (!p) { current = null; set(home.slice()); crumbs(); return; }
    var b = p.box, pad = Math.max(b[2], b[3]) * 0.04;
    current = id;
    set([b[0] - pad, b[1] - pad, b[2] + 2 * pad, b[3] + 2 * pad]);
    crumbs();
  }
  window.ipamZoom = zoom;
  var dragged = false, start = null;
  svg.addEventListener("click", function (e) {
    if (dragged) return;
    var t = e.target.closest("[data-pool]");
    if (t && t.dataset.pool !== current) zoom(t.dataset.pool);
  });
  svg.addEventListener("pointerdown", function (e) { start = [e.clientX, e.clientY, view.slice()]; dragged = false; });
  window.addEventListener("pointerup", function () { start = null; setTimeout(function () { dragged = false; }, 0); });
  svg.addEventListener("pointermove", function (e) {
    if (start) {
      var dx = e.clientX - start[0], dy = e.clientY - start[1];
      if (Math.abs(dx) + Math.abs(dy) > 4) dragged = true;
      if (dragged) {
        var k = view[2] / svg.clientWidth;
        set([start[2][0] - dx * k, start[2][1] - dy * k, view[2], view[3]]);
      }
    }
    var el = e.target.closest("rect");
    var title = el && el.querySelector("title");
    if (title && !dragged) {
      tip.textContent = title.textContent;
      tip.hidden = false;
      tip.style.left = Math.min(e.clientX + 14, window.innerWidth - tip.offsetWidth - 8) + "px";
      tip.style.top = Math.min(e.clientY + 14, window.innerHeight - tip.offsetHeight - 8) + "px";
    } else tip.hidden = true;
  });
  svg.addEventListener("pointerleave", function () { tip.hidden = true; });
  svg.addEventListener("wheel", function (e) {
    e.preventDefault();
    var pt = svg.createSVGPoint(); pt.x = e.clientX; pt.y = e.clientY;
    var p = pt.matrixTransform(svg.getScreenCTM().inverse());
    var f = e.deltaY > 0 ? 1.25 : 0.8;
    set([p.x - (p.x - view[0]) * f, p.y - (p.y - view[1]) * f, view[2] * f, view[3] * f]);
  }, { passive: false });
  window.addEventListener("keydown", function (e) {
    if (e.key === "Escape") zoom(current && pools[current] ? pools[current].parent : null);
  });
  var m = /^#pool=(.+)$/.exec(location.hash);
  if (m) zoom(byName(decodeURIComponent(m[1])));
  else crumbs();
  document.body.setAttribute("data-ready", "1");
})();
`;

/** JSON inside a <script> element: "</" would end it. */
const scriptJson = (v: unknown) => JSON.stringify(v).replace(/</g, "\\u003c");

/** The page, as chunks of text (the map's part is written as it is made). */
export function* renderHtmlChunks(l: MapLayout): Generator<string> {
  const pools = Object.fromEntries(l.pools.map((p) => [p.id, { name: p.name, parent: p.parent ?? null, box: [p.box.x, p.box.y, p.box.w, p.box.h] }]));
  const pad = 20;
  const legend = l.legend.map((e) => {
    const sw = e.kind === "pool" ? `background:${FREE_COLOR};border:3px solid ${e.color}` : `background:${e.color}`;
    const what = e.kind === "pool" ? "nested pool" : `${e.count} allocation${e.count === 1 ? "" : "s"}`;
    return `<li class="legend-entry" data-owner="${xml(e.owner)}" data-kind="${e.kind}" data-color="${e.color}"><span class="sw" style="${sw}"></span><span>${xml(e.owner)}: ${what}, ${formatCount(e.addresses)} addresses</span></li>`;
  });
  yield [
    "<!doctype html>",
    '<html lang="en"><head><meta charset="utf-8">',
    `<title>${xml(`pulumi-ipam map: ${l.title}`)}</title>`,
    `<style>${STYLE}</style>`,
    "</head>",
    '<body data-ready="0">',
    `<header><h1>${xml(l.title)}</h1><span>${l.allocationCount} allocations, ${l.pools.length} pools</span><nav id="crumbs"></nav><span id="controls"><button type="button" onclick="ipamZoom(null)">reset zoom</button></span></header>`,
    '<div id="wrap">',
    `<svg id="ipam-map" xmlns="http://www.w3.org/2000/svg" viewBox="${-pad} ${-pad} ${l.width + 2 * pad} ${l.height + 2 * pad}" preserveAspectRatio="xMidYMid meet" font-family="DejaVu Sans, Arial, sans-serif">`,
    "",
  ].join("\n");
  yield* mapGroupChunks(l);
  yield [
    "</svg>",
    `<aside id="legend"><h2>Legend</h2><ul>${legend.join("")}`,
    ...(l.legendMore > 0 ? [`<li class="legend-entry" data-kind="more"><span>... and ${l.legendMore} more owners (their CIDRs are in the tooltips)</span></li>`] : []),
    `<li class="legend-entry" data-kind="free" data-color="${FREE_COLOR}"><span class="sw" style="background:${FREE_COLOR};border:1px solid #555"></span><span>free</span></li>`,
    '<li class="legend-entry" data-kind="plan"><span class="sw" style="border:2px dashed #333"></span><span>planned, not yet allocated</span></li>',
    "</ul><p>Click a pool to zoom in; Escape or the path above zooms out; the wheel zooms, dragging pans.</p></aside>",
    "</div>",
    '<div id="tip" hidden></div>',
    `<script type="application/json" id="ipam-pools">${scriptJson(pools)}</script>`,
    `<script>${SCRIPT}</script>`,
    "</body></html>",
    "",
  ].join("\n");
}

export function renderHtml(l: MapLayout): string {
  return [...renderHtmlChunks(l)].join("");
}
