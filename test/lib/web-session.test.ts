import { Hono } from "hono";
import { describe, expect, it } from "vitest";
import { newToken } from "../../lib/tokens";
import { csrfToken, sessionCsrf, sessionToken, webSession } from "../../workers/shared/session";

/** Issue 12, build 4: one session middleware (workers/shared/session.ts) reads the cookie once; pages read the context. */
describe("webSession", () => {
  const token = newToken("user", "org1abc");
  const page = (app: Hono) =>
    app.get("/", (c) => c.json({ session: c.var.session, token: sessionToken(c), csrf: csrfToken(c) }));

  it("puts the session cookie's token and org on the context, with its bound CSRF value", async () => {
    const app = page(new Hono().use("*", webSession));
    const res = await app.request("/", { headers: { cookie: `ks_session=${token}` } });
    expect(await res.json()).toEqual({ session: { token, orgId: "org1abc" }, token, csrf: await sessionCsrf(token) });
  });

  it("no cookie, or a token that is not a user session, is no session", async () => {
    const app = page(new Hono().use("*", webSession));
    for (const cookie of ["", `ks_session=${newToken("key", "org1abc")}`, "ks_session=garbage"]) {
      const body = (await (await app.request("/", { headers: { cookie } })).json()) as { session: unknown; token: unknown };
      expect(body).toMatchObject({ session: null, token: null });
    }
  });

  it("a page without the middleware fails closed instead of reading the cookie itself", async () => {
    const res = await page(new Hono()).request("/", { headers: { cookie: `ks_session=${token}` } });
    expect(res.status).toBe(500);
  });
});
