import { beforeAll, describe, expect, it } from "vitest";
import { maskSecret } from "../../lib/mask";
import { call, expectError, memberIds, openSecret, seed, setCred, uid, vaultSql, type Seed } from "./helpers";

let s: Seed;
let ids: Record<string, string>;
const enc = encodeURIComponent;
const get = (ref: string, token = s.alice) => call("GET", `/v1/credentials/${enc(ref)}`, { token });
const patch = (ref: string, body: unknown, token = s.alice) => call("PATCH", `/v1/credentials/${enc(ref)}`, { token, body });
const rotate = (ref: string, fields: Record<string, string>, token = s.alice) => call("POST", `/v1/credentials/${enc(ref)}/rotate`, { token, body: { fields } });
const revoke = (ref: string, token = s.alice) => call("POST", `/v1/credentials/${enc(ref)}/revoke`, { token });
const liveRows = (app: string, slug: string) => vaultSql(s.org.id, `SELECT * FROM credentials WHERE app = ? AND slug = ? AND status != 'revoked'`, app, slug);
const secretRows = (id: string) => vaultSql(s.org.id, `SELECT * FROM secret_fields WHERE credential_id = ?`, id);

beforeAll(async () => {
  s = await seed();
  ids = await memberIds(s.alice);
});

describe("set", () => {
  it("writes one credential at a single org target, masked, with every record field", async () => {
    const secret = `exa-${uid(32)}`;
    const res = await call("POST", "/v1/credentials", { token: s.alice, body: { app: "exa", fields: { apiKey: secret }, targets: [{ type: "org" }], slug: "one", name: "The One" } });
    expect(res.status, res.text).toBe(200);
    expect(res.text).not.toContain(secret);
    expect(res.body.credentials).toHaveLength(1);
    const c = res.body.credentials[0];
    expect(c).toMatchObject({
      ref: "exa/org/one", app: "exa", slug: "one", name: "The One", scope: { type: "org" }, default: false, kind: "api_key",
      status: "active", preview: maskSecret(secret), account: null, scopes: [], expires_at: null, created_by: ids["alice@acme.test"],
      rotated_at: null, last_used_at: null,
    });
    expect(c.id).toMatch(/^cred_[a-z2-7]{20}$/);
    expect(Date.parse(c.created_at)).not.toBeNaN();
    expect(await openSecret(s.org.id, c.id)).toEqual({ apiKey: secret });
  });

  it("stores any valid Unicode value exactly (astral characters, accents, a leading BOM)", async () => {
    const secret = `\ufeffclé-🔑-${uid(20)}-𝔘`;
    const res = await setCred(s.alice, { fields: { apiKey: secret }, slug: `uni${uid()}` });
    expect(res.status, res.text).toBe(200);
    expect(await openSecret(s.org.id, res.body.credentials[0].id)).toEqual({ apiKey: secret });
  });

  it("defaults the target to org and the slug to `default`", async () => {
    const res = await call("POST", "/v1/credentials", { token: s.alice, body: { app: "tavily", fields: { apiKey: `tvly-${uid(30)}` } } });
    expect(res.status, res.text).toBe(200);
    expect(res.body.credentials).toHaveLength(1);
    expect(res.body.credentials[0]).toMatchObject({ scope: { type: "org" }, slug: "default", name: "default", ref: "tavily/org/default" });
  });

  it("fans out to org + user + two projects as four independent rows", async () => {
    const slug = `fan${uid()}`;
    const secret = `exa-${uid(32)}`;
    const targets = [{ type: "org" }, { type: "user" }, { type: "project", project: "support" }, { type: "project", project: "growth" }];
    const res = await setCred(s.alice, { fields: { apiKey: secret }, targets, slug });
    expect(res.status, res.text).toBe(200);
    const creds = res.body.credentials;
    expect(creds.map((c: any) => c.scope)).toEqual([
      { type: "org" }, { type: "user", user: ids["alice@acme.test"] }, { type: "project", project: "support" }, { type: "project", project: "growth" },
    ]);
    expect(new Set(creds.map((c: any) => c.id)).size).toBe(4);
    expect(await liveRows("exa", slug)).toHaveLength(4);
    for (const c of creds) expect(await openSecret(s.org.id, c.id)).toEqual({ apiKey: secret });

    // Independent afterwards: rotating, renaming and revoking one leaves the others alone.
    const [org, user, support, growth] = creds;
    expect((await rotate(org.id, { apiKey: `exa-${uid(32)}` })).status).toBe(200);
    expect((await patch(support.id, { name: "Support only" })).status).toBe(200);
    expect((await revoke(growth.id)).status).toBe(200);
    const after = (await get(user.id)).body;
    expect(after).toEqual(user);
    expect(await openSecret(s.org.id, user.id)).toEqual({ apiKey: secret });
    expect((await get(org.id)).body.name).toBe(slug);
    expect((await get(support.id)).body.preview).toBe(maskSecret(secret));
    expect((await get(support.id)).body.status).toBe("active");
  });

  it("re-set of the same app + slug + target replaces the value and keeps the id", async () => {
    const slug = `idem${uid()}`;
    const first = await setCred(s.alice, { fields: { apiKey: `exa-first-${uid(24)}` }, slug, name: "First" });
    expect(first.status).toBe(200);
    const id = first.body.credentials[0].id;
    expect((await patch(id, { default: true })).status).toBe(200);
    const secret = `exa-second-${uid(24)}`;
    const again = await setCred(s.alice, { fields: { apiKey: secret }, slug });
    expect(again.status, again.text).toBe(200);
    const c = again.body.credentials[0];
    expect(c.id).toBe(id);
    expect(c.preview).toBe(maskSecret(secret));
    expect(c.name).toBe("First"); // no name given: the display name stays
    expect(c.default).toBe(true);
    expect(c.rotated_at).not.toBeNull();
    expect(await liveRows("exa", slug)).toHaveLength(1);
    expect(await secretRows(id)).toHaveLength(1);
    expect(await openSecret(s.org.id, id)).toEqual({ apiKey: secret });
    const renamed = await setCred(s.alice, { slug, name: "Second" });
    expect(renamed.body.credentials[0]).toMatchObject({ id, name: "Second" });
  });

  it("creates a custom app for an unknown key and validates later sets against its fields", async () => {
    const app = `internal-${uid()}`;
    const res = await call("POST", "/v1/credentials", { token: s.alice, body: { app, fields: { token: `tok-${uid(30)}`, region: "eu-west-1" } } });
    expect(res.status, res.text).toBe(200);
    expect(res.body.credentials[0]).toMatchObject({ app, kind: "api_key", ref: `${app}/org/default` });
    const apps = await call("GET", `/v1/apps?search=${app}`, { token: s.alice });
    const mine = apps.body.apps.find((a: any) => a.slug === app);
    expect(mine).toMatchObject({ custom: true, kind: "api_key", connected: 1 });
    expect(mine.fields.map((f: any) => f.name)).toEqual(["token", "region"]);

    expectError(await call("POST", "/v1/credentials", { token: s.alice, body: { app, fields: { token: "tok-abc" }, slug: "b" } }), 400, "invalid_request", "fields.region");
    expectError(await call("POST", "/v1/credentials", { token: s.alice, body: { app, fields: { token: "t", region: "r", extra: "x" }, slug: "b" } }), 400, "invalid_request", "fields.extra");
    expect(await liveRows(app, "b")).toHaveLength(0);
    const ok = await call("POST", "/v1/credentials", { token: s.alice, body: { app, fields: { token: "tok-2", region: "us" }, slug: "b" } });
    expect(ok.status, ok.text).toBe(200);
    // Rotate may change a subset of a custom app's fields.
    const rot = await rotate(ok.body.credentials[0].id, { region: "ap" });
    expect(rot.status, rot.text).toBe(200);
    expect(await openSecret(s.org.id, ok.body.credentials[0].id)).toEqual({ token: "tok-2", region: "ap" });
  });
});

