import { Hono } from "hono";
import { CLI_TOKEN_TTL_MAX_S, CliLoginId, DecideCliLoginBody, type CliLoginView } from "../../../../lib/schemas/cli";
import { fromZodError, type ErrorBody } from "../../../../lib/errors";
import type { ApiEnv } from "../http/vault";
import { Csrf, ErrorBanner, Page, When } from "../../../shared/layout";
import { FORM_EXPIRED, formOf, loadPage, pageValue, text, type WebSession } from "./pages";

/**
 * The CLI login approval page (SPEC sections 7 and 12): a signed-in member sees who asks (the
 * client's label, when, from which address and program) and must TYPE the code their terminal
 * shows; the page never shows or pre-fills it, so a link someone else sent cannot be approved with
 * one click. Wrong codes are counted by the vault; the fifth ends the login. The member may
 * shorten the token's lifetime. Approving mints nothing here; the CLI collects its token on its
 * next poll (durable-objects/vault/cli-logins.ts). Plain forms, no client JavaScript.
 */
export const cliLoginPage = new Hono<ApiEnv>();

const days = (s: number) => (s >= 86_400 ? `${Math.round(s / 86_400)} days` : s >= 3_600 ? `${Math.round(s / 3_600)} hours` : `${s} seconds`);

/** Lifetimes the approver may pick: the CLI's request (at most 30 days) and shorter ones. */
function lifetimes(requested: number): number[] {
  const options = [86_400, 7 * 86_400, CLI_TOKEN_TTL_MAX_S].filter((s) => s < requested);
  return [...options, requested];
}

function Ask({ login, s, error }: { login: CliLoginView; s: WebSession; error?: ErrorBody | null }) {
  const options = lifetimes(login.token_ttl_seconds);
  return (
    <Page title="Sign in the CLI" nav={{ member: s.email, csrf: s.csrf }}>
      <h1>Sign in the Keystroke CLI</h1>
      <ErrorBanner error={error} />
      <div class="card">
        <p>
          A terminal asks to sign in as <strong>{s.email}</strong>. Continue only if you just ran <code>keystroke auth login</code> yourself. Never type a code
          someone else gave you: whoever started this login would get a token that acts as you.
        </p>
        <dl data-testid="login-origin">
          <dt>Label</dt>
          <dd>
            {login.client ? <strong>{login.client}</strong> : <span class="muted">none</span>} <span class="small muted">(chosen by whoever started the login; it proves nothing)</span>
          </dd>
          <dt>Started</dt>
          <dd>
            <When at={login.created_at} /> <span class="small muted">(expires <When at={login.expires_at} />)</span>
          </dd>
          <dt>From address</dt>
          <dd>{login.client_address ?? <span class="muted">unknown</span>}</dd>
          <dt>Program</dt>
          <dd>{login.user_agent ?? <span class="muted">unknown</span>}</dd>
        </dl>
        <form method="post" action={`/cli-login/${login.id}`}>
          <Csrf value={s.csrf} />
          <input type="hidden" name="decision" value="approve" />
          <label for="code">Code shown in your terminal</label>
          <input id="code" name="code" required type="text" autocomplete="off" autocapitalize="characters" spellcheck={false} placeholder="XXXX-XXXX" maxlength={20} />
          <p class="small muted">
            {login.attempts_left} wrong {login.attempts_left === 1 ? "code ends" : "codes end"} this login.
          </p>
          <label for="token_ttl_seconds">The CLI's token lasts</label>
          <select id="token_ttl_seconds" name="token_ttl_seconds">
            {options.map((o) => (
              <option value={String(o)} selected={o === login.token_ttl_seconds}>
                {days(o)}
                {o === login.token_ttl_seconds ? " (as the CLI asked)" : ""}
              </option>
            ))}
          </select>
          <p class="small muted">
            Revoke it any time with <code>keystroke auth logout</code> or <code>keystroke auth tokens --revoke &lt;id&gt;</code>.
          </p>
          <button type="submit">Approve</button>
        </form>
        <form method="post" action={`/cli-login/${login.id}`} class="spaced">
          <Csrf value={s.csrf} />
          <input type="hidden" name="decision" value="deny" />
          <button type="submit" class="danger">Deny</button> <span class="small muted">No code needed: deny anything you did not start.</span>
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
  const id = CliLoginId.safeParse(c.req.param("id"));
  const loaded = await loadPage(c, (vault, token) => vault.loadCliLoginPage(token, id.success ? id.data : null));
  if (loaded instanceof Response) return loaded;
  const { s } = loaded;
  if (!id.success || !loaded.page.login) return c.html(<Done s={s} title="Sign in the CLI" error={GONE} />, 404);
  const r = pageValue(loaded.page.login);
  if (r.error) return c.html(<Done s={s} title="Sign in the CLI" error={r.error.code === "not_found" ? GONE : r.error} />, r.error.code === "not_found" ? 404 : 403);
  return c.html(<Ask login={r.value} s={s} />);
});

