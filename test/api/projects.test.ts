import { beforeAll, describe, expect, it } from "vitest";
import { addMember, call, expectError, seed, uid, vaultSql, type Seed } from "./helpers";

/** Projects CRUD and project members (SPEC section 12, issue 13 build 3). */
let s: Seed;
let ids: { alice: string; bob: string; carol: string };
let projectAdmin: { token: string; id: string };
let other: { token: string; id: string };

const projectState = () => vaultSql(s.org.id, `SELECT 'p' AS t, slug AS a, name AS b FROM projects UNION ALL SELECT 'm', project || '/' || member_id, role FROM project_members ORDER BY 1, 2`);

beforeAll(async () => {
  s = await seed();
  const me = async (t: string) => (await call("GET", "/v1/me", { token: t })).body.member.id as string;
  ids = { alice: await me(s.alice), bob: await me(s.bob), carol: await me(s.carol) };
  projectAdmin = await addMember(s.org.id, `pa-${uid(4)}@acme.test`, "builder");
  other = await addMember(s.org.id, `ot-${uid(4)}@acme.test`, "builder");
});

/** A fresh project where the project admin is admin and carol a builder. */
async function freshProject(): Promise<string> {
  const slug = `p-${uid(6)}`;
  const r = await call("POST", "/v1/projects", { token: s.alice, body: { slug, name: "Fresh" } });
  expect(r.status, r.text).toBe(201);
  for (const [m, role] of [[projectAdmin.id, "admin"], [ids.carol, "builder"]] as const) {
    const put = await call("PUT", `/v1/projects/${slug}/members/${m}`, { token: s.alice, body: { role } });
    expect(put.status, put.text).toBe(200);
  }
  return slug;
}

describe("projects: roles x operations", () => {
  const roles = [
    ["owner", () => s.alice, { manage: true, members: true }],
    ["admin", () => s.bob, { manage: true, members: true }],
    ["project admin", () => projectAdmin.token, { manage: false, members: true }],
    ["builder", () => s.carol, { manage: false, members: false }],
  ] as const;

  for (const [role, token, may] of roles) {
    it(`${role}: create/rename/delete ${may.manage ? "allowed" : "forbidden"}, members ${may.members ? "allowed" : "forbidden"}; nothing written when refused`, async () => {
      const slug = await freshProject();
      const ops = {
        create: () => call("POST", "/v1/projects", { token: token(), body: { slug: `n-${uid(6)}`, name: "New" } }),
        rename: () => call("PATCH", `/v1/projects/${slug}`, { token: token(), body: { name: "Renamed" } }),
        addMember: () => call("PUT", `/v1/projects/${slug}/members/${other.id}`, { token: token(), body: { role: "builder" } }),
        removeMember: () => call("DELETE", `/v1/projects/${slug}/members/${other.id}`, { token: token() }),
        delete: () => call("DELETE", `/v1/projects/${slug}`, { token: token() }),
      };
      for (const [op, run] of Object.entries(ops)) {
        const allowed = op === "addMember" || op === "removeMember" ? may.members : may.manage;
        const before = await projectState();
        const res = await run();
        if (allowed) {
          expect(res.status, `${role} ${op}: ${res.text}`).toBe(op === "create" ? 201 : 200);
        } else {
          expectError(res, 403, "forbidden");
          expect(await projectState(), `${role} ${op} wrote`).toEqual(before);
        }
      }
      if (may.manage) expect((await vaultSql(s.org.id, `SELECT 1 FROM projects WHERE slug = ?`, slug)).length).toBe(0);
    });
  }

  it("a project admin manages only their own project's members", async () => {
    const slug = await freshProject();
    const before = await projectState();
    expectError(await call("PUT", `/v1/projects/support/members/${other.id}`, { token: projectAdmin.token, body: { role: "builder" } }), 403, "forbidden");
    // Permission before existence: a project they are not in, real or not, says the same.
    expectError(await call("PUT", `/v1/projects/nope-${uid(4)}/members/${other.id}`, { token: projectAdmin.token, body: { role: "builder" } }), 403, "forbidden");
    expect(await projectState()).toEqual(before);
    // Promote a member to project admin, by email; the list shows it.
    const put = await call("PUT", `/v1/projects/${slug}/members/${encodeURIComponent((await call("GET", "/v1/me", { token: other.token })).body.member.email)}`, { token: projectAdmin.token, body: { role: "admin" } });
    expect(put.body).toEqual({ project: slug, member: other.id, role: "admin" });
    const listed = (await call("GET", "/v1/projects", { token: other.token })).body.projects.find((p: { slug: string }) => p.slug === slug);
    expect(listed).toMatchObject({ slug, role: "admin" });
    const audit = await vaultSql(s.org.id, `SELECT action, outcome FROM audit WHERE target = ? ORDER BY seq`, `project:${slug}`);
    expect(audit.map((a) => `${a.action}:${a.outcome}`)).toEqual(["project.create:ok", "project.member.put:ok", "project.member.put:ok", "project.member.put:ok"]);
  });
});

