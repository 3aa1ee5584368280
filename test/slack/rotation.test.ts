import { reset, runInDurableObject } from "cloudflare:test";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { drain, expectAck, fakeSlack, fixture, installSlackIn, mockOutbound, postEvent, posted, seed, vaultOf, vaultSql } from "./helpers";

/**
 * Slack token rotation: a bot token that expires is refreshed at oauth.v2.access (the same
 * single-flight refresh as every OAuth credential) before the reply is posted, and the rotated
 * refresh token is kept.
 */
beforeEach(async () => { await fakeSlack.reset(); });
afterEach(async () => {
  vi.restoreAllMocks();
  await reset();
});

describe("a rotating bot token", () => {
  it("is refreshed before posting; the reply goes out with the new token", async () => {
    const refreshes: URLSearchParams[] = [];
    const postAuth: string[] = [];
    mockOutbound((req) => {
      const url = new URL(req.url);
      if (url.pathname === "/_sandbox/oauth/slack/token") {
        return req.text().then((body) => {
          refreshes.push(new URLSearchParams(body));
          return new Response(JSON.stringify({ ok: true, app_id: "A0AB2AGNT7", token_type: "bot", access_token: "xoxe.xoxb-rotated-2", refresh_token: "xoxe-refresh-2", expires_in: 43200, scope: "chat:write", bot_user_id: "U0AB3BOT01", team: { id: "T0AB1CD2EF" } }), { headers: { "content-type": "application/json" } });
        });
      }
      if (url.pathname.endsWith("/chat.postMessage")) postAuth.push(req.headers.get("authorization") ?? "");
      return undefined;
    });
    const s = await seed();
    // Reinstall the workspace with rotation on: a token that expires in one minute.
    const installed = await installSlackIn(s.org.id, {
      appId: "A0AB2AGNT7", teamId: "T0AB1CD2EF", enterpriseId: null, isEnterpriseInstall: false,
      botUserId: "U0AB3BOT01", botId: "B0AB3BOT01", botToken: "xoxe.xoxb-rotating-1", botRefreshToken: "xoxe-refresh-1",
      botTokenExpiresAt: Date.now() + 60_000, scopes: ["chat:write"],
    });
    expect(installed.ok).toBe(true);

    expectAck(await postEvent(fixture("message_channel.json")));
    await drain(s.org.id);

    expect(refreshes).toHaveLength(1);
    expect(refreshes[0]!.get("grant_type")).toBe("refresh_token");
    expect(refreshes[0]!.get("refresh_token")).toBe("xoxe-refresh-1");
    expect(postAuth).toEqual(["Bearer xoxe.xoxb-rotated-2"]);
    expect(await posted()).toHaveLength(1);
    const [cred] = await vaultSql(s.org.id, `SELECT expires_at FROM credentials WHERE app = 'slack' AND status = 'active'`);
    expect(Number(cred!.expires_at)).toBeGreaterThan(Date.now() + 11 * 3600_000);
  });
});

describe("a rotating bot token whose refresh hangs (issue 11 item 6)", () => {
  it("an expired token is not posted with (Slack would answer token_expired): the message waits for a retry; nothing is disabled", async () => {
    let unblock: (r: Response) => void = () => undefined;
    const hanging = new Promise<Response>((r) => { unblock = r; });
    const out = mockOutbound((req) => (new URL(req.url).pathname === "/_sandbox/oauth/slack/token" ? hanging : undefined));
    const s = await seed();
    await runInDurableObject(vaultOf(s.org.id), (instance) => {
      const vault = instance as unknown as { env: Record<string, unknown> };
      vault.env = { ...vault.env, OUTBOUND_TIMEOUT_MS: "300" };
    });
    const installed = await installSlackIn(s.org.id, {
      appId: "A0AB2AGNT7", teamId: "T0AB1CD2EF", enterpriseId: null, isEnterpriseInstall: false,
      botUserId: "U0AB3BOT01", botId: "B0AB3BOT01", botToken: "xoxe.xoxb-expired-1", botRefreshToken: "xoxe-refresh-expired-1",
      botTokenExpiresAt: Date.now() - 1_000, scopes: ["chat:write"],
    });
    expect(installed.ok).toBe(true);
    try {
      expectAck(await postEvent(fixture("message_channel.json")));
      await drain(s.org.id, 4_000);
      expect(await vaultSql(s.org.id, `SELECT status, last_error FROM slack_inbox`)).toEqual([{ status: "pending", last_error: "slack_token_refresh_failed" }]);
      expect(out.slackCalls()).not.toContain("chat.postMessage");
      expect(await posted()).toEqual([]);
      expect(await vaultSql(s.org.id, `SELECT status FROM slack_installations`)).toEqual([{ status: "active" }]);
      expect(await vaultSql(s.org.id, `SELECT status FROM credentials WHERE app = 'slack'`)).toEqual([{ status: "active" }]);
    } finally {
      unblock(new Response("gone", { status: 503 }));
    }
  });
});
