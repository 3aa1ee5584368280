import { reset, runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { routeKvKey } from "../../lib/slack/routing";
import { sandboxAgent } from "../../workers/dev/src/sandbox/agent";
import { drain, expectAck, fakeSlack, fixture, inbox, installSlackIn, mockOutbound, postEvent, posted, seed, vaultOf, vaultSql } from "./helpers";

/** Delivery from the vault's alarm: retries, Retry-After, Slack's errors as state, ordering, listen modes. */
beforeEach(async () => { await fakeSlack.reset(); });
afterEach(async () => {
  vi.restoreAllMocks();
  await reset();
});

let n = 0;
/** A fresh human message in #deploys (unique ts and event id). */
function message(opts: { text?: string; thread_ts?: string; channel?: string; channel_type?: string; type?: "message" | "app_mention" } = {}) {
  const body = JSON.parse(fixture("message_channel.json"));
  n++;
  body.event_id = `Ev0DLV${String(n).padStart(6, "0")}`;
  body.event.ts = `17673${String(n).padStart(5, "0")}.000100`;
  body.event.text = opts.text ?? `question ${n}`;
  body.event.type = opts.type ?? "message";
  if (opts.thread_ts) body.event.thread_ts = opts.thread_ts;
  if (opts.channel) body.event.channel = opts.channel;
  if (opts.channel_type) body.event.channel_type = opts.channel_type;
  return { raw: JSON.stringify(body), ts: body.event.ts as string };
}

describe("retries", () => {
  it("429 Retry-After on chat.postMessage: waits as told, then posts once; the agent ran once", async () => {
    const out = mockOutbound();
    const s = await seed();
    await fakeSlack.fault({ method: "chat.postMessage", status: 429, retry_after: 5, times: 1 });
    const m = message();
    const sent = Date.now();
    expectAck(await postEvent(m.raw));
    await drain(s.org.id);
    const [row] = await vaultSql(s.org.id, `SELECT status, attempts, next_attempt_at, last_error, reply_text IS NOT NULL AS has_reply FROM slack_inbox`);
    expect(row).toMatchObject({ status: "pending", attempts: 0, last_error: "http_429", has_reply: 1 });
    expect(Number(row!.next_attempt_at)).toBeGreaterThanOrEqual(sent + 4_900);
    expect(Number(row!.next_attempt_at)).toBeLessThan(Date.now() + 5_500);
    expect(await posted()).toEqual([]);
    // Time travel instead of waiting the 5 s out.
    await vaultSql(s.org.id, `UPDATE slack_inbox SET next_attempt_at = 0`);
    await drain(s.org.id);
    expect(await posted()).toHaveLength(1);
    expect(out.agentCalls()).toHaveLength(1);
    expect(out.slackCalls().filter((c) => c === "chat.postMessage")).toHaveLength(2);
  });

  it("an agent 5xx is retried with backoff; after MAX attempts the message fails", async () => {
    let fail = 1;
    mockOutbound((req) => (req.url.includes("/_sandbox/agent/") && fail-- > 0 ? new Response("boom", { status: 503 }) : undefined));
    const s = await seed();
    expectAck(await postEvent(message().raw));
    await drain(s.org.id);
    const [row] = await vaultSql(s.org.id, `SELECT status, attempts, last_error FROM slack_inbox`);
    expect(row).toMatchObject({ status: "pending", attempts: 1, last_error: "http_503" });
    await vaultSql(s.org.id, `UPDATE slack_inbox SET next_attempt_at = 0`);
    await drain(s.org.id);
    expect((await inbox(s.org.id))[0]).toMatchObject({ status: "replied", attempts: 2 });
    expect(await posted()).toHaveLength(1);

    fail = 100;
    expectAck(await postEvent(message().raw));
    for (let i = 0; i < 6; i++) {
      await drain(s.org.id);
      await vaultSql(s.org.id, `UPDATE slack_inbox SET next_attempt_at = 0 WHERE status = 'pending'`);
    }
    await drain(s.org.id);
    expect((await inbox(s.org.id))[1]).toMatchObject({ status: "failed", attempts: 6, last_error: "http_503" });
    expect(await posted()).toHaveLength(1);
  });
});

describe("Slack's {ok:false} errors become state", () => {
  for (const error of ["not_in_channel", "channel_not_found", "is_archived"]) {
    it(`${error}: the binding pauses; nothing retried`, async () => {
      const out = mockOutbound();
      const s = await seed();
      await fakeSlack.fault({ method: "chat.postMessage", error, times: 1 });
      expectAck(await postEvent(message().raw));
      await drain(s.org.id);
      expect((await inbox(s.org.id))[0]).toMatchObject({ status: "failed", last_error: error });
      expect(await vaultSql(s.org.id, `SELECT status, paused_reason FROM slack_bindings`)).toEqual([{ status: "paused", paused_reason: error }]);
      // The next message in the channel does not start a run while paused.
      expectAck(await postEvent(message().raw));
      await drain(s.org.id);
      expect(out.agentCalls()).toHaveLength(1);
      expect(await inbox(s.org.id)).toHaveLength(1);
    });
  }

  for (const error of ["invalid_auth", "token_revoked", "account_inactive"]) {
    it(`${error}: the installation is disabled, its bindings paused, the credential needs reauth`, async () => {
      mockOutbound();
      const s = await seed();
      await fakeSlack.fault({ method: "chat.postMessage", error, times: 1 });
      expectAck(await postEvent(message().raw));
      await drain(s.org.id);
      expect(await vaultSql(s.org.id, `SELECT status, disabled_reason FROM slack_installations`)).toEqual([{ status: "disabled", disabled_reason: error }]);
      expect(await vaultSql(s.org.id, `SELECT status, paused_reason FROM slack_bindings`)).toEqual([{ status: "paused", paused_reason: "installation_disabled" }]);
      expect(await vaultSql(s.org.id, `SELECT status, status_reason, last_error_code FROM credentials WHERE app = 'slack'`)).toEqual([{ status: "needs_reauth", status_reason: "token_refused", last_error_code: "unauthorized" }]);
      // Each change is an audit row, so a webhook event: the credential's health and the binding's pause.
      const trail = async () => (await vaultSql(s.org.id, `SELECT action, target FROM audit WHERE action IN ('credential.needs_reauth', 'channel.pause', 'channel.resume') ORDER BY seq`)).map((r) => [r.action, r.target]);
      const marked = await trail();
      expect(marked.map((r) => r[0])).toEqual(["credential.needs_reauth", "channel.pause"]);
      expect(marked[1]).toEqual(["channel.pause", "channel:C0AB6CHAN1"]);
      // Reconnecting (a reinstall) brings the installation and its bindings back.
      await seed();
      expect(await vaultSql(s.org.id, `SELECT status FROM slack_installations`)).toEqual([{ status: "active" }]);
      expect(await vaultSql(s.org.id, `SELECT status, paused_reason FROM slack_bindings`)).toEqual([{ status: "active", paused_reason: null }]);
      expect((await trail()).at(-1)).toEqual(["channel.resume", "channel:C0AB6CHAN1"]);
    });
  }
});

describe("sessions and order", () => {
  it("a thread's messages are answered one at a time, in order, in one session", async () => {
    const out = mockOutbound();
    const s = await seed();
    const top = message({ text: "first" });
    expectAck(await postEvent(top.raw));
    expectAck(await postEvent(message({ text: "second", thread_ts: top.ts }).raw));
    expectAck(await postEvent(message({ text: "third", thread_ts: top.ts }).raw));
    await drain(s.org.id);
    const calls = out.agentCalls();
    expect(calls.map((c) => c.text)).toEqual(["first", "second", "third"]);
    expect(new Set(calls.map((c) => c.session_id)).size).toBe(1);
    expect((await posted()).map((m) => [m.thread_ts, m.text.includes("first") ? 1 : m.text.includes("second") ? 2 : 3])).toEqual([[top.ts, 1], [top.ts, 2], [top.ts, 3]]);
    const sessions = await vaultOf(s.org.id).listSlackSessions(s.alice, { agent: "deploy-helper" });
    expect(sessions.ok && sessions.value.sessions).toMatchObject([{ thread_ts: top.ts, messages: 3, replies: 3, channel: "C0AB6CHAN1" }]);
  });
});

describe("listen modes and filters", () => {
  it("mode mentions answers mentions only; own messages (bot user id, no subtype) never run", async () => {
    const out = mockOutbound();
    const s = await seed();
    const bound = await vaultOf(s.org.id).bindChannel(s.alice, { channel: "C0AB6CHAN1", agent: "deploy-helper", mode: "mentions" });
    expect(bound.ok).toBe(true);
    expectAck(await postEvent(message({ text: "no mention here" }).raw));
    expectAck(await postEvent(message({ text: "hey <@U0AB3BOT01> look" }).raw));
    expectAck(await postEvent(message({ text: "via app_mention", type: "app_mention" }).raw));
    // Our own reply echoed back: user is the bot user, no subtype, no bot_id.
    const own = JSON.parse(message({ text: "<@U0AB3BOT01> echo of our own reply" }).raw);
    own.event.user = "U0AB3BOT01";
    expectAck(await postEvent(JSON.stringify(own)));
    await drain(s.org.id);
    expect(out.agentCalls().map((c) => c.text)).toEqual(["hey <@U0AB3BOT01> look", "via app_mention"]);
  });

  it("a DM binding answers direct messages whatever the mode", async () => {
    const out = mockOutbound();
    const s = await seed();
    const vault = vaultOf(s.org.id);
    expect((await vault.bindChannel(s.alice, { channel: "dm", agent: "dm-agent", mode: "mentions" })).ok).toBe(true);
    expectAck(await postEvent(message({ text: "hi in a DM", channel: "D0AB9DIRECT", channel_type: "im" }).raw));
    await drain(s.org.id);
    expect(out.agentCalls()).toMatchObject([{ agent: "dm-agent", text: "hi in a DM" }]);
    expect((await posted())[0]).toMatchObject({ channel: "D0AB9DIRECT" });
    // Its session is found under `dm`, as the binding is.
    const sessions = await vault.listSlackSessions(s.alice, { channel: "dm" });
    expect(sessions.ok && sessions.value.sessions).toMatchObject([{ agent: "dm-agent", channel: "D0AB9DIRECT", messages: 1 }]);
  });
});

describe("lifecycle", () => {
  it("tokens_revoked for the bot removes the installation without calling Slack; user tokens only are ignored", async () => {
    const out = mockOutbound();
    const s = await seed();
    const revoked = (bot: string[], oauth: string[], id: string) => JSON.stringify({
      token: "x", team_id: "T0AB1CD2EF", api_app_id: "A0AB2AGNT7", type: "event_callback", event_id: id, event_time: 1767226300,
      event: { type: "tokens_revoked", tokens: { oauth, bot } },
    });
    expectAck(await postEvent(revoked([], ["U0AB4HUMN1"], "Ev0REV000001")));
    expect(await vaultSql(s.org.id, `SELECT status FROM slack_installations`)).toEqual([{ status: "active" }]);
    expectAck(await postEvent(revoked(["U0AB3BOT01"], [], "Ev0REV000002")));
    expect(await vaultSql(s.org.id, `SELECT * FROM slack_installations`)).toEqual([]);
    expect(await vaultSql(s.org.id, `SELECT status, paused_reason FROM slack_bindings`)).toEqual([{ status: "paused", paused_reason: "tokens_revoked" }]);
    expect(out.urls).toEqual([]);
  });

  it("an uninstall whose route release fails is still acknowledged; the alarm gives the route back later", async () => {
    mockOutbound();
    const s = await seed();
    const real = env.DIRECTORY;
    let failures = 1;
    const flaky = { getByName: (name: string) => {
      const d = real.getByName(name);
      return new Proxy(d, { get: (t, k) => (k === "releaseSlackRoute" && failures-- > 0 ? () => Promise.reject(new Error("the Directory is overloaded")) : Reflect.get(t, k)) });
    } };
    const setDirectory = (directory: unknown) => runInDurableObject(vaultOf(s.org.id), (instance) => {
      const vault = instance as unknown as { env: Record<string, unknown> };
      vault.env = { ...vault.env, DIRECTORY: directory };
    });
    await setDirectory(flaky);
    try {
      expectAck(await postEvent(fixture("app_uninstalled.json")));
      expect(await vaultSql(s.org.id, `SELECT * FROM slack_installations`)).toEqual([]);
      expect(await real.getByName("global").slackRoute("team:T0AB1CD2EF")).not.toBeNull();
      expect(await vaultSql(s.org.id, `SELECT value FROM settings WHERE key LIKE 'slack_route_release:%'`)).toEqual([{ value: "team:T0AB1CD2EF" }]);
      await runDurableObjectAlarm(vaultOf(s.org.id));
      expect(await real.getByName("global").slackRoute("team:T0AB1CD2EF")).toBeNull();
      expect(await vaultSql(s.org.id, `SELECT value FROM settings WHERE key LIKE 'slack_route_release:%'`)).toEqual([]);
    } finally {
      await setDirectory(real);
    }
  });

  it("unarchive resumes, delete removes the binding, the bot leaving pauses it", async () => {
    mockOutbound();
    const s = await seed();
    const ev = (type: string, id: string, extra: Record<string, unknown> = {}) => {
      const body = JSON.parse(fixture("channel_archive.json"));
      body.event = { type, channel: "C0AB6CHAN1", ...extra };
      body.event_id = id;
      return JSON.stringify(body);
    };
    const binding = async () => vaultSql(s.org.id, `SELECT status, paused_reason FROM slack_bindings`);
    expectAck(await postEvent(fixture("channel_archive.json")));
    expect(await binding()).toEqual([{ status: "paused", paused_reason: "archived" }]);
    expectAck(await postEvent(ev("channel_unarchive", "Ev0LC0000001")));
    expect(await binding()).toEqual([{ status: "active", paused_reason: null }]);
    expectAck(await postEvent(ev("member_left_channel", "Ev0LC0000002", { user: "U0AB3BOT01" })));
    expect(await binding()).toEqual([{ status: "paused", paused_reason: "not_in_channel" }]);
    expectAck(await postEvent(ev("member_joined_channel", "Ev0LC0000003", { user: "U0AB3BOT01", channel_type: "C" })));
    expect(await binding()).toEqual([{ status: "active", paused_reason: null }]);
    expectAck(await postEvent(ev("channel_deleted", "Ev0LC0000004")));
    expect(await binding()).toEqual([]);
    const audit = await vaultSql(s.org.id, `SELECT action FROM audit WHERE action LIKE 'channel.%' ORDER BY seq`);
    expect(audit.map((a) => a.action)).toEqual(["channel.pause", "channel.resume", "channel.pause", "channel.resume", "channel.remove"]);
  });
});

describe("routing", () => {
  it("a KV miss falls back to the Directory and re-fills KV", async () => {
    mockOutbound();
    const s = await seed();
    await env.ROUTES.delete(routeKvKey("team:T0AB1CD2EF"));
    expectAck(await postEvent(message().raw));
    await drain(s.org.id);
    expect(await posted()).toHaveLength(1);
    await vi.waitFor(async () => expect(await env.ROUTES.get(routeKvKey("team:T0AB1CD2EF"))).toBe(s.org.id));
  });

  it("an org-wide (Enterprise Grid) install routes by enterprise id, whatever workspace the event comes from", async () => {
    const out = mockOutbound();
    const s = await seed();
    const vault = vaultOf(s.org.id);
    const installed = await installSlackIn(s.org.id, {
      appId: "A0AB2AGNT7", teamId: null, enterpriseId: "E0AB1GRID1", enterpriseName: "Acme Grid", isEnterpriseInstall: true,
      botUserId: "U0GRIDBOT1", botId: "B0GRIDBOT1", botToken: "xoxb-sandbox-grid-token-0001", scopes: ["chat:write"],
    });
    expect(installed).toMatchObject({ ok: true, value: { route: "enterprise:E0AB1GRID1", team_id: null, enterprise_id: "E0AB1GRID1" } });
    await vaultSql(s.org.id, `INSERT INTO slack_channels (route_key, channel_id, name, is_member, updated_at) VALUES ('enterprise:E0AB1GRID1', 'C0GRIDCHAN1', 'grid-ops', 1, 0)`);
    expect((await vault.bindChannel(s.alice, { channel: "#grid-ops", agent: "grid-agent", mode: "all" })).ok).toBe(true);
    const body = JSON.parse(message({ channel: "C0GRIDCHAN1" }).raw);
    body.team_id = "T0WORKSPC22";
    body.enterprise_id = "E0AB1GRID1";
    body.authorizations = [{ enterprise_id: "E0AB1GRID1", team_id: null, user_id: "U0GRIDBOT1", is_bot: true, is_enterprise_install: true }];
    expectAck(await postEvent(JSON.stringify(body)));
    await drain(s.org.id);
    expect(out.agentCalls()).toMatchObject([{ agent: "grid-agent" }]);
    expect((await posted())[0]).toMatchObject({ channel: "C0GRIDCHAN1" });
  });

  it("a workspace already connected to another org is refused at install", async () => {
    mockOutbound();
    await seed();
    const other = await env.DIRECTORY.getByName("global").ensureOrg("other-org", "Other");
    const vault = vaultOf(other.id);
    await vault.provision({ org: { id: other.id, slug: other.slug, name: other.name }, members: [], projects: [], tokens: [] });
    const r = await installSlackIn(other.id, {
      appId: "A0AB2AGNT7", teamId: "T0AB1CD2EF", enterpriseId: null, isEnterpriseInstall: false,
      botUserId: "U0AB3BOT01", botId: "B0AB3BOT01", botToken: "xoxb-sandbox-other", scopes: [],
    });
    expect(r).toMatchObject({ ok: false, status: 409, error: { code: "conflict" } });
    expect(JSON.stringify(r)).not.toContain("xoxb-sandbox-other");
  });
});

/** Sets keys of the vault instance's env (the DO runs in this isolate). */
const setVaultEnv = (orgId: string, extra: Record<string, string | undefined>) =>
  runInDurableObject(vaultOf(orgId), (instance) => {
    const vault = instance as unknown as { env: Record<string, unknown> };
    vault.env = { ...vault.env, ...extra };
  });

describe("the agent runtime's shared secret (issue 11 item 13)", () => {
  it("every agent call carries Authorization: Bearer <AGENT_RUNTIME_TOKEN>; without the secret configured nothing is sent", async () => {
    const auth: (string | null)[] = [];
    const out = mockOutbound((req) => {
      if (req.url.includes("/_sandbox/agent/agents/")) auth.push(req.headers.get("authorization"));
      return undefined;
    });
    const s = await seed();
    expectAck(await postEvent(message().raw));
    await drain(s.org.id);
    expect(auth).toEqual([`Bearer ${env.AGENT_RUNTIME_TOKEN}`]);
    expect(await posted()).toHaveLength(1);

    // The echo agent refuses a call without it, as a real runtime would.
    const anonymous = await sandboxAgent.fetch(new Request("http://localhost/agents/x/messages", { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ session_id: "s", text: "hi" }) }), env);
    expect(anonymous.status).toBe(401);

    await setVaultEnv(s.org.id, { AGENT_RUNTIME_TOKEN: "" });
    expectAck(await postEvent(message().raw));
    await drain(s.org.id);
    expect((await inbox(s.org.id))[1]).toMatchObject({ status: "failed", last_error: "agent_runtime_token_not_configured" });
    expect(out.agentCalls()).toHaveLength(1);
  });
});