describe("list", () => {
  it("answers masked rows, filtered by app, scope and status, never a secret", async () => {
    const app = "serpapi";
    const secrets = [`serp-${uid(32)}`, `serp-${uid(32)}`, `serp-${uid(32)}`];
    await setCred(s.alice, { app, fields: { apiKey: secrets[0]! }, slug: "a", targets: [{ type: "org" }] });
    await setCred(s.alice, { app, fields: { apiKey: secrets[1]! }, slug: "b", targets: [{ type: "project", project: "support" }] });
    const u = await setCred(s.alice, { app, fields: { apiKey: secrets[2]! }, slug: "c", targets: [{ type: "user" }] });
    await revoke(u.body.credentials[0].id);

    const all = await call("GET", `/v1/credentials?app=${app}`, { token: s.alice });
    expect(all.status).toBe(200);
    expect(all.body.credentials.map((c: any) => c.ref).sort()).toEqual([`${app}/org/a`, `${app}/project/support/b`, `${app}/user/c`]);
    for (const secret of secrets) expect(all.text).not.toContain(secret);
    const bySlug = Object.fromEntries(all.body.credentials.map((c: any) => [c.slug, c]));
    expect(bySlug.a.preview).toBe(maskSecret(secrets[0]!));
    expect(bySlug.b.preview).toBe(maskSecret(secrets[1]!));
    expect(bySlug.c.preview).toBeNull();

    const refs = async (q: string) => (await call("GET", `/v1/credentials?app=${app}&${q}`, { token: s.alice })).body.credentials.map((c: any) => c.ref).sort();
    expect(await refs("scope=org")).toEqual([`${app}/org/a`]);
    expect(await refs("scope=project")).toEqual([`${app}/project/support/b`]);
    expect(await refs("scope=project:support")).toEqual([`${app}/project/support/b`]);
    expect(await refs("scope=project:growth")).toEqual([]);
    expect(await refs("scope=user")).toEqual([`${app}/user/c`]);
    expect(await refs("status=revoked")).toEqual([`${app}/user/c`]);
    expect(await refs("status=active")).toEqual([`${app}/org/a`, `${app}/project/support/b`]);
    expect(await refs("status=active&scope=org")).toEqual([`${app}/org/a`]);
    const other = await call("GET", `/v1/credentials?app=firecrawl`, { token: s.alice });
    expect(other.body.credentials).toEqual([]);
  });
});

