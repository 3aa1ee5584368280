import { exports } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import { call, expectError, seed, type Seed } from "./helpers";

/**
 * Issue 11, items 2 and 5: the CLI login cannot be phished with one click (the member types the
 * code, wrong codes end it, the page says who asks, tokens live at most 30 days and are listed and
 * revocable), and starting logins is limited per client address, never per org.
 */
let s: Seed;
beforeAll(async () => {
  s = await seed();
});

const DAY = 86_400;
/** A fresh address per call, so this file never shares a rate-limit bucket with another run. */
const rnd = () => Math.floor(Math.random() * 250) + 1;
const address = () => `10.${rnd()}.${rnd()}.${rnd()}`;
const newSecret = () => btoa(String.fromCharCode(...crypto.getRandomValues(new Uint8Array(32)))).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");

async function start(extra: Record<string, unknown> = {}, from = address(), userAgent = "keystroke-cli/test") {
  const secret = newSecret();
  const created = await call("POST", "/v1/cli-logins", { token: secret, body: { org: "acme", client: "alice@alice-laptop", ...extra }, headers: { "cf-connecting-ip": from, "user-agent": userAgent } });
  return { created, secret, id: created.body?.id as string, code: created.body?.code as string, poll: () => call("GET", `/v1/cli-logins/${created.body?.id}`, { token: secret }) };
}

const approve = (id: string, body: Record<string, unknown>, token = s.alice) => call("POST", `/v1/cli-logins/${id}/approve`, { token, body });

/** A browser: keeps the cookies the worker sets, and reads the CSRF value out of the form. */
async function browse(method: string, path: string, jar: Map<string, string>, form?: Record<string, string>) {
  const cookie = [...jar].map(([k, v]) => `${k}=${v}`).join("; ");
  const headers: Record<string, string> = { cookie, accept: "text/html" };
  let body: string | undefined;
  if (form) {
    body = new URLSearchParams(form).toString();
    headers["content-type"] = "application/x-www-form-urlencoded";
  }
  const res = await exports.default.fetch(new Request(`http://localhost${path}`, { method, headers, body, redirect: "manual" }));
  for (const c of res.headers.getSetCookie()) {
    const [pair] = c.split(";");
    const i = pair!.indexOf("=");
    jar.set(pair!.slice(0, i), pair!.slice(i + 1));
  }
  const html = await res.text();
  return { status: res.status, html, csrf: /name="csrf" value="([^"]+)"/.exec(html)?.[1] ?? "" };
}

