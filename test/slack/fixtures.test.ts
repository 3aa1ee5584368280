import { env } from "cloudflare:workers";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { routeKvKey } from "../../lib/slack/routing";
import { signSlackBody } from "../../lib/slack/signature";
import { DEMO_SLACK_AGENT } from "../../workers/dev/src/seed";
import { drain, expectAck, fakeSlack, fixture, FIXTURES, inbox, mockOutbound, postEvent, posted, seed, VECTORS, vaultOf, vaultSql, type Outbound } from "./helpers";
import type { Seed } from "../api/helpers";

/**
 * shared/fixtures/slack/README.md's table, in its order, against the slack-events worker and the
 * demo org the dev seed makes (sandbox workspace T0AB1CD2EF, #deploys C0AB6CHAN1 bound to
 * `deploy-helper` in mode `all`). Every file is signed at the current time.
 */
let s: Seed;
let out: Outbound;
const ORDER = [
  "url_verification.json", "message_channel.json", "app_mention.json", "message_thread_reply.json", "bot_message.json", "message_deleted.json",
  "member_joined_channel_self.json", "channel_rename.json", "channel_archive.json", "app_uninstalled.json", "app_rate_limited.json",
];

beforeAll(async () => {
  await fakeSlack.reset();
  out = mockOutbound();
  s = await seed();
});
afterAll(() => vi.restoreAllMocks());

describe("the fixture copies", () => {
  it("are byte for byte the shared fixtures: the published signatures verify", async () => {
    expect(Object.keys(FIXTURES).sort()).toEqual([...ORDER].sort());
    for (const name of ORDER) {
      expect(await signSlackBody(VECTORS.signing_secret, VECTORS.timestamp, fixture(name)), name).toBe(VECTORS.files[`events/${name}`]);
    }
  });
});

