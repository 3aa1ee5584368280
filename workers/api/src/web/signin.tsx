import { Hono } from "hono";
import type { ApiEnv } from "../http/vault";
import { ErrorBanner, Page } from "./layout";
import { clearSession, csrfToken, csrfValid, sessionToken, setSession, vaultOfSession } from "./session";

/** Only same-site paths: `next` must never send a signed-in browser elsewhere. */
const safeNext = (next: string | undefined) => (next && /^\/(?!\/)[^\s]*$/.test(next) ? next : "/apps");

export const signin = new Hono<ApiEnv>();

signin.get("/signin", async (c) => {
  const csrf = csrfToken(c);
  const next = safeNext(c.req.query("next"));
  const dev = c.env.DEV_MODE === "true";
  const users = dev ? await c.env.DIRECTORY.getByName("global").allUsers() : [];
  return c.html(
    <Page title="Sign in">
      <h1>Sign in</h1>
      {dev ? (
        <div class="card">
          <p class="muted">Dev mode: pick a seeded user.</p>
          {users.map((u) => (
            <form method="post" action="/signin" style="display:inline-block;margin:.25rem">
              <input type="hidden" name="csrf" value={csrf} />
              <input type="hidden" name="next" value={next} />
              <input type="hidden" name="email" value={u.email} />
              <button type="submit">{u.email} <span class="muted">({u.org.slug})</span></button>
            </form>
          ))}
          {users.length === 0 ? <p>No users yet: run <code>curl -X POST /dev/seed</code>.</p> : null}
        </div>
      ) : (
        <div class="card">
          <ErrorBanner error={{ message: "Sign-in with GitHub is not configured on this deployment.", fix: "An operator sets the platform's GitHub OAuth client (README, Configuration)." }} />
        </div>
      )}
    </Page>,
  );
});

signin.post("/signin", async (c) => {
  const form = await c.req.parseBody();
  if (!csrfValid(c, form.csrf)) return c.html(<Page title="Sign in"><ErrorBanner error={{ message: "The form expired.", fix: "Reload the sign-in page and try again." }} /></Page>, 403);
  if (c.env.DEV_MODE !== "true") return c.html(<Page title="Sign in"><ErrorBanner error={{ message: "Dev sign-in is off." }} /></Page>, 403);
  const email = String(form.email ?? "").toLowerCase();
  const orgs = await c.env.DIRECTORY.getByName("global").orgsOfUser(email);
  const org = orgs[0];
  if (!org) return c.html(<Page title="Sign in"><ErrorBanner error={{ message: `No member ${email}.` }} /></Page>, 404);
  const r = await c.env.VAULT.get(c.env.VAULT.idFromName(org.id)).devSignIn(email);
  if (!r.ok) return c.html(<Page title="Sign in"><ErrorBanner error={r.error} /></Page>, r.status as 403);
  setSession(c, r.value.token);
  return c.redirect(safeNext(typeof form.next === "string" ? form.next : undefined), 303);
});

signin.post("/signout", async (c) => {
  const form = await c.req.parseBody();
  const token = sessionToken(c);
  if (!csrfValid(c, form.csrf)) return c.html(<Page title="Sign out"><ErrorBanner error={{ message: "The form expired.", fix: "Reload the page and try again." }} /></Page>, 403);
  if (token) await vaultOfSession(c.env, token).signOut(token);
  clearSession(c);
  return c.redirect("/signin", 303);
});
