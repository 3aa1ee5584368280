import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { signSlackBody } from "../../lib/slack/signature";
import { drain, expectAck, fakeSlack, fixture, FIXTURES, inbox, mockOutbound, postEvent, posted, PREVIOUS_SECRET, seed, vaultSql, type Outbound } from "./helpers";
import type { Seed } from "../api/helpers";

/** The README's negative cases every suite needs, plus the worker's other refusals. */
let s: Seed;
let out: Outbound;
const now = () => Math.floor(Date.now() / 1000);
const body = () => fixture("message_channel.json");

function expectUnauthorized(res: { status: number; body: any; text: string }) {
  expect(res.status, res.text).toBe(401);
  expect(res.body.error.code).toBe("unauthorized");
  expect(res.text).not.toContain("fixture-signing-secret");
}

beforeAll(async () => {
  await fakeSlack.reset();
  out = mockOutbound();
  s = await seed();
});
afterAll(() => vi.restoreAllMocks());

describe("signature", () => {
  it("refuses a timestamp more than 300 s old or ahead, and accepts one just inside", async () => {
    expectUnauthorized(await postEvent(body(), { at: now() - 301 }));
    expectUnauthorized(await postEvent(body(), { at: now() + 301 }));
    expectUnauthorized(await postEvent(body(), { at: now() - 3600 }));
    const inside = await postEvent(fixture("url_verification.json"), { at: now() - 290 });
    expect(inside.status).toBe(200);
    const ahead = await postEvent(fixture("url_verification.json"), { at: now() + 290 });
    expect(ahead.status).toBe(200);
  });

  it("refuses a tampered body", async () => {
    const ts = String(now());
    const signature = await signSlackBody("fixture-signing-secret-0123456789abcdef", ts, body());
    const tampered = body().replace("build 4121", "build 4122");
    expectUnauthorized(await postEvent(tampered, { signature, timestamp: ts }));
    // One byte more (a trailing space) is tampering too: the HMAC is over the exact bytes.
    expectUnauthorized(await postEvent(body() + " ", { signature, timestamp: ts }));
  });

  it("refuses missing headers", async () => {
    expectUnauthorized(await postEvent(body(), { signature: null }));
    expectUnauthorized(await postEvent(body(), { timestamp: null }));
    expectUnauthorized(await postEvent(body(), { signature: null, timestamp: null }));
    expectUnauthorized(await postEvent(body(), { timestamp: "not-a-number" }));
  });

  it("refuses a v1= prefix and malformed signatures", async () => {
    const ts = String(now());
    const good = await signSlackBody("fixture-signing-secret-0123456789abcdef", ts, body());
    expectUnauthorized(await postEvent(body(), { signature: good.replace("v0=", "v1="), timestamp: ts }));
    expectUnauthorized(await postEvent(body(), { signature: good.slice(3), timestamp: ts }));
    expectUnauthorized(await postEvent(body(), { signature: good.toUpperCase().replace("V0=", "v0="), timestamp: ts }));
    expectUnauthorized(await postEvent(body(), { signature: good.slice(0, -2), timestamp: ts }));
  });

  it("refuses a signature made with another secret, accepts the previous one (rotation)", async () => {
    expectUnauthorized(await postEvent(body(), { secret: "some-other-secret" }));
    const res = await postEvent(fixture("url_verification.json"), { secret: PREVIOUS_SECRET });
    expect(res.status).toBe(200);
    expect(res.body.challenge).toBeTruthy();
  });

  it("answers malformed JSON after a valid signature with 400 naming the body", async () => {
    const res = await postEvent('{"type":"event_callback",');
    expect(res.status).toBe(400);
    expect(res.body.error).toMatchObject({ code: "invalid_request", details: { field: "body" } });
    // Valid JSON that is no envelope we know is still Slack's (signed): acknowledged, never retried.
    expectAck(await postEvent("[1,2,3]"));
    expectAck(await postEvent(JSON.stringify({ type: 42 })));
  });

  it("refused requests reach nothing: no vault row, no outbound call", async () => {
    expect(await inbox(s.org.id)).toEqual([]);
    expect(out.urls).toEqual([]);
  });
});

