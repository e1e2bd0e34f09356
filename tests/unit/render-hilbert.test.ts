/**
 * The map's Hilbert layout (provider/render/hilbert.ts) against brute force:
 * every address of a block, placed one by one on the full curve, lies in the
 * block's rectangle; a partition of the root tiles it exactly; consecutive
 * blocks touch.
 */
import { blockRect, d2xy, Rect, rootShape } from "../../provider/render/hilbert";

const bits = 32;
const root = (prefix: number) => ({ start: 10n << 24n, prefix });

/** Where one address falls, by the curve's definition: odd host bits are two squares side by side. */
function cellOf(hostBits: number, offset: number): { x: number; y: number; side: number } {
  if (hostBits % 2 === 0) {
    const order = hostBits / 2;
    const [x, y] = d2xy(order, offset);
    return { x: x / 2 ** order, y: y / 2 ** order, side: 1 / 2 ** order };
  }
  const order = (hostBits - 1) / 2;
  const half = 2 ** (hostBits - 1);
  const [x, y] = d2xy(order, offset % half);
  const side = 0.5 / 2 ** order;
  return { x: (offset >= half ? 0.5 : 0) + x * side, y: y * side, side };
}

const inside = (r: Rect, c: { x: number; y: number; side: number }) =>
  c.x >= r.x - 1e-12 && c.y >= r.y - 1e-12 && c.x + c.side <= r.x + r.w + 1e-12 && c.y + c.side <= r.y + r.h + 1e-12;

const overlap = (a: Rect, b: Rect) => a.x < b.x + b.w - 1e-12 && b.x < a.x + a.w - 1e-12 && a.y < b.y + b.h - 1e-12 && b.y < a.y + a.h - 1e-12;

describe("d2xy", () => {
  test.each([1, 2, 3, 4, 5])("order %i: a bijection onto the grid whose consecutive cells are neighbours", (order) => {
    const side = 2 ** order;
    const seen = new Set<string>();
    let prev: [number, number] | undefined;
    for (let d = 0; d < side * side; d++) {
      const [x, y] = d2xy(order, d);
      expect(x >= 0 && y >= 0 && x < side && y < side).toBe(true);
      seen.add(`${x},${y}`);
      if (prev) expect(Math.abs(prev[0] - x) + Math.abs(prev[1] - y)).toBe(1);
      prev = [x, y];
    }
    expect(seen.size).toBe(side * side);
  });
});

describe("blockRect", () => {
  test.each([20, 21, 22, 23])("root /%i: every aligned block's rectangle holds exactly its addresses' cells, with the area of its share", (rootPrefix) => {
    const hostBits = bits - rootPrefix;
    const total = 2 ** hostBits;
    const shape = rootShape(bits, root(rootPrefix));
    expect(shape).toEqual(hostBits % 2 ? { w: 1, h: 0.5 } : { w: 1, h: 1 });
    const area = shape.w * shape.h;
    for (let prefix = rootPrefix; prefix <= Math.min(32, rootPrefix + 8); prefix++) {
      const size = 2 ** (bits - prefix);
      for (let off = 0; off < total; off += size * Math.max(1, Math.floor(total / size / 64))) {
        const r = blockRect(bits, root(rootPrefix), { start: root(rootPrefix).start + BigInt(off), prefix });
        expect(r.w * r.h).toBeCloseTo((area * size) / total, 12);
        // Every address of the block is inside; a few outside it are not.
        for (let a = off; a < off + size; a += Math.max(1, size >> 6)) expect(inside(r, cellOf(hostBits, a))).toBe(true);
        for (const a of [off - 1, off + size]) if (a >= 0 && a < total && size < total / 2) expect(overlap(r, { ...cellOf(hostBits, a), w: cellOf(hostBits, a).side, h: cellOf(hostBits, a).side })).toBe(false);
        // A square for an even depth, two squares for an odd one.
        const depth = prefix - rootPrefix;
        if (hostBits % 2 === 0) expect(Math.max(r.w, r.h) / Math.min(r.w, r.h)).toBeCloseTo(depth % 2 ? 2 : 1, 9);
      }
    }
  });

  test("a partition of a /16 into mixed sizes tiles it: no overlaps, areas adding up to the whole; consecutive /24s touch", () => {
    const r16 = { start: 10n << 24n, prefix: 16 };
    const parts: { start: bigint; prefix: number }[] = [];
    let at = r16.start;
    const sizes = [18, 20, 20, 19, 22, 22, 21, 24, 24, 23, 20];
    for (const p of sizes) {
      const size = 1n << BigInt(32 - p);
      at = ((at + size - 1n) / size) * size;
      parts.push({ start: at, prefix: p });
      at += size;
    }
    const end = r16.start + (1n << 16n);
    expect(at <= end).toBe(true);
    const rects = parts.map((b) => blockRect(bits, r16, b));
    for (let i = 0; i < rects.length; i++) for (let j = i + 1; j < rects.length; j++) expect(overlap(rects[i], rects[j])).toBe(false);
    const used = parts.reduce((s, b) => s + 2 ** (32 - b.prefix), 0);
    expect(rects.reduce((s, r) => s + r.w * r.h, 0)).toBeCloseTo(used / 2 ** 16, 12);
    let prev: Rect | undefined;
    for (let i = 0; i < 256; i++) {
      const r = blockRect(bits, r16, { start: r16.start + BigInt(i * 256), prefix: 24 });
      if (prev) {
        const touchX = Math.abs(prev.x + prev.w - r.x) < 1e-12 || Math.abs(r.x + r.w - prev.x) < 1e-12;
        const touchY = Math.abs(prev.y + prev.h - r.y) < 1e-12 || Math.abs(r.y + r.h - prev.y) < 1e-12;
        expect(touchX || touchY).toBe(true);
      }
      prev = r;
    }
  });

  test("IPv6: a /64 deep inside a /32 still gets a (tiny) place inside the /48 holding it", () => {
    const r32 = { start: 0x20010db8n << 96n, prefix: 32 };
    const b48 = { start: r32.start + (0x1234n << 80n), prefix: 48 };
    const b64 = { start: b48.start + (0xabcdn << 64n), prefix: 64 };
    const outer = blockRect(128, r32, b48);
    const inner = blockRect(128, r32, b64);
    expect(inner.w * inner.h).toBeCloseTo(2 ** -32, 20);
    expect(inner.x >= outer.x && inner.y >= outer.y && inner.x + inner.w <= outer.x + outer.w + 1e-15 && inner.y + inner.h <= outer.y + outer.h + 1e-15).toBe(true);
    // Deeper than the curve's last order (a /128 in ::/0): inside the cell holding it, smaller than it.
    const host = blockRect(128, { start: 0n, prefix: 0 }, { start: (1n << 127n) + 12345n, prefix: 128 });
    expect(host.w).toBeGreaterThan(0);
    expect(host.x + host.w).toBeLessThanOrEqual(1);
  });
});
