import { afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { hashToken, newId, newToken, tokenPreview } from "../../lib/tokens";
import { addMember, call, dumpVault, expectError, installSlackIn, seed, uid, vaultOf, vaultSql, type Seed } from "./helpers";

/**
 * The channels API (SPEC section 11): bindings with the permissions of project credentials,
 * the available list from Slack's conversations.list, sessions, audit, and bad input.
 * The api project runs without DEV_MODE, so the Slack API is https://slack.com/api, mocked here.
 */
const BOT_TOKEN = "xoxb-test-NOT-A-REAL-TOKEN-4f1c9a2e7b";
let s: Seed;
let dave: string;

function mockSlack(channels = [{ id: "C0AB6CHAN1", name: "deploys", is_member: true }, { id: "C0AB8PRIV01", name: "secret-ops", is_private: true, is_member: true }, { id: "C0AB9NOTIN1", name: "general", is_member: false }]) {
  const seen: { url: string; auth: string | null }[] = [];
  vi.spyOn(globalThis, "fetch").mockImplementation(async (input, init) => {
    const req = new Request(input as RequestInfo, init);
    seen.push({ url: req.url, auth: req.headers.get("authorization") });
    if (req.url === "https://slack.com/api/conversations.list") return Response.json({ ok: true, channels, response_metadata: { next_cursor: "" } });
    return new Response("blocked by test", { status: 599 });
  });
  return seen;
}

beforeAll(async () => {
  s = await seed();
  const installed = await installSlackIn(s.org.id, {
    appId: "A0AB2AGNT7", teamId: "T0AB1CD2EF", teamName: "acme-eng", enterpriseId: null, isEnterpriseInstall: false,
    botUserId: "U0AB3BOT01", botId: "B0AB3BOT01", botToken: BOT_TOKEN, scopes: ["chat:write", "channels:read"], installedBy: "test",
  });
  expect(installed.ok).toBe(true);
  // dave: an org builder who is admin of project growth (the seed has no project admin).
  dave = newToken("user", s.org.id);
  const memberId = newId("mem");
  await vaultSql(s.org.id, `INSERT INTO members (id, email, name, role, created_at) VALUES (?, 'dave@acme.test', 'Dave', 'builder', ?)`, memberId, Date.now());
  await vaultSql(s.org.id, `INSERT INTO project_members (project, member_id, role) VALUES ('growth', ?, 'admin')`, memberId);
  await vaultSql(s.org.id, `INSERT INTO tokens (id, hash, kind, member_id, name, preview, created_at) VALUES (?, ?, 'user', ?, 'test', ?, ?)`, newId("tok"), await hashToken(dave), memberId, tokenPreview(dave), Date.now());
});
afterEach(() => vi.restoreAllMocks());

describe("GET /v1/channels and /v1/channels/available", () => {
  it("lists the installation (no token anywhere) and no bindings yet", async () => {
    const res = await call("GET", "/v1/channels", { token: s.carol });
    expect(res.status, res.text).toBe(200);
    expect(res.body.channels).toEqual([]);
    expect(res.body.installations).toMatchObject([{ route: "team:T0AB1CD2EF", team_id: "T0AB1CD2EF", bot_user_id: "U0AB3BOT01", bot_id: "B0AB3BOT01", status: "active" }]);
    expect(res.text).not.toContain(BOT_TOKEN);
  });

  it("lists what conversations.list answers, with the bot token sent only to Slack", async () => {
    const seen = mockSlack();
    const res = await call("GET", "/v1/channels/available", { token: s.carol });
    expect(res.status, res.text).toBe(200);
    expect(seen).toEqual([{ url: "https://slack.com/api/conversations.list", auth: `Bearer ${BOT_TOKEN}` }]);
    const byId = Object.fromEntries(res.body.channels.map((c: any) => [c.id, c]));
    expect(byId.dm).toMatchObject({ bindable: true, binding: null });
    expect(byId.C0AB6CHAN1).toMatchObject({ name: "deploys", is_member: true, bindable: true });
    expect(byId.C0AB8PRIV01).toMatchObject({ is_private: true, bindable: true });
    expect(byId.C0AB9NOTIN1).toMatchObject({ is_member: false, bindable: false });
    expect(res.text).not.toContain(BOT_TOKEN);
  });

  it("maps Slack failures to upstream_error and rate_limited", async () => {
    vi.spyOn(globalThis, "fetch").mockImplementation(async () => Response.json({ ok: false, error: "invalid_auth" }));
    const bad = await call("GET", "/v1/channels/available", { token: s.alice });
    expectError(bad, 502, "upstream_error");
    // The next step as data (lib/fixes): each surface words "reconnect Slack" in its own language.
    expect(bad.body.error.details).toEqual({ slack_error: "invalid_auth", remedy: { do: "connect", app: "slack" } });
    vi.restoreAllMocks();
    vi.spyOn(globalThis, "fetch").mockImplementation(async () => new Response("slow down", { status: 429, headers: { "retry-after": "7" } }));
    const limited = await call("GET", "/v1/channels/available", { token: s.alice });
    expectError(limited, 429, "rate_limited");
    expect(limited.body.error.details).toEqual({ retry_after_seconds: 7 });
  });
});

describe("POST /v1/channels/bindings and DELETE /v1/channels/bindings/{channel}", () => {
  it("binds by id or #name, rebinds, unbinds; each change audited", async () => {
    mockSlack();
    await call("GET", "/v1/channels/available", { token: s.alice });
    const bound = await call("POST", "/v1/channels/bindings", { token: s.alice, body: { channel: "#deploys", agent: "deploy-helper" } });
    expect(bound.status, bound.text).toBe(200);
    expect(bound.body).toMatchObject({ channel: "C0AB6CHAN1", name: "deploys", agent: "deploy-helper", mode: "mentions", project: null, status: "active", paused_reason: null });
    const rebound = await call("POST", "/v1/channels/bindings", { token: s.bob, body: { channel: "C0AB6CHAN1", agent: "triage", mode: "all" } });
    expect(rebound.body).toMatchObject({ channel: "C0AB6CHAN1", agent: "triage", mode: "all" });
    const list = await call("GET", "/v1/channels", { token: s.carol });
    expect(list.body.channels).toMatchObject([{ channel: "C0AB6CHAN1", agent: "triage", mode: "all" }]);
    const gone = await call("DELETE", "/v1/channels/bindings/C0AB6CHAN1", { token: s.alice });
    expect(gone.status, gone.text).toBe(200);
    expect(gone.body.deleted).toMatchObject({ channel: "C0AB6CHAN1", agent: "triage" });
    expectError(await call("DELETE", "/v1/channels/bindings/C0AB6CHAN1", { token: s.alice }), 404, "not_found", "path.channel");
    const audit = await vaultSql(s.org.id, `SELECT action, actor, target, detail FROM audit WHERE action LIKE 'channel.%' AND outcome = 'ok' ORDER BY seq`);
    expect(audit.map((a) => a.action)).toEqual(["channel.bind", "channel.rebind", "channel.unbind"]);
    expect(audit.every((a) => a.target === "channel:C0AB6CHAN1")).toBe(true);
  });

  it("binds the bot's DMs as `dm`", async () => {
    const res = await call("POST", "/v1/channels/bindings", { token: s.alice, body: { channel: "dm", agent: "dm-agent", mode: "all" } });
    expect(res.status, res.text).toBe(200);
    expect(res.body).toMatchObject({ channel: "dm", name: "direct messages", agent: "dm-agent" });
    expect((await call("DELETE", "/v1/channels/bindings/dm", { token: s.alice })).status).toBe(200);
    const again = await call("DELETE", "/v1/channels/bindings/dm", { token: s.alice });
    expectError(again, 404, "not_found", "path.channel");
    expect(again.body.error.message).toBe("No channel binding matches `dm`.");
  });

  it("follows the permissions of project credentials", async () => {
    mockSlack();
    await call("GET", "/v1/channels/available", { token: s.alice });
    // carol (builder) may not bind for the org or for support, where she is only a builder.
    expectError(await call("POST", "/v1/channels/bindings", { token: s.carol, body: { channel: "C0AB6CHAN1", agent: "a" } }), 403, "forbidden");
    expectError(await call("POST", "/v1/channels/bindings", { token: s.carol, body: { channel: "C0AB6CHAN1", agent: "a", project: "support" } }), 403, "forbidden");
    // dave administers growth: he may bind there, not for the org.
    expectError(await call("POST", "/v1/channels/bindings", { token: dave, body: { channel: "C0AB6CHAN1", agent: "a" } }), 403, "forbidden");
    const ok = await call("POST", "/v1/channels/bindings", { token: dave, body: { channel: "C0AB6CHAN1", agent: "growth-bot", project: "growth" } });
    expect(ok.status, ok.text).toBe(200);
    expect(ok.body.project).toBe("growth");
    // An admin of support taking over growth's channel is refused without learning the project's name.
    const pat = (await addMember(s.org.id, `pat-${uid(4)}@acme.test`, "builder", { support: "admin" })).token;
    const taken = await call("POST", "/v1/channels/bindings", { token: pat, body: { channel: "C0AB6CHAN1", agent: "a", project: "support" } });
    expectError(taken, 403, "forbidden");
    expect(taken.text).not.toContain("growth");
    // carol cannot see growth's binding, so she cannot learn it exists; dave can unbind it.
    expect((await call("GET", "/v1/channels", { token: s.carol })).body.channels).toEqual([]);
    expectError(await call("DELETE", "/v1/channels/bindings/C0AB6CHAN1", { token: s.carol }), 404, "not_found");
    // An admin moving the binding to the org: dave then may no longer change it.
    expect((await call("POST", "/v1/channels/bindings", { token: s.bob, body: { channel: "C0AB6CHAN1", agent: "org-bot" } })).status).toBe(200);
    expectError(await call("DELETE", "/v1/channels/bindings/C0AB6CHAN1", { token: dave }), 403, "forbidden");
    expect((await call("DELETE", "/v1/channels/bindings/C0AB6CHAN1", { token: s.alice })).status).toBe(200);
    const denied = await vaultSql(s.org.id, `SELECT action FROM audit WHERE action LIKE 'channel.%' AND outcome = 'denied'`);
    expect(denied.length).toBe(5);
  });

  it("names the field on bad input, and writes nothing", async () => {
    const before = JSON.stringify((await dumpVault(s.org.id)).slack_bindings);
    const post = (body: unknown) => call("POST", "/v1/channels/bindings", { token: s.alice, body });
    expectError(await post({ channel: "not a channel!", agent: "a" }), 400, "invalid_request", "channel");
    expectError(await post({ channel: "C0AB6CHAN1", agent: "Not A Slug" }), 400, "invalid_request", "agent");
    expectError(await post({ channel: "C0AB6CHAN1", agent: "a", mode: "sometimes" }), 400, "invalid_request", "mode");
    expectError(await post({ channel: "C0AB6CHAN1", agent: "a", project: "nope" }), 400, "invalid_request", "project");
    expectError(await post({ channel: "C0AB6CHAN1", agent: "a", extra: 1 }), 400, "invalid_request", "extra");
    expectError(await post({ agent: "a" }), 400, "invalid_request", "channel");
    expectError(await post({ channel: "C0UNKNOWN99", agent: "a" }), 400, "invalid_request", "channel");
    expectError(await post({ channel: "C0AB9NOTIN1", agent: "a" }), 400, "invalid_request", "channel");
    expectError(await call("POST", "/v1/channels/bindings", { token: s.alice, rawBody: "{", headers: { "content-type": "application/json" } }), 400, "invalid_request");
    expectError(await call("GET", "/v1/channels/sessions?limit=0", { token: s.alice }), 400, "invalid_request", "query.limit");
    expectError(await call("GET", "/v1/channels", {}), 401, "unauthorized");
    expect(JSON.stringify((await dumpVault(s.org.id)).slack_bindings)).toBe(before);
  });
});

describe("GET /v1/channels/sessions", () => {
  it("lists one session per thread, filtered by agent and by what the caller can see", async () => {
    const vault = vaultOf(s.org.id);
    await vault.bindChannel(s.alice, { channel: "C0AB6CHAN1", agent: "deploy-helper", mode: "all", project: "growth" });
    const msg = (id: string, ts: string, thread_ts: string | null) => ({
      kind: "message", route: "team:T0AB1CD2EF", app_id: "A0AB2AGNT7", event_id: id, event_type: "message", team_id: "T0AB1CD2EF",
      channel: "C0AB6CHAN1", channel_type: "channel", user: "U0AB4HUMN1", text: "hi", ts, thread_ts, bot_id: null, subtype: null,
    }) as const;
    expect((await vault.receiveSlackEvent(msg("Ev0S1", "1767225600.000100", null))).ok).toBe(true);
    expect((await vault.receiveSlackEvent(msg("Ev0S2", "1767225700.000100", "1767225600.000100"))).ok).toBe(true);
    expect((await vault.receiveSlackEvent(msg("Ev0S3", "1767225800.000100", null))).ok).toBe(true);
    const res = await call("GET", "/v1/channels/sessions?agent=deploy-helper", { token: dave });
    expect(res.status, res.text).toBe(200);
    expect(res.body.sessions.map((x: any) => [x.thread_ts, x.messages, x.project])).toEqual([["1767225800.000100", 1, "growth"], ["1767225600.000100", 2, "growth"]]);
    expect((await call("GET", "/v1/channels/sessions?agent=other", { token: s.alice })).body.sessions).toEqual([]);
    // carol is not in growth: its sessions are invisible to her.
    expect((await call("GET", "/v1/channels/sessions", { token: s.carol })).body.sessions).toEqual([]);
  });

  it("never stores or shows the bot token in plaintext", async () => {
    const dump = JSON.stringify(await dumpVault(s.org.id));
    expect(dump).not.toContain(BOT_TOKEN);
    const audit = await call("GET", "/v1/audit?action=slack.", { token: s.alice });
    expect(audit.body.entries.map((e: any) => e.action)).toContain("slack.install");
    expect(audit.text).not.toContain(BOT_TOKEN);
    const creds = await call("GET", "/v1/credentials?app=slack", { token: s.alice });
    expect(creds.body.credentials).toMatchObject([{ app: "slack", kind: "oauth", scope: { type: "org" }, status: "active", preview: null, account: { id: "T0AB1CD2EF", name: "acme-eng" } }]);
    expect(creds.text).not.toContain(BOT_TOKEN);
  });
});

describe("builders learn nothing they may not see (issue 11)", () => {
  it("/v1/channels/available masks bindings of projects the caller cannot see", async () => {
    mockSlack();
    const bound = await call("POST", "/v1/channels/bindings", { token: s.alice, body: { channel: "C0AB8PRIV01", agent: "growth-secret-agent", mode: "all", project: "growth" } });
    expect(bound.status, bound.text).toBe(200);
    const available = async (token: string) => {
      mockSlack();
      const res = await call("GET", "/v1/channels/available", { token });
      expect(res.status, res.text).toBe(200);
      return { text: res.text, channel: res.body.channels.find((c: any) => c.id === "C0AB8PRIV01") };
    };
    const carol = await available(s.carol);
    expect(carol.channel).toMatchObject({ bindable: false, binding: null, bound_elsewhere: true });
    expect(carol.text).not.toContain("growth-secret-agent");
    for (const token of [dave, s.alice]) {
      expect((await available(token)).channel).toMatchObject({ bindable: true, binding: { agent: "growth-secret-agent", mode: "all" }, bound_elsewhere: false });
    }
    expect((await call("DELETE", "/v1/channels/bindings/C0AB8PRIV01", { token: s.alice })).status).toBe(200);
  });

  it("binding a channel and explain check permission before existence: a builder cannot probe project names", async () => {
    const before = JSON.stringify((await dumpVault(s.org.id)).slack_bindings);
    const same = (a: any, b: any, x: string, y: string) => {
      expect([a.status, a.body.error.code, a.body.error.details?.field]).toEqual([b.status, b.body.error.code, b.body.error.details?.field]);
      expect(a.body.error.message.replace(x, "<p>")).toBe(b.body.error.message.replace(y, "<p>"));
    };
    const bind = (token: string, project: string) => call("POST", "/v1/channels/bindings", { token, body: { channel: "C0AB6CHAN1", agent: "a", project } });
    const real = await bind(s.carol, "growth");
    expectError(real, 403, "forbidden");
    same(real, await bind(s.carol, "no-such-project"), "growth", "no-such-project");
    expect(JSON.stringify((await dumpVault(s.org.id)).slack_bindings)).toBe(before);
    expectError(await bind(s.alice, "no-such-project"), 400, "invalid_request", "project");

    const explain = (token: string, extra: object) => call("POST", "/v1/resolve/explain", { token, body: { ...extra, requirements: [{ app: "exa" }] } });
    const growth = await explain(s.carol, { project: "growth" });
    expectError(growth, 403, "forbidden", "project");
    same(growth, await explain(s.carol, { project: "no-such-project" }), "growth", "no-such-project");
    const member = await explain(s.carol, { user: "alice@acme.test" });
    expectError(member, 403, "forbidden", "user");
    same(member, await explain(s.carol, { user: "nobody@nowhere.test" }), "", "");
    expect((await explain(s.carol, { user: "carol@acme.test" })).status).toBe(200);
    expectError(await explain(s.alice, { project: "no-such-project" }), 400, "invalid_request", "project");
  });
});
