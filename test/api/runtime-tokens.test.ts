import { beforeAll, describe, expect, it } from "vitest";
import { addMember, call, expectError, seed, uid, vaultSql, type Seed } from "./helpers";

/** Runtime tokens and every member's tokens (SPEC section 12, issue 13 build 4). */
let s: Seed;
let apiKey: string;
const secret = `rt-${uid(24)}`;
const app = `rtapp${uid(6)}`;
const consumer = { kind: "workflow", target: "wf-rt", id: "s1" };
const resolve = (token: string) => call("POST", "/v1/runtime/resolve", { token, body: { consumer, requirements: [{ app }] } });
// Bookkeeping (last_used_at) aside: what a refused call must not change.
const tokenRows = () => vaultSql(s.org.id, `SELECT id, hash, kind, member_id, name, created_by, revoked_at FROM tokens ORDER BY id`);

beforeAll(async () => {
  s = await seed();
  const c = await call("POST", "/v1/credentials", { token: s.alice, body: { app, slug: "work", fields: { apiKey: secret } } });
  expect(c.status, c.text).toBe(200);
  const key = await call("POST", "/v1/api-keys", { token: s.bob, body: { name: "ci" } });
  expect(key.status, key.text).toBe(201);
  apiKey = key.body.key;
});

async function create(token: string, name = `rt ${uid(4)}`) {
  return call("POST", "/v1/runtime-tokens", { token, body: { name } });
}

describe("runtime tokens: roles x operations", () => {
  const roles = [
    ["owner", () => s.alice, true],
    ["admin", () => s.bob, true],
    ["builder", () => s.carol, false],
  ] as const;

  for (const [role, token, allowed] of roles) {
    it(`${role}: create, list and revoke ${allowed ? "are allowed" : "are forbidden and write nothing"}`, async () => {
      // A token to list and revoke, made by the owner.
      const victim = await create(s.alice);
      expect(victim.status, victim.text).toBe(201);
      const before = await tokenRows();
      const made = await create(token());
      const list = await call("GET", "/v1/runtime-tokens", { token: token() });
      const revoke = await call("DELETE", `/v1/runtime-tokens/${victim.body.id}`, { token: token() });
      if (allowed) {
        expect(made.status, made.text).toBe(201);
        expect(made.body.token).toMatch(new RegExp(`^ks_rt_${s.org.id}_`));
        expect(list.status, list.text).toBe(200);
        expect(list.body.runtime_tokens.map((t: { id: string }) => t.id)).toContain(made.body.id);
        expect(revoke.status, revoke.text).toBe(200);
        expect(revoke.body).toMatchObject({ id: victim.body.id, revoked_at: expect.any(String) });
      } else {
        for (const r of [made, list, revoke]) expectError(r, 403, "forbidden");
        expect(await tokenRows()).toEqual(before);
        // The token it tried to revoke still works.
        expect((await resolve(victim.body.token)).status).toBe(200);
      }
    });
  }

  it("an API key may list and revoke but not create (a leaked key must not mint tokens that outlive it)", async () => {
    const before = await tokenRows();
    expectError(await create(apiKey), 403, "forbidden");
    expect(await tokenRows()).toEqual(before);
    expect((await call("GET", "/v1/runtime-tokens", { token: apiKey })).status).toBe(200);
  });

  it("a runtime token cannot manage runtime tokens", async () => {
    expectError(await create(s.runtime), 403, "forbidden");
    expectError(await call("GET", "/v1/runtime-tokens", { token: s.runtime }), 403, "forbidden");
  });
});

