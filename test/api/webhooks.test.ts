import { runInDurableObject } from "cloudflare:test";
import { env, exports } from "cloudflare:workers";
import { sessionCsrf } from "../../workers/shared/session";
import { sandboxWebhooks } from "../../workers/dev/src/sandbox/webhooks";
import { Webhook } from "standardwebhooks";
import { afterEach, beforeAll, beforeEach, describe, expect, it, vi } from "vitest";
import { writeAudit } from "../../durable-objects/vault/audit";
import { parseKeyring, seal } from "../../lib/crypto";
import { call, expectError, seed, setCred, uid, vaultOf, vaultSql, type CallResult, type Seed } from "./helpers";
import { deliveryRows, hookUrl, installReceiver, RECEIVER, settleWebhooks, type Receiver } from "./webhook-receiver";

/**
 * Signed lifecycle webhooks (issue 15 build 3, SPEC section 14). The receiver (webhook-receiver.ts)
 * is a fetch spy on https://hooks.example.com; deliveries are verified with `standardwebhooks`.
 * The crash-between-change-and-delivery test is webhooks-crash.test.ts (it evicts the vault).
 */
let s: Seed;
let rx: Receiver;

beforeAll(async () => {
  s = await seed();
});

beforeEach(() => {
  rx = installReceiver();
});

afterEach(async () => {
  vi.restoreAllMocks();
  await vaultSql(s.org.id, `DELETE FROM webhook_deliveries`);
  await vaultSql(s.org.id, `DELETE FROM webhook_endpoints`);
});

const create = (token: string, body: unknown) => call("POST", "/v1/webhooks", { token, body });
const deliveries = (id: string) => deliveryRows(s.org.id, id);
const forPath = (url: string) => rx.forPath(url);
const settle = () => settleWebhooks(s.org.id);

/** The retry's time has come: every pending delivery due now, then one alarm run. */
async function retryNow(): Promise<void> {
  await vaultSql(s.org.id, `UPDATE webhook_deliveries SET next_attempt_at = 0 WHERE status = 'pending'`);
  await settle();
}