describe("fixtures/slack README table", () => {
  it("url_verification: 200 with the challenge", async () => {
    const res = await postEvent(fixture("url_verification.json"));
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ challenge: "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P" });
  });

  let firstSession = "";
  it("message_channel: 200; one agent run; the reply in the thread of event.ts", async () => {
    expectAck(await postEvent(fixture("message_channel.json")));
    await drain(s.org.id);
    expect(out.agentCalls()).toHaveLength(1);
    const msgs = await posted();
    expect(msgs).toHaveLength(1);
    expect(msgs[0]).toMatchObject({ channel: "C0AB6CHAN1", thread_ts: "1767225600.000100" });
    expect(msgs[0]!.text).toContain(DEMO_SLACK_AGENT);
    expect(msgs[0]!.text).toContain("Deploy of build 4121 failed on staging, can someone look?");
    firstSession = out.agentCalls()[0]!.session_id;
    expect((await inbox(s.org.id)).map((r) => r.status)).toEqual(["replied"]);
  });

  it("app_mention: 200; one agent run", async () => {
    expectAck(await postEvent(fixture("app_mention.json")));
    await drain(s.org.id);
    expect(out.agentCalls()).toHaveLength(2);
    const msgs = await posted();
    expect(msgs).toHaveLength(2);
    expect(msgs[1]).toMatchObject({ channel: "C0AB6CHAN1", thread_ts: "1767225660.000200" });
    expect(out.agentCalls()[1]!.session_id).not.toBe(firstSession);
  });

  it("message_thread_reply: 200; continues the thread's session; the reply has the same thread_ts", async () => {
    expectAck(await postEvent(fixture("message_thread_reply.json")));
    await drain(s.org.id);
    expect(out.agentCalls()).toHaveLength(3);
    expect(out.agentCalls()[2]!.session_id).toBe(firstSession);
    const msgs = await posted();
    expect(msgs).toHaveLength(3);
    expect(msgs[2]).toMatchObject({ channel: "C0AB6CHAN1", thread_ts: "1767225600.000100" });
    const [session] = await vaultSql(s.org.id, `SELECT messages, replies FROM slack_sessions WHERE id = ?`, firstSession);
    expect(session).toEqual({ messages: 2, replies: 2 });
  });

  it("bot_message: 200; ignored (other bots)", async () => {
    expectAck(await postEvent(fixture("bot_message.json")));
    await drain(s.org.id);
    expect(out.agentCalls()).toHaveLength(3);
    expect(await posted()).toHaveLength(3);
    expect(await inbox(s.org.id)).toHaveLength(3);
  });

  it("message_deleted: 200; no agent run", async () => {
    expectAck(await postEvent(fixture("message_deleted.json")));
    await drain(s.org.id);
    expect(out.agentCalls()).toHaveLength(3);
    expect(await inbox(s.org.id)).toHaveLength(3);
  });

  it("member_joined_channel_self: 200; the channel shows up as bindable", async () => {
    const before = await vaultOf(s.org.id).listAvailableChannels(s.alice);
    expect(before.ok && before.value.channels.map((c) => c.id)).not.toContain("C0AB7OTHR2");
    expectAck(await postEvent(fixture("member_joined_channel_self.json")));
    const after = await vaultOf(s.org.id).listAvailableChannels(s.alice);
    if (!after.ok) throw new Error(JSON.stringify(after));
    expect(after.value.channels.find((c) => c.id === "C0AB7OTHR2")).toMatchObject({ is_member: true, bindable: true, binding: null });
  });

  it("channel_rename: 200; the binding keeps its channel id, its name is updated", async () => {
    expectAck(await postEvent(fixture("channel_rename.json")));
    const r = await vaultOf(s.org.id).listChannels(s.alice);
    if (!r.ok) throw new Error(JSON.stringify(r));
    expect(r.value.channels).toHaveLength(1);
    expect(r.value.channels[0]).toMatchObject({ channel: "C0AB6CHAN1", name: "deploys-staging", agent: DEMO_SLACK_AGENT, mode: "all", status: "active" });
  });

  it("channel_archive: 200; the binding is paused", async () => {
    expectAck(await postEvent(fixture("channel_archive.json")));
    const r = await vaultOf(s.org.id).listChannels(s.alice);
    if (!r.ok) throw new Error(JSON.stringify(r));
    expect(r.value.channels[0]).toMatchObject({ channel: "C0AB6CHAN1", status: "paused", paused_reason: "archived" });
  });

  it("app_uninstalled: 200; installation removed, bindings paused, no Slack API call", async () => {
    const [inst] = await vaultSql(s.org.id, `SELECT credential_id FROM slack_installations`);
    const slackCallsBefore = out.slackCalls().length;
    const urlsBefore = out.urls.length;
    expectAck(await postEvent(fixture("app_uninstalled.json")));
    await drain(s.org.id);
    expect(out.slackCalls()).toHaveLength(slackCallsBefore);
    expect(out.urls).toHaveLength(urlsBefore);
    const r = await vaultOf(s.org.id).listChannels(s.alice);
    if (!r.ok) throw new Error(JSON.stringify(r));
    expect(r.value.installations).toEqual([]);
    expect(r.value.channels[0]).toMatchObject({ channel: "C0AB6CHAN1", status: "paused", installation: { status: "removed" } });
    // The token is destroyed; the credential stays as revoked for the audit trail.
    expect(await vaultSql(s.org.id, `SELECT status FROM credentials WHERE id = ?`, String(inst!.credential_id))).toEqual([{ status: "revoked" }]);
    expect(await vaultSql(s.org.id, `SELECT * FROM secret_fields WHERE credential_id = ?`, String(inst!.credential_id))).toEqual([]);
    // Audit rows, so webhook events: the credential revoked with the app (slack.uninstall) and each binding's pause.
    expect(await vaultSql(s.org.id, `SELECT action, target FROM audit WHERE action IN ('slack.uninstall', 'channel.pause') AND (credential_id = ? OR target = 'channel:C0AB6CHAN1') ORDER BY seq DESC LIMIT 2`, String(inst!.credential_id)))
      .toEqual([{ action: "slack.uninstall", target: "team:T0AB1CD2EF" }, { action: "channel.pause", target: "channel:C0AB6CHAN1" }]);
    // The route is gone from the Directory and from KV.
    expect(await env.DIRECTORY.getByName("global").slackRoute("team:T0AB1CD2EF")).toBeNull();
    expect(await env.ROUTES.get(routeKvKey("team:T0AB1CD2EF"))).toBeNull();
    const audit = await vaultSql(s.org.id, `SELECT action, actor_kind FROM audit WHERE action = 'slack.uninstall'`);
    expect(audit).toEqual([{ action: "slack.uninstall", actor_kind: "system" }]);
  });

  it("app_rate_limited: 200; logged", async () => {
    const warn = vi.spyOn(console, "warn");
    expectAck(await postEvent(fixture("app_rate_limited.json")));
    expect(warn.mock.calls.some((c) => String(c[0]).includes("app_rate_limited"))).toBe(true);
  });

  it("after the table: exactly one chat.postMessage per expected run, and nothing else posted", async () => {
    expect(out.slackCalls().filter((m) => m === "chat.postMessage")).toHaveLength(3);
    expect((await posted()).map((m) => m.thread_ts)).toEqual(["1767225600.000100", "1767225660.000200", "1767225600.000100"]);
  });
});