describe("runtime tokens: shown once, several live, revoked at once", () => {
  it("create -> resolve works -> a second one works too -> revoke the first -> refused at once, the second still works", async () => {
    const first = await create(s.alice, "exec plane A");
    const second = await create(s.bob, "exec plane B");
    expect(first.status, first.text).toBe(201);
    expect(first.body).toMatchObject({ name: "exec plane A", preview: `ks_rt_…${first.body.token.slice(-4)}`, created_by: expect.stringMatching(/^mem_/), last_used_at: null });
    const r1 = await resolve(first.body.token);
    expect(r1.status, r1.text).toBe(200);
    expect(r1.body.results[0]).toMatchObject({ ok: true, fields: { apiKey: secret } });
    expect((await resolve(second.body.token)).status).toBe(200);

    const list = await call("GET", "/v1/runtime-tokens", { token: s.alice });
    expect(list.text).not.toContain(first.body.token);
    expect(list.text).not.toContain(second.body.token);
    const listed = list.body.runtime_tokens.find((t: { id: string }) => t.id === first.body.id);
    expect(Object.keys(listed).sort()).toEqual(["created_at", "created_by", "id", "last_used_at", "name", "preview"]);
    expect(listed.last_used_at).not.toBeNull();

    const revoked = await call("DELETE", `/v1/runtime-tokens/${first.body.id}`, { token: s.alice });
    expect(revoked.status, revoked.text).toBe(200);
    expectError(await resolve(first.body.token), 401, "unauthorized");
    expect((await resolve(second.body.token)).status).toBe(200);
    const after = await call("GET", "/v1/runtime-tokens", { token: s.alice });
    expect(after.body.runtime_tokens.map((t: { id: string }) => t.id)).not.toContain(first.body.id);
    // Revoking twice, or an id that is not a runtime token, is not found.
    expectError(await call("DELETE", `/v1/runtime-tokens/${first.body.id}`, { token: s.alice }), 404, "not_found");
    const audit = await vaultSql(s.org.id, `SELECT action, target, detail FROM audit WHERE target = ? ORDER BY seq`, first.body.id);
    expect(audit.map((a) => a.action)).toEqual(["runtime_token.create", "runtime_token.revoke"]);
    expect(JSON.stringify(audit)).not.toContain(first.body.token);
  });

  it("bad input: a name over 100 characters, empty, or with control characters is 400 naming `name`, nothing written", async () => {
    const before = await tokenRows();
    for (const name of ["x".repeat(101), "", "   ", "a\u001b[31m"]) expectError(await create(s.alice, name), 400, "invalid_request", "name");
    expectError(await call("POST", "/v1/runtime-tokens", { token: s.alice, body: { name: "ok", extra: 1 } }), 400, "invalid_request");
    expectError(await call("DELETE", "/v1/runtime-tokens/nope", { token: s.alice }), 400, "invalid_request", "path.id");
    expect(await tokenRows()).toEqual(before);
    expect((await create(s.alice, "x".repeat(100))).status).toBe(201);
  });
});

describe("every member's tokens: GET/DELETE /v1/members/{id}/tokens[/{token}]", () => {
  it("owners and admins list and revoke another member's tokens; builders are forbidden; revoked at once", async () => {
    const dave = await addMember(s.org.id, `dave-${uid(4)}@acme.test`, "builder");
    const mine = await call("GET", "/v1/me/tokens", { token: dave.token });
    const daveToken = mine.body.tokens[0];
    const carolId = (await call("GET", "/v1/me", { token: s.carol })).body.member.id;

    // Builders: forbidden for others and for themselves (they use /v1/me/tokens), nothing revoked.
    expectError(await call("GET", `/v1/members/${dave.id}/tokens`, { token: s.carol }), 403, "forbidden");
    expectError(await call("DELETE", `/v1/members/${dave.id}/tokens/${daveToken.id}`, { token: s.carol }), 403, "forbidden");
    expectError(await call("GET", `/v1/members/${carolId}/tokens`, { token: s.carol }), 403, "forbidden");
    expect((await call("GET", "/v1/me", { token: dave.token })).status).toBe(200);

    for (const admin of [s.alice, s.bob]) {
      const list = await call("GET", `/v1/members/${dave.id}/tokens`, { token: admin });
      expect(list.status, list.text).toBe(200);
      expect(list.body.tokens.map((t: { id: string }) => t.id)).toEqual([daveToken.id]);
      expect(list.text).not.toContain(dave.token);
    }
    const revoked = await call("DELETE", `/v1/members/${dave.id}/tokens/${daveToken.id}`, { token: s.bob });
    expect(revoked.status, revoked.text).toBe(200);
    expect(revoked.body).toMatchObject({ id: daveToken.id, revoked_at: expect.any(String), current: false });
    expectError(await call("GET", "/v1/me", { token: dave.token }), 401, "unauthorized");
    expect((await call("GET", `/v1/members/${dave.id}/tokens`, { token: s.alice })).body.tokens).toEqual([]);
    expect((await vaultSql(s.org.id, `SELECT action FROM audit WHERE target = ? AND outcome = 'ok'`, daveToken.id)).map((a) => a.action)).toEqual(["token.revoke"]);

    // A token of another member under this member's id, an unknown member, a malformed id.
    const bobTokens = (await call("GET", "/v1/me/tokens", { token: s.bob })).body.tokens;
    expectError(await call("DELETE", `/v1/members/${dave.id}/tokens/${bobTokens[0].id}`, { token: s.alice }), 404, "not_found", "token");
    expectError(await call("GET", `/v1/members/mem_${"a".repeat(20)}/tokens`, { token: s.alice }), 404, "not_found", "id");
    expectError(await call("GET", "/v1/members/nope/tokens", { token: s.alice }), 400, "invalid_request", "path.id");
    expect((await call("GET", "/v1/me", { token: s.bob })).status).toBe(200);
  });
});