describe("signatures: every delivery verifies with standardwebhooks", () => {
  it("current secret; during a rotation both; after 24 hours only the new one. The body is ids and refs, never a secret", async () => {
    const url = hookUrl();
    const made = await create(s.alice, { url, events: ["credential.created"] });
    expect(made.status, made.text).toBe(201);
    const secret1: string = made.body.secret;
    expect(secret1).toMatch(/^whsec_[A-Za-z0-9+/]+=*$/);
    // Shown once: never in the list.
    const list = await call("GET", "/v1/webhooks", { token: s.alice });
    expect(list.text).not.toContain(secret1.slice(6));
    expect(list.body.webhooks).toEqual([expect.objectContaining({ id: made.body.id, url, events: ["credential.created"], enabled: true })]);
    // The audit row keeps the host only: a receiver's path or query may hold a secret of its own.
    const audited = await call("GET", `/v1/audit?action=webhook.create&limit=1`, { token: s.alice });
    expect(audited.body.entries[0]).toMatchObject({ target: made.body.id, detail: { host: "hooks.example.com", events: '["credential.created"]' } });
    expect(JSON.stringify(audited.body)).not.toContain(new URL(url).pathname);

    const key = `exa-${uid(24)}`;
    const cred = await setCred(s.alice, { fields: { apiKey: key }, slug: `wh-${uid(5)}` });
    expect(cred.status, cred.text).toBe(200);
    await settle();
    expect(forPath(url)).toHaveLength(1);
    const first = forPath(url)[0]!;
    const event = new Webhook(secret1).verify(first.body, first.headers) as { type: string; timestamp: string; data: { credential: { id: string; ref: string } } };
    expect(event.type).toBe("credential.created");
    expect(event.data.credential).toEqual({ id: cred.body.credentials[0].id, ref: expect.stringMatching(/^exa\/org\/wh-/) });
    expect(first.body).not.toContain(key);
    expect(first.headers["webhook-id"]).toMatch(/^msg_/);
    expect(first.headers["content-type"]).toBe("application/json");

    // Rotation: a new secret, once; both sign for 24 hours.
    const rotated = await call("POST", `/v1/webhooks/${made.body.id}/rotate-secret`, { token: s.bob });
    expect(rotated.status, rotated.text).toBe(200);
    const secret2: string = rotated.body.secret;
    expect(secret2).not.toBe(secret1);
    expect(Date.parse(rotated.body.previous_secret_until) - Date.now()).toBeGreaterThan(23.9 * 3_600_000);
    expect((await setCred(s.alice, { slug: `wh-${uid(5)}` })).status).toBe(200);
    await settle();
    const second = forPath(url)[1]!;
    expect(second.headers["webhook-signature"]!.split(" ")).toHaveLength(2);
    expect(new Webhook(secret2).verify(second.body, second.headers)).toMatchObject({ type: "credential.created" });
    expect(new Webhook(secret1).verify(second.body, second.headers)).toMatchObject({ type: "credential.created" });

    // The overlap is over: only the new secret signs.
    await vaultSql(s.org.id, `UPDATE webhook_endpoints SET previous_until = ? WHERE id = ?`, Date.now() - 1, made.body.id);
    expect((await setCred(s.alice, { slug: `wh-${uid(5)}` })).status).toBe(200);
    await settle();
    const third = forPath(url)[2]!;
    expect(new Webhook(secret2).verify(third.body, third.headers)).toMatchObject({ type: "credential.created" });
    expect(() => new Webhook(secret1).verify(third.body, third.headers)).toThrow(/signature/i);
  });

  it("only subscribed events reach an endpoint; events omitted means every event; a disabled endpoint gets nothing", async () => {
    const onlyRevoked = await create(s.alice, { url: hookUrl(), events: ["credential.revoked"] });
    const all = await create(s.alice, { url: hookUrl() });
    const off = await create(s.alice, { url: hookUrl() });
    expect(all.body.events).toBeNull();
    expect((await call("PATCH", `/v1/webhooks/${off.body.id}`, { token: s.alice, body: { enabled: false } })).body.enabled).toBe(false);
    expect((await setCred(s.alice, { slug: `sub-${uid(5)}` })).status).toBe(200);
    expect((await deliveries(onlyRevoked.body.id))).toEqual([]);
    expect((await deliveries(all.body.id)).map((d) => d.event_type)).toEqual(["credential.created"]);
    expect(await deliveries(off.body.id)).toEqual([]);
  });

  it("test send: one signed webhook.test delivery now, answered with the endpoint's status, in the deliveries log", async () => {
    const url = hookUrl();
    const made = await create(s.bob, { url });
    rx.script[new URL(url).pathname] = [{ status: 503 }];
    const failed = await call("POST", `/v1/webhooks/${made.body.id}/test`, { token: s.bob });
    expect(failed.status, failed.text).toBe(200);
    expect(failed.body).toMatchObject({ event_type: "webhook.test", status: "failed", attempts: 1, last_status: 503, last_error: "http_503", test: true });
    const ok = await call("POST", `/v1/webhooks/${made.body.id}/test`, { token: s.bob });
    expect(ok.body).toMatchObject({ status: "delivered", last_status: 200 });
    expect(new Webhook(made.body.secret).verify(forPath(url)[1]!.body, forPath(url)[1]!.headers)).toMatchObject({ type: "webhook.test" });
    const log = await call("GET", `/v1/webhooks/${made.body.id}/deliveries`, { token: s.bob });
    expect(log.status, log.text).toBe(200);
    expect(log.body.deliveries.map((d: { status: string }) => d.status).sort()).toEqual(["delivered", "failed"]);
    // A failed test send is not retried and does not count against the endpoint.
    await retryNow();
    expect(forPath(url)).toHaveLength(2);
    const [ep] = await vaultSql(s.org.id, `SELECT failing_since FROM webhook_endpoints WHERE id = ?`, made.body.id);
    expect(ep!.failing_since).toBeNull();
  });

  it("a webhook deleted while its test is being sent answers 404, not 500", async () => {
    const url = hookUrl();
    const made = await create(s.bob, { url });
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const receiver = vi.mocked(globalThis.fetch).getMockImplementation()!;
    vi.mocked(globalThis.fetch).mockImplementation(async (input, init) => {
      if ((input instanceof Request ? input.url : String(input)) === url) await gate;
      return receiver(input, init);
    });
    const testing = call("POST", `/v1/webhooks/${made.body.id}/test`, { token: s.bob });
    await new Promise((r) => setTimeout(r, 50));
    expect((await call("DELETE", `/v1/webhooks/${made.body.id}`, { token: s.bob })).status).toBe(200);
    release();
    expectError(await testing, 404, "not_found", "path.id");
  });

  it("a disabled endpoint gets no test send either (409, nothing sent); an endpoint stored with a URL the rule now refuses is never called", async () => {
    const url = hookUrl();
    const made = await create(s.bob, { url });
    expect((await call("PATCH", `/v1/webhooks/${made.body.id}`, { token: s.bob, body: { enabled: false } })).status).toBe(200);
    expectError(await call("POST", `/v1/webhooks/${made.body.id}/test`, { token: s.bob }), 409, "conflict", "path.id");
    expect(forPath(url)).toHaveLength(0);
    // Saved before the IPv6 rule tightened (written here by hand): refused at send, failed at once, no retry.
    const old = await create(s.bob, { url: hookUrl() });
    await vaultSql(s.org.id, `UPDATE webhook_endpoints SET url = ? WHERE id = ?`, "https://[::7f00:1]/hook", old.body.id);
    const tested = await call("POST", `/v1/webhooks/${old.body.id}/test`, { token: s.bob });
    expect(tested.body).toMatchObject({ status: "failed", last_error: "url_refused" });
    expect((await setCred(s.alice, { slug: `refused-${uid(5)}` })).status).toBe(200);
    await settle();
    await retryNow();
    // url_refused is only ever written before the fetch: the endpoint was never called.
    expect((await deliveries(old.body.id)).filter((d) => d.event_type !== "webhook.test").map((d) => [d.status, d.last_error])).toEqual([["failed", "url_refused"]]);
  });
});