describe("get by reference", () => {
  const X = `ref${uid()}`;
  const Y = `solo${uid()}`;
  const Z = `twin${uid()}`;
  const made: Record<string, any> = {};

  beforeAll(async () => {
    made.tOrg = (await setCred(s.alice, { app: "tavily", slug: X, targets: [{ type: "org" }] })).body.credentials[0];
    made.tUser = (await setCred(s.alice, { app: "tavily", slug: X, targets: [{ type: "user" }] })).body.credentials[0];
    made.eSupport = (await setCred(s.alice, { app: "exa", slug: X, targets: [{ type: "project", project: "support" }] })).body.credentials[0];
    made.solo = (await setCred(s.alice, { app: "tavily", slug: Y })).body.credentials[0];
    await setCred(s.alice, { app: "exa", slug: Z });
    await setCred(s.alice, { app: "tavily", slug: Z });
  });

  it.each([
    ["slug", () => Y, "solo"],
    ["org/<slug>", () => `org/${X}`, "tOrg"],
    ["user/<slug>", () => `user/${X}`, "tUser"],
    ["project/support/<slug>", () => `project/support/${X}`, "eSupport"],
    ["<app>/<slug>", () => `exa/${X}`, "eSupport"],
    ["<app>/org/<slug>", () => `tavily/org/${X}`, "tOrg"],
    ["<app>/user/<slug>", () => `tavily/user/${X}`, "tUser"],
    ["<app>/project/support/<slug>", () => `exa/project/support/${X}`, "eSupport"],
  ])("resolves the %s form", async (_form, ref, key) => {
    const res = await get(ref());
    expect(res.status, res.text).toBe(200);
    expect(res.body).toEqual(made[key]);
  });

  it("resolves an id, and a percent-encoded slash in the path", async () => {
    for (const c of Object.values(made)) expect((await call("GET", `/v1/credentials/${c.id}`, { token: s.alice })).body).toEqual(c);
    const res = await call("GET", `/v1/credentials/tavily%2Forg%2F${X}`, { token: s.alice });
    expect(res.status, res.text).toBe(200);
    expect(res.body.id).toBe(made.tOrg.id);
    const lower = await call("GET", `/v1/credentials/exa%2fproject%2fsupport%2f${X}`, { token: s.alice });
    expect(lower.body.id).toBe(made.eSupport.id);
  });

  it("a bare slug matching two credentials is a 400 listing the candidates", async () => {
    const res = await get(Z);
    expectError(res, 400, "invalid_request", "ref");
    expect(res.body.error.details.candidates).toEqual([`exa/org/${Z}`, `tavily/org/${Z}`]);
    const three = await get(X);
    expectError(three, 400, "invalid_request", "ref");
    expect(three.body.error.details.candidates).toEqual([`exa/project/support/${X}`, `tavily/org/${X}`, `tavily/user/${X}`]);
    const app = await get(`tavily/${X}`);
    expect(app.body.error.details.candidates).toEqual([`tavily/org/${X}`, `tavily/user/${X}`]);
  });

  it("an unknown reference is 404, a malformed one 400", async () => {
    expectError(await get(`nothing${uid()}`), 404, "not_found");
    expectError(await get("cred_aaaaaaaaaaaaaaaaaaaa"), 404, "not_found");
    expectError(await get(`project/nope/${X}`), 404, "not_found");
    expectError(await get("a/b/c/d/e"), 400, "invalid_request", "ref");
    expectError(await get("Upper"), 400, "invalid_request", "ref");
  });
});

