/**
 * CIDR values as integers. Parsing and validation go through ip-num at the
 * edge; everything after that works on bigint. Formatting is written here
 * because ip-num's takes 3-12 µs per address (measured), which dominated the
 * allocation hot path, and its IPv6 output is not RFC 5952 on its own.
 */
import { IPv4, IPv6, Validator } from "ip-num";
import { IpamError } from "./errors";

export type AddressFamily = "ipv4" | "ipv6";

export interface Block {
  /** First address of the block; its low (bits - prefix) bits are zero. */
  readonly start: bigint;
  readonly prefix: number;
}

export function familyBits(family: AddressFamily): number {
  return family === "ipv4" ? 32 : 128;
}

export function blockSize(bits: number, prefix: number): bigint {
  return 1n << BigInt(bits - prefix);
}

export function blockEnd(bits: number, b: Block): bigint {
  return b.start + blockSize(bits, b.prefix) - 1n;
}

export function contains(bits: number, outer: Block, inner: Block): boolean {
  return outer.prefix <= inner.prefix && inner.start >= outer.start && blockEnd(bits, inner) <= blockEnd(bits, outer);
}

export function overlaps(bits: number, a: Block, b: Block): boolean {
  return a.start <= blockEnd(bits, b) && b.start <= blockEnd(bits, a);
}

/** The aligned block of `prefix` that holds `address`. */
export function enclosing(bits: number, address: bigint, prefix: number): bigint {
  const host = BigInt(bits - prefix);
  return (address >> host) << host;
}

export function familyOf(text: string): AddressFamily {
  return text.includes(":") ? "ipv6" : "ipv4";
}

/** Parses an address (no mask) of the given family; IllegalParam.Cidr otherwise. */
export function parseAddress(family: AddressFamily, text: string, what = "address"): bigint {
  // ip-num accepts an IPv6 zone ("fe80::1%eth0"), which names an interface, not part of an address plan.
  const valid = typeof text === "string" && !text.includes("%")
    && (family === "ipv4" ? Validator.isValidIPv4String(text)[0] : Validator.isValidIPv6String(text)[0]);
  if (!valid) {
    throw new IpamError("IllegalParam.Cidr", `${what} "${text}" is not a valid ${family} address; give it as ${family === "ipv4" ? "10.0.0.1" : "2001:db8::1"}.`);
  }
  return family === "ipv4" ? IPv4.fromString(text).getValue() : IPv6.fromString(text).getValue();
}

/**
 * Parses "address/prefix" of the given family and requires it to be aligned
 * (host bits zero). Any failure is IllegalParam.Cidr naming what to change.
 */
export function parseCidr(family: AddressFamily, text: unknown, what = "cidr"): Block {
  // Exactly one "/": "10.0.0.0/8/8" is no CIDR, though its first two parts would read as one.
  if (typeof text !== "string" || text.split("/").length !== 2) {
    throw new IpamError("IllegalParam.Cidr", `${what} ${JSON.stringify(text)} is not a CIDR; give it as address/prefix, for example ${family === "ipv4" ? "10.0.0.0/16" : "2001:db8::/48"}.`);
  }
  if (familyOf(text) !== family) {
    throw new IpamError("IllegalParam.Cidr", `${what} "${text}" is not an ${family} CIDR; this pool's addressFamily is ${family}.`);
  }
  const [addr, p] = text.split("/");
  const bits = familyBits(family);
  // No leading zeros: "/08" reads as 8 here but as octal or an error elsewhere.
  if (!/^(0|[1-9]\d{0,2})$/.test(p) || Number(p) > bits) {
    throw new IpamError("IllegalParam.Cidr", `${what} "${text}" has prefix "/${p}"; an ${family} prefix is 0 to ${bits}.`);
  }
  const start = parseAddress(family, addr, what);
  const prefix = Number(p);
  const aligned = enclosing(bits, start, prefix);
  if (aligned !== start) {
    throw new IpamError("IllegalParam.Cidr", `${what} "${text}" has host bits set; the aligned CIDR is ${formatCidr(family, { start: aligned, prefix })}.`);
  }
  return { start, prefix };
}

export function formatAddress(family: AddressFamily, value: bigint): string {
  if (family === "ipv4") {
    const n = Number(value);
    return `${n >>> 24}.${(n >>> 16) & 255}.${(n >>> 8) & 255}.${n & 255}`;
  }
  const groups: number[] = [];
  for (let i = 7; i >= 0; i--) groups.push(Number((value >> BigInt(i * 16)) & 0xffffn));
  // RFC 5952: compress the longest run (first if tied) of two or more zero groups.
  let best = -1, bestLen = 1, run = -1;
  for (let i = 0; i <= 8; i++) {
    if (i < 8 && groups[i] === 0) {
      if (run < 0) run = i;
    } else if (run >= 0) {
      if (i - run > bestLen) { best = run; bestLen = i - run; }
      run = -1;
    }
  }
  const hex = groups.map((g) => g.toString(16));
  if (best < 0) return hex.join(":");
  return `${hex.slice(0, best).join(":")}::${hex.slice(best + bestLen).join(":")}`;
}

export function formatCidr(family: AddressFamily, b: Block): string {
  return `${formatAddress(family, b.start)}/${b.prefix}`;
}

/**
 * Splits the inclusive range [from, to] into the fewest aligned blocks, in
 * ascending order. Any aligned block inside the range lies inside one of them.
 */
export function rangeToBlocks(bits: number, from: bigint, to: bigint): Block[] {
  const out: Block[] = [];
  let cur = from;
  while (cur <= to) {
    let prefix = bits;
    while (prefix > 0) {
      const p = prefix - 1;
      if (enclosing(bits, cur, p) !== cur || cur + blockSize(bits, p) - 1n > to) break;
      prefix = p;
    }
    out.push({ start: cur, prefix });
    cur += blockSize(bits, prefix);
  }
  return out;
}

/** Inclusive ranges, sorted and merged. */
export type Range = readonly [bigint, bigint];

export function normalizeRanges(ranges: Range[]): Range[] {
  const sorted = [...ranges].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  const out: [bigint, bigint][] = [];
  for (const [f, t] of sorted) {
    const last = out[out.length - 1];
    if (last && f <= last[1] + 1n) last[1] = t > last[1] ? t : last[1];
    else out.push([f, t]);
  }
  return out;
}

export function intersectRanges(a: Range[], b: Range[]): Range[] {
  const out: Range[] = [];
  for (const [af, at] of a) for (const [bf, bt] of b) {
    const f = af > bf ? af : bf, t = at < bt ? at : bt;
    if (f <= t) out.push([f, t]);
  }
  return normalizeRanges(out);
}

/** a minus every range of `minus`, in one sweep over both sorted lists. */
export function subtractRanges(a: Range[], minus: Range[]): Range[] {
  const out: Range[] = [];
  const m = normalizeRanges(minus);
  let j = 0;
  for (const [f0, t] of normalizeRanges(a)) {
    let f = f0;
    while (j < m.length && m[j][1] < f) j++;
    let k = j;
    while (k < m.length && m[k][0] <= t && f <= t) {
      if (m[k][0] > f) out.push([f, m[k][0] - 1n]);
      f = m[k][1] + 1n;
      if (m[k][1] <= t) k++; else break;
    }
    if (f <= t) out.push([f, t]);
  }
  return out;
}

export function blockRange(bits: number, b: Block): Range {
  return [b.start, blockEnd(bits, b)];
}
