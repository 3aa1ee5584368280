/// <reference types="vite/client" />
import { describe, expect, it } from "vitest";
import { MessageHandoff } from "../../lib/schemas/slack";
import { classify, Envelope, routeKeysOf, toHandoff } from "../../lib/slack/envelope";
import { bindingChannelOf, decideTrigger, isOwnMessage } from "../../lib/slack/filters";

const files = import.meta.glob("../slack/fixtures/events/*.json", { query: "?raw", import: "default", eager: true }) as Record<string, string>;
const load = (name: string) => Envelope.parse(JSON.parse(files[`../slack/fixtures/events/${name}`]!));

describe("classify (the worker's pre-filter)", () => {
  it("sorts every fixture file", () => {
    const kinds = Object.fromEntries(
      ["url_verification", "message_channel", "app_mention", "message_thread_reply", "bot_message", "message_deleted", "member_joined_channel_self", "channel_rename", "channel_archive", "app_uninstalled", "app_rate_limited"].map((n) => {
        const c = classify(load(`${n}.json`));
        return [n, c.kind === "ignore" ? `ignore:${c.reason}` : c.kind === "lifecycle" ? `lifecycle:${c.event.type}` : c.kind];
      }),
    );
    expect(kinds).toEqual({
      url_verification: "url_verification",
      message_channel: "message",
      app_mention: "message",
      message_thread_reply: "message",
      bot_message: "ignore:subtype:bot_message",
      message_deleted: "ignore:subtype:message_deleted",
      member_joined_channel_self: "lifecycle:member_joined_channel",
      channel_rename: "lifecycle:channel_rename",
      channel_archive: "lifecycle:channel_archive",
      app_uninstalled: "lifecycle:app_uninstalled",
      app_rate_limited: "rate_limited",
    });
  });

  it("keeps the thread of a reply and makes a valid hand-off", () => {
    const c = classify(load("message_thread_reply.json"));
    if (c.kind !== "message") throw new Error(c.kind);
    const h = MessageHandoff.parse(toHandoff(c, "team:T0AB1CD2EF", "A0AB2AGNT7", "Ev0AB9THR004"));
    expect(h).toMatchObject({ channel: "C0AB6CHAN1", ts: "1767225720.000300", thread_ts: "1767225600.000100", user: "U0AB5HUMN2" });
  });

  it("drops bots even without the bot_message subtype, edits, and people joining", () => {
    const base = load("message_channel.json");
    const withEvent = (event: Record<string, unknown>) => classify({ ...base, event: { ...base.event, ...event } });
    expect(withEvent({ bot_id: "B0AB3BOT01" })).toEqual({ kind: "ignore", reason: "bot" });
    expect(withEvent({ bot_profile: { app_id: "A0AB2AGNT7" } })).toEqual({ kind: "ignore", reason: "bot" });
    expect(withEvent({ user: "U0AB3BOT01" })).toEqual({ kind: "ignore", reason: "own" });
    expect(withEvent({ subtype: "message_changed" })).toEqual({ kind: "ignore", reason: "subtype:message_changed" });
    expect(withEvent({ subtype: "thread_broadcast" }).kind).toBe("message");
    const join = load("member_joined_channel_self.json");
    expect(classify({ ...join, event: { ...join.event, user: "U0AB4HUMN1" } })).toEqual({ kind: "ignore", reason: "member_joined_channel:not_bot" });
    expect(classify({ ...base, event: { type: "reaction_added" } })).toEqual({ kind: "ignore", reason: "unhandled:reaction_added" });
  });
});

