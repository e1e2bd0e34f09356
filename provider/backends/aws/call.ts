/**
 * How the AWS backend talks to EC2. Throttling and transient failures (5xx,
 * timeouts, dropped connections) are retried inside each request by the
 * SDK's own standard retry strategy (its error classification and retry
 * quota), given our attempts and backoff (retryStrategy()). On top of it,
 * `send` retries only what the SDK cannot know is transient: a NotFound for
 * an id this process made moments ago (EC2 is eventually consistent). Errors
 * come out as IpamErrors with the API's own code (err.Code, else err.name:
 * "InvalidIpamPoolId.NotFound" stays exactly that). Nothing here sees or
 * keeps credentials: the EC2Client resolves them from the SDK's default
 * chain on each request.
 */
import { ConfiguredRetryStrategy, isThrottlingError, isTransientError } from "@smithy/core/retry";
import { IpamError } from "../../core/errors";
import { backoffMs, retry, sleep } from "../../util/retry";

export { sleep };

export interface CallOptions {
  /** Attempts per request (the SDK's maxAttempts for throttling, 5xx, dropped connections; also for eventual consistency). @default 10 */
  maxAttempts?: number;
  /** First backoff ceiling; doubles per retry, each wait uniform in [0, ceiling]. @default 200 */
  baseDelayMs?: number;
  /** @default 20000 */
  maxDelayMs?: number;
  /** How long a state change (pool creation, CIDR provisioning) may take. @default 15 min */
  waitTimeoutMs?: number;
  /** Polling interval ceiling while waiting for a state. @default 5000 */
  pollMaxMs?: number;
}

/** The API's error code of a failure, or undefined for one that is not an API error. */
export function apiCode(e: unknown): string | undefined {
  if (e instanceof IpamError) return e.code;
  const x = e as { Code?: unknown; name?: unknown; $metadata?: unknown; $fault?: unknown } | undefined;
  if (!x || typeof x !== "object" || (!x.$metadata && !x.$fault)) return undefined;
  if (typeof x.Code === "string" && x.Code) return x.Code;
  return typeof x.name === "string" ? x.name : undefined;
}

/** What the SDK's standard strategy retries (throttling codes and 429; 500/502/503/504, timeouts, connection errors), for a call made without it. */
export function isRetriable(e: unknown): boolean {
  if (!e || typeof e !== "object" || e instanceof IpamError) return false;
  return isThrottlingError(e as Parameters<typeof isThrottlingError>[0]) || isTransientError(e as Parameters<typeof isTransientError>[0]);
}

export class Caller {
  readonly maxAttempts: number;
  readonly baseDelayMs: number;
  readonly maxDelayMs: number;
  readonly waitTimeoutMs: number;
  readonly pollMaxMs: number;

  constructor(o: CallOptions = {}) {
    this.maxAttempts = o.maxAttempts ?? 10;
    this.baseDelayMs = o.baseDelayMs ?? 200;
    this.maxDelayMs = o.maxDelayMs ?? 20_000;
    this.waitTimeoutMs = o.waitTimeoutMs ?? 15 * 60_000;
    this.pollMaxMs = o.pollMaxMs ?? 5_000;
  }

  /** The SDK's standard retry strategy (EC2Client retryStrategy) with these attempts and this full-jitter backoff. */
  retryStrategy(): ConfiguredRetryStrategy {
    return new ConfiguredRetryStrategy(this.maxAttempts, (retryNo) => backoffMs(retryNo, this));
  }

  /**
   * Runs one API call; when `alsoRetry` says so, runs it again on an error
   * the caller expects to clear by itself (eventual consistency). Failures
   * come out as IpamError with the API's code.
   */
  send<T>(operation: string, call: () => Promise<T>, alsoRetry?: (code: string | undefined) => boolean): Promise<T> {
    return this.repeat(operation, call, (e) => alsoRetry?.(apiCode(e)) ?? false);
  }

  /** Runs `attempt` until it succeeds or fails with what `retryable` refuses, with this backoff; errors as in send. */
  async repeat<T>(operation: string, attempt: () => Promise<T>, retryable: (e: unknown) => boolean): Promise<T> {
    try {
      return await retry(attempt, { retryable, maxAttempts: this.maxAttempts, baseDelayMs: this.baseDelayMs, maxDelayMs: this.maxDelayMs });
    } catch (e) {
      throw toIpamError(operation, e);
    }
  }

  /** Polls `probe` until it returns a value (not undefined), backing off up to pollMaxMs, for at most waitTimeoutMs. */
  async waitFor<T>(what: string, probe: () => Promise<T | undefined>): Promise<T> {
    const deadline = Date.now() + this.waitTimeoutMs;
    for (let attempt = 0; ; attempt++) {
      const v = await probe();
      if (v !== undefined) return v;
      if (Date.now() > deadline) throw new IpamError("IncorrectState", `timed out after ${Math.round(this.waitTimeoutMs / 1000)} s waiting for ${what}; it may still complete: run the operation again to pick it up.`);
      await sleep(Math.min(this.pollMaxMs, this.baseDelayMs * 2 ** Math.min(attempt, 10)) * (0.5 + Math.random() / 2));
    }
  }
}

/** An SDK failure as an IpamError with the API's code; other errors pass through unchanged. */
export function toIpamError(operation: string, e: unknown): unknown {
  if (e instanceof IpamError) return e;
  const code = apiCode(e);
  if (!code) return e;
  const message = (e as Error).message || code;
  return new IpamError(code, `${operation}: ${message}`);
}
