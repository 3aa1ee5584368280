import { Hono, type Context } from "hono";
import { deleteCookie, getCookie, setCookie } from "hono/cookie";
import { AppError } from "../../../../lib/errors";
import { constantTimeEqual } from "../../../../lib/tokens";
import { vaultStub } from "../../../../durable-objects/vault-stub";
import { generateState, githubAccount, githubSignInUrl, type GitHubAccount, type PlatformGitHub } from "../../../../providers/oauth-client";
import { clearPlatformUser, setPlatformUser } from "./platform-user";
import { parseSignup, signupEmail } from "../../../../lib/signup";
import { publicUrl, type ApiEnv } from "../http/vault";
import { Csrf, ErrorBanner, Page } from "../../../shared/layout";
import { asErrorBody } from "./pages";
import { clearSession, csrfToken, csrfValid, sessionToken, startSession, vaultOfSession } from "../../../shared/session";

/**
 * Where to go after sign-in: only a page of this platform. `next` is read as a URL against the
 * platform origin, exactly as a browser would read a Location (so `/\evil.example`,
 * `//evil.example` and absolute URLs elsewhere are caught), and only its path, query and fragment
 * are kept; a path that would itself read as another host (`//x` after `..` removal) is refused too.
 */
export function safeNext(c: Context<ApiEnv>, next: string | undefined): string {
  if (!next) return "/apps";
  const origin = publicUrl(c);
  let url: URL;
  try {
    url = new URL(next, origin);
  } catch {
    return "/apps";
  }
  const path = url.pathname + url.search + url.hash;
  return url.origin === origin && !/^\/[/\\]/.test(path) ? path : "/apps";
}

export const signin = new Hono<ApiEnv>();

/**
 * The platform's GitHub OAuth app, when configured (secrets PLATFORM_GITHUB_CLIENT_ID / _SECRET).
 * In dev without them, the sandbox plays GitHub on this origin (workers/dev/src/sandbox/github-signin.tsx).
 */
function platformGitHub(c: Context<ApiEnv>): PlatformGitHub | null {
  const id = c.env.PLATFORM_GITHUB_CLIENT_ID;
  const secret = c.env.PLATFORM_GITHUB_CLIENT_SECRET;
  const origin = publicUrl(c);
  if (id && secret) return { clientId: id, clientSecret: secret, redirectUri: `${origin}/signin/github/callback` };
  if (c.env.DEV_MODE !== "true") return null;
  const sandbox = `${origin}/_sandbox/github-signin`;
  return {
    clientId: "keystroke-dev-signin", clientSecret: "dev", redirectUri: `${origin}/signin/github/callback`,
    endpoints: { authorize: `${sandbox}/login/oauth/authorize`, token: `${sandbox}/login/oauth/access_token`, api: `${sandbox}/api` },
  };
}

function Failed({ title = "Sign in", error }: { title?: string; error: { message: string; fix?: string } }) {
  return (
    <Page title={title}>
      <h1>{title}</h1>
      <ErrorBanner error={error} />
      <a class="button secondary" href="/signin">Back to sign-in</a>
    </Page>
  );
}

