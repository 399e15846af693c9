import type { RetryPolicy } from '../config/schema.js';

const DELAY_SECONDS = /^\s*(\d+)\s*$/;
/** RFC 9110's preferred IMF-fixdate starts with a day name: `Wed, 02 Dec 2026 …`. */
const HTTP_DATE = /^\s*[A-Za-z]{3},\s/;

/**
 * How long to wait before retry number `retry` (1 for the second attempt), or null when the
 * upstream asked for a longer wait than the policy allows. An upstream's `Retry-After` wins
 * over the computed backoff; otherwise exponential backoff with full jitter (`random` in
 * [0, 1)), so that many gateways retrying one upstream spread out.
 */
export function retryDelayMs(
  policy: RetryPolicy,
  retry: number,
  retryAfterMs: number | null,
  random: number,
): number | null {
  if (retryAfterMs !== null) return retryAfterMs <= policy.maxRetryAfterMs ? retryAfterMs : null;
  const ceiling = Math.min(policy.maxBackoffMs, policy.backoffMs * 2 ** (retry - 1));
  return Math.floor(random * ceiling);
}

/**
 * An HTTP `Retry-After` value (delay seconds or an HTTP date) in milliseconds from `nowMs`;
 * null when absent or unreadable.
 */
export function parseRetryAfterMs(value: string | undefined, nowMs: number): number | null {
  if (value === undefined || value === '') return null;
  const seconds = DELAY_SECONDS.exec(value);
  if (seconds) return Number(seconds[1]) * 1000;
  if (!HTTP_DATE.test(value)) return null;
  const date = Date.parse(value);
  return Number.isNaN(date) ? null : Math.max(0, date - nowMs);
}
