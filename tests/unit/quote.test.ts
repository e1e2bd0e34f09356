/**
 * quote(): how an error message shows an input. Nothing in it may break or
 * fake a log line, and a huge input must not make a huge message.
 */
import { quote } from "../../provider/core/quote";

describe("quote", () => {
  test("a plain string is its JSON literal", () => {
    expect(quote("10.0.0.0/8")).toBe('"10.0.0.0/8"');
    expect(quote('say "hi"')).toBe('"say \\"hi\\""');
  });

  test("newlines and every control character are escaped: the result is one printable line", () => {
    const all = Array.from({ length: 0x20 }, (_, i) => String.fromCharCode(i)).join("")
      + "\u007f\u0085\u009f\u2028\u2029\u202e\u2066\u200f\ufeff";
    const q = quote(`a${all}b`);
    expect(q).toMatch(/^"a.*b"$/);
    // Printable ASCII only: every unsafe character became an escape.
    expect(q).toMatch(/^[\x20-\x7e]*$/);
    expect(q).toContain("\\n");
    expect(q).toContain("\\u0000");
    expect(q).toContain("\\u2028");
    expect(q).toContain("\\u202e");
    // Readable text is kept as it is.
    expect(quote("ünïcødé 🚀")).toBe('"ünïcødé 🚀"');
  });

  test("a forged log line stays inside the quotes", () => {
    const q = quote("x\nERROR: everything is fine\r\n");
    expect(q.split(/[\r\n\u2028\u2029]/)).toHaveLength(1);
    expect(JSON.parse(q)).toBe("x\nERROR: everything is fine\r\n");
  });

  test("long values are cut and say how much was left out, never splitting a character", () => {
    const q = quote("x".repeat(500));
    expect(q).toBe(`"${"x".repeat(120)}"…(380 more characters)`);
    const emoji = quote("🚀".repeat(130), 10);
    expect(emoji).toBe(`"${"🚀".repeat(10)}"…(120 more characters)`);
    expect(emoji).not.toMatch(/[\ud800-\udfff](?![\udc00-\udfff])/u);
  });

  test("non-strings are shown as JSON, with their control characters escaped too", () => {
    expect(quote(5)).toBe("5");
    expect(quote(true)).toBe("true");
    expect(quote(null)).toBe("null");
    expect(quote(undefined)).toBe("undefined");
    expect(quote(12n)).toBe("12");
    expect(quote(["a", 1])).toBe('["a",1]');
    expect(quote({ k: "v\u2028" })).toBe('{"k":"v\\u2028"}');
    expect(quote(Symbol("s\n"))).toBe("Symbol(s\\n)");
    const cycle: Record<string, unknown> = {};
    cycle.self = cycle;
    expect(quote(cycle)).toBe("[object Object]");
    expect(quote({ long: "y".repeat(300) }).length).toBeLessThan(160);
  });
});
