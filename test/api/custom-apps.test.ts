import { beforeAll, describe, expect, it } from "vitest";
import { addMember, call, credentialState, expectError, seed, uid, vaultOf, vaultSql, type Seed } from "./helpers";

/**
 * Custom apps (issue 11 item 12; README "Decisions"): only org owners and admins create org
 * custom apps; a builder's unknown key stays private to them and freezes nothing for the org;
 * admins edit (PATCH) and delete (DELETE, refused while credentials are live) custom apps.
 */
let s: Seed;
let dave: string; // builder of the org, admin of growth
let erin: string; // builder

beforeAll(async () => {
  s = await seed();
  dave = (await addMember(s.org.id, "dave@acme.test", "builder", { growth: "admin" })).token;
  erin = (await addMember(s.org.id, "erin@acme.test", "builder")).token;
});

const key = () => `k${uid(8)}`;
const set = (token: string, app: string, fields: Record<string, string>, targets: object[] = [{ type: "user" }]) =>
  call("POST", "/v1/credentials", { token, body: { app, fields, targets } });
async function appsOf(token: string, app: string): Promise<any[]> {
  const res = await call("GET", `/v1/apps?search=${app}`, { token });
  expect(res.status, res.text).toBe(200);
  return res.body.apps.filter((a: any) => a.slug === app);
}
const orgDefinition = (app: string) => vaultSql(s.org.id, `SELECT slug, fields FROM custom_apps WHERE slug = ?`, app);

describe("who creates custom apps", () => {
  it("a builder's first set of an unknown key stays private to them and freezes nothing for the org", async () => {
    const app = key();
    const mine = await set(s.carol, app, { token: `t-${uid(20)}` });
    expect(mine.status, mine.text).toBe(200);
    expect(await orgDefinition(app)).toEqual([]);
    expect(await appsOf(s.alice, app)).toEqual([]);
    expect(await appsOf(erin, app)).toEqual([]);
    expect(await appsOf(s.carol, app)).toMatchObject([{ slug: app, custom: true, fields: [{ name: "token" }], connected: 1 }]);
    // Her private definition holds for her own later sets.
    expectError(await set(s.carol, app, { apiKey: `a-${uid(20)}` }), 400, "invalid_request", "fields.apiKey");
    // Another builder's key of the same name is theirs alone.
    expect((await set(erin, app, { secret: `s-${uid(20)}` })).status).toBe(200);
    // An admin is not bound by either: the org definition is the admin's, and governs from now on.
    const org = await set(s.alice, app, { apiKey: `a-${uid(20)}` }, [{ type: "org" }]);
    expect(org.status, org.text).toBe(200);
    expect(await orgDefinition(app)).toEqual([{ slug: app, fields: JSON.stringify(["apiKey"]) }]);
    expect((await appsOf(s.carol, app)).map((a) => a.fields.map((f: any) => f.name))).toEqual([["apiKey"]]);
  });

  it("a builder's unknown key cannot target a project or the org, even as project admin; nothing written", async () => {
    const app = key();
    const before = await credentialState(s.org.id);
    const res = await set(dave, app, { apiKey: `a-${uid(20)}` }, [{ type: "project", project: "growth" }]);
    expectError(res, 403, "forbidden", "app");
    expectError(await set(dave, app, { apiKey: `a-${uid(20)}` }, [{ type: "user" }, { type: "project", project: "growth" }]), 403, "forbidden", "app");
    expect(await credentialState(s.org.id)).toBe(before);
    const denied = await vaultSql(s.org.id, `SELECT target, detail FROM audit WHERE action = 'credential.set' AND outcome = 'denied' AND detail LIKE ?`, `%${app}%`);
    expect(denied.map((d) => d.target)).toEqual(["project:growth", "project:growth"]);
    // An admin's key for a project creates the org custom app.
    expect((await set(s.bob, app, { apiKey: `a-${uid(20)}` }, [{ type: "project", project: "growth" }])).status).toBe(200);
    expect(await orgDefinition(app)).toHaveLength(1);
  });
});

