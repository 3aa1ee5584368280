import { env } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import { hashToken, newId, newToken, tokenPreview } from "../../lib/tokens";
import { addMember, call, expectError, provisionWithTokens, uid, vaultOf, vaultSql } from "./helpers";

/**
 * The vault caches authenticated token lookups in memory (vault/auth.ts, issue 16). Every test
 * here first makes a successful call with the token (so it is cached), then ends the token one
 * way, and expects the very next call refused.
 */
let org: { id: string; owner: string; ownerId: string };

async function freshOrg(): Promise<{ id: string; owner: string; ownerId: string }> {
  const o = await env.DIRECTORY.getByName("global").ensureOrg(`tc${uid(6)}`, "Token cache");
  const owner = newToken("user", o.id);
  await provisionWithTokens({
    org: { id: o.id, slug: o.slug, name: o.name },
    members: [{ email: "owner@tc.test", name: "Owner", role: "owner" }],
    projects: [{ slug: "p1", name: "P1", members: [] }],
    tokens: [{ hash: await hashToken(owner), preview: tokenPreview(owner), kind: "user", email: "owner@tc.test", name: "test", expires_at: null }],
  });
  const ownerId = String((await vaultSql(o.id, `SELECT id FROM members WHERE email = 'owner@tc.test'`))[0]!.id);
  return { id: o.id, owner, ownerId };
}

const me = (token: string) => call("GET", "/v1/me", { token });
const resolve = (token: string) => call("POST", "/v1/runtime/resolve", { token, body: { consumer: { kind: "workflow", target: "wf", id: "s" }, requirements: [{ app: "exa" }] } });

/** Twice OK (the second from the cache), then `end`, then refused. */
async function refusedAtOnce(token: string, end: () => Promise<unknown>, use: (t: string) => Promise<{ status: number; text: string }> = me, status = 401): Promise<void> {
  for (let i = 0; i < 2; i++) expect((await use(token)).status).toBe(200);
  await end();
  const after = await use(token);
  expect(after.status, after.text).toBe(status);
}

beforeAll(async () => {
  org = await freshOrg();
  // Something for the runtime token to resolve.
  const set = await call("POST", "/v1/credentials", { token: org.owner, body: { app: "exa", fields: { apiKey: `exa-${uid(24)}` } } });
  expect(set.status, set.text).toBe(200);
});

