import { env } from "cloudflare:workers";
import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { beforeAll, describe, expect, it } from "vitest";
import app from "../../workers/api/src/index";
import { signPlatformUser } from "../../lib/platform-user";
import { sessionCsrf } from "../../workers/shared/session";
import { call, memberIds, seed, uid, vaultSql, type Seed } from "./helpers";

/** Issue 13 build 2, the web: the Members page (role-aware) and accepting an invitation link. */
let s: Seed;
beforeAll(async () => {
  s = await seed();
});

const CSRF = "0123456789abcdef0123456789abcdef";

async function page(method: string, path: string, opts: { session?: string; user?: string[]; form?: Record<string, string> } = {}) {
  const cookies: string[] = [];
  if (opts.session) cookies.push(`ks_session=${opts.session}`);
  else cookies.push(`ks_csrf=${CSRF}`);
  if (opts.user) cookies.push(`ks_user=${await signPlatformUser(env.ORG_ID_KEY, { github_id: "7", login: "dave", emails: opts.user }, Date.now())}`);
  const headers: Record<string, string> = { cookie: cookies.join("; "), accept: "text/html" };
  let body: string | undefined;
  if (opts.form) {
    body = new URLSearchParams({ ...opts.form, csrf: opts.session ? await sessionCsrf(opts.session) : CSRF }).toString();
    headers["content-type"] = "application/x-www-form-urlencoded";
    headers["content-length"] = String(body.length);
  }
  const ctx = createExecutionContext();
  const res = await app.fetch(new Request(`http://localhost${path}`, { method, headers, body, redirect: "manual" }), env as never, ctx);
  await waitOnExecutionContext(ctx);
  return { status: res.status, location: res.headers.get("location"), cookies: res.headers.getSetCookie(), html: await res.text() };
}

describe("the Members page", () => {
  it("is role-aware: owners and admins invite and manage, builders only see", async () => {
    const owner = await page("GET", "/members", { session: s.alice });
    expect(owner.status).toBe(200);
    expect(owner.html).toContain('aria-label="Invite a person"');
    expect(owner.html).toContain('aria-label="Remove carol@acme.test"');
    expect(owner.html).toContain('aria-current="page">Members');
    const admin = await page("GET", "/members", { session: s.bob });
    expect(admin.html).toContain('aria-label="Remove carol@acme.test"');
    expect(admin.html).not.toContain('aria-label="Remove alice@acme.test"');
    expect(admin.html).not.toMatch(/<option value="owner"/);
    const builder = await page("GET", "/members", { session: s.carol });
    expect(builder.status).toBe(200);
    expect(builder.html).toContain("alice@acme.test");
    expect(builder.html).not.toContain("Invite a person");
    expect(builder.html).not.toContain("Remove");
  });

  it("invites with the link shown once, changes a role, and removes only after the confirmation", async () => {
    const email = `web-${uid()}@acme.test`;
    const invited = await page("POST", "/members/invite", { session: s.alice, form: { email, role: "builder", projects: "support" } });
    expect(invited.status, invited.html.slice(0, 400)).toBe(200);
    const link = /id="invitation-link"[^>]*>([^<]+)</.exec(invited.html)?.[1];
    expect(link).toMatch(new RegExp(`/invitations/${s.org.id}\\.`));
    const listed = await page("GET", "/members", { session: s.alice });
    expect(listed.html).toContain(email);
    expect(listed.html).not.toContain(link!);
    const bad = await page("POST", "/members/invite", { session: s.alice, form: { email: "nope", role: "builder" } });
    expect(bad.status).toBe(400);

    // Accepted by the invited person through the link's page.
    const path = new URL(link!).pathname;
    expect((await page("GET", path)).location).toBe(`/signin?next=${encodeURIComponent(path)}`);
    expect((await page("GET", path, { user: [email] })).html).toContain("Accept the invitation");
    const wrong = await page("POST", path, { user: ["someone@else.test"], form: {} });
    expect(wrong.status).toBe(403);
    expect(wrong.html).toContain(`This invitation is for ${email}`);
    const ok = await page("POST", path, { user: ["other@x.test", email], form: {} });
    expect(ok.status, ok.html.slice(0, 400)).toBe(303);
    expect(ok.location).toBe("/apps");
    const session = ok.cookies.find((c) => c.startsWith("ks_session="))!.split(";")[0]!.slice("ks_session=".length);
    const me = await call("GET", "/v1/me", { token: decodeURIComponent(session) });
    // Named by the GitHub login the platform-user cookie carries (README, Members), not by the email.
    expect(me.body.member).toMatchObject({ email, role: "builder", name: "dave" });
    expect(me.body.projects.map((p: { slug: string }) => p.slug)).toEqual(["support"]);
    expect((await page("POST", path, { user: [email], form: {} })).status).toBe(409);

    const id = (await memberIds(s.alice))[email]!;
    expect((await page("POST", `/members/${id}/role`, { session: s.bob, form: { role: "admin" } })).location).toBe("/members?done=role");
    expect((await vaultSql(s.org.id, `SELECT role FROM members WHERE id = ?`, id))[0]!.role).toBe("admin");
    const ask = await page("POST", `/members/${id}/remove`, { session: s.alice, form: {} });
    expect(ask.html).toContain('data-testid="confirm-remove"');
    expect((await memberIds(s.alice))[email]).toBe(id);
    const removed = await page("POST", `/members/${id}/remove`, { session: s.alice, form: { confirm: "yes" } });
    expect(removed.location).toBe("/members?done=removed");
    expect((await call("GET", "/v1/me", { token: decodeURIComponent(session) })).status).toBe(401);
  });
});