describe("projects: bad input", () => {
  it("a slug that exists is 409 naming `slug`; bad slugs and names are 400 naming the field; nothing written", async () => {
    const before = await projectState();
    expectError(await call("POST", "/v1/projects", { token: s.alice, body: { slug: "support", name: "Again" } }), 409, "conflict", "slug");
    expectError(await call("POST", "/v1/projects", { token: s.alice, body: { slug: "Bad Slug", name: "x" } }), 400, "invalid_request", "slug");
    expectError(await call("POST", "/v1/projects", { token: s.alice, body: { slug: "ok-slug", name: "x".repeat(101) } }), 400, "invalid_request", "name");
    expectError(await call("PATCH", "/v1/projects/support", { token: s.alice, body: { name: "a\u202eb" } }), 400, "invalid_request", "name");
    expectError(await call("PATCH", `/v1/projects/nope-${uid(4)}`, { token: s.alice, body: { name: "x" } }), 404, "not_found", "slug");
    expectError(await call("PUT", "/v1/projects/support/members/mem_nobody", { token: s.alice, body: { role: "builder" } }), 404, "not_found", "member");
    expectError(await call("PUT", `/v1/projects/support/members/${ids.carol}`, { token: s.alice, body: { role: "owner" } }), 400, "invalid_request", "role");
    expectError(await call("DELETE", `/v1/projects/support/members/${ids.bob}`, { token: s.alice }), 404, "not_found", "member");
    expect(await projectState()).toEqual(before);
  });

  it("deleting a project with live credentials, pins or channel bindings is 409 unless force; force revokes and removes them in one go", async () => {
    const slug = await freshProject();
    const app = `papp${uid(6)}`;
    const cred = await call("POST", "/v1/credentials", { token: s.alice, body: { app, slug: "main", fields: { apiKey: `sec-${uid(20)}` }, targets: [{ type: "project", project: slug }] } });
    expect(cred.status, cred.text).toBe(200);
    const credId = cred.body.credentials[0].id;
    const pin = await call("PUT", "/v1/assignments", { token: s.alice, body: { kind: "workflow", target: `wf-${uid(4)}`, credential: credId } });
    expect(pin.status, pin.text).toBe(200);
    await vaultSql(s.org.id, `INSERT INTO slack_bindings (route_key, channel_id, agent, mode, project, status, created_at, updated_at) VALUES ('team:T1', ?, 'bot', 'all', ?, 'active', 0, 0)`, `C${uid(6)}`, slug);

    const snapshot = async () => JSON.stringify([
      await projectState(),
      await vaultSql(s.org.id, `SELECT id, status FROM credentials WHERE id = ?`, credId),
      await vaultSql(s.org.id, `SELECT * FROM secret_fields WHERE credential_id = ?`, credId),
      await vaultSql(s.org.id, `SELECT * FROM assignments WHERE credential_id = ?`, credId),
      await vaultSql(s.org.id, `SELECT * FROM slack_bindings WHERE project = ?`, slug),
    ]);
    const before = await snapshot();
    for (const q of ["", "?force=false"]) {
      const res = await call("DELETE", `/v1/projects/${slug}${q}`, { token: s.alice });
      expectError(res, 409, "conflict", "query.force");
      expect(res.body.error.details).toMatchObject({ credentials: 1, assignments: 1, channel_bindings: 1 });
    }
    expectError(await call("DELETE", `/v1/projects/${slug}?force=yes`, { token: s.alice }), 400, "invalid_request", "query.force");
    expectError(await call("DELETE", `/v1/projects/${slug}?force=true`, { token: s.carol }), 403, "forbidden");
    expect(await snapshot()).toEqual(before);

    const del = await call("DELETE", `/v1/projects/${slug}?force=true`, { token: s.bob });
    expect(del.status, del.text).toBe(200);
    expect(del.body).toEqual({ slug, revoked_credentials: 1, removed_assignments: 1, removed_channel_bindings: 1 });
    expect(await vaultSql(s.org.id, `SELECT status FROM credentials WHERE id = ?`, credId)).toEqual([{ status: "revoked" }]);
    expect(await vaultSql(s.org.id, `SELECT * FROM secret_fields WHERE credential_id = ?`, credId)).toEqual([]);
    expect(await vaultSql(s.org.id, `SELECT * FROM assignments WHERE credential_id = ?`, credId)).toEqual([]);
    expect(await vaultSql(s.org.id, `SELECT * FROM slack_bindings WHERE project = ?`, slug)).toEqual([]);
    expect(await vaultSql(s.org.id, `SELECT * FROM project_members WHERE project = ?`, slug)).toEqual([]);
    expect((await call("GET", "/v1/projects", { token: s.alice })).body.projects.map((p: { slug: string }) => p.slug)).not.toContain(slug);
    const audit = await vaultSql(s.org.id, `SELECT action, detail FROM audit WHERE target = ? AND outcome = 'ok' ORDER BY seq DESC LIMIT 2`, `project:${slug}`);
    expect(audit.map((a) => a.action)).toEqual(["project.delete", "credential.revoke"]);
    expect(JSON.parse(String(audit[0]!.detail))).toMatchObject({ force: true, revoked_credentials: 1 });

    // An empty project deletes without force; the slug is free again.
    const again = await call("POST", "/v1/projects", { token: s.alice, body: { slug, name: "Again" } });
    expect(again.status, again.text).toBe(201);
    expect((await call("DELETE", `/v1/projects/${slug}`, { token: s.alice })).status).toBe(200);
  });
});

