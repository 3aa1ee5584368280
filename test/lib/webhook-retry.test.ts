import { describe, expect, it } from "vitest";
import { nextAttemptAt, retryAfterMs, RETRY_WINDOW_MS } from "../../lib/webhook-retry";
import { eventForAudit, WEBHOOK_EVENTS } from "../../lib/webhook-events";

describe("webhook retries (SPEC section 14)", () => {
  const t0 = Date.UTC(2026, 0, 1);
  it("backs off exponentially with jitter, capped", () => {
    const d = (n: number, r = 0.5) => nextAttemptAt(t0, t0, n, null, r)! - t0;
    expect(d(1)).toBe(30_000);
    expect(d(2)).toBe(60_000);
    expect(d(3)).toBe(120_000);
    expect(d(1, 0)).toBe(24_000);
    expect(d(1, 1)).toBe(36_000);
    expect(d(30)).toBe(6 * 3_600_000);
  });
  it("honours a longer Retry-After (seconds or a date), and gives up after 24 hours", () => {
    expect(retryAfterMs("120", t0)).toBe(120_000);
    expect(retryAfterMs(new Date(t0 + 600_000).toUTCString(), t0)).toBe(600_000);
    expect(retryAfterMs("soon", t0)).toBeNull();
    expect(nextAttemptAt(t0, t0, 1, 600_000, 0.5)).toBe(t0 + 600_000);
    expect(nextAttemptAt(t0 + RETRY_WINDOW_MS - 1_000, t0, 5, null, 0.5)).toBeNull();
  });
  it("maps audit actions to events: a closed list, never a denial, never a resolve", () => {
    expect(eventForAudit("credential.create", "ok")).toBe("credential.created");
    expect(eventForAudit("credential.create", "denied")).toBeNull();
    expect(eventForAudit("credential.needs_reauth", "failed")).toBe("credential.needs_reauth");
    expect(eventForAudit("credential.resolve", "ok")).toBeNull();
    expect(eventForAudit("toString", "ok")).toBeNull();
    // Slack removing the app revokes its credential: the same event as a member's revoke.
    expect(eventForAudit("slack.uninstall", "ok")).toBe("credential.revoked");
    expect(eventForAudit("channel.pause", "ok")).toBe("channel_binding.changed");
    for (const a of ["credential.rotate", "credential.revoke", "credential.set_default", "assignment.set", "channel.bind", "connect.complete", "connect.fail", "invitation.accept", "member.remove"]) {
      expect(WEBHOOK_EVENTS).toContain(eventForAudit(a, "ok"));
    }
  });
});
