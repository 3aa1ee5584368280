import { env } from "cloudflare:workers";
import { createExecutionContext } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import app from "../../workers/api/src/index";
import { parseSignup, signupEmail } from "../../lib/signup";
import { call, expectError, seed, uid, vaultSql, type CallResult } from "./helpers";
import { createOrg } from "../../durable-objects/org-creation";

/** The operator's `POST /v1/orgs` (SPEC section 12), with PLATFORM_ADMIN_TOKEN set for these calls. */
const ADMIN = "platform-admin-token-for-tests-0123456789";
const adminEnv = { ...env, PLATFORM_ADMIN_TOKEN: ADMIN };

async function post(body: unknown, auth: string | null, e: object = adminEnv): Promise<CallResult> {
  const headers: Record<string, string> = { "content-type": "application/json" };
  if (auth !== null) headers.authorization = auth;
  const res = await app.fetch(new Request("http://localhost/v1/orgs", { method: "POST", headers, body: JSON.stringify(body) }), e, createExecutionContext());
  const text = await res.text();
  let parsed: any = null;
  try { parsed = JSON.parse(text); } catch {}
  return { status: res.status, body: parsed, text };
}

const slugTaken = async (slug: string) => (await env.DIRECTORY.getByName("global").orgBySlug(slug)) !== null;

describe("POST /v1/orgs (operator)", () => {
  it("creates the org (Directory id, vault with no member and no token) and an owner invitation shown once", async () => {
    const slug = `o-${uid()}`;
    const r = await post({ slug, name: "New Co", owner_email: "Owner@NewCo.test" }, `Bearer ${ADMIN}`);
    expect(r.status, r.text).toBe(201);
    expect(r.body.org).toMatchObject({ slug, name: "New Co" });
    expect((await env.DIRECTORY.getByName("global").orgBySlug(slug))?.id).toBe(r.body.org.id);
    expect(r.body.invitation).toMatchObject({ email: "owner@newco.test", role: "owner" });
    const secret = String(r.body.invitation.url).split(".").pop()!;
    expect(r.body.invitation.url).toContain(`/invitations/${r.body.org.id}.`);
    expect(await vaultSql(r.body.org.id, `SELECT COUNT(*) AS n FROM members`)).toEqual([{ n: 0 }]);
    expect(await vaultSql(r.body.org.id, `SELECT COUNT(*) AS n FROM tokens`)).toEqual([{ n: 0 }]);
    const inv = await vaultSql(r.body.org.id, `SELECT email, role, secret_hash, expires_at - created_at AS ttl FROM invitations`);
    expect(inv).toHaveLength(1);
    expect(inv[0]).toMatchObject({ email: "owner@newco.test", role: "owner", ttl: 7 * 24 * 3600 * 1000 });
    expect(inv[0]!.secret_hash).not.toContain(secret);
    const audit = await vaultSql(r.body.org.id, `SELECT action FROM audit ORDER BY seq`);
    expect(audit.map((a) => a.action)).toEqual(["org.created", "invitation.created"]);
  });

  it.each([
    ["missing", null],
    ["wrong", `Bearer ${ADMIN}x`],
    ["a prefix of the right one", `Bearer ${ADMIN.slice(0, -1)}`],
    ["not a bearer", ADMIN],
  ])("refuses a %s admin token (401) before reading the body, and creates nothing", async (_label, auth) => {
    const slug = `o-${uid()}`;
    expectError(await post({ slug, name: "X", owner_email: "x@x.test" }, auth), 401, "unauthorized");
    expectError(await post({ slug: "BAD SLUG" }, auth), 401, "unauthorized");
    expect(await slugTaken(slug)).toBe(false);
  });

  it("is off (401) when PLATFORM_ADMIN_TOKEN is unset, even for an empty bearer", async () => {
    const slug = `o-${uid()}`;
    expectError(await post({ slug, name: "X", owner_email: "x@x.test" }, "Bearer ", env), 401, "unauthorized");
    expect(await slugTaken(slug)).toBe(false);
  });

  it("answers 409 naming slug for a taken slug, and writes no second invitation", async () => {
    const slug = `o-${uid()}`;
    const first = await post({ slug, name: "A", owner_email: "a@a.test" }, `Bearer ${ADMIN}`);
    expect(first.status, first.text).toBe(201);
    expectError(await post({ slug, name: "B", owner_email: "b@b.test" }, `Bearer ${ADMIN}`), 409, "conflict", "slug");
    expect(await vaultSql(first.body.org.id, `SELECT email FROM invitations`)).toEqual([{ email: "a@a.test" }]);
    expect((await env.DIRECTORY.getByName("global").orgBySlug(slug))?.name).toBe("A");
  });

  it("a creation that fails after the slug is claimed gives the slug back: the same request then succeeds", async () => {
    const slug = `o-${uid()}`;
    const body = { slug, name: "Retry", owner_email: "r@r.test" };
    const down = { idFromName: (name: string) => name, get: () => ({ provisionNewOrg: () => Promise.reject(new Error("the vault is unavailable")) }) };
    const failed = await post(body, `Bearer ${ADMIN}`, { ...adminEnv, VAULT: down });
    expect(failed.status, failed.text).toBe(500);
    expect(await slugTaken(slug)).toBe(false);
    const again = await post(body, `Bearer ${ADMIN}`);
    expect(again.status, again.text).toBe(201);
    expect(await vaultSql(again.body.org.id, `SELECT email FROM invitations`)).toEqual([{ email: "r@r.test" }]);
  });

  it("an owner from /orgs/new is named by their GitHub login under the member name rule; an unusable one gives their email", async () => {
    for (const [login, expected] of [["Ada", "Ada"], ["evil\u202ename", "owner@o.test"], ["x".repeat(101), "owner@o.test"]] as const) {
      const { org } = await createOrg(env, { slug: `o-${uid()}`, name: "Named" }, { email: "owner@o.test", name: login }, null, "http://localhost");
      expect(await vaultSql(org.id, `SELECT name FROM members`)).toEqual([{ name: expected }]);
    }
  });

  it.each([
    ["slug", { slug: "Not A Slug", name: "X", owner_email: "x@x.test" }],
    ["slug", { name: "X", owner_email: "x@x.test" }],
    ["owner_email", { slug: "__SLUG__", name: "X", owner_email: "not-an-email" }],
    ["owner_email", { slug: "__SLUG__", name: "X" }],
    ["name", { slug: "__SLUG__", name: "", owner_email: "x@x.test" }],
  ])("answers 400 naming %s for bad input, nothing written", async (field, body) => {
    const slug = `o-${uid()}`;
    const b = JSON.parse(JSON.stringify(body).replace("__SLUG__", slug));
    expectError(await post(b, `Bearer ${ADMIN}`), 400, "invalid_request", field);
    expect(await slugTaken(slug)).toBe(false);
  });
});