describe("the approval asks the member to type the code", () => {
  it("never shows the code (API view and page), and shows the label, when and from where", async () => {
    const l = await start({}, "203.0.113.77", "keystroke-cli/9.9 (linux)");
    expect(l.created.status, l.created.text).toBe(201);
    const view = await call("GET", `/v1/cli-logins/${l.id}/details`, { token: s.alice });
    expect(view.status, view.text).toBe(200);
    expect(view.body).not.toHaveProperty("code");
    expect(view.text).not.toContain(l.code);
    expect(view.body).toMatchObject({ client: "alice@alice-laptop", client_address: "203.0.113.77", user_agent: "keystroke-cli/9.9 (linux)", attempts_left: 5, token_ttl_seconds: 30 * DAY });

    const jar = new Map([["ks_session", s.alice]]);
    const page = await browse("GET", `/cli-login/${l.id}`, jar);
    expect(page.status).toBe(200);
    expect(page.html).not.toContain(l.code);
    expect(page.html).not.toContain(l.code.replace("-", ""));
    expect(page.html).toMatch(/<input id="code" name="code" required/);
    expect(page.html).not.toMatch(/name="code" value=/);
    expect(page.html).toContain("alice@alice-laptop");
    expect(page.html).toContain("203.0.113.77");
    expect(page.html).toContain("keystroke-cli/9.9 (linux)");
    expect(page.html).toContain(`datetime="${view.body.created_at}"`);
  });

  it("approves on the page only with the typed code; a wrong one is refused and counted", async () => {
    const l = await start();
    const jar = new Map([["ks_session", s.alice]]);
    const page = await browse("GET", `/cli-login/${l.id}`, jar);
    const noCode = await browse("POST", `/cli-login/${l.id}`, jar, { csrf: page.csrf, decision: "approve" });
    expect(noCode.status).toBe(400);
    expect((await l.poll()).body).toMatchObject({ status: "pending" });
    const wrong = await browse("POST", `/cli-login/${l.id}`, jar, { csrf: page.csrf, decision: "approve", code: "AAAA-AAAA" });
    expect(wrong.status).toBe(400);
    expect(wrong.html).toContain("4 tries left");
    expect(wrong.html).not.toContain(l.code);
    // A lifetime that is not a whole number of seconds in range is named, and the login stays pending.
    for (const bad of ["86400.5", "59", "soon"]) {
      const refused = await browse("POST", `/cli-login/${l.id}`, jar, { csrf: wrong.csrf, decision: "approve", code: l.code, token_ttl_seconds: bad });
      expect(refused.status, bad).toBe(400);
      expect(refused.html, bad).toContain("The token lifetime must be a whole number of seconds");
      expect((await l.poll()).body, bad).toMatchObject({ status: "pending" });
    }
    const right = await browse("POST", `/cli-login/${l.id}`, jar, { csrf: wrong.csrf, decision: "approve", code: l.code.toLowerCase().replace("-", " "), token_ttl_seconds: String(7 * DAY) });
    expect(right.status, right.html).toBe(200);
    expect(right.html).toContain("signed in for 7 days");
    const poll = await l.poll();
    expect(poll.body).toMatchObject({ status: "approved", token: expect.stringMatching(/^ks_user_/) });
    expect(Date.parse(poll.body.token_expires_at) - Date.now()).toBeGreaterThan(7 * DAY * 1000 - 60_000);
    expect(Date.parse(poll.body.token_expires_at) - Date.now()).toBeLessThanOrEqual(7 * DAY * 1000);
  });

  it("ends the login after 5 wrong codes: it can no longer be approved or polled into a token", async () => {
    const l = await start();
    for (let i = 1; i <= 4; i++) {
      const r = await approve(l.id, { code: "AAAA-AAAA" });
      expectError(r, 400, "invalid_request", "code");
      expect(r.body.error.message).toContain(`${5 - i} ${5 - i === 1 ? "try" : "tries"} left`);
    }
    expect((await call("GET", `/v1/cli-logins/${l.id}/details`, { token: s.alice })).body).toMatchObject({ attempts_left: 1 });
    const fifth = await approve(l.id, { code: "BBBB-BBBB" }, s.bob);
    expectError(fifth, 400, "invalid_request", "code");
    expect(fifth.body.error.message).toContain("has ended");
    expectError(await approve(l.id, { code: l.code }), 404, "not_found");
    expect((await l.poll()).body).toEqual({ status: "denied", reason: "too_many_attempts" });
    expectError(await l.poll(), 404, "not_found");
  });

  it("denies without a code (the member who did not start it cannot know it)", async () => {
    const l = await start();
    const r = await call("POST", `/v1/cli-logins/${l.id}/deny`, { token: s.carol, body: {} });
    expect(r.status, r.text).toBe(200);
    expect((await l.poll()).body).toEqual({ status: "denied", reason: "denied" });
  });
});

describe("a CLI token lives at most 30 days", () => {
  it("refuses a longer request, naming the field", async () => {
    const l = await start({ token_ttl_seconds: 90 * DAY });
    expectError(l.created, 400, "invalid_request", "token_ttl_seconds");
  });

  it("lets the approver shorten it, never lengthen it beyond what the CLI asked", async () => {
    const short = await start({ token_ttl_seconds: 3_600 });
    const a = await approve(short.id, { code: short.code, token_ttl_seconds: 30 * DAY });
    expect(a.body).toMatchObject({ status: "approved", token_ttl_seconds: 3_600 });
    const p = (await short.poll()).body;
    expect(Date.parse(p.token_expires_at) - Date.now()).toBeLessThanOrEqual(3_600_000);

    const shortened = await start();
    expect((await approve(shortened.id, { code: shortened.code, token_ttl_seconds: DAY })).body).toMatchObject({ token_ttl_seconds: DAY });
    const q = (await shortened.poll()).body;
    expect(Date.parse(q.token_expires_at) - Date.now()).toBeGreaterThan(DAY * 1000 - 60_000);
    expect(Date.parse(q.token_expires_at) - Date.now()).toBeLessThanOrEqual(DAY * 1000);
    expectError(await approve((await start()).id, { code: "AAAA-AAAA", token_ttl_seconds: 31 * DAY }), 400, "invalid_request", "token_ttl_seconds");
  });
});

