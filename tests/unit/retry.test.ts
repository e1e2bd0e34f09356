/** provider/util/retry.ts: the backoff bounds and the retry loop's stopping rules. */
import fc from "fast-check";
import { backoffMs, retry } from "../../provider/util/retry";

class Transient extends Error {}

describe("backoffMs", () => {
  test("full jitter: uniform in [0, min(max, base * 2^(retry-1))]", () => {
    fc.assert(fc.property(fc.integer({ min: 1, max: 60 }), fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }), (retryNo, r) => {
      const ceiling = Math.min(1000, 10 * 2 ** (retryNo - 1));
      const d = backoffMs(retryNo, { baseDelayMs: 10, maxDelayMs: 1000 }, r);
      expect(d).toBeGreaterThanOrEqual(0);
      expect(d).toBeLessThan(ceiling + 1e-9);
      expect(d).toBeCloseTo(r * ceiling, 9);
    }));
  });

  test("equal jitter: in [ceiling/2, ceiling]; the ceiling doubles and then stays at maxDelayMs", () => {
    const b = { baseDelayMs: 100, maxDelayMs: 500, jitter: "equal" as const };
    expect([1, 2, 3, 4, 5].map((n) => backoffMs(n, b, 0))).toEqual([50, 100, 200, 250, 250]);
    expect([1, 2, 3, 4, 5].map((n) => backoffMs(n, b, 1))).toEqual([100, 200, 400, 500, 500]);
  });

  test("defaults: base 100 ms, ceiling 20 s, full jitter", () => {
    expect(backoffMs(1, {}, 0.5)).toBe(50);
    expect(backoffMs(40, {}, 0.5)).toBe(10_000);
  });
});

describe("retry", () => {
  test("retries what the predicate accepts, with the attempt number, until it succeeds", async () => {
    const seen: number[] = [];
    const waits: number[] = [];
    const out = await retry(async (attempt) => {
      seen.push(attempt);
      if (attempt < 4) throw new Transient(`try ${attempt}`);
      return "done";
    }, { retryable: (e) => e instanceof Transient, maxAttempts: 10, baseDelayMs: 1, maxDelayMs: 4, onRetry: (_e, _a, ms) => waits.push(ms) });
    expect(out).toBe("done");
    expect(seen).toEqual([1, 2, 3, 4]);
    expect(waits).toHaveLength(3);
    waits.forEach((w, i) => expect(w).toBeLessThanOrEqual(Math.min(4, 2 ** i)));
  });

  test("a non-retryable error is thrown at once, unchanged", async () => {
    const fatal = new Error("fatal");
    let calls = 0;
    await expect(retry(async () => {
      calls++;
      throw fatal;
    }, { retryable: (e) => e instanceof Transient, baseDelayMs: 1 })).rejects.toBe(fatal);
    expect(calls).toBe(1);
  });

  test("maxAttempts bounds the attempts; the last error comes out", async () => {
    let calls = 0;
    const e = await retry(async (attempt) => {
      calls++;
      throw new Transient(`try ${attempt}`);
    }, { retryable: () => true, maxAttempts: 3, baseDelayMs: 1 }).catch((x: unknown) => x);
    expect(calls).toBe(3);
    expect((e as Error).message).toBe("try 3");
  });

  test("the predicate sees the attempt number and can stop early", async () => {
    let calls = 0;
    await expect(retry(async () => {
      calls++;
      throw new Transient("x");
    }, { retryable: (_e, attempt) => attempt < 2, maxAttempts: 10, baseDelayMs: 1 })).rejects.toBeInstanceOf(Transient);
    expect(calls).toBe(2);
  });

  test("maxTimeMs bounds the time spent: no retry starts after it, and waits are cut to fit", async () => {
    const started = Date.now();
    let calls = 0;
    await expect(retry(async () => {
      calls++;
      throw new Transient("x");
    }, { retryable: () => true, maxAttempts: 1_000_000, maxTimeMs: 150, baseDelayMs: 20, maxDelayMs: 40 })).rejects.toBeInstanceOf(Transient);
    const took = Date.now() - started;
    expect(took).toBeGreaterThanOrEqual(140);
    expect(took).toBeLessThan(1000);
    expect(calls).toBeGreaterThan(2);
  });
});