describe("the deliveries log", () => {
  it("is newest first and keyset-paged (limit, cursor, next_cursor); a foreign cursor is a 400 naming query.cursor", async () => {
    const made = await create(s.alice, { url: hookUrl(), events: ["credential.created"] });
    for (let i = 0; i < 5; i++) expect((await setCred(s.alice, { slug: `pg-${i}-${uid(4)}` })).status).toBe(200);
    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const page: CallResult = await call("GET", `/v1/webhooks/${made.body.id}/deliveries?limit=2${cursor ? `&cursor=${cursor}` : ""}`, { token: s.alice });
      expect(page.status, page.text).toBe(200);
      seen.push(...page.body.deliveries.map((d: { id: string }) => d.id));
      cursor = page.body.next_cursor;
      pages++;
    } while (cursor);
    expect(pages).toBe(3);
    const all = await vaultSql(s.org.id, `SELECT id FROM webhook_deliveries WHERE endpoint_id = ? ORDER BY created_at DESC, id DESC`, made.body.id);
    expect(seen).toEqual(all.map((r) => String(r.id)));
    expectError(await call("GET", `/v1/webhooks/${made.body.id}/deliveries?cursor=abc`, { token: s.alice }), 400, "invalid_request", "query.cursor");
  });
});

describe("retries", () => {
  it("a receiver that answers 500 three times then 200 gets the event exactly once more; Retry-After is honoured", async () => {
    const url = hookUrl();
    const made = await create(s.alice, { url, events: ["credential.revoked"] });
    const cred = await setCred(s.alice, { slug: `rt-${uid(5)}` });
    rx.script[new URL(url).pathname] = [{ status: 500, headers: { "retry-after": "3600" } }, { status: 500 }, { status: 500 }];
    const revoked = await call("POST", `/v1/credentials/${cred.body.credentials[0].id}/revoke`, { token: s.alice });
    expect(revoked.status, revoked.text).toBe(200);
    await settle();
    expect(forPath(url).map((r) => r.answered)).toEqual([500]);
    const [afterFirst] = await deliveries(made.body.id);
    expect(afterFirst).toMatchObject({ status: "pending", attempts: 1, last_status: 500, last_error: "http_500" });
    expect(Number(afterFirst!.next_attempt_at)).toBeGreaterThanOrEqual(Date.now() + 3_590_000);
    const [ep] = await vaultSql(s.org.id, `SELECT failing_since FROM webhook_endpoints WHERE id = ?`, made.body.id);
    expect(ep!.failing_since).not.toBeNull();

    await retryNow();
    await retryNow();
    await retryNow();
    expect(forPath(url).map((r) => r.answered)).toEqual([500, 500, 500, 200]);
    // Nothing more, however often the alarm runs.
    await retryNow();
    await retryNow();
    expect(forPath(url)).toHaveLength(4);
    const ids = new Set(forPath(url).map((r) => r.headers["webhook-id"]));
    expect(ids.size).toBe(1);
    const [done] = await deliveries(made.body.id);
    expect(done).toMatchObject({ status: "delivered", attempts: 4, last_status: 200, last_error: null });
    const [healthy] = await vaultSql(s.org.id, `SELECT failing_since FROM webhook_endpoints WHERE id = ?`, made.body.id);
    expect(healthy!.failing_since).toBeNull();
  });

  it("an endpoint failing for 3 days is disabled with an audit row; a delivery past its 24 hours is given up", async () => {
    const url = hookUrl();
    const made = await create(s.alice, { url, events: ["credential.created"] });
    rx.script[new URL(url).pathname] = Array.from({ length: 5 }, () => ({ status: 502 }));
    await vaultSql(s.org.id, `UPDATE webhook_endpoints SET failing_since = ? WHERE id = ?`, Date.now() - 3 * 24 * 3_600_000 - 1, made.body.id);
    expect((await setCred(s.alice, { slug: `d-${uid(5)}` })).status).toBe(200);
    await settle();
    const [ep] = await vaultSql(s.org.id, `SELECT enabled, disabled_reason FROM webhook_endpoints WHERE id = ?`, made.body.id);
    expect(ep).toMatchObject({ enabled: 0, disabled_reason: "failing" });
    const audit = await call("GET", `/v1/audit?action=webhook.disabled`, { token: s.alice });
    expect(audit.body.entries[0]).toMatchObject({ target: made.body.id, actor_kind: "system", detail: { reason: "failing" } });
    // Disabled: its pending delivery is not sent.
    await retryNow();
    expect(forPath(url)).toHaveLength(1);
    // Enabled again a day later: the delivery is past its 24 hours and is given up, not sent late.
    await vaultSql(s.org.id, `UPDATE webhook_deliveries SET created_at = ? WHERE endpoint_id = ?`, Date.now() - 25 * 3_600_000, made.body.id);
    expect((await call("PATCH", `/v1/webhooks/${made.body.id}`, { token: s.alice, body: { enabled: true } })).body).toMatchObject({ enabled: true, disabled_reason: null, failing_since: null });
    await retryNow();
    expect(forPath(url)).toHaveLength(1);
    expect((await deliveries(made.body.id))[0]).toMatchObject({ status: "failed", last_error: "expired" });
  });
});