cliLoginPage.post("/cli-login/:id", async (c) => {
  const form = await formOf(c);
  const id = CliLoginId.safeParse(c.req.param("id"));
  const decision = form ? text(form, "decision") : "";
  // A lifetime that is given is checked (a bad one is named, never dropped for the longest).
  const ttl = form ? text(form, "token_ttl_seconds") : "";
  const body = DecideCliLoginBody.safeParse({ code: form ? text(form, "code") : "", ...(ttl !== "" ? { token_ttl_seconds: Number(ttl) } : {}) });
  const complete = form && id.success && (decision === "approve" || decision === "deny");
  // One vault call whatever the outcome: the decision (with the login again after a refusal), or only the page.
  if (!complete || (decision === "approve" && !body.success)) {
    const loaded = await loadPage(c, (vault, token) => vault.loadCliLoginPage(token, complete ? id.data : null));
    if (loaded instanceof Response) return loaded;
    const { s } = loaded;
    if (!form) return c.html(<Done s={s} title="Sign in the CLI" error={FORM_EXPIRED} />, 403);
    if (!complete) return c.html(<Done s={s} title="Sign in the CLI" error={{ message: "The form is incomplete.", fix: "Reload the page and try again." }} />, 400);
    const again = loaded.page.login ? pageValue(loaded.page.login) : null;
    const badTtl = !body.success && fromZodError(body.error).details?.field === "token_ttl_seconds";
    const missing: ErrorBody = badTtl
      ? { code: "invalid_request", message: `The token lifetime must be a whole number of seconds from 60 to ${CLI_TOKEN_TTL_MAX_S}.`, details: { field: "token_ttl_seconds" } }
      : { code: "invalid_request", message: "Type the code your terminal shows.", details: { field: "code" } };
    return c.html(again?.value ? <Ask login={again.value} s={s} error={missing} /> : <Done s={s} title="Sign in the CLI" error={GONE} />, again?.value ? 400 : 404);
  }
  const loaded = await loadPage(c, (vault, token) => vault.decideCliLoginOnPage(token, id.data, decision === "approve" && body.success ? { approve: true, code: body.data.code, tokenTtlSeconds: body.data.token_ttl_seconds } : { approve: false }));
  if (loaded instanceof Response) return loaded;
  const { s } = loaded;
  const r = pageValue(loaded.page.decided);
  if (r.error) {
    if (r.error.code === "not_found") return c.html(<Done s={s} title="Sign in the CLI" error={GONE} />, 404);
    // A wrong code: ask again while the login is still open (the vault counts the tries).
    const again = loaded.page.login ? pageValue(loaded.page.login) : null;
    return c.html(again?.value ? <Ask login={again.value} s={s} error={r.error} /> : <Done s={s} title="CLI login ended" error={r.error} />, 400);
  }
  return c.html(
    decision === "approve" ? (
      <Done s={s} title="CLI signed in" message={`Approved. Go back to your terminal: the CLI is signed in for ${days(r.value.token_ttl_seconds)}. You can close this tab.`} />
    ) : (
      <Done s={s} title="CLI login denied" message="Denied. The terminal that asked was told no, and got no token." />
    ),
  );
});
