/** provider/core/cidr.ts: parsing, RFC 5952 formatting, and range arithmetic. */
import fc from "fast-check";
import { IPv4, IPv6 } from "ip-num";
import {
  blockSize, formatAddress, formatCidr, intersectRanges, normalizeRanges, parseAddress, parseCidr, rangeToBlocks, subtractRanges,
} from "../../provider/core/cidr";
import { IpamError } from "../../provider/core/errors";

const v6 = (text: string) => IPv6.fromString(text).getValue();
const v4 = (text: string) => IPv4.fromString(text).getValue();

/** The WHATWG URL serializer writes IPv6 hosts as RFC 5952 section 4 does: an independent reference. */
const whatwg = (value: bigint) => new URL(`http://[${new IPv6(value).toString()}]/`).hostname.slice(1, -1);

function codeOfSync(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    if (e instanceof IpamError) return e.code;
    throw e;
  }
  throw new Error("expected an IpamError");
}

describe("formatAddress", () => {
  test.each([
    ["2001:0db8:0000:0000:0000:0000:0000:0001", "2001:db8::1"],
    ["2001:db8:0:0:0:0:2:1", "2001:db8::2:1"],
    ["2001:db8:0:1:1:1:1:1", "2001:db8:0:1:1:1:1:1"], // a single zero group is not compressed (4.2.2)
    ["2001:0:0:1:0:0:0:1", "2001:0:0:1::1"], // the longest run is compressed (4.2.3)
    ["2001:db8:0:0:1:0:0:1", "2001:db8::1:0:0:1"], // the first of equal runs (4.2.3)
    ["0:0:0:0:0:0:0:0", "::"],
    ["0:0:0:0:0:0:0:1", "::1"],
    ["1:0:0:0:0:0:0:0", "1::"],
    ["2001:DB8:0:0:0:0:0:ABCD", "2001:db8::abcd"], // lower case (4.3)
    ["0:1:0:1:0:1:0:1", "0:1:0:1:0:1:0:1"],
    ["1:0:0:2:0:0:0:3", "1:0:0:2::3"],
    ["2001:db8:0:1:0:0:0:0", "2001:db8:0:1::"],
    ["ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"],
    ["fe80:0:0:0:0204:61ff:fe9d:f156", "fe80::204:61ff:fe9d:f156"], // no leading zeros (4.1)
  ])("IPv6 %s is written %s", (input, expected) => {
    expect(formatAddress("ipv6", v6(input))).toBe(expected);
    expect(whatwg(v6(input))).toBe(expected);
  });

  test.each([["0.0.0.0"], ["10.1.2.3"], ["192.168.255.1"], ["255.255.255.255"], ["128.0.0.0"]])("IPv4 %s round-trips", (text) => {
    expect(formatAddress("ipv4", v4(text))).toBe(text);
  });

  test("any IPv6 value is written as the WHATWG serializer writes it, and parses back to itself", () => {
    const group = fc.oneof(fc.constant(0), fc.constant(0), fc.integer({ min: 0, max: 0xffff }));
    fc.assert(fc.property(fc.array(group, { minLength: 8, maxLength: 8 }), (groups) => {
      const value = groups.reduce((s, g) => (s << 16n) | BigInt(g), 0n);
      const text = formatAddress("ipv6", value);
      expect(text).toBe(whatwg(value));
      expect(v6(text)).toBe(value);
    }), { numRuns: 500 });
  });

  test("any IPv4 value round-trips through ip-num", () => {
    fc.assert(fc.property(fc.integer({ min: 0, max: 2 ** 32 - 1 }), (n) => {
      const text = formatAddress("ipv4", BigInt(n));
      expect(text).toBe(new IPv4(BigInt(n)).toString());
      expect(v4(text)).toBe(BigInt(n));
    }), { numRuns: 500 });
  });

  test("formatCidr joins address and prefix", () => {
    expect(formatCidr("ipv6", { start: v6("2001:db8:0:1::"), prefix: 64 })).toBe("2001:db8:0:1::/64");
    expect(formatCidr("ipv4", { start: v4("10.0.0.0"), prefix: 8 })).toBe("10.0.0.0/8");
  });
});

