/**
 * The one retry loop of the stores and backends: jittered exponential
 * backoff, a predicate for what is worth another attempt, and bounds on
 * attempts and elapsed time. Callers keep their own classification (a
 * PostgreSQL deadlock, an SDK's throttling, Alibaba's Throttling.*) and turn
 * the last error into their own message; this only decides when to wait and
 * for how long.
 */

export interface Backoff {
  /** Ceiling of the first wait; it doubles per retry. @default 100 */
  baseDelayMs?: number;
  /** Largest ceiling. @default 20000 */
  maxDelayMs?: number;
  /**
   * "full": each wait uniform in [0, ceiling] (spreads competing retriers
   * best, AWS's recommendation); "equal": in [ceiling/2, ceiling] (never
   * retries at once, for APIs that punish a burst). @default "full"
   */
  jitter?: "full" | "equal";
}

export interface RetryOptions extends Backoff {
  /** Attempts in all, the first one included. @default 5 */
  maxAttempts?: number;
  /** No retry starts after this many ms since the first attempt (a wait is cut to fit). @default no limit */
  maxTimeMs?: number;
  /** Whether `error`, from attempt `attempt` (1-based), is worth another attempt. */
  retryable: (error: unknown, attempt: number) => boolean;
  /** Called before each wait (logging, counting in tests). */
  onRetry?: (error: unknown, attempt: number, delayMs: number) => void;
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** The wait before retry number `retry` (1 for the first retry), from `random` in [0, 1). */
export function backoffMs(retry: number, b: Backoff = {}, random: number = Math.random()): number {
  const base = b.baseDelayMs ?? 100;
  const ceiling = Math.min(b.maxDelayMs ?? 20_000, base * 2 ** Math.min(Math.max(retry - 1, 0), 30));
  return b.jitter === "equal" ? ceiling / 2 + random * (ceiling / 2) : random * ceiling;
}

/**
 * Runs `op(attempt)` until it returns, the error is not retryable, or the
 * attempts or the time are used up; then the last error is thrown as it was.
 */
export async function retry<T>(op: (attempt: number) => Promise<T>, o: RetryOptions): Promise<T> {
  const maxAttempts = o.maxAttempts ?? 5;
  const started = Date.now();
  for (let attempt = 1; ; attempt++) {
    try {
      return await op(attempt);
    } catch (e) {
      if (attempt >= maxAttempts || !o.retryable(e, attempt)) throw e;
      let delay = backoffMs(attempt, o);
      if (o.maxTimeMs !== undefined) {
        const left = o.maxTimeMs - (Date.now() - started);
        if (left <= 0) throw e;
        delay = Math.min(delay, left);
      }
      o.onRetry?.(e, attempt, delay);
      await sleep(delay);
    }
  }
}