describe("the Projects page", () => {
  const page = async (path: string, session: string, form?: Record<string, string>) => {
    const { sessionCsrf } = await import("../../workers/shared/session");
    const headers: Record<string, string> = { accept: "text/html", cookie: `ks_session=${session}` };
    if (!form) return call("GET", path, { headers });
    headers["content-type"] = "application/x-www-form-urlencoded";
    return call("POST", path, { headers, rawBody: new URLSearchParams({ ...form, csrf: await sessionCsrf(session) }).toString() });
  };

  it("is role-aware: admins get create/rename/delete, a project admin only their project's member forms, a builder none; the forms work", async () => {
    const slug = await freshProject();
    const asAdmin = await page("/projects", s.bob);
    expect(asAdmin.text).toContain('aria-label="Create a project"');
    expect(asAdmin.text).toContain(`aria-label="Delete ${slug}"`);
    const asPa = await page("/projects", projectAdmin.token);
    expect(asPa.text).not.toContain('aria-label="Create a project"');
    expect(asPa.text).not.toContain(`aria-label="Delete ${slug}"`);
    expect(asPa.text).toContain(`aria-label="Add a member to ${slug}"`);
    expect(asPa.text).not.toContain('aria-label="Add a member to support"');
    const asBuilder = await page("/projects", s.carol);
    expect(asBuilder.text).toContain(`data-project="${slug}"`);
    expect(asBuilder.text).not.toContain("Add a member to");
    expect(asBuilder.text).not.toContain(`data-project="growth"`);

    // A project admin adds a member through the form; a builder's post is refused and writes nothing.
    const added = await page(`/projects/${slug}/members`, projectAdmin.token, { member: other.id, role: "builder" });
    expect(added.text).toContain("The project&#39;s members are updated.");
    const before = await projectState();
    const refused = await page(`/projects/${slug}/delete`, s.carol, { force: "true" });
    expect(refused.status).toBe(403);
    expect(await projectState()).toEqual(before);
    const deleted = await page(`/projects/${slug}/delete`, s.alice, {});
    expect(deleted.text).toContain("The project is deleted.");
    expect((await vaultSql(s.org.id, `SELECT 1 FROM projects WHERE slug = ?`, slug)).length).toBe(0);
  });
});
