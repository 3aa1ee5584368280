import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { drain, expectAck, fakeSlack, fixture, inbox, mockOutbound, postEvent, posted, seed, vaultOf, vaultSql } from "./helpers";

/**
 * "Exactly one reply": Slack retries (same event id) and double deliveries of one message
 * (app_mention + message, different event ids) race each other into the vault's claim.
 */
beforeEach(async () => { await fakeSlack.reset(); });
afterEach(() => vi.restoreAllMocks());

const withEventId = (body: string, id: string) => body.replace(/"event_id": "[^"]+"/, `"event_id": "${id}"`);

describe("de-duplication", () => {
  it("three retries and a different event id for the same channel + ts, all at once: exactly one reply", async () => {
    const out = mockOutbound();
    const s = await seed();
    const body = fixture("message_channel.json");
    const results = await Promise.all([
      postEvent(body),
      postEvent(body, { headers: { "x-slack-retry-num": "1", "x-slack-retry-reason": "http_timeout" } }),
      postEvent(body, { headers: { "x-slack-retry-num": "2", "x-slack-retry-reason": "http_timeout" } }),
      postEvent(body, { headers: { "x-slack-retry-num": "3", "x-slack-retry-reason": "http_error" } }),
      postEvent(withEventId(body, "Ev0AB9OTHER9")),
    ]);
    for (const r of results) expectAck(r);
    await drain(s.org.id);
    expect(await posted()).toHaveLength(1);
    expect(out.agentCalls()).toHaveLength(1);
    expect(out.slackCalls().filter((m) => m === "chat.postMessage")).toHaveLength(1);
    expect(await inbox(s.org.id)).toHaveLength(1);
    // Both event ids were claimed; the message once.
    const seen = await vaultSql(s.org.id, `SELECT event_id FROM slack_events_seen ORDER BY event_id`);
    expect(seen.map((r) => r.event_id)).toEqual(["Ev0AB9MSG001", "Ev0AB9OTHER9"]);

    // Sent again later, one by one, after the reply went out: still one.
    expectAck(await postEvent(body, { headers: { "x-slack-retry-num": "3" } }));
    expectAck(await postEvent(withEventId(body, "Ev0AB9OTHER8")));
    await drain(s.org.id);
    expect(await posted()).toHaveLength(1);
  });

  it("the vault answers which claim caught the duplicate", async () => {
    mockOutbound();
    const s = await seed();
    const vault = vaultOf(s.org.id);
    const handoff = {
      kind: "message", route: "team:T0AB1CD2EF", app_id: "A0AB2AGNT7", event_id: "Ev0DIRECT0001", event_type: "message", team_id: "T0AB1CD2EF",
      channel: "C0AB6CHAN1", channel_type: "channel", user: "U0AB4HUMN1", text: "hello", ts: "1767300000.000100", thread_ts: null, bot_id: null, subtype: null,
    } as const;
    const first = await vault.receiveSlackEvent(handoff);
    expect(first.ok && first.value.outcome).toBe("accepted");
    expect(await vault.receiveSlackEvent(handoff)).toMatchObject({ ok: true, value: { outcome: "duplicate", by: "event_id" } });
    expect(await vault.receiveSlackEvent({ ...handoff, event_id: "Ev0DIRECT0002", event_type: "app_mention" })).toMatchObject({ ok: true, value: { outcome: "duplicate", by: "message" } });
    await drain(s.org.id);
    expect(await posted()).toHaveLength(1);
  });

  it("a malformed hand-off is refused by the vault with the field named", async () => {
    const s = await seed();
    const r = await vaultOf(s.org.id).receiveSlackEvent({ kind: "message", route: "team:T0AB1CD2EF" });
    expect(r).toMatchObject({ ok: false, status: 400, error: { code: "invalid_request" } });
  });
});