describe("a connect session nobody finishes", () => {
  it("ends at its expiry, woken by the alarm, with one connect_session.failed event", async () => {
    const url = hookUrl();
    const hook = await create(s.alice, { url, events: ["connect_session.failed"] });
    expect(hook.status, hook.text).toBe(201);
    const session = await call("POST", "/v1/connect-sessions", { token: s.alice, body: { app: "github" } });
    expect(session.status, session.text).toBe(201);
    // The vault is woken at the session's expiry; here that moment has come.
    await vaultSql(s.org.id, `UPDATE connect_sessions SET expires_at = ? WHERE id = ?`, Date.now() - 1, session.body.id);
    await settle();
    const events = forPath(url).map((d) => new Webhook(hook.body.secret).verify(d.body, d.headers) as { type: string; data: { target: string } });
    expect(events.map((e) => [e.type, e.data.target])).toEqual([["connect_session.failed", session.body.id]]);
    expect(await vaultSql(s.org.id, `SELECT status, error FROM connect_sessions WHERE id = ?`, session.body.id)).toEqual([{ status: "failed", error: "The connect session expired." }]);
    // Looking at it afterwards writes nothing more.
    expect((await call("GET", `/v1/connect-sessions/${session.body.id}`, { token: s.alice })).body.status).toBe("failed");
    await settle();
    expect(forPath(url)).toHaveLength(1);
  });
});