describe("verified events are always 200", () => {
  it("an unknown team: 200 and dropped, never 404", async () => {
    const unknown = body().replaceAll("T0AB1CD2EF", "T0UNKNOWN9").replace("Ev0AB9MSG001", "Ev0UNKNOWN01");
    expectAck(await postEvent(unknown));
    await drain(s.org.id);
    expect(await inbox(s.org.id)).toEqual([]);
    expect(out.urls).toEqual([]);
  });

  it("another Slack app's event: 200 and dropped", async () => {
    expectAck(await postEvent(body().replace('"api_app_id": "A0AB2AGNT7"', '"api_app_id": "A0OTHERAPP1"')));
    expect(await inbox(s.org.id)).toEqual([]);
  });

  it("unhandled event types and envelopes: 200", async () => {
    const reaction = JSON.stringify({ ...JSON.parse(body()), event: { type: "reaction_added", user: "U0AB4HUMN1", reaction: "eyes", item: { type: "message", channel: "C0AB6CHAN1", ts: "1767225600.000100" } }, event_id: "Ev0REACT0001" });
    expectAck(await postEvent(reaction));
    expectAck(await postEvent(JSON.stringify({ type: "something_new", team_id: "T0AB1CD2EF" })));
    expect(await inbox(s.org.id)).toEqual([]);
  });

  it("an unbound channel: 200, no run", async () => {
    const other = body().replaceAll("C0AB6CHAN1", "C0AB7OTHR2").replace("Ev0AB9MSG001", "Ev0UNBOUND01");
    expectAck(await postEvent(other));
    await drain(s.org.id);
    expect(await inbox(s.org.id)).toEqual([]);
    expect(await posted()).toEqual([]);
  });
});

describe("every file resent with X-Slack-Retry-Num: 1", () => {
  const ORDER = [
    "url_verification.json", "message_channel.json", "app_mention.json", "message_thread_reply.json", "bot_message.json", "message_deleted.json",
    "member_joined_channel_self.json", "channel_rename.json", "channel_archive.json", "app_uninstalled.json", "app_rate_limited.json",
  ];
  const snapshot = async () => ({
    inbox: await vaultSql(s.org.id, `SELECT * FROM slack_inbox ORDER BY id`),
    sessions: await vaultSql(s.org.id, `SELECT * FROM slack_sessions ORDER BY id`),
    bindings: await vaultSql(s.org.id, `SELECT * FROM slack_bindings ORDER BY channel_id`),
    channels: await vaultSql(s.org.id, `SELECT * FROM slack_channels ORDER BY channel_id`),
    installations: await vaultSql(s.org.id, `SELECT * FROM slack_installations`),
    audit: await vaultSql(s.org.id, `SELECT COUNT(*) AS n FROM audit`),
    posted: await posted(),
  });

  it("is answered 200 and starts no second run", async () => {
    expect(Object.keys(FIXTURES).sort()).toEqual([...ORDER].sort());
    for (const name of ORDER) {
      const first = await postEvent(fixture(name));
      expect(first.status, name).toBe(200);
      await drain(s.org.id);
      const before = await snapshot();
      const again = await postEvent(fixture(name), { headers: { "x-slack-retry-num": "1", "x-slack-retry-reason": "http_timeout" } });
      expect(again.status, name).toBe(200);
      await drain(s.org.id);
      expect(await snapshot(), name).toEqual(before);
    }
    // The three runs of the table happened exactly once each.
    expect((await posted()).map((m) => m.thread_ts)).toEqual(["1767225600.000100", "1767225660.000200", "1767225600.000100"]);
  });
});