describe("the Runtime tokens and My tokens pages", () => {
  const page = async (method: string, path: string, session: string, form?: Record<string, string>) => {
    const { sessionCsrf } = await import("../../workers/shared/session");
    const headers: Record<string, string> = { accept: "text/html", cookie: `ks_session=${session}` };
    if (!form) return call(method, path, { headers });
    headers["content-type"] = "application/x-www-form-urlencoded";
    return call(method, path, { headers, rawBody: new URLSearchParams({ ...form, csrf: await sessionCsrf(session) }).toString() });
  };

  it("an owner creates one (shown once, in that answer only), sees it listed by preview and revokes it; a builder sees who manages them", async () => {
    const made = await page("POST", "/runtime-tokens", s.alice, { name: "web plane" });
    expect(made.status, made.text.slice(0, 300)).toBe(200);
    const token = /id="new-runtime-token-value" class="secret-once">([^<]+)</.exec(made.text)![1]!;
    expect((await resolve(token)).status).toBe(200);
    const list = await page("GET", "/runtime-tokens", s.alice);
    expect(list.text).toContain("web plane");
    expect(list.text).not.toContain(token);
    const id = (await call("GET", "/v1/runtime-tokens", { token: s.alice })).body.runtime_tokens.find((t: { name: string }) => t.name === "web plane").id;
    // The redirect is followed: the list again, with the banner.
    const revoked = await page("POST", `/runtime-tokens/${id}/revoke`, s.alice, {});
    expect(revoked.text).toContain("The runtime token is revoked");
    expectError(await resolve(token), 401, "unauthorized");

    const before = await tokenRows();
    const builder = await page("GET", "/runtime-tokens", s.carol);
    expect(builder.text).toContain('data-testid="not-admin"');
    expect((await page("POST", "/runtime-tokens", s.carol, { name: "nope" })).status).toBe(403);
    expect(await tokenRows()).toEqual(before);
  });

  it("My tokens lists the member's own tokens and revokes one at once", async () => {
    const dave = await addMember(s.org.id, `dave-${uid(4)}@acme.test`, "builder");
    const key = await call("POST", "/v1/api-keys", { token: dave.token, body: { name: "dave script" } });
    const mine = await page("GET", "/tokens", dave.token);
    expect(mine.status).toBe(200);
    expect(mine.text).toContain("dave script");
    expect(mine.text).not.toContain(key.body.key);
    const revoked = await page("POST", `/tokens/${key.body.id}/revoke`, dave.token, {});
    expect(revoked.text).toContain("The token is revoked.");
    expect(revoked.text).not.toContain("dave script");
    expectError(await call("GET", "/v1/me", { token: key.body.key }), 401, "unauthorized");
  });
});