describe("the outbox is written in the change's transaction", () => {
  it("a change that throws after its audit row leaves neither the audit row nor the outbox row", async () => {
    const made = await create(s.alice, { url: hookUrl() });
    const before = await vaultSql(s.org.id, `SELECT COUNT(*) AS n FROM audit`);
    await runInDurableObject(vaultOf(s.org.id), (_i, state) => {
      const ctx = { storage: state.storage, sql: state.storage.sql, orgId: s.org.id, ring: parseKeyring(env.VAULT_KEYS), now: Date.now() };
      expect(() =>
        state.storage.transactionSync(() => {
          writeAudit(ctx, null, { action: "credential.revoke", credentialId: "cred_gone", target: "org" });
          expect(state.storage.sql.exec(`SELECT COUNT(*) AS n FROM webhook_deliveries`).one().n).toBe(1);
          throw new Error("crash before commit");
        }),
      ).toThrow("crash before commit");
    });
    expect(await vaultSql(s.org.id, `SELECT COUNT(*) AS n FROM audit`)).toEqual(before);
    expect(await deliveries(made.body.id)).toEqual([]);
  });

  it("through the API the outbox row exists when the change answers", async () => {
    const made = await create(s.alice, { url: hookUrl(), events: ["credential.created"] });
    rx.script[new URL(made.body.url).pathname] = [{ status: 503 }];
    const cred = await setCred(s.alice, { slug: `q-${uid(5)}` });
    const [queued] = await deliveries(made.body.id);
    expect(queued).toMatchObject({ event_type: "credential.created" });
    expect(JSON.parse(String(queued!.payload)).data.credential.id).toBe(cred.body.credentials[0].id);
  });
});

describe("bad input: 4xx naming the field, nothing written", () => {
  const count = async () => Number((await vaultSql(s.org.id, `SELECT COUNT(*) AS n FROM webhook_endpoints`))[0]!.n);

  it.each([
    [{ url: "http://hooks.example.com/x" }, "url"],
    [{ url: "https://10.0.0.7/x" }, "url"],
    [{ url: "https://localhost/x" }, "url"],
    [{ url: "https://169.254.169.254/x" }, "url"],
    [{ url: "https://[::1]/x" }, "url"],
    [{ url: "not a url" }, "url"],
    [{ url: `${RECEIVER}x`, events: ["credential.exploded"] }, "events[0]"],
    [{ url: `${RECEIVER}x`, events: [] }, "events"],
    [{ url: `${RECEIVER}x`, secret: "mine" }, "secret"],
    [{}, "url"],
  ])("POST %j -> 400 %s", async (body, field) => {
    const before = await count();
    expectError(await create(s.alice, body), 400, "invalid_request", field);
    expect(await count()).toBe(before);
  });

  it("PATCH with a bad URL or event changes nothing; an unknown id is 404", async () => {
    const made = await create(s.alice, { url: hookUrl() });
    const [before] = await vaultSql(s.org.id, `SELECT * FROM webhook_endpoints WHERE id = ?`, made.body.id);
    expectError(await call("PATCH", `/v1/webhooks/${made.body.id}`, { token: s.alice, body: { url: "http://example.com/x" } }), 400, "invalid_request", "url");
    expectError(await call("PATCH", `/v1/webhooks/${made.body.id}`, { token: s.alice, body: { events: ["nope"] } }), 400, "invalid_request", "events[0]");
    expectError(await call("PATCH", `/v1/webhooks/${made.body.id}`, { token: s.alice, body: {} }), 400, "invalid_request");
    expect((await vaultSql(s.org.id, `SELECT * FROM webhook_endpoints WHERE id = ?`, made.body.id))[0]).toEqual(before);
    expectError(await call("PATCH", `/v1/webhooks/whk_${"a".repeat(20)}`, { token: s.alice, body: { enabled: false } }), 404, "not_found");
    expectError(await call("DELETE", `/v1/webhooks/nope`, { token: s.alice }), 400, "invalid_request", "path.id");
  });

  it("more than 20 endpoints per org: 409 naming url, nothing written", async () => {
    for (let i = await count(); i < 20; i++) expect((await create(s.alice, { url: hookUrl() })).status).toBe(201);
    expectError(await create(s.alice, { url: hookUrl() }), 409, "conflict", "url");
    expect(await count()).toBe(20);
  });
});