describe("parseCidr", () => {
  test("parses aligned CIDRs of either family", () => {
    expect(parseCidr("ipv4", "10.0.0.0/8")).toEqual({ start: 10n << 24n, prefix: 8 });
    expect(parseCidr("ipv4", "0.0.0.0/0")).toEqual({ start: 0n, prefix: 0 });
    expect(parseCidr("ipv4", "255.255.255.255/32")).toEqual({ start: 2n ** 32n - 1n, prefix: 32 });
    expect(parseCidr("ipv6", "2001:db8::/32")).toEqual({ start: 0x20010db8n << 96n, prefix: 32 });
    expect(parseCidr("ipv6", "::/0")).toEqual({ start: 0n, prefix: 0 });
    expect(parseCidr("ipv6", "2001:DB8:0:1::/64")).toEqual({ start: v6("2001:db8:0:1::"), prefix: 64 });
  });

  test.each([
    ["ipv4", undefined], ["ipv4", 42], ["ipv4", ""], ["ipv4", "10.0.0.0"], ["ipv4", "10.0.0.0/"], ["ipv4", "10.0.0.0/33"],
    ["ipv4", "10.0.0.0/abc"], ["ipv4", "10.0.0.0/-1"], ["ipv4", "10.0.0.256/24"], ["ipv4", "10.0.0.1/24"], ["ipv4", "10.0.0/24"],
    ["ipv4", "2001:db8::/32"], ["ipv6", "10.0.0.0/8"], ["ipv6", "2001:db8::1/64"], ["ipv6", "2001:db8::/129"],
    ["ipv6", "2001:db8::g/64"], ["ipv6", "2001:db8:::/64"], ["ipv4", "10.0.0.0/8/8"], ["ipv4", "10.0.0.0/08"], ["ipv4", "10.0.0.0/008"],
    ["ipv6", "2001:db8::/064"], ["ipv6", "fe80::%eth0/64"], ["ipv6", "fd00::%1/8"], ["ipv4", "010.0.0.0/8"],
  ] as const)("%s %j is IllegalParam.Cidr", (family, text) => {
    expect(codeOfSync(() => parseCidr(family, text))).toBe("IllegalParam.Cidr");
  });

  test("parseAddress rejects CIDRs, other families and garbage with IllegalParam.Cidr", () => {
    expect(parseAddress("ipv4", "203.0.113.9")).toBe(v4("203.0.113.9"));
    for (const [family, text] of [["ipv4", "203.0.113.0/32"], ["ipv4", "2001:db8::1"], ["ipv6", "10.0.0.1"], ["ipv4", "1.2.3"], ["ipv6", "fe80::1%eth0"]] as const) {
      expect(codeOfSync(() => parseAddress(family, text))).toBe("IllegalParam.Cidr");
    }
  });
});

describe("rangeToBlocks", () => {
  const show = (bits: number, from: bigint, to: bigint) =>
    rangeToBlocks(bits, from, to).map((b) => formatCidr(bits === 32 ? "ipv4" : "ipv6", b));

  test("splits a range into the fewest aligned blocks, ascending", () => {
    expect(show(32, v4("10.0.0.1"), v4("10.0.0.6"))).toEqual(["10.0.0.1/32", "10.0.0.2/31", "10.0.0.4/31", "10.0.0.6/32"]);
    expect(show(32, v4("10.0.0.0"), v4("10.0.1.255"))).toEqual(["10.0.0.0/23"]);
    expect(show(32, v4("10.0.0.7"), v4("10.0.0.7"))).toEqual(["10.0.0.7/32"]);
    expect(show(32, 0n, 2n ** 32n - 1n)).toEqual(["0.0.0.0/0"]);
    expect(show(128, 0n, 2n ** 128n - 1n)).toEqual(["::/0"]);
    expect(show(128, v6("2001:db8::1"), v6("2001:db8::ffff"))).toEqual([
      "2001:db8::1/128", "2001:db8::2/127", "2001:db8::4/126", "2001:db8::8/125", "2001:db8::10/124", "2001:db8::20/123",
      "2001:db8::40/122", "2001:db8::80/121", "2001:db8::100/120", "2001:db8::200/119", "2001:db8::400/118",
      "2001:db8::800/117", "2001:db8::1000/116", "2001:db8::2000/115", "2001:db8::4000/114", "2001:db8::8000/113",
    ]);
    expect(rangeToBlocks(32, 5n, 4n)).toEqual([]);
  });

  test("the blocks are aligned, tile the range, are maximal, and hold every aligned block inside it", () => {
    const bits = 16;
    const range = fc.tuple(fc.integer({ min: 0, max: 0xffff }), fc.integer({ min: 0, max: 0xffff })).map(([a, b]) => [Math.min(a, b), Math.max(a, b)]);
    fc.assert(fc.property(range, fc.integer({ min: 0, max: 0xffff }), fc.integer({ min: 0, max: bits }), ([from, to], at, prefix) => {
      const blocks = rangeToBlocks(bits, BigInt(from), BigInt(to));
      let next = BigInt(from);
      for (const b of blocks) {
        const size = blockSize(bits, b.prefix);
        expect(b.start % size).toBe(0n);
        expect(b.start).toBe(next);
        next = b.start + size;
        // Maximal: the parent block would stick out of the range.
        if (b.prefix > 0) {
          const parentStart = (b.start / (size * 2n)) * size * 2n;
          expect(parentStart < BigInt(from) || parentStart + size * 2n - 1n > BigInt(to)).toBe(true);
        }
      }
      expect(next).toBe(BigInt(to) + 1n);
      const size = blockSize(bits, prefix);
      const start = (BigInt(at) / size) * size;
      if (start >= BigInt(from) && start + size - 1n <= BigInt(to)) {
        expect(blocks.some((b) => b.prefix <= prefix && start >= b.start && start + size <= b.start + blockSize(bits, b.prefix))).toBe(true);
      }
    }), { numRuns: 500 });
  });
});

describe("range arithmetic", () => {
  test("normalize merges overlapping and adjacent ranges", () => {
    expect(normalizeRanges([[10n, 20n], [0n, 4n], [5n, 7n], [15n, 30n]])).toEqual([[0n, 7n], [10n, 30n]]);
  });

  test("intersect and subtract", () => {
    expect(intersectRanges([[0n, 99n]], [[10n, 19n], [50n, 200n]])).toEqual([[10n, 19n], [50n, 99n]]);
    expect(subtractRanges([[0n, 99n]], [[10n, 19n], [90n, 120n]])).toEqual([[0n, 9n], [20n, 89n]]);
    expect(subtractRanges([[0n, 9n]], [[0n, 9n]])).toEqual([]);
  });
});