signin.get("/signin", async (c) => {
  const csrf = csrfToken(c);
  const next = safeNext(c, c.req.query("next"));
  const dev = c.env.DEV_MODE === "true";
  const github = platformGitHub(c);
  const users = dev ? await c.env.DIRECTORY.getByName("global").allUsers() : [];
  return c.html(
    <Page title="Sign in">
      <h1>Sign in to Keystroke</h1>
      {github ? (
        <div class="card">
          <p>Sign in with the GitHub account whose verified email is your Keystroke membership email.</p>
          {github.endpoints ? <p class="small">Dev mode: the sandbox plays GitHub; name any login and email there (an invitation's, say).</p> : null}
          <a class="button" href={`/signin/github?next=${encodeURIComponent(next)}`}>Sign in with GitHub</a>
        </div>
      ) : null}
      {dev ? (
        <div class="card">
          <h2>Dev mode: pick a seeded user</h2>
          <div class="actions">
            {users.map((u) => (
              <form method="post" action="/signin">
                <Csrf value={csrf} />
                <input type="hidden" name="next" value={next} />
                <input type="hidden" name="email" value={u.email} />
                <button type="submit" class="secondary">{u.email} <span class="small">({u.org.slug})</span></button>
              </form>
            ))}
          </div>
          {users.length === 0 ? <p>No users yet: run <code>curl -X POST /dev/seed</code>.</p> : null}
        </div>
      ) : null}
      {!dev && !github ? (
        <div class="card">
          <ErrorBanner error={{ message: "Sign-in with GitHub is not configured on this deployment.", fix: "An operator sets PLATFORM_GITHUB_CLIENT_ID and PLATFORM_GITHUB_CLIENT_SECRET (README, Configuration)." }} />
        </div>
      ) : null}
    </Page>,
  );
});

signin.post("/signin", async (c) => {
  // An unreadable body has no CSRF value: the form-expired page, never a 500.
  const form: Record<string, unknown> = await c.req.parseBody().catch(() => ({}));
  if (!csrfValid(c, form.csrf)) return c.html(<Failed error={{ message: "The form expired.", fix: "Reload the sign-in page and try again." }} />, 403);
  if (c.env.DEV_MODE !== "true") return c.html(<Failed error={{ message: "Dev sign-in is off.", fix: "Sign in with GitHub." }} />, 403);
  const email = String(form.email ?? "").toLowerCase();
  const orgs = await c.env.DIRECTORY.getByName("global").orgsOfUser(email);
  const org = orgs[0];
  if (!org) return c.html(<Failed error={{ message: `No member ${email}.`, fix: "Pick one of the listed users." }} />, 404);
  const r = await (await vaultStub(c.env, org.id).openDevTools()).signIn(email);
  if (!r.ok) return c.html(<Failed error={r.error} />, r.status as 403);
  await startSession(c, r.value.token);
  // The seeded user is a platform user too, so /orgs and invitations work in dev.
  await setPlatformUser(c, { github_id: "", login: email.split("@")[0]!, emails: [email] });
  return c.redirect(safeNext(c, typeof form.next === "string" ? form.next : undefined), 303);
});

signin.post("/signout", async (c) => {
  // An unreadable body has no CSRF value: the form-expired page, never a 500.
  const form: Record<string, unknown> = await c.req.parseBody().catch(() => ({}));
  const token = sessionToken(c);
  if (!csrfValid(c, form.csrf)) return c.html(<Failed title="Sign out" error={{ message: "The form expired.", fix: "Reload the page and try again." }} />, 403);
  if (token) await vaultOfSession(c.env, token).signOut(token);
  clearSession(c);
  clearPlatformUser(c);
  return c.redirect("/signin", 303);
});

// ---- Sign in with GitHub (the platform's own OAuth app, through arctic in providers/oauth-client.ts) ----

const STATE_COOKIE = "ks_gh_state";
const STATE_PATH = "/signin/github";
const STATE_TTL_S = 10 * 60;

signin.get("/signin/github", (c) => {
  const cfg = platformGitHub(c);
  if (!cfg) return c.html(<Failed error={{ message: "Sign-in with GitHub is not configured on this deployment.", fix: "An operator sets PLATFORM_GITHUB_CLIENT_ID and PLATFORM_GITHUB_CLIENT_SECRET." }} />, 404);
  const state = generateState();
  const next = safeNext(c, c.req.query("next"));
  // The state and where to go afterwards live in a short HttpOnly cookie scoped to the callback;
  // Lax still sends it on GitHub's top-level redirect back.
  setCookie(c, STATE_COOKIE, `${state}~${encodeURIComponent(next)}`, { httpOnly: true, sameSite: "Lax", secure: new URL(c.req.url).protocol === "https:", path: STATE_PATH, maxAge: STATE_TTL_S });
  return c.redirect(githubSignInUrl(cfg, state).toString(), 302);
});

signin.get("/signin/github/callback", async (c) => {
  const cfg = platformGitHub(c);
  if (!cfg) return c.html(<Failed error={{ message: "Sign-in with GitHub is not configured on this deployment." }} />, 404);
  const cookie = getCookie(c, STATE_COOKIE) ?? "";
  deleteCookie(c, STATE_COOKIE, { path: STATE_PATH });
  const cut = cookie.indexOf("~");
  const expected = cut > 0 ? cookie.slice(0, cut) : "";
  const nextRaw = cut > 0 ? cookie.slice(cut + 1) : "";
  const state = c.req.query("state") ?? "";
  if (!expected || state.length !== expected.length || !constantTimeEqual(state, expected)) {
    return c.html(<Failed error={{ message: "This sign-in link expired or was not started in this browser.", fix: "Start again with “Sign in with GitHub”." }} />, 400);
  }
  if (c.req.query("error")) {
    return c.html(<Failed error={{ message: c.req.query("error") === "access_denied" ? "You declined the sign-in at GitHub." : "GitHub did not complete the sign-in.", fix: "Start again with “Sign in with GitHub” and approve it." }} />, 400);
  }
  const code = c.req.query("code");
  if (!code) return c.html(<Failed error={{ message: "GitHub sent no authorization code.", fix: "Start again with “Sign in with GitHub”." }} />, 400);
  let account: GitHubAccount;
  try {
    account = await githubAccount(cfg, code);
  } catch (e) {
    const body = e instanceof AppError ? asErrorBody(e) : { code: "upstream_error" as const, message: "GitHub sign-in failed." };
    return c.html(<Failed error={{ message: body.message, fix: body.fix ?? "Try signing in again." }} />, 502);
  }
  const emails = account.emails;
  let next = "/apps";
  try {
    next = safeNext(c, decodeURIComponent(nextRaw));
  } catch {}
  // Members are matched by a verified email only. The person is remembered between orgs (the
  // platform-user cookie, lib/platform-user.ts); one org signs in at once, several go to /orgs to
  // choose, none go where an invitation or sign-up can still help.
  const found = emails.length ? await c.env.DIRECTORY.getByName("global").orgsOfEmails(emails) : [];
  if (emails.length) await setPlatformUser(c, { github_id: account.id, login: account.login, emails });
  // An invitation link started this sign-in: back to it, whatever orgs the person has already.
  if (emails.length && next.startsWith("/invitations/")) return c.redirect(next, 303);
  if (found.length > 1) return c.redirect(`/orgs?next=${encodeURIComponent(next)}`, 303);
  const only = found[0];
  if (only) {
    const r = await vaultStub(c.env, only.org.id).startWebSession(only.email, "github");
    if (r.ok) {
      await startSession(c, r.value.token);
      return c.redirect(next, 303);
    }
  }
  // No org yet, but sign-up lets this person create one.
  if (signupEmail(parseSignup(c.env.SIGNUP), emails)) return c.redirect("/orgs", 303);
  return c.html(
    <Failed
      error={{
        message: emails.length ? `No Keystroke member has the verified GitHub email ${emails.join(", ")}.` : "Your GitHub account has no verified email address.",
        fix: emails.length ? "Ask an org owner to add you with one of these emails, or add and verify your membership email at GitHub (Settings, Emails)." : "Verify an email address at GitHub (Settings, Emails), then sign in again.",
      }}
    />,
    403,
  );
});