describe("GET /v1/me/tokens and DELETE /v1/me/tokens/{id}", () => {
  it("lists the caller's live tokens without secrets, and revokes only the caller's own", async () => {
    const l = await start();
    await approve(l.id, { code: l.code }, s.bob);
    const cliToken: string = (await l.poll()).body.token;

    const list = await call("GET", "/v1/me/tokens", { token: s.bob });
    expect(list.status, list.text).toBe(200);
    expect(list.text).not.toContain(s.bob);
    expect(list.text).not.toContain(cliToken);
    expect(list.text).not.toMatch(/"hash"|[0-9a-f]{64}/);
    const cli = list.body.tokens.find((t: { name: string; current: boolean }) => t.name === "cli login" && !t.current);
    expect(cli).toMatchObject({ id: expect.stringMatching(/^tok_/), kind: "user", created_at: expect.any(String), last_used_at: null, expires_at: expect.any(String) });
    expect(Object.keys(cli).sort()).toEqual(["created_at", "current", "expires_at", "id", "kind", "last_used_at", "name", "preview"]);
    expect(list.body.tokens.filter((t: { current: boolean }) => t.current)).toHaveLength(1);

    const alices = (await call("GET", "/v1/me/tokens", { token: s.alice })).body.tokens;
    expect(alices.map((t: { id: string }) => t.id)).not.toContain(cli.id);
    const aliceOwn = alices.find((t: { current: boolean }) => t.current);
    expectError(await call("DELETE", `/v1/me/tokens/${aliceOwn.id}`, { token: s.bob }), 404, "not_found");
    expect((await call("GET", "/v1/me", { token: s.alice })).status).toBe(200);
    expectError(await call("DELETE", "/v1/me/tokens/not-an-id", { token: s.bob }), 400, "invalid_request", "path.id");
    expectError(await call("GET", "/v1/me/tokens", { token: s.runtime }), 403, "forbidden");

    const revoked = await call("DELETE", `/v1/me/tokens/${cli.id}`, { token: s.bob });
    expect(revoked.status, revoked.text).toBe(200);
    expect(revoked.body).toMatchObject({ id: cli.id, revoked_at: expect.any(String), current: false });
    expectError(await call("GET", "/v1/me", { token: cliToken }), 401, "unauthorized");
    expect((await call("GET", "/v1/me/tokens", { token: s.bob })).body.tokens.map((t: { id: string }) => t.id)).not.toContain(cli.id);
    expectError(await call("DELETE", `/v1/me/tokens/${cli.id}`, { token: s.bob }), 404, "not_found");
  });
});

describe("starting logins is limited per client address, never per org", () => {
  it("answers 429 to many starts from one address while another address still starts one", async () => {
    const from = address();
    const statuses: number[] = [];
    // The limiter (20 a minute, wrangler.toml) counts in wall-clock minutes: 41 starts put more than 20 into one.
    for (let i = 0; i < 41; i++) statuses.push((await start({}, from)).created.status);
    expect(statuses.filter((x) => x !== 201 && x !== 429)).toEqual([]);
    expect(statuses).toContain(429);
    const limited = await call("POST", "/v1/cli-logins", { token: newSecret(), body: { org: "acme" }, headers: { "cf-connecting-ip": from } });
    expectError(limited, 429, "rate_limited");
    expect(limited.body.error.fix).toContain("Wait a minute");
    const raw = await exports.default.fetch(new Request("http://localhost/v1/cli-logins", { method: "POST", headers: { authorization: `Bearer ${newSecret()}`, "content-type": "application/json", "cf-connecting-ip": from }, body: '{"org":"acme"}' }));
    expect(raw.status).toBe(429);
    expect(raw.headers.get("retry-after")).toBe("60");
    const other = await start({}, address());
    expect(other.created.status, other.created.text).toBe(201);
  });

  it("has no per-org cap: 60 logins waiting in one org do not lock anyone out", async () => {
    for (let i = 0; i < 60; i++) {
      const l = await start({}, address());
      expect(l.created.status, l.created.text).toBe(201);
    }
    const mine = await start({}, address());
    expect((await approve(mine.id, { code: mine.code })).status).toBe(200);
    expect((await mine.poll()).body).toMatchObject({ status: "approved" });
  });
});
