/**
 * When to try a request again, and how long to wait first. Pure.
 *
 * @module
 */

/** How the client retries. Every delay is multiplied by `scale`. */
export interface RetryPolicy {
  /** Tries of one request, the first included. */
  maxAttempts: number;
  /** The delay after the first failure; it doubles after each one. */
  baseDelayMs: number;
  /** The longest backoff delay. */
  maxDelayMs: number;
  /** The longest wait a `Retry-After` header can ask for. */
  retryAfterCapMs: number;
  /**
   * Resumes of one blob (with `Range`) in a row without progress; at most
   * ten times as many in all.
   */
  maxResumes: number;
  /** Multiplies every delay; tests make it small. */
  scale: number;
  /** Abandon a connection that sends nothing for this long. */
  idleTimeoutMs: number;
}

/** The defaults: 5 tries, 250 ms doubling to 8 s, `Retry-After` ≤ 30 s. */
export const DEFAULT_RETRY_POLICY: Readonly<RetryPolicy> = {
  maxAttempts: 5,
  baseDelayMs: 250,
  maxDelayMs: 8_000,
  retryAfterCapMs: 30_000,
  maxResumes: 10,
  scale: 1,
  idleTimeoutMs: 60_000,
};

/** Whether an HTTP status is worth another try: 408, 429 and most 5xx. */
export function isRetryableStatus(status: number): boolean {
  if (status === 408 || status === 429) return true;
  return status >= 500 && status <= 599 && status !== 501 && status !== 505;
}

/**
 * The backoff before the next try, after `failures` failed tries (≥ 1):
 * `baseDelayMs · 2^(failures-1)`, at most `maxDelayMs`, times `scale`.
 */
export function backoffDelay(failures: number, policy: RetryPolicy): number {
  const exponent = Math.max(0, failures - 1);
  const delay = Math.min(
    policy.maxDelayMs,
    policy.baseDelayMs * 2 ** Math.min(exponent, 30),
  );
  return delay * policy.scale;
}

/**
 * Milliseconds a `Retry-After` header asks to wait: delay-seconds or an
 * HTTP date (relative to `nowMs`). Undefined when absent or unreadable; a
 * date in the past is 0. Not capped here.
 */
export function parseRetryAfter(
  value: string | null | undefined,
  nowMs: number,
): number | undefined {
  if (value === null || value === undefined) return undefined;
  const text = value.trim();
  if (/^[0-9]+$/.test(text)) return Number(text) * 1000;
  if (!/[a-z]/i.test(text)) return undefined;
  const date = Date.parse(text);
  if (Number.isNaN(date)) return undefined;
  return Math.max(0, date - nowMs);
}

/**
 * The wait before the next try: the larger of the backoff and what the
 * server asked for, capped at `retryAfterCapMs`, times `scale`.
 */
export function retryDelay(
  failures: number,
  policy: RetryPolicy,
  retryAfterMs?: number,
): number {
  const backoff = backoffDelay(failures, { ...policy, scale: 1 });
  const wanted = Math.max(backoff, retryAfterMs ?? 0);
  return Math.min(wanted, policy.retryAfterCapMs) * policy.scale;
}