describe("rename", () => {
  it("changes the name and the slug; the old slug stops resolving", async () => {
    const slug = `ren${uid()}`;
    const c = (await setCred(s.alice, { app: "firecrawl", slug })).body.credentials[0];
    const named = await patch(c.id, { name: "Crawler" });
    expect(named.status, named.text).toBe(200);
    expect(named.body).toMatchObject({ id: c.id, name: "Crawler", slug });
    const newSlug = `${slug}-new`;
    const moved = await patch(`firecrawl/org/${slug}`, { slug: newSlug });
    expect(moved.status, moved.text).toBe(200);
    expect(moved.body).toMatchObject({ id: c.id, name: "Crawler", slug: newSlug, ref: `firecrawl/org/${newSlug}` });
    expectError(await get(`firecrawl/org/${slug}`), 404, "not_found");
    expect((await get(`firecrawl/org/${newSlug}`)).body.id).toBe(c.id);
    const both = await patch(c.id, { name: "Both", slug });
    expect(both.body).toMatchObject({ name: "Both", slug });
  });

  it("a slug already used by the same app + scope is a 400 naming `slug`, and nothing changes", async () => {
    const a = (await setCred(s.alice, { app: "firecrawl", slug: `a${uid()}` })).body.credentials[0];
    const b = (await setCred(s.alice, { app: "firecrawl", slug: `b${uid()}` })).body.credentials[0];
    expectError(await patch(b.id, { slug: a.slug, name: "Clash" }), 400, "invalid_request", "slug");
    expect((await get(b.id)).body).toEqual(b);
    // The same slug at another scope is fine.
    const p = (await setCred(s.alice, { app: "firecrawl", slug: `p${uid()}`, targets: [{ type: "project", project: "support" }] })).body.credentials[0];
    const ok = await patch(p.id, { slug: a.slug });
    expect(ok.status, ok.text).toBe(200);
  });
});

describe("default", () => {
  it("set default clears the previous default of that app + scope only; unset clears it", async () => {
    const app = "resend";
    const [a, b] = await Promise.all(["a", "b"].map(async (x) => (await setCred(s.alice, { app, slug: x })).body.credentials[0]));
    const sup = (await setCred(s.alice, { app, slug: "a", targets: [{ type: "project", project: "support" }] })).body.credentials[0];
    expect((await patch(sup.id, { default: true })).body.default).toBe(true);
    const first = await patch(a.id, { default: true });
    expect(first.status, first.text).toBe(200);
    expect(first.body.default).toBe(true);
    const second = await patch(b.id, { default: true });
    expect(second.body.default).toBe(true);
    expect((await get(a.id)).body.default).toBe(false);
    expect((await get(sup.id)).body.default).toBe(true);
    const again = await patch(b.id, { default: true });
    expect(again.body.default).toBe(true);
    const unset = await patch(b.id, { default: false });
    expect(unset.status).toBe(200);
    expect(unset.body.default).toBe(false);
    const list = await call("GET", `/v1/credentials?app=${app}&scope=org`, { token: s.alice });
    expect(list.body.credentials.filter((c: any) => c.default)).toEqual([]);
  });
});

