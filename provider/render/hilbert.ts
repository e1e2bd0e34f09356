/**
 * Where an aligned block lies in a picture of its root CIDR laid out along a
 * Hilbert curve (as ipv4-heatmap draws one pixel per /24): consecutive
 * addresses stay next to each other, and every aligned CIDR is one square
 * (an even number of host bits below the root) or one 2:1 rectangle (odd),
 * never a scattered shape, so each allocation is one region.
 *
 * The root is a unit square when its host bits are even, else two squares
 * side by side (width 1, height 1/2). The curve is self-similar: the cells of
 * an aligned run of 4^k addresses form the square that the order-(n-k)
 * curve gives its index, scaled by 2^k, so a block's square comes from its
 * index among blocks of its size, without visiting its addresses.
 */
import type { Block } from "../core/cidr";

export interface Rect {
  x: number;
  y: number;
  w: number;
  h: number;
}

/**
 * Deepest curve order computed (a 2^24 x 2^24 grid, far finer than any
 * picture); a block below that is placed at the cell holding it.
 */
export const MAX_ORDER = 24;

/** Cell (x, y) of index d on the Hilbert curve of the given order (side 2^order), as in the classic d2xy. */
export function d2xy(order: number, d: number): [number, number] {
  let x = 0, y = 0, t = d;
  for (let s = 1; s < 2 ** order; s *= 2) {
    const rx = Math.floor(t / 2) % 2;
    const ry = (t % 2) ^ rx;
    if (ry === 0) {
      if (rx === 1) { x = s - 1 - x; y = s - 1 - y; }
      [x, y] = [y, x];
    }
    x += s * rx;
    y += s * ry;
    t = Math.floor(t / 4);
  }
  return [x, y];
}

/** The root's shape: 1 x 1, or 1 x 1/2 for an odd number of host bits. */
export function rootShape(bits: number, root: Block): { w: number; h: number } {
  return (bits - root.prefix) % 2 === 0 ? { w: 1, h: 1 } : { w: 1, h: 0.5 };
}

/** The block's rectangle inside its root (both aligned, the block inside the root), in the root's shape's units. */
export function blockRect(bits: number, root: Block, b: Block): Rect {
  let hostBits = bits - root.prefix;
  let offset = b.start - root.start;
  let x0 = 0, side = 1;
  if (hostBits % 2 === 1) {
    // Two squares side by side; the first host bit chooses one.
    side = 0.5;
    hostBits -= 1;
    const right = offset >> BigInt(hostBits);
    if (b.prefix === root.prefix) return { x: 0, y: 0, w: 1, h: 0.5 };
    x0 = Number(right) * 0.5;
    offset -= right << BigInt(hostBits);
  }
  const blockHost = bits - b.prefix;
  const depth = hostBits - blockHost;
  if (depth <= 0) return { x: x0, y: 0, w: side, h: side };
  const index = offset >> BigInt(blockHost);
  if (depth % 2 === 0) return cell(depth / 2, index, x0, side);
  // Odd: the two consecutive (hence adjacent) cells of the next even depth.
  const a = cell((depth + 1) / 2, index * 2n, x0, side);
  const c = cell((depth + 1) / 2, index * 2n + 1n, x0, side);
  const x = Math.min(a.x, c.x), y = Math.min(a.y, c.y);
  return { x, y, w: Math.max(a.x + a.w, c.x + c.w) - x, h: Math.max(a.y + a.h, c.y + c.h) - y };
}

function cell(order: number, index: bigint, x0: number, side: number): Rect {
  let o = order, i = index;
  if (o > MAX_ORDER) {
    i >>= BigInt(2 * (o - MAX_ORDER));
    o = MAX_ORDER;
  }
  const [cx, cy] = d2xy(o, Number(i));
  const size = side / 2 ** o;
  const shrink = order > MAX_ORDER ? size / 2 ** (order - MAX_ORDER) : size;
  return { x: x0 + cx * size, y: cy * size, w: shrink, h: shrink };
}
