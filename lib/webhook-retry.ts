/**
 * When a webhook delivery is tried again (SPEC section 14): exponential backoff with jitter for
 * 24 hours after the event, never sooner than the endpoint's `Retry-After`. Pure: clock and
 * randomness are passed in.
 */

export const RETRY_WINDOW_MS = 24 * 60 * 60_000;
/** An endpoint failing this long without one success is disabled (an audit row says so). */
export const DISABLE_AFTER_MS = 3 * 24 * 60 * 60_000;
const FIRST_DELAY_MS = 30_000;
const MAX_DELAY_MS = 6 * 60 * 60_000;

/** `Retry-After` as seconds or an HTTP date, in ms from `now`; null when absent or unreadable. */
export function retryAfterMs(header: string | null, now: number): number | null {
  if (!header) return null;
  const v = header.trim();
  if (/^\d+$/.test(v)) return Number(v) * 1000;
  const at = Date.parse(v);
  return Number.isNaN(at) ? null : Math.max(0, at - now);
}

/**
 * The next attempt after `attempts` failed ones (1 = the first failed), or null once the 24-hour
 * window since `createdAt` is over. Delays: 30 s, 1 min, 2 min, ... capped at 6 hours, each
 * +-20 % jitter; a longer `Retry-After` wins.
 */
export function nextAttemptAt(now: number, createdAt: number, attempts: number, retryAfter: number | null, random: number): number | null {
  const base = Math.min(FIRST_DELAY_MS * 2 ** Math.max(0, attempts - 1), MAX_DELAY_MS);
  const delay = Math.max(base * (0.8 + 0.4 * random), retryAfter ?? 0);
  const at = Math.round(now + delay);
  return at > createdAt + RETRY_WINDOW_MS ? null : at;
}