describe("rotate", () => {
  it("keeps the id and default flag, changes the preview and the stored value", async () => {
    const c = (await setCred(s.alice, { app: "sendgrid", slug: `rot${uid()}`, fields: { apiKey: `SG.${uid(40)}` } })).body.credentials[0];
    await patch(c.id, { default: true });
    const secret = `SG.${uid(40)}`;
    const res = await rotate(c.id, { apiKey: secret });
    expect(res.status, res.text).toBe(200);
    expect(res.text).not.toContain(secret);
    expect(res.body).toMatchObject({ id: c.id, default: true, slug: c.slug, status: "active", preview: maskSecret(secret) });
    expect(res.body.preview).not.toBe(c.preview);
    expect(res.body.rotated_at).not.toBeNull();
    expect(await openSecret(s.org.id, c.id)).toEqual({ apiKey: secret });
  });

  it("rejects a field the app does not have, and an empty field set", async () => {
    const c = (await setCred(s.alice, { app: "sendgrid", slug: `rot${uid()}` })).body.credentials[0];
    const before = await openSecret(s.org.id, c.id);
    expectError(await rotate(c.id, { bogus: "x" }), 400, "invalid_request", "fields.bogus");
    expectError(await rotate(c.id, {}), 400, "invalid_request", "fields");
    expect(await openSecret(s.org.id, c.id)).toEqual(before);
    expect((await get(c.id)).body).toEqual(c);
  });
});

describe("revoke", () => {
  it("marks it revoked, destroys the secret, frees the slug, and is idempotent", async () => {
    const slug = `rev${uid()}`;
    const c = (await setCred(s.alice, { app: "postmark", slug, fields: { serverToken: `pm-${uid(32)}` } })).body.credentials[0];
    await patch(c.id, { default: true });
    expect(await secretRows(c.id)).toHaveLength(1);
    const res = await revoke(c.id);
    expect(res.status, res.text).toBe(200);
    expect(res.body).toMatchObject({ id: c.id, status: "revoked", preview: null, default: false });
    expect(await secretRows(c.id)).toHaveLength(0);
    const row = (await vaultSql(s.org.id, `SELECT status, preview, revoked_at FROM credentials WHERE id = ?`, c.id))[0]!;
    expect(row.status).toBe("revoked");
    expect(row.preview).toBeNull();
    expect(row.revoked_at).not.toBeNull();

    const again = await revoke(c.id);
    expect(again.status, again.text).toBe(200);
    expect(again.body).toEqual(res.body);
    const audit = await call("GET", `/v1/audit?action=credential.revoke&credential=${c.id}`, { token: s.alice });
    expect(audit.body.entries).toHaveLength(1);

    const reuse = await setCred(s.alice, { app: "postmark", slug, fields: { serverToken: `pm-${uid(32)}` } });
    expect(reuse.status, reuse.text).toBe(200);
    expect(reuse.body.credentials[0].id).not.toBe(c.id);
    expect(reuse.body.credentials[0].status).toBe("active");
    expect((await get(c.id)).body.status).toBe("revoked");
    // The qualified reference names the live credential, not the revoked one kept for the audit trail.
    expect((await get(`postmark/org/${slug}`)).body.id).toBe(reuse.body.credentials[0].id);
  });

  it("rename, default and rotate of a revoked credential are 409 conflict and change nothing", async () => {
    const c = (await setCred(s.alice, { app: "postmark", slug: `gone${uid()}`, fields: { serverToken: `pm-${uid(32)}` } })).body.credentials[0];
    const revoked = (await revoke(c.id)).body;
    expectError(await patch(c.id, { name: "x" }), 409, "conflict");
    expectError(await patch(c.id, { slug: "other" }), 409, "conflict");
    expectError(await patch(c.id, { default: true }), 409, "conflict");
    expectError(await rotate(c.id, { serverToken: `pm-${uid(32)}` }), 409, "conflict");
    expect((await get(c.id)).body).toEqual(revoked);
    expect(await secretRows(c.id)).toHaveLength(0);
  });
});