describe("permissions: owner and admin manage webhooks, a builder is refused (audited), a runtime token is not a member", () => {
  const roles = [
    ["owner", () => s.alice, true],
    ["admin", () => s.bob, true],
    ["builder", () => s.carol, false],
  ] as const;

  for (const [role, token, allowed] of roles) {
    it(`${role}: create, list, update, rotate, test, deliveries, delete ${allowed ? "allowed" : "forbidden, nothing written"}`, async () => {
      const victim = await create(s.alice, { url: hookUrl() });
      const [before] = await vaultSql(s.org.id, `SELECT * FROM webhook_endpoints WHERE id = ?`, victim.body.id);
      const id = victim.body.id;
      const answers = {
        create: await create(token(), { url: hookUrl() }),
        list: await call("GET", "/v1/webhooks", { token: token() }),
        update: await call("PATCH", `/v1/webhooks/${id}`, { token: token(), body: { events: ["member.added"] } }),
        rotate: await call("POST", `/v1/webhooks/${id}/rotate-secret`, { token: token() }),
        test: await call("POST", `/v1/webhooks/${id}/test`, { token: token() }),
        deliveries: await call("GET", `/v1/webhooks/${id}/deliveries`, { token: token() }),
        delete: await call("DELETE", `/v1/webhooks/${id}`, { token: token() }),
      };
      if (allowed) {
        expect(answers.create.status, answers.create.text).toBe(201);
        for (const k of ["list", "update", "rotate", "test", "deliveries", "delete"] as const) expect(answers[k].status, `${k}: ${answers[k].text}`).toBe(200);
      } else {
        for (const [k, r] of Object.entries(answers)) expect(r.status, `${k}: ${r.text}`).toBe(403);
        expect((await vaultSql(s.org.id, `SELECT * FROM webhook_endpoints WHERE id = ?`, id))[0]).toEqual(before);
        expect(await vaultSql(s.org.id, `SELECT COUNT(*) AS n FROM webhook_endpoints`)).toEqual([{ n: 1 }]);
        expect(rx.received).toEqual([]);
        const denied = await call("GET", `/v1/audit?action=webhook.&limit=10`, { token: s.alice });
        expect(denied.body.entries.filter((e: { outcome: string }) => e.outcome === "denied").map((e: { action: string }) => e.action)).toEqual(
          expect.arrayContaining(["webhook.create", "webhook.list", "webhook.update", "webhook.rotate_secret", "webhook.test", "webhook.deliveries", "webhook.delete"]),
        );
      }
    });
  }

  it("a runtime token is refused", async () => {
    const r = await call("GET", "/v1/webhooks", { token: s.runtime });
    expect([401, 403]).toContain(r.status);
  });
});

