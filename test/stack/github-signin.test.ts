import { describe, expect, inject, it } from "vitest";

/**
 * Dev, over real HTTP against `npm run dev` (SPEC section 12, Dev): "Sign in with GitHub" goes to
 * the sandbox playing GitHub, where any login and verified email can be named; the api worker
 * then reads that account from the sandbox like it reads GitHub. The seeded-user picker stays.
 */
const { baseUrl } = inject("stack");
const cookieOf = (res: Response, name: string) => res.headers.getSetCookie().find((c) => c.startsWith(`${name}=`))?.split(";")[0] ?? null;

async function viaSandbox(login: string, email: string, next: string) {
  const start = await fetch(`${baseUrl}/signin/github?next=${encodeURIComponent(next)}`, { redirect: "manual" });
  expect(start.status).toBe(302);
  const authorize = new URL(start.headers.get("location")!);
  expect(authorize.pathname).toBe("/_sandbox/github-signin/login/oauth/authorize");
  const page = await fetch(authorize);
  expect(await page.text()).toContain("Verified email");
  const form = new URLSearchParams({ ...Object.fromEntries(authorize.searchParams), login, email, decision: "approve" });
  const approved = await fetch(authorize.origin + authorize.pathname, { method: "POST", body: form, redirect: "manual" });
  expect(approved.status).toBe(302);
  return fetch(approved.headers.get("location")!, { headers: { cookie: cookieOf(start, "ks_gh_state")! }, redirect: "manual" });
}

describe("dev: Sign in with GitHub through the sandbox", () => {
  it("signs a seeded member in by the email typed at the sandbox", async () => {
    const r = await viaSandbox("carol-gh", "carol@acme.test", "/apps");
    expect(r.status, await r.clone().text()).toBe(303);
    expect(r.headers.get("location")).toBe("/apps");
    const session = cookieOf(r, "ks_session")!;
    expect(session).toMatch(/^ks_session=ks_user_/);
    const me = await fetch(`${baseUrl}/v1/me`, { headers: { authorization: `Bearer ${decodeURIComponent(session.slice("ks_session=".length))}` } });
    expect(((await me.json()) as { member: { email: string } }).member.email).toBe("carol@acme.test");
  });

  it("any other email becomes a platform user (no org yet) and goes back to the invitation link", async () => {
    const r = await viaSandbox("dave", "dave@acme.test", "/invitations/x");
    expect(r.status).toBe(303);
    expect(r.headers.get("location")).toBe("/invitations/x");
    expect(cookieOf(r, "ks_session")).toBeNull();
    const orgs = await fetch(`${baseUrl}/orgs`, { headers: { cookie: cookieOf(r, "ks_user")!, accept: "text/html" }, redirect: "manual" });
    expect(orgs.status).toBe(200);
    expect(await orgs.text()).toContain("dave@acme.test");
  });
});
