import { env } from "cloudflare:workers";
import { runInDurableObject } from "cloudflare:test";
import { afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { call, expectError, memberIds, seed, setCred, uid, vaultOf, vaultSql, type Seed } from "./helpers";
import { hashToken, newId, newToken, tokenPreview } from "../../lib/tokens";

/**
 * Issue 13 build 2 (SPEC section 12): invitations, role changes, offboarding, the last owner.
 * Members are made through the same operations production uses: invite, then accept (the RPC the
 * web app calls with the signed-in user's verified emails), then a GitHub web session.
 */
let s: Seed;
beforeAll(async () => {
  s = await seed();
});
afterEach(() => {
  vi.useRealTimers();
});

type Role = "owner" | "admin" | "builder";
const secretOf = (url: string) => decodeURIComponent(url.split("/").pop()!).split(".").slice(1).join(".");
const accept = (secret: string, emails: string[]) => vaultOf(s.org.id).acceptInvitation(secret, emails);
const openInvitations = async () => (await vaultSql(s.org.id, `SELECT id FROM invitations WHERE accepted_at IS NULL AND revoked_at IS NULL`)).length;
const memberCount = async () => (await vaultSql(s.org.id, `SELECT id FROM members WHERE removed_at IS NULL`)).length;

async function invite(token: string, role: Role, email = `${uid()}@acme.test`, projects?: { project: string; role: string }[]) {
  return { email, res: await call("POST", "/v1/invitations", { token, body: { email, role, ...(projects ? { projects } : {}) } }) };
}

/** A new member with this role (invited by alice), and the web session accepting gave them. */
async function join(role: Role, projects?: { project: string; role: string }[]) {
  const { email, res } = await invite(s.alice, role, undefined, projects);
  expect(res.status, res.text).toBe(201);
  const accepted = await accept(secretOf(res.body.url), [email.toUpperCase()]);
  if (!accepted.ok) throw new Error(JSON.stringify(accepted.error));
  // Accepting answers the new member's web session.
  return { id: accepted.value.member.id, email, token: accepted.value.session.token };
}

describe("invitations", () => {
  // Who may invite which org role: owners any, admins admin and builder, builders nobody.
  const TABLE: [string, Role, number][] = [
    ["alice", "owner", 201], ["alice", "admin", 201], ["alice", "builder", 201],
    ["bob", "owner", 403], ["bob", "admin", 201], ["bob", "builder", 201],
    ["carol", "owner", 403], ["carol", "admin", 403], ["carol", "builder", 403],
  ];
  it.each(TABLE)("%s inviting an %s answers %i; a refusal writes nothing", async (who, role, status) => {
    const before = await openInvitations();
    const { res } = await invite(s[who as "alice"], role);
    expect(res.status, res.text).toBe(status);
    if (status === 201) {
      expect(res.body.url).toMatch(new RegExp(`/${s.org.id}\\.`));
      // Stored hashed: the secret of the link is nowhere in the vault.
      const rows = await vaultSql(s.org.id, `SELECT * FROM invitations WHERE id = ?`, res.body.id);
      expect(JSON.stringify(rows)).not.toContain(secretOf(res.body.url));
    } else {
      expectError(res, 403, "forbidden", "role");
    }
    expect(await openInvitations()).toBe(before + (status === 201 ? 1 : 0));
  });

  it("bad input names the field and writes nothing: a non-email, an existing member, an unknown project", async () => {
    const before = await openInvitations();
    expectError((await invite(s.alice, "builder", "not-an-email")).res, 400, "invalid_request", "email");
    expectError((await invite(s.alice, "builder", "Carol@Acme.test")).res, 409, "conflict", "email");
    expectError((await invite(s.alice, "builder", undefined, [{ project: "nope", role: "builder" }])).res, 400, "invalid_request", "projects[0].project");
    expectError((await invite(s.alice, "builder", undefined, [{ project: "support", role: "owner" }])).res, 400, "invalid_request", "projects[0].role");
    expect(await openInvitations()).toBe(before);
  });

  it("list (owners and admins) never shows the link; revoke stops it; an admin cannot revoke an owner invitation", async () => {
    const { res } = await invite(s.alice, "owner");
    const list = await call("GET", "/v1/invitations", { token: s.bob });
    expect(list.status).toBe(200);
    expect(list.body.invitations.map((i: { id: string }) => i.id)).toContain(res.body.id);
    expect(list.text).not.toContain(secretOf(res.body.url));
    const deniedBefore = (await vaultSql(s.org.id, `SELECT seq FROM audit WHERE action = 'invitation.list' AND outcome = 'denied'`)).length;
    expectError(await call("GET", "/v1/invitations", { token: s.carol }), 403, "forbidden");
    // Every refusal is audited, a read's too.
    expect(await vaultSql(s.org.id, `SELECT seq FROM audit WHERE action = 'invitation.list' AND outcome = 'denied'`)).toHaveLength(deniedBefore + 1);
    expectError(await call("DELETE", `/v1/invitations/${res.body.id}`, { token: s.bob }), 403, "forbidden");
    expect((await call("DELETE", `/v1/invitations/${res.body.id}`, { token: s.alice })).status).toBe(200);
    const refused = await accept(secretOf(res.body.url), [(await vaultSql(s.org.id, `SELECT email FROM invitations WHERE id = ?`, res.body.id))[0]!.email as string]);
    expect(refused.ok).toBe(false);
  });

  it("accepting: another email is refused and the link stays usable; the right one joins once (projects, Directory); reuse is refused", async () => {
    const { email, res } = await invite(s.bob, "builder", `Dave.${uid()}@Acme.test`, [{ project: "support", role: "builder" }]);
    const secret = secretOf(res.body.url);
    const members = await memberCount();
    const wrong = await accept(secret, ["mallory@evil.test"]);
    expect(wrong.ok || wrong.error).toMatchObject({ code: "forbidden", details: { field: "email" } });
    expect(await memberCount()).toBe(members);
    const ok = await accept(secret, ["other@x.test", email.toLowerCase()]);
    if (!ok.ok) throw new Error(JSON.stringify(ok.error));
    expect(ok.value.member).toMatchObject({ email: email.toLowerCase(), role: "builder" });
    const trail = await vaultSql(s.org.id, `SELECT action, outcome, actor FROM audit WHERE target = ? ORDER BY seq`, res.body.id);
    expect(trail).toEqual([{ action: "invitation.created", outcome: "ok", actor: expect.any(String) }, { action: "invitation.accept", outcome: "ok", actor: ok.value.member.id }]);
    expect(await memberCount()).toBe(members + 1);
    expect((await env.DIRECTORY.getByName("global").orgsOfUser(email)).map((o) => o.id)).toContain(s.org.id);
    const session = await vaultOf(s.org.id).startWebSession(email.toLowerCase(), "github");
    if (!session.ok) throw new Error("no session");
    const projects = await call("GET", "/v1/projects", { token: session.value.token });
    expect(projects.body.projects.map((p: { slug: string }) => p.slug)).toEqual(["support"]);
    const again = await accept(secret, [email]);
    expect(again.ok || again.error).toMatchObject({ code: "conflict", details: { field: "token" } });
    expect(await memberCount()).toBe(members + 1);
  });

  it("a Directory that fails while accepting spends nothing: the same link works once it is back", async () => {
    const { email, res } = await invite(s.alice, "builder");
    const secret = secretOf(res.body.url);
    const members = await memberCount();
    const setDirectory = (directory: unknown) =>
      runInDurableObject(vaultOf(s.org.id), (instance) => {
        const vault = instance as unknown as { env: Record<string, unknown> };
        vault.env = { ...vault.env, DIRECTORY: directory };
      });
    await setDirectory({ getByName: () => ({ addUser: () => Promise.reject(new Error("the Directory is overloaded")), removeUser: async () => {}, dropInvitations: async () => {} }) });
    try {
      const failed = await accept(secret, [email]);
      expect(failed.ok).toBe(false);
    } finally {
      await setDirectory(env.DIRECTORY);
    }
    expect(await memberCount()).toBe(members);
    expect(await vaultSql(s.org.id, `SELECT accepted_at FROM invitations WHERE id = ?`, res.body.id)).toEqual([{ accepted_at: null }]);
    const ok = await accept(secret, [email]);
    expect(ok.ok || ok.error).toBe(true);
    expect((await env.DIRECTORY.getByName("global").orgsOfUser(email)).map((o) => o.id)).toContain(s.org.id);
  });

  it("the accepting person's name (their GitHub login) names the member; an unusable one falls back to the email", async () => {
    const named = await invite(s.alice, "builder");
    const a = await vaultOf(s.org.id).acceptInvitation(secretOf(named.res.body.url), [named.email], "  Dave Smith ");
    expect(a.ok && a.value.member).toMatchObject({ email: named.email, name: "Dave Smith" });
    for (const bad of ["evil\u202Ename", "x".repeat(101), "   ", null]) {
      const { email, res } = await invite(s.alice, "builder");
      const r = await vaultOf(s.org.id).acceptInvitation(secretOf(res.body.url), [email], bad);
      expect(r.ok && r.value.member.name, String(bad)).toBe(email);
    }
  });

  it("an invitation expires after 7 days (the clock), and nothing is written", async () => {
    const { email, res } = await invite(s.alice, "builder");
    vi.useFakeTimers({ now: Date.now() + 7 * 24 * 3600_000 + 1000, toFake: ["Date"] });
    const members = await memberCount();
    const late = await accept(secretOf(res.body.url), [email]);
    expect(late.ok || late.error).toMatchObject({ code: "conflict", details: { field: "token" } });
    expect(await memberCount()).toBe(members);
  });
});

describe("members: role changes", () => {
  // actor x target role -> new role -> status. Admins manage builders only (never to owner); nobody their own.
  const TABLE: [string, Role, Role, number][] = [
    ["alice", "builder", "admin", 200], ["alice", "admin", "owner", 200], ["alice", "owner", "builder", 200],
    ["bob", "builder", "admin", 200], ["bob", "builder", "owner", 403], ["bob", "admin", "builder", 403], ["bob", "owner", "admin", 403],
    ["carol", "builder", "admin", 403],
  ];
  it.each(TABLE)("%s changing an %s to %s answers %i; a refusal writes nothing", async (who, from, to, status) => {
    const m = await join(from);
    const res = await call("PATCH", `/v1/members/${m.id}`, { token: s[who as "alice"], body: { role: to } });
    expect(res.status, res.text).toBe(status);
    if (status !== 200) expectError(res, 403, "forbidden");
    const [row] = await vaultSql(s.org.id, `SELECT role FROM members WHERE id = ?`, m.id);
    expect(row!.role).toBe(status === 200 ? to : from);
    const audit = await vaultSql(s.org.id, `SELECT outcome FROM audit WHERE action = 'member.role_change' AND target = ?`, m.id);
    expect(audit).toEqual([{ outcome: status === 200 ? "ok" : "denied" }]);
  });

  it("nobody changes their own role; bad input names the field", async () => {
    const ids = await memberIds(s.alice);
    expectError(await call("PATCH", `/v1/members/${ids["bob@acme.test"]}`, { token: s.bob, body: { role: "builder" } }), 403, "forbidden", "id");
    expectError(await call("PATCH", `/v1/members/${ids["carol@acme.test"]}`, { token: s.alice, body: { role: "boss" } }), 400, "invalid_request", "role");
    expectError(await call("PATCH", `/v1/members/mem_aaaaaaaaaaaaaaaaaaaa`, { token: s.alice, body: { role: "admin" } }), 404, "not_found", "id");
  });

  it("50 concurrent demotions between two owners leave exactly one owner", async () => {
    // A fresh org-in-miniature: alice plus one more owner, each demoting the other at once.
    const o2 = await join("owner");
    const ids = await memberIds(s.alice);
    const alice = ids["alice@acme.test"]!;
    const owners = async () => (await vaultSql(s.org.id, `SELECT id FROM members WHERE role = 'owner' AND removed_at IS NULL`)).length;
    const before = await owners();
    const others = before - 2; // earlier tests' owners are demoted first, so the race is between two
    for (const r of await vaultSql(s.org.id, `SELECT id FROM members WHERE role = 'owner' AND removed_at IS NULL AND id NOT IN (?, ?)`, alice, o2.id)) {
      expect((await call("PATCH", `/v1/members/${r.id}`, { token: s.alice, body: { role: "admin" } })).status).toBe(200);
    }
    expect(others).toBeGreaterThanOrEqual(0);
    expect(await owners()).toBe(2);
    const results = await Promise.all(
      Array.from({ length: 50 }, (_, i) =>
        i % 2 === 0
          ? call("PATCH", `/v1/members/${o2.id}`, { token: s.alice, body: { role: "admin" } })
          : call("PATCH", `/v1/members/${alice}`, { token: o2.token, body: { role: "admin" } }),
      ),
    );
    expect(results.filter((r) => r.status === 200).length).toBeGreaterThanOrEqual(1);
    for (const r of results) expect([200, 403, 409], r.text).toContain(r.status);
    expect(await owners()).toBe(1);
    // Put alice back as the owner the rest of the file expects.
    const [owner] = await vaultSql(s.org.id, `SELECT id FROM members WHERE role = 'owner' AND removed_at IS NULL`);
    if (owner!.id !== alice) {
      expect((await call("PATCH", `/v1/members/${alice}`, { token: o2.token, body: { role: "owner" } })).status).toBe(200);
    }
  });
});

describe("members: offboarding", () => {
  it("removal table: owners anyone, admins builders, builders nobody; refusals write nothing", async () => {
    const TABLE: [string, Role, number][] = [["alice", "admin", 200], ["bob", "builder", 200], ["bob", "admin", 403], ["carol", "builder", 403]];
    for (const [who, role, status] of TABLE) {
      const m = await join(role);
      const res = await call("DELETE", `/v1/members/${m.id}`, { token: s[who as "alice"] });
      expect(res.status, `${who} removing ${role}: ${res.text}`).toBe(status);
      const [row] = await vaultSql(s.org.id, `SELECT removed_at FROM members WHERE id = ?`, m.id);
      expect(row!.removed_at === null).toBe(status !== 200);
      expect((await call("GET", "/v1/me", { token: m.token })).status).toBe(status === 200 ? 401 : 200);
    }
  });

  it("revokes every token and user credential, fails pending connect sessions, keeps org and project credentials", async () => {
    const m = await join("admin", [{ project: "support", role: "admin" }]);
    const key = await call("POST", "/v1/api-keys", { token: m.token, body: { name: "script" } });
    expect(key.status, key.text).toBe(201);
    // A CLI login's token, as pollCliLogin mints it (a member token named "cli login").
    const cli = newToken("user", s.org.id);
    await vaultSql(s.org.id, `INSERT INTO tokens (id, hash, kind, member_id, name, preview, created_at, expires_at) VALUES (?, ?, 'user', ?, 'cli login', ?, ?, ?)`, newId("tok"), await hashToken(cli), m.id, tokenPreview(cli), Date.now(), Date.now() + 86_400_000);
    expect((await call("GET", "/v1/me", { token: cli })).status).toBe(200);
    const mine = await setCred(m.token, { targets: [{ type: "user" }] });
    const org = await setCred(m.token, { targets: [{ type: "org" }], slug: `org-${uid()}` });
    const proj = await setCred(m.token, { targets: [{ type: "project", project: "support" }], slug: `p-${uid()}` });
    expect([mine.status, org.status, proj.status]).toEqual([200, 200, 200]);
    const session = await call("POST", "/v1/connect-sessions", { token: m.token, body: { app: "github" } });
    expect(session.status, session.text).toBe(201);

    const res = await call("DELETE", `/v1/members/${m.id}`, { token: s.alice });
    expect(res.status, res.text).toBe(200);
    expect(res.body).toMatchObject({ member: { id: m.id }, tokens_revoked: 3, credentials_revoked: 1, connect_sessions_failed: 1 });
    expectError(await call("GET", "/v1/me", { token: m.token }), 401, "unauthorized");
    expectError(await call("GET", "/v1/me", { token: key.body.key }), 401, "unauthorized");
    expectError(await call("GET", "/v1/me", { token: cli }), 401, "unauthorized");
    const status = async (id: string) => (await vaultSql(s.org.id, `SELECT status FROM credentials WHERE id = ?`, id))[0]!.status;
    expect(await status(mine.body.credentials[0].id)).toBe("revoked");
    expect(await vaultSql(s.org.id, `SELECT * FROM secret_fields WHERE credential_id = ?`, mine.body.credentials[0].id)).toEqual([]);
    expect(await status(org.body.credentials[0].id)).toBe("active");
    expect(await status(proj.body.credentials[0].id)).toBe("active");
    expect((await vaultSql(s.org.id, `SELECT status FROM connect_sessions WHERE id = ?`, session.body.id))[0]!.status).toBe("failed");
    // With its connect.fail row: the connect_session.failed event.
    expect(await vaultSql(s.org.id, `SELECT outcome FROM audit WHERE target = ? AND action = 'connect.fail'`, session.body.id)).toEqual([{ outcome: "failed" }]);
    expect((await memberIds(s.alice))[m.email]).toBeUndefined();
    expect((await env.DIRECTORY.getByName("global").orgsOfUser(m.email)).map((o) => o.id)).not.toContain(s.org.id);
    const audit = await vaultSql(s.org.id, `SELECT action FROM audit WHERE target = ? AND action = 'member.remove'`, m.id);
    expect(audit).toHaveLength(1);
  });

  it("the last owner cannot leave, even when two owners leave at once; a removed person can be invited again", async () => {
    const ids = await memberIds(s.alice);
    const alice = ids["alice@acme.test"]!;
    // Owners left by earlier tests are demoted, so alice and o2 are the only two.
    for (const r of await vaultSql(s.org.id, `SELECT id FROM members WHERE role = 'owner' AND removed_at IS NULL AND id != ?`, alice)) {
      expect((await call("PATCH", `/v1/members/${r.id}`, { token: s.alice, body: { role: "admin" } })).status).toBe(200);
    }
    const o2 = await join("owner");
    const [a, b] = await Promise.all([
      call("DELETE", `/v1/members/${alice}`, { token: s.alice }),
      call("DELETE", `/v1/members/${o2.id}`, { token: o2.token }),
    ]);
    expect([a.status, b.status].sort()).toEqual([200, 409]);
    const owners = await vaultSql(s.org.id, `SELECT id FROM members WHERE role = 'owner' AND removed_at IS NULL`);
    expect(owners).toHaveLength(1);
    const conflict = a.status === 409 ? a : b;
    expectError(conflict, 409, "conflict", "id");
    if (a.status === 200) {
      // alice left: invite her back through the remaining owner, so later files' seeds still work.
      const again = await call("POST", "/v1/invitations", { token: o2.token, body: { email: "alice@acme.test", role: "owner" } });
      expect(again.status, again.text).toBe(201);
      const back = await accept(secretOf(again.body.url), ["alice@acme.test"]);
      expect(back.ok && back.value.member.id).toBe(alice);
    }
  });
});