describe("PATCH and DELETE /v1/apps/{slug}", () => {
  it("admins edit a custom app's fields; builders may not; catalog and unknown apps are refused", async () => {
    const app = key();
    expect((await set(s.alice, app, { apiKey: `a-${uid(20)}` }, [{ type: "org" }])).status).toBe(200);
    const patch = (token: string, slug: string, body: unknown) => call("PATCH", `/v1/apps/${slug}`, { token, body });
    expectError(await patch(s.carol, app, { fields: ["apiKey", "region"] }), 403, "forbidden");
    expectError(await patch(dave, app, { fields: ["apiKey", "region"] }), 403, "forbidden");
    expectError(await patch(s.bob, "exa", { fields: ["apiKey"] }), 400, "invalid_request", "path.slug");
    expectError(await patch(s.bob, key(), { fields: ["apiKey"] }), 404, "not_found", "path.slug");
    expectError(await patch(s.bob, app, { fields: [] }), 400, "invalid_request", "fields");
    expectError(await patch(s.bob, app, { fields: ["1bad"] }), 400, "invalid_request", "fields[0]");
    expectError(await patch(s.bob, app, { fields: ["apiKey"], name: "x" }), 400, "invalid_request", "name");
    expect(await orgDefinition(app)).toEqual([{ slug: app, fields: JSON.stringify(["apiKey"]) }]);
    const ok = await patch(s.bob, app, { fields: ["apiKey", "region"] });
    expect(ok.status, ok.text).toBe(200);
    expect(ok.body).toMatchObject({ slug: app, custom: true, fields: [{ name: "apiKey" }, { name: "region" }], connected: 1 });
    expectError(await set(s.alice, app, { apiKey: `a-${uid(20)}` }, [{ type: "org" }]), 400, "invalid_request", "fields.region");
    expect((await set(s.carol, app, { apiKey: `a-${uid(20)}`, region: "eu" })).status).toBe(200);
    const audit = await vaultSql(s.org.id, `SELECT outcome, detail FROM audit WHERE action = 'app.update' AND target = ? ORDER BY seq`, `app:${app}`);
    expect(audit.map((a) => a.outcome)).toEqual(["denied", "denied", "ok"]);
    expect(JSON.parse(String(audit[2]!.detail))).toEqual({ app, from: ["apiKey"], to: ["apiKey", "region"] });
  });

  it("delete is refused with 409 while any credential is live (a builder's too), then removes the app", async () => {
    const app = key();
    const org = await set(s.alice, app, { apiKey: `a-${uid(20)}` }, [{ type: "org" }]);
    const carols = await set(s.carol, app, { apiKey: `a-${uid(20)}` });
    expect([org.status, carols.status]).toEqual([200, 200]);
    expectError(await call("DELETE", `/v1/apps/${app}`, { token: s.carol }), 403, "forbidden");
    const busy = await call("DELETE", `/v1/apps/${app}`, { token: s.bob });
    expectError(busy, 409, "conflict", "path.slug");
    expect(busy.body.error.details.live_credentials).toBe(2);
    expect(await orgDefinition(app)).toHaveLength(1);
    for (const c of [org, carols]) {
      expect((await call("POST", `/v1/credentials/${c.body.credentials[0].id}/revoke`, { token: s.alice })).status).toBe(200);
    }
    const gone = await call("DELETE", `/v1/apps/${app}`, { token: s.bob });
    expect(gone.status, gone.text).toBe(200);
    expect(gone.body.deleted).toMatchObject({ slug: app, custom: true });
    expect(await orgDefinition(app)).toEqual([]);
    expect(await appsOf(s.alice, app)).toEqual([]);
    expectError(await call("DELETE", `/v1/apps/${app}`, { token: s.bob }), 404, "not_found");
    expectError(await call("DELETE", "/v1/apps/exa", { token: s.bob }), 400, "invalid_request", "path.slug");
  });

  it("a connect session of a custom app deleted since it began answers a conflict, never a 500", async () => {
    const app = key();
    const made = await set(s.alice, app, { apiKey: `a-${uid(20)}` }, [{ type: "org" }]);
    expect(made.status, made.text).toBe(200);
    expect((await call("POST", `/v1/credentials/${made.body.credentials[0].id}/revoke`, { token: s.alice })).status).toBe(200);
    const session = await call("POST", "/v1/connect-sessions", { token: s.alice, body: { app } });
    expect(session.status, session.text).toBe(201);
    expect((await call("DELETE", `/v1/apps/${app}`, { token: s.bob })).status).toBe(200);
    const options = await vaultOf(s.org.id).getConnectOptions(s.alice, session.body.id, "http://localhost");
    expect(options.ok || options.error).toMatchObject({ code: "conflict" });
    const begun = await vaultOf(s.org.id).beginConnect(s.alice, session.body.id, { targets: [{ type: "org" }] }, "http://localhost/oauth/callback");
    // /oauth/start's vault call: a 4xx saying the app is gone (the provider config is looked up first).
    expect(begun.ok || begun.error).toMatchObject({ code: "not_found", message: expect.stringContaining(app) });
  });
});
