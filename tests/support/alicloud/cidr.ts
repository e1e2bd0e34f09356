/**
 * CIDR arithmetic for the Alibaba Cloud contract server. Deliberately small and
 * independent of the product's own allocator: BigInt addresses, linear scans.
 */

export type IpVersion = 4 | 6;

export interface Block {
  v: IpVersion;
  /** First address of the block. */
  base: bigint;
  prefix: number;
}

export const width = (v: IpVersion): number => (v === 4 ? 32 : 128);

export const blockSize = (v: IpVersion, prefix: number): bigint => 1n << BigInt(width(v) - prefix);

export const lastAddress = (b: Block): bigint => b.base + blockSize(b.v, b.prefix) - 1n;

function parseV4(s: string): bigint | null {
  const parts = s.split(".");
  if (parts.length !== 4) return null;
  let n = 0n;
  for (const p of parts) {
    if (!/^(0|[1-9][0-9]{0,2})$/.test(p)) return null;
    const octet = Number(p);
    if (octet > 255) return null;
    n = (n << 8n) | BigInt(octet);
  }
  return n;
}

function parseV6(input: string): bigint | null {
  let s = input;
  if (!/^[0-9a-fA-F:.]+$/.test(s) || s.length < 2) return null;
  if (s.includes(".")) {
    const cut = s.lastIndexOf(":");
    const v4 = parseV4(s.slice(cut + 1));
    if (v4 === null) return null;
    s = `${s.slice(0, cut + 1)}${((v4 >> 16n) & 0xffffn).toString(16)}:${(v4 & 0xffffn).toString(16)}`;
  }
  const halves = s.split("::");
  if (halves.length > 2) return null;
  const head = halves[0] ? halves[0].split(":") : [];
  const tail = halves.length === 2 && halves[1] ? halves[1].split(":") : [];
  let groups: string[];
  if (halves.length === 1) {
    if (head.length !== 8) return null;
    groups = head;
  } else {
    if (head.length + tail.length > 7) return null;
    groups = [...head, ...new Array<string>(8 - head.length - tail.length).fill("0"), ...tail];
  }
  let n = 0n;
  for (const g of groups) {
    if (!/^[0-9a-fA-F]{1,4}$/.test(g)) return null;
    n = (n << 16n) | BigInt(parseInt(g, 16));
  }
  return n;
}

export function parseAddress(s: string): { v: IpVersion; n: bigint } | null {
  if (s.includes(":")) {
    const n = parseV6(s);
    return n === null ? null : { v: 6, n };
  }
  const n = parseV4(s);
  return n === null ? null : { v: 4, n };
}

export function formatAddress(v: IpVersion, n: bigint): string {
  if (v === 4) {
    return [24n, 16n, 8n, 0n].map((shift) => ((n >> shift) & 0xffn).toString()).join(".");
  }
  const groups: number[] = [];
  for (let i = 7; i >= 0; i--) groups.push(Number((n >> BigInt(i * 16)) & 0xffffn));
  // RFC 5952: compress the longest run (first on a tie) of two or more zero groups.
  let bestStart = -1;
  let bestLen = 0;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLen && j - i >= 2) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (bestStart < 0) return hex.join(":");
  return `${hex.slice(0, bestStart).join(":")}::${hex.slice(bestStart + bestLen).join(":")}`;
}

export type CidrParse = { ok: true; block: Block } | { ok: false; reason: string };

/** Parses "a.b.c.d/n" or "x::/n". Host bits must be zero. */
export function parseCidr(s: string): CidrParse {
  const slash = s.indexOf("/");
  if (slash < 0) return { ok: false, reason: "missing prefix length" };
  const addr = parseAddress(s.slice(0, slash));
  if (!addr) return { ok: false, reason: "bad address" };
  const p = s.slice(slash + 1);
  if (!/^(0|[1-9][0-9]{0,2})$/.test(p)) return { ok: false, reason: "bad prefix length" };
  const prefix = Number(p);
  if (prefix > width(addr.v)) return { ok: false, reason: "prefix length out of range" };
  if (addr.n % blockSize(addr.v, prefix) !== 0n) return { ok: false, reason: "host bits set" };
  return { ok: true, block: { v: addr.v, base: addr.n, prefix } };
}

export const formatCidr = (b: Block): string => `${formatAddress(b.v, b.base)}/${b.prefix}`;

export const overlaps = (a: Block, b: Block): boolean =>
  a.v === b.v && a.base <= lastAddress(b) && b.base <= lastAddress(a);

export const contains = (outer: Block, inner: Block): boolean =>
  outer.v === inner.v && outer.base <= inner.base && lastAddress(inner) <= lastAddress(outer);

/**
 * First free, aligned block of `/prefix` inside `sources` (taken in address
 * order) that overlaps none of `used`. Jumps past each collision, so the cost is
 * O(|used|) per collision rather than per candidate.
 */
export function firstFree(sources: Block[], used: Block[], prefix: number): { block: Block; source: Block } | null {
  const sorted = [...sources].sort((a, b) => (a.base < b.base ? -1 : a.base > b.base ? 1 : 0));
  for (const src of sorted) {
    if (prefix < src.prefix || prefix > width(src.v)) continue;
    const size = blockSize(src.v, prefix);
    const end = lastAddress(src);
    let cur = src.base;
    while (cur + size - 1n <= end) {
      const candidate: Block = { v: src.v, base: cur, prefix };
      let blockedUntil = -1n;
      for (const u of used) {
        if (overlaps(candidate, u)) {
          const e = lastAddress(u);
          if (e > blockedUntil) blockedUntil = e;
        }
      }
      if (blockedUntil < 0n) return { block: candidate, source: src };
      cur = ((blockedUntil + 1n + size - 1n) / size) * size;
    }
  }
  return null;
}