describe("routeKeysOf", () => {
  it("keys a workspace install by team", () => {
    expect(routeKeysOf(load("message_channel.json"))).toEqual(["team:T0AB1CD2EF"]);
  });
  it("keys an org-wide install by enterprise, never by the event's workspace", () => {
    const env = { ...load("message_channel.json"), team_id: "T0WORKSPC22", enterprise_id: "E0AB1GRID1", authorizations: [{ enterprise_id: "E0AB1GRID1", team_id: null, user_id: "U0X", is_bot: true, is_enterprise_install: true }] };
    expect(routeKeysOf(env)).toEqual(["enterprise:E0AB1GRID1"]);
  });
  it("a single-workspace install inside a Grid org is still keyed by team", () => {
    const env = { ...load("message_channel.json"), enterprise_id: "E0AB1GRID1", authorizations: [{ enterprise_id: "E0AB1GRID1", team_id: "T0AB1CD2EF", is_enterprise_install: false }] };
    expect(routeKeysOf(env)).toEqual(["team:T0AB1CD2EF"]);
  });
  it("app_uninstalled (no authorizations) tries the team, then the enterprise", () => {
    expect(routeKeysOf(load("app_uninstalled.json"))).toEqual(["team:T0AB1CD2EF"]);
    expect(routeKeysOf({ ...load("app_uninstalled.json"), enterprise_id: "E0AB1GRID1" })).toEqual(["team:T0AB1CD2EF", "enterprise:E0AB1GRID1"]);
  });
});

describe("decideTrigger (inside the vault)", () => {
  const ids = { botUserId: "U0AB3BOT01", botId: "B0AB3BOT01" };
  const msg = (over: Partial<MessageHandoff> = {}): MessageHandoff => ({
    kind: "message", route: "team:T0AB1CD2EF", app_id: "A0AB2AGNT7", event_id: "Ev1", event_type: "message", team_id: "T0AB1CD2EF",
    channel: "C0AB6CHAN1", channel_type: "channel", user: "U0AB4HUMN1", text: "hello", ts: "1.000100", thread_ts: null, bot_id: null, subtype: null, ...over,
  });
  const all = { agent: "a", mode: "all" as const, status: "active" as const };
  const mentions = { ...all, mode: "mentions" as const };

  it("own messages by bot user id or bot id", () => {
    expect(isOwnMessage(msg({ user: "U0AB3BOT01" }), ids)).toBe(true);
    expect(isOwnMessage(msg({ bot_id: "B0AB3BOT01" }), ids)).toBe(true);
    expect(decideTrigger(msg({ user: "U0AB3BOT01" }), ids, all)).toEqual({ run: false, reason: "own_message" });
    expect(decideTrigger(msg({ bot_id: "B0OTHER" }), ids, all)).toEqual({ run: false, reason: "other_bot" });
  });
  it("listen modes", () => {
    expect(decideTrigger(msg(), ids, all)).toMatchObject({ run: true });
    expect(decideTrigger(msg(), ids, mentions)).toEqual({ run: false, reason: "not_mentioned" });
    expect(decideTrigger(msg({ text: "hi <@U0AB3BOT01>" }), ids, mentions)).toMatchObject({ run: true, mentioned: true });
    expect(decideTrigger(msg({ text: "hi <@U0AB3BOT01|agent-bot>" }), ids, mentions)).toMatchObject({ run: true, mentioned: true });
    expect(decideTrigger(msg({ event_type: "app_mention" }), ids, mentions)).toMatchObject({ run: true });
    expect(decideTrigger(msg({ channel: "D0AB9DIRECT", channel_type: "im" }), ids, mentions)).toMatchObject({ run: true, direct: true });
    expect(decideTrigger(msg(), ids, null)).toEqual({ run: false, reason: "unbound_channel" });
    expect(decideTrigger(msg(), ids, { ...all, status: "paused" })).toEqual({ run: false, reason: "binding_paused" });
  });
  it("DMs bind as one target", () => {
    expect(bindingChannelOf({ channel: "D0AB9DIRECT", channel_type: "im" })).toBe("dm");
    expect(bindingChannelOf({ channel: "C0AB6CHAN1", channel_type: "channel" })).toBe("C0AB6CHAN1");
  });
});
