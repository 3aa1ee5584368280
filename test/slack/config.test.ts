import { createExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import slackWorker from "../../workers/slack-events/src/index";
import { signSlackBody } from "../../lib/slack/signature";

/** SPEC section 15 (issue 13 build 7): no signing secret, no half-configured gateway: 503 naming it, and /slack/health lists it. */
const call = (path: string, patch: Record<string, unknown>, init: RequestInit = {}) =>
  slackWorker.fetch(new Request(`http://localhost${path}`, init), { ...env, ...patch } as never, createExecutionContext());

describe("slack-events worker configuration", () => {
  it.each([
    ["SLACK_SIGNING_SECRET", { SLACK_SIGNING_SECRET: "" }],
    ["SLACK_SIGNING_SECRET", { SLACK_SIGNING_SECRET: "short-secret" }],
    ["SLACK_APP_ID", { SLACK_APP_ID: "not-an-app-id" }],
  ])("answers 503 naming %s (never its value) and /slack/health lists it", async (setting, patch) => {
    const body = JSON.stringify({ type: "url_verification", challenge: "c" });
    const ts = String(Math.floor(Date.now() / 1000));
    const secret = (patch as Record<string, string>).SLACK_SIGNING_SECRET ?? "";
    const headers = { "content-type": "application/json", "x-slack-request-timestamp": ts, "x-slack-signature": await signSlackBody(secret || "x", ts, body) };
    const res = await call("/slack/events", patch, { method: "POST", headers, body });
    const text = await res.text();
    expect(res.status, text).toBe(503);
    expect(JSON.parse(text).error.details.settings).toEqual([setting]);
    expect(text).not.toContain("short-secret");
    expect(text).not.toContain("not-an-app-id");
    for (const path of ["/slack/health", "/health"]) {
      const health = await call(path, patch);
      expect(health.status).toBe(503);
      const h = (await health.json()) as { ok: boolean; problems: { setting: string }[] };
      expect(h.ok).toBe(false);
      expect(h.problems.map((p) => p.setting)).toEqual([setting]);
    }
  });

  it("is healthy as configured", async () => {
    const res = await call("/slack/health", {});
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ ok: true });
  });
});