describe("the Webhooks page (admins)", () => {
  const page = async (method: string, path: string, session: string, form?: Record<string, string>) => {
    const headers: Record<string, string> = { accept: "text/html", cookie: `ks_session=${session}` };
    let body: string | undefined;
    if (form) {
      body = new URLSearchParams({ ...form, csrf: await sessionCsrf(session) }).toString();
      headers["content-type"] = "application/x-www-form-urlencoded";
    }
    const res = await exports.default.fetch(new Request(`http://localhost${path}`, { method, headers, body, redirect: "manual" }));
    return { status: res.status, html: await res.text() };
  };

  it("adds an endpoint (secret shown once), lists it with its deliveries, sends a test, rotates and deletes; a builder is told it is for admins", async () => {
    const url = hookUrl();
    const added = await page("POST", "/webhooks", s.alice, { url });
    expect(added.status, added.html.slice(0, 300)).toBe(200);
    const secret = /id="new-webhook-secret-value"[^>]*>(whsec_[^<]+)</.exec(added.html)?.[1];
    expect(secret).toBeTruthy();
    const [row] = await vaultSql(s.org.id, `SELECT id FROM webhook_endpoints WHERE url = ?`, url);
    const id = String(row!.id);
    const tested = await page("POST", `/webhooks/${id}/test`, s.alice, {});
    expect(tested.html).toContain("Test delivered");
    expect(new Webhook(secret!).verify(forPath(url)[0]!.body, forPath(url)[0]!.headers)).toMatchObject({ type: "webhook.test" });
    const listed = await page("GET", "/webhooks", s.alice);
    expect(listed.html).toContain(url);
    expect(listed.html).toContain("webhook.test: delivered");
    expect(listed.html).not.toContain(secret!);
    const rotated = await page("POST", `/webhooks/${id}/rotate`, s.alice, {});
    expect(rotated.html).toContain("previous secret keeps signing");
    expect(rotated.html).not.toContain(secret!);
    const bad = await page("POST", "/webhooks", s.alice, { url: "http://10.0.0.1/x" });
    expect(bad.status).toBe(400);
    const deleted = await page("POST", `/webhooks/${id}/delete`, s.alice, {});
    expect(deleted.status).toBe(303);
    expect(await vaultSql(s.org.id, `SELECT id FROM webhook_endpoints WHERE id = ?`, id)).toEqual([]);
    const builder = await page("GET", "/webhooks", s.carol);
    expect(builder.status).toBe(200);
    expect(builder.html).toContain('data-testid="not-admin"');
  });
});

describe("the sandbox's receiver (dev stack)", () => {
  it("verifies a real delivery with standardwebhooks and records it; a tampered one is answered 400; scripted failures are answered", async () => {
    const url = hookUrl();
    const made = await create(s.alice, { url });
    expect((await call("POST", `/v1/webhooks/${made.body.id}/test`, { token: s.alice })).body.status).toBe("delivered");
    const got = forPath(url)[0]!;
    const name = `rx-${uid(5)}`;
    const rx2 = (path: string, init: RequestInit = {}) => sandboxWebhooks.fetch(new Request(`http://localhost/${name}${path}`, init));
    const json = (body: unknown): RequestInit => ({ method: "PUT", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
    expect((await rx2("/secrets", json({ secrets: [made.body.secret] }))).status).toBe(200);
    expect((await rx2("/answers", { ...json({ statuses: [500] }), method: "POST" })).status).toBe(200);
    const signed = Object.fromEntries(Object.entries(got.headers).filter(([k]) => k.startsWith("webhook-")));
    const replay = (body: string) => rx2("", { method: "POST", headers: { ...signed, "content-type": "application/json" }, body });
    expect((await replay(got.body)).status).toBe(500);
    expect((await replay(got.body)).status).toBe(200);
    expect((await replay(got.body.replace("webhook.test", "webhook.tset"))).status).toBe(400);
    const log = (await (await rx2("")).json()) as { deliveries: { type: string | null; verified: boolean; answered: number }[] };
    expect(log.deliveries.map((d) => [d.type, d.verified, d.answered])).toEqual([["webhook.test", true, 500], ["webhook.test", true, 200], [null, false, 400]]);
  });
});

describe("keyring rotation", () => {
  it("the keyring sweep reseals webhook secrets sealed under an older key; deliveries still verify", async () => {
    const url = hookUrl();
    const made = await create(s.alice, { url });
    const ring = parseKeyring(env.VAULT_KEYS);
    const old = { active: "k1", keys: ring.keys };
    const aad = `${s.org.id}|${made.body.id}|webhook_secret`;
    await vaultSql(s.org.id, `UPDATE webhook_endpoints SET secret = ? WHERE id = ?`, await seal(old, s.org.id, made.body.secret, aad), made.body.id);
    expect((await vaultOf(s.org.id).resealBatch()).left).toBe(0);
    const [row] = await vaultSql(s.org.id, `SELECT secret FROM webhook_endpoints WHERE id = ?`, made.body.id);
    expect(String(row!.secret)).toMatch(/^v1\.k2\./);
    await call("POST", `/v1/webhooks/${made.body.id}/test`, { token: s.alice });
    expect(new Webhook(made.body.secret).verify(forPath(url)[0]!.body, forPath(url)[0]!.headers)).toMatchObject({ type: "webhook.test" });
  });
});
