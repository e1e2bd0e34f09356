/**
 * How the AWS backend talks to EC2: every request goes through `send`, which
 * retries throttling and transient failures with full-jitter exponential
 * backoff and turns the API's errors into IpamErrors with the API's own code
 * (err.Code, else err.name: "InvalidIpamPoolId.NotFound" stays exactly that).
 * Nothing here sees or keeps credentials: the EC2Client resolves them from
 * the SDK's default chain on each request.
 */
import { IpamError } from "../../core/errors";

export interface CallOptions {
  /** Attempts per request (throttling, 5xx, dropped connections). @default 10 */
  maxAttempts?: number;
  /** First backoff ceiling; doubles per attempt, each wait uniform in [0, ceiling]. @default 200 */
  baseDelayMs?: number;
  /** @default 20000 */
  maxDelayMs?: number;
  /** How long a state change (pool creation, CIDR provisioning) may take. @default 15 min */
  waitTimeoutMs?: number;
  /** Polling interval ceiling while waiting for a state. @default 5000 */
  pollMaxMs?: number;
}

const THROTTLING = new Set([
  "RequestLimitExceeded", "Throttling", "ThrottlingException", "RequestThrottled", "RequestThrottledException",
  "TooManyRequestsException", "SlowDown",
]);
const TRANSIENT = new Set(["InternalError", "InternalFailure", "ServiceUnavailable", "Unavailable"]);
const NETWORK = new Set(["ECONNRESET", "EPIPE", "ETIMEDOUT", "ECONNABORTED", "TimeoutError", "RequestTimeout"]);

/** The API's error code of a failure, or undefined for one that is not an API error. */
export function apiCode(e: unknown): string | undefined {
  if (e instanceof IpamError) return e.code;
  const x = e as { Code?: unknown; name?: unknown; $metadata?: unknown; $fault?: unknown } | undefined;
  if (!x || typeof x !== "object" || (!x.$metadata && !x.$fault)) return undefined;
  if (typeof x.Code === "string" && x.Code) return x.Code;
  return typeof x.name === "string" ? x.name : undefined;
}

export function isRetriable(e: unknown): boolean {
  const code = apiCode(e);
  if (code && (THROTTLING.has(code) || TRANSIENT.has(code))) return true;
  const status = (e as { $metadata?: { httpStatusCode?: number } })?.$metadata?.httpStatusCode;
  if (code && status !== undefined && status >= 500 && status !== 501) return true;
  const sys = (e as { code?: unknown; name?: unknown }) ?? {};
  return !code && (NETWORK.has(String(sys.code)) || NETWORK.has(String(sys.name)));
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

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

  /** Full jitter: uniform in [0, min(max, base * 2^attempt)]. */
  backoff(attempt: number): number {
    return Math.random() * Math.min(this.maxDelayMs, this.baseDelayMs * 2 ** attempt);
  }

  /**
   * Runs one API call, retrying what is worth retrying and, when `alsoRetry`
   * says so, an error the caller expects to clear by itself (eventual
   * consistency). Failures come out as IpamError with the API's code.
   */
  async send<T>(operation: string, call: () => Promise<T>, alsoRetry?: (code: string | undefined) => boolean): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      try {
        return await call();
      } catch (e) {
        const code = apiCode(e);
        const again = isRetriable(e) || (alsoRetry?.(code) ?? false);
        if (!again || attempt + 1 >= this.maxAttempts) throw toIpamError(operation, e);
        await sleep(this.backoff(attempt));
      }
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