describe("a revoked token is refused at once, though a successful call just cached it", () => {
  it("API key revoked (DELETE /v1/api-keys/{id})", async () => {
    const k = await call("POST", "/v1/api-keys", { token: org.owner, body: { name: `k${uid(4)}` } });
    await refusedAtOnce(k.body.key, () => call("DELETE", `/v1/api-keys/${k.body.id}`, { token: org.owner }));
  });

  it("runtime token revoked (DELETE /v1/runtime-tokens/{id}): the next resolve is refused", async () => {
    const rt = await call("POST", "/v1/runtime-tokens", { token: org.owner, body: { name: `rt${uid(4)}` } });
    expect(rt.status, rt.text).toBe(201);
    await refusedAtOnce(rt.body.token, () => call("DELETE", `/v1/runtime-tokens/${rt.body.id}`, { token: org.owner }), resolve);
  });

  it("own token revoked (DELETE /v1/me/tokens/{id})", async () => {
    const m = await addMember(org.id, `self${uid(4)}@tc.test`, "builder");
    const id = String((await vaultSql(org.id, `SELECT id FROM tokens WHERE member_id = ?`, m.id))[0]!.id);
    await refusedAtOnce(m.token, () => call("DELETE", `/v1/me/tokens/${id}`, { token: m.token }));
  });

  it("a member's token revoked by an owner (DELETE /v1/members/{id}/tokens/{token})", async () => {
    const m = await addMember(org.id, `mt${uid(4)}@tc.test`, "builder");
    const id = String((await vaultSql(org.id, `SELECT id FROM tokens WHERE member_id = ?`, m.id))[0]!.id);
    await refusedAtOnce(m.token, () => call("DELETE", `/v1/members/${m.id}/tokens/${id}`, { token: org.owner }));
  });

  it("member removed (offboarding, DELETE /v1/members/{id}): their token and their API key", async () => {
    const m = await addMember(org.id, `off${uid(4)}@tc.test`, "admin");
    const k = await call("POST", "/v1/api-keys", { token: m.token, body: { name: "mine" } });
    expect(k.status, k.text).toBe(201);
    for (const t of [m.token, k.body.key]) expect((await me(t)).status).toBe(200);
    expect((await call("DELETE", `/v1/members/${m.id}`, { token: org.owner })).status).toBe(200);
    for (const t of [m.token, k.body.key]) expect((await me(t)).status).toBe(401);
  });

  it("CLI logout (POST /v1/cli-logins/logout) of a CLI login's token", async () => {
    const token = newToken("user", org.id);
    await vaultSql(org.id, `INSERT INTO tokens (id, hash, kind, member_id, name, preview, created_at, expires_at) VALUES (?, ?, 'user', ?, 'cli login', ?, ?, ?)`, newId("tok"), await hashToken(token), org.ownerId, tokenPreview(token), Date.now(), Date.now() + 3_600_000);
    await refusedAtOnce(token, async () => expect((await call("POST", "/v1/cli-logins/logout", { token })).body).toEqual({ revoked: true }));
  });

  it("sign-out of a web session (the vault's signOut)", async () => {
    const token = newToken("user", org.id);
    await vaultSql(org.id, `INSERT INTO tokens (id, hash, kind, member_id, name, preview, created_at, expires_at) VALUES (?, ?, 'user', ?, 'web session (github)', ?, ?, ?)`, newId("tok"), await hashToken(token), org.ownerId, tokenPreview(token), Date.now(), Date.now() + 3_600_000);
    await refusedAtOnce(token, async () => expect((await vaultOf(org.id).signOut(token)).ok).toBe(true));
  });

  it("expiry: a cached token stops working the moment it expires, with no write at all", async () => {
    const token = newToken("user", org.id);
    await vaultSql(org.id, `INSERT INTO tokens (id, hash, kind, member_id, name, preview, created_at, expires_at) VALUES (?, ?, 'user', ?, 'short', ?, ?, ?)`, newId("tok"), await hashToken(token), org.ownerId, tokenPreview(token), Date.now(), Date.now() + 1_000);
    await refusedAtOnce(token, () => new Promise((r) => setTimeout(r, 1_100)));
  });

  it("a row changed by any path, even straight in SQL, is seen on the next call (the auth epoch's triggers)", async () => {
    const k = await call("POST", "/v1/api-keys", { token: org.owner, body: { name: `sql${uid(4)}` } });
    await refusedAtOnce(k.body.key, () => vaultSql(org.id, `UPDATE tokens SET revoked_at = ? WHERE id = ?`, Date.now(), k.body.id));
  });

  it("a demoted admin loses admin rights at once, and a member taken out of a project loses its credentials at once", async () => {
    const a = await addMember(org.id, `dem${uid(4)}@tc.test`, "admin", { p1: "builder" });
    const p1 = await call("POST", "/v1/credentials", { token: org.owner, body: { app: "exa", slug: `p${uid(4)}`, targets: [{ type: "project", project: "p1" }], fields: { apiKey: `exa-${uid(24)}` } } });
    const ref = encodeURIComponent(p1.body.credentials[0].id);
    await refusedAtOnce(a.token, () => call("PATCH", `/v1/members/${a.id}`, { token: org.owner, body: { role: "builder" } }), (t) => call("GET", "/v1/runtime-tokens", { token: t }), 403);
    expect((await call("GET", `/v1/credentials/${ref}`, { token: a.token })).status).toBe(200);
    expect((await call("DELETE", `/v1/projects/p1/members/${a.id}`, { token: org.owner })).status).toBe(200);
    expectError(await call("GET", `/v1/credentials/${ref}`, { token: a.token }), 404, "not_found");
  });
});

describe("the cache is what answers", () => {
  it("with the triggers gone (a throwaway org), a revoke written past them is not seen until the auth epoch moves", async () => {
    const o = await freshOrg();
    const k = await call("POST", "/v1/api-keys", { token: o.owner, body: { name: "k" } });
    const triggers = await vaultSql(o.id, `SELECT name FROM sqlite_master WHERE type = 'trigger' AND name LIKE 'auth_epoch_%'`);
    expect(triggers.length).toBeGreaterThanOrEqual(5);
    for (const t of triggers) await vaultSql(o.id, `DROP TRIGGER ${String(t.name)}`);
    expect((await me(k.body.key)).status).toBe(200);
    await vaultSql(o.id, `UPDATE tokens SET revoked_at = ? WHERE id = ?`, Date.now(), k.body.id);
    // Served from memory: the row was not read again.
    expect((await me(k.body.key)).status).toBe(200);
    await vaultSql(o.id, `UPDATE auth_epoch SET epoch = epoch + 1`);
    expectError(await me(k.body.key), 401, "unauthorized");
  });
});