describe("a provider that hangs (issue 11 item 6)", () => {
  it("a token refresh whose endpoint never answers does not hold up Slack replies", async () => {
    let refreshCalls = 0;
    let unblock: (r: Response) => void = () => undefined;
    const hanging = new Promise<Response>((r) => { unblock = r; });
    mockOutbound((req) => {
      if (new URL(req.url).pathname === "/_sandbox/oauth/slack/token") {
        refreshCalls++;
        return hanging;
      }
      return undefined;
    });
    const s = await seed();
    await setVaultEnv(s.org.id, { OUTBOUND_TIMEOUT_MS: "2000" });
    // A rotating bot token due for the alarm's refresh (within 10 minutes) but still valid to post with.
    const installed = await installSlackIn(s.org.id, {
      appId: "A0AB2AGNT7", teamId: "T0AB1CD2EF", enterpriseId: null, isEnterpriseInstall: false,
      botUserId: "U0AB3BOT01", botId: "B0AB3BOT01", botToken: "xoxe.xoxb-hang-1", botRefreshToken: "xoxe-refresh-hang-1",
      botTokenExpiresAt: Date.now() + 8 * 60_000, scopes: ["chat:write"],
    });
    expect(installed.ok).toBe(true);
    try {
      expectAck(await postEvent(message().raw));
      const started = Date.now();
      const alarm = runDurableObjectAlarm(vaultOf(s.org.id));
      // The reply goes out while the refresh still hangs (it gives up only after 2 s).
      await vi.waitFor(async () => expect(await posted()).toHaveLength(1), { timeout: 1_500, interval: 20 });
      expect(Date.now() - started).toBeLessThan(1_500);
      expect(refreshCalls).toBe(1);
      await alarm;
      // The alarm itself ends once the refresh times out; the credential is not marked.
      expect(await vaultSql(s.org.id, `SELECT status FROM credentials WHERE app = 'slack'`)).toEqual([{ status: "active" }]);
    } finally {
      unblock(new Response("gone", { status: 503 }));
    }
  });
});
