import { Hono } from "hono";
import { secureHeaders } from "hono/secure-headers";
import { Page } from "../../../shared/layout";

/**
 * `/_sandbox/github-signin/*` (dev only): plays GitHub for the platform's "Sign in with GitHub"
 * (SPEC section 12, Dev). Its authorize page lets you name any GitHub login and verified email,
 * so an invitation to any address (dave@acme.test) is accepted end to end offline. The endpoints
 * are GitHub's shapes: `/login/oauth/authorize`, `/login/oauth/access_token`, `/api/user`,
 * `/api/user/emails`. Codes and tokens live in memory: short-lived, like GitHub's.
 */
interface Account {
  login: string;
  email: string;
}

const b64url = (bytes: Uint8Array) => btoa(String.fromCharCode(...bytes)).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
const random = (prefix: string) => `${prefix}${b64url(crypto.getRandomValues(new Uint8Array(24)))}`;
const codes = new Map<string, Account & { clientId: string; redirectUri: string; expiresAt: number }>();
const tokens = new Map<string, Account & { expiresAt: number }>();
const LOGIN = /^[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})$/;
const EMAIL = /^[^\s@<>"]{1,64}@[A-Za-z0-9.-]{1,190}\.[A-Za-z]{2,63}$/;

/** A stable numeric id per login, as GitHub has. */
function idOf(login: string): number {
  let h = 7;
  for (const ch of login.toLowerCase()) h = (h * 31 + ch.charCodeAt(0)) % 2_000_000_000;
  return 1_000_000 + h;
}

export const sandboxGitHubSignIn = new Hono();
// Its form posts, then redirects back to the platform's callback.
sandboxGitHubSignIn.use("*", secureHeaders({ contentSecurityPolicy: { defaultSrc: ["'self'"], frameAncestors: ["'none'"] }, referrerPolicy: "same-origin", xFrameOptions: "DENY" }));

sandboxGitHubSignIn.get("/login/oauth/authorize", (c) => {
  const q = c.req.query();
  return c.html(
    <Page title="Sandbox: sign in with GitHub">
      <h1>GitHub (sandbox sign-in)</h1>
      <div class="card">
        <p>
          <strong>Keystroke</strong> (client <code>{q.client_id}</code>) asks to know who you are: <code>{q.scope || "no scopes"}</code>.
          Name any GitHub account; its email counts as verified.
        </p>
        <form method="post">
          {["client_id", "redirect_uri", "state", "scope"].map((k) => (q[k] !== undefined ? <input type="hidden" name={k} value={q[k]} /> : null))}
          <label for="login">GitHub login</label>
          <input id="login" type="text" name="login" value="octo" required pattern="[A-Za-z0-9][A-Za-z0-9\-]{0,38}" />
          <label for="email">Verified email</label>
          <input id="email" type="email" name="email" value="alice@acme.test" required />
          <p>
            <button type="submit" name="decision" value="approve">Authorize</button>{" "}
            <button class="danger" type="submit" name="decision" value="deny">Cancel</button>
          </p>
        </form>
      </div>
    </Page>,
  );
});

sandboxGitHubSignIn.post("/login/oauth/authorize", async (c) => {
  const f = (await c.req.parseBody()) as Record<string, string>;
  if (!URL.canParse(f.redirect_uri ?? "")) return c.text("redirect_uri is missing", 400);
  const back = new URL(f.redirect_uri!);
  if (f.state) back.searchParams.set("state", f.state);
  if (f.decision !== "approve") {
    back.searchParams.set("error", "access_denied");
    return c.redirect(back.toString(), 302);
  }
  const login = (f.login ?? "").trim();
  const email = (f.email ?? "").trim();
  if (!LOGIN.test(login) || !EMAIL.test(email)) return c.text("Name a GitHub login and an email address.", 400);
  const code = random("sbxgh_code_");
  codes.set(code, { login, email, clientId: f.client_id ?? "", redirectUri: f.redirect_uri!, expiresAt: Date.now() + 60_000 });
  back.searchParams.set("code", code);
  return c.redirect(back.toString(), 302);
});

sandboxGitHubSignIn.post("/login/oauth/access_token", async (c) => {
  const form = new URLSearchParams(await c.req.text());
  const basic = c.req.header("authorization")?.match(/^Basic (.+)$/)?.[1];
  const clientId = basic ? atob(basic).split(":")[0]! : form.get("client_id");
  const code = form.get("code") ?? "";
  const grant = codes.get(code);
  codes.delete(code); // single use
  // GitHub answers refusals with HTTP 200 and an `error` (arctic's GitHub class reads them so).
  if (!grant || grant.expiresAt < Date.now() || form.get("grant_type") !== "authorization_code") return c.json({ error: "bad_verification_code" });
  if (!basic || clientId !== grant.clientId) return c.json({ error: "incorrect_client_credentials" });
  if (form.get("redirect_uri") !== grant.redirectUri) return c.json({ error: "redirect_uri_mismatch" });
  const token = random("gho_sbx_");
  tokens.set(token, { login: grant.login, email: grant.email, expiresAt: Date.now() + 10 * 60_000 });
  return c.json({ access_token: token, token_type: "bearer", scope: "read:user,user:email" });
});

function accountOf(authorization: string | undefined): Account | null {
  const t = tokens.get(authorization?.replace(/^Bearer /i, "") ?? "");
  return t && t.expiresAt > Date.now() ? t : null;
}

sandboxGitHubSignIn.get("/api/user", (c) => {
  const who = accountOf(c.req.header("authorization"));
  return who ? c.json({ id: idOf(who.login), login: who.login, name: who.login }) : c.json({ message: "Bad credentials" }, 401);
});

sandboxGitHubSignIn.get("/api/user/emails", (c) => {
  const who = accountOf(c.req.header("authorization"));
  return who ? c.json([{ email: who.email, verified: true, primary: true, visibility: "private" }]) : c.json({ message: "Bad credentials" }, 401);
});
