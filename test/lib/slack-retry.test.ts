import { describe, expect, it } from "vitest";
import { backoffMs, MAX_ATTEMPTS, nextAttemptAt, retryableStatus, retryAfterMs, slackErrorEffect } from "../../lib/slack/retry";

describe("Slack delivery retry policy", () => {
  it("backs off exponentially with jitter, capped", () => {
    expect(backoffMs(1, 0)).toBe(1_000);
    expect(backoffMs(1, 1)).toBe(2_000);
    expect(backoffMs(3, 1)).toBe(8_000);
    expect(backoffMs(30, 1)).toBe(300_000);
    for (let a = 1; a <= MAX_ATTEMPTS; a++) expect(backoffMs(a + 1, 0.5)).toBeGreaterThan(backoffMs(a, 0.5));
  });

  it("obeys Retry-After in seconds or as a date, bounded", () => {
    const now = Date.parse("2026-01-01T00:00:00Z");
    expect(retryAfterMs("30", now)).toBe(30_000);
    expect(retryAfterMs(new Date(now + 5_000).toUTCString(), now)).toBe(5_000);
    expect(retryAfterMs("junk", now)).toBeNull();
    expect(retryAfterMs(null, now)).toBeNull();
    expect(retryAfterMs("999999", now)).toBe(15 * 60_000);
    expect(nextAttemptAt(now, 1, 1, 30_000)).toBe(now + 30_000);
    expect(nextAttemptAt(now, 1, 1, null)).toBe(now + 2_000);
  });

  it("maps Slack's errors to binding state, installation state, retry or failure", () => {
    for (const e of ["channel_not_found", "not_in_channel", "is_archived"]) expect(slackErrorEffect(e)).toBe("pause_binding");
    for (const e of ["invalid_auth", "token_revoked", "account_inactive"]) expect(slackErrorEffect(e)).toBe("disable_installation");
    for (const e of ["ratelimited", "internal_error", "service_unavailable"]) expect(slackErrorEffect(e)).toBe("retry");
    expect(slackErrorEffect("msg_too_long")).toBe("fail");
    expect([429, 500, 503, 408].every(retryableStatus)).toBe(true);
    expect([400, 401, 404].some(retryableStatus)).toBe(false);
  });
});
