import { Hono } from "hono";
import { DecideCliLoginBody, CliLoginId, type CliLoginView } from "../../../../lib/schemas/cli";
import type { ApiEnv } from "../http/vault";
import { ErrorBanner, Page } from "./layout";
import { pageValue, requireSession, type WebSession } from "./pages";
import { csrfValid } from "./session";

/**
 * The CLI login approval page (SPEC section 7): a signed-in member checks that the code matches
 * their terminal and approves or denies. Approving mints nothing here; the CLI collects its token
 * on its next poll (durable-objects/vault/cli-logins.ts). Plain forms, no client JavaScript.
 */
export const cliLoginPage = new Hono<ApiEnv>();

const days = (s: number) => (s >= 86_400 ? `${Math.round(s / 86_400)} days` : s >= 3_600 ? `${Math.round(s / 3_600)} hours` : `${s} seconds`);

function Ask({ login, s }: { login: CliLoginView; s: WebSession }) {
  return (
    <Page title="Sign in the CLI" nav={{ member: s.email, csrf: s.csrf }}>
      <h1>Sign in the Keystroke CLI</h1>
      <div class="card">
        <p>
          A terminal{login.client ? <> (<strong>{login.client}</strong>)</> : null} asks to sign in as <strong>{s.email}</strong>.
        </p>
        <p>Check that your terminal shows this code:</p>
        <p style="font-size:2rem;font-family:ui-monospace,monospace;letter-spacing:.15em" data-testid="login-code">{login.code}</p>
        <p class="muted">
          Approve only if you just ran <code>keystroke auth login</code> yourself and the codes match. The CLI gets a token that acts as you for {days(login.token_ttl_seconds)}; <code>keystroke auth logout</code> revokes it.
        </p>
        <form method="post" action={`/cli-login/${login.id}`} style="display:inline-block;margin-right:.5rem">
          <input type="hidden" name="csrf" value={s.csrf} />
          <input type="hidden" name="code" value={login.code} />
          <input type="hidden" name="decision" value="approve" />
          <button type="submit">Approve</button>
        </form>
        <form method="post" action={`/cli-login/${login.id}`} style="display:inline-block">
          <input type="hidden" name="csrf" value={s.csrf} />
          <input type="hidden" name="code" value={login.code} />
          <input type="hidden" name="decision" value="deny" />
          <button type="submit" class="danger">Deny</button>
        </form>
      </div>
    </Page>
  );
}

function Done({ s, title, message, error }: { s: WebSession; title: string; message?: string; error?: { message: string; fix?: string } | null }) {
  return (
    <Page title={title} nav={{ member: s.email, csrf: s.csrf }}>
      <h1>{title}</h1>
      <ErrorBanner error={error} />
      {message ? <div class="banner ok" role="status">{message}</div> : null}
    </Page>
  );
}

const GONE = { message: "This CLI login does not exist, has expired or was already used.", fix: "Run `keystroke auth login` again in your terminal." };

cliLoginPage.get("/cli-login/:id", async (c) => {
  const s = await requireSession(c);
  if (s instanceof Response) return s;
  const id = CliLoginId.safeParse(c.req.param("id"));
  if (!id.success) return c.html(<Done s={s} title="Sign in the CLI" error={GONE} />, 404);
  const r = pageValue(await s.vault.cliLogin(s.token, id.data));
  if (r.error) return c.html(<Done s={s} title="Sign in the CLI" error={r.error.code === "not_found" ? GONE : r.error} />, r.error.code === "not_found" ? 404 : 403);
  return c.html(<Ask login={r.value} s={s} />);
});

cliLoginPage.post("/cli-login/:id", async (c) => {
  const s = await requireSession(c);
  if (s instanceof Response) return s;
  const form = await c.req.parseBody();
  if (!csrfValid(c, form.csrf)) return c.html(<Done s={s} title="Sign in the CLI" error={{ message: "The form expired.", fix: "Reload the page and try again." }} />, 403);
  const id = CliLoginId.safeParse(c.req.param("id"));
  const body = DecideCliLoginBody.safeParse({ code: form.code });
  const approve = form.decision === "approve";
  if (!id.success || !body.success || (!approve && form.decision !== "deny")) return c.html(<Done s={s} title="Sign in the CLI" error={{ message: "The form is incomplete.", fix: "Reload the page and try again." }} />, 400);
  const r = pageValue(await s.vault.decideCliLogin(s.token, id.data, body.data.code, approve));
  if (r.error) return c.html(<Done s={s} title="Sign in the CLI" error={r.error.code === "not_found" ? GONE : r.error} />, r.error.code === "not_found" ? 404 : 400);
  return c.html(
    approve ? (
      <Done s={s} title="CLI signed in" message="Approved. Go back to your terminal: the CLI is signed in. You can close this tab." />
    ) : (
      <Done s={s} title="CLI login denied" message="Denied. The terminal that asked was told no, and got no token." />
    ),
  );
});