describe("SIGNUP", () => {
  it("is closed by default and for anything it cannot read", () => {
    for (const raw of [undefined, "", "closed", " CLOSED ", "acme.test,not a domain", ","]) {
      expect(parseSignup(raw), String(raw)).toEqual({ mode: "closed" });
      expect(signupEmail(parseSignup(raw), ["a@acme.test"])).toBeNull();
    }
  });
  it("open: any signed-in user with a verified email", () => {
    expect(signupEmail(parseSignup("open"), ["Dave@Else.test"])).toBe("dave@else.test");
    expect(signupEmail(parseSignup("open"), [])).toBeNull();
  });
  it("a domain list: only users with a verified email at one of them (the exact domain, not a suffix)", () => {
    const rule = parseSignup("acme.test, @beta.example");
    expect(rule).toEqual({ mode: "domains", domains: ["acme.test", "beta.example"] });
    expect(signupEmail(rule, ["x@other.test", "Dave@ACME.test"])).toBe("dave@acme.test");
    expect(signupEmail(rule, ["x@beta.example"])).toBe("x@beta.example");
    expect(signupEmail(rule, ["x@evilacme.test", "x@sub.acme.test", "acme.test@evil.test"])).toBeNull();
  });
});

describe("GET /v1/me/orgs", () => {
  it("lists the caller's orgs from the Directory, the token's own org marked current", async () => {
    const s = await seed();
    const other = await env.DIRECTORY.getByName("global").ensureOrg(`o-${uid()}`, "Other Co");
    await env.DIRECTORY.getByName("global").addUser("alice@acme.test", other.id);
    const r = await call("GET", "/v1/me/orgs", { token: s.alice });
    expect(r.status, r.text).toBe(200);
    expect(r.body.orgs).toContainEqual({ id: s.org.id, slug: "acme", name: s.org.name, current: true });
    expect(r.body.orgs).toContainEqual({ id: other.id, slug: other.slug, name: "Other Co", current: false });
    expect(r.body.orgs.filter((o: { current: boolean }) => o.current)).toHaveLength(1);
  });

  it("refuses a runtime token (403): it stands for no person", async () => {
    const s = await seed();
    expectError(await call("GET", "/v1/me/orgs", { token: s.runtime }), 403, "forbidden");
  });
});
