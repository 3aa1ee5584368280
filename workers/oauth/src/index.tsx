import { Hono, type Context } from "hono";
import type { OAuthDoor } from "../../../durable-objects/doors/oauth";
import { orgDoor } from "../../../durable-objects/doors/org-door";
import type { ErrorBody } from "../../../lib/errors";
import { AppError } from "../../../lib/errors";
import type { VaultResult } from "../../../lib/rpc";
import type { ConnectChoice, ConnectOptions } from "../../../lib/schemas/connect";
import { CHOOSE_PLACE, targetsFromForm } from "../../../lib/connect-form-values";
import { parseToken } from "../../../lib/tokens";
import type { Me } from "../../../lib/schemas/identity";
import { platformOrigin } from "../../../lib/origin";
import { ICON, ICON_PATH, STYLES } from "../../shared/layout";
import { errorBodyOf, errorPage } from "../../shared/error-page";
import { csrfToken, csrfValid, sessionToken, webSession } from "../../shared/session";
import { noStoreByDefault, securityHeaders } from "../../shared/security";
import { healthRoute, requireConfig } from "../../shared/config";
import { OAUTH_SETTINGS } from "../../../lib/config-rules";
import { ConnectForm, postedValues, scopeChoice } from "../../shared/connect-form";

export interface OAuthEnv {
  /** The api worker's OAuthDoor (durable-objects/doors/oauth.ts): the connect flow's steps, nothing else. */
  VAULT_DOOR: Service<OAuthDoor>;
  PUBLIC_URL?: string;
  /** "true" only in local dev (workers/oauth/.dev.vars): then, without PUBLIC_URL, the request's loopback origin. */
  DEV_MODE?: string;
}
type C = Context<{ Bindings: OAuthEnv }>;

/**
 * /oauth/start and /oauth/callback (SPEC section 6, step 3): cookies, CSRF, one vault call per
 * request and the page or redirect. The flow itself (state, PKCE, code exchange, identity,
 * storing) is the vault's (durable-objects/vault/oauth-connect.ts), so no client secret or
 * verifier reaches this worker. State is `<orgId>.<random>`, so the callback knows its vault.
 * Every failure ends the session `failed` with a readable reason and stores nothing.
 */
const app = new Hono<{ Bindings: OAuthEnv }>();

// The same page headers and no-store as the api worker (workers/shared/security.ts), and the session's CSRF value.
// A missing or malformed required setting: 503 naming it (workers/shared/config.ts), /oauth/health lists it.
app.use("*", securityHeaders, noStoreByDefault, requireConfig(OAUTH_SETTINGS, ["/oauth/health", "/health"]), webSession);

const origin = (c: C) => platformOrigin(c.env, c.req.url);
const redirectUri = (c: C) => `${origin(c)}/oauth/callback`;
const vaultOf = (c: C, orgId: string) => orgDoor(c.env.VAULT_DOOR, orgId);

const navOf = (c: C, me: Me | null) => (me?.member ? { member: me.member.email, role: me.member.role, csrf: csrfToken(c), current: "/catalog" } : undefined);

/** The signed-in member for the page header; none when the session cannot be read (the page still renders). */
async function navFor(c: C): Promise<{ member: string; role: string; csrf: string; current: string } | undefined> {
  const token = sessionToken(c);
  if (!token) return undefined;
  try {
    const me = await vaultOf(c, parseToken(token)!.orgId).describeMe(token);
    return me.ok ? navOf(c, me.value) : undefined;
  } catch {
    return undefined;
  }
}

const SESSION_ID = /^cs_[a-z2-7]{20}$/;

/**
 * Every browser error of this worker: the product's page with the reason, the fix and a way back
 * (to the form while the connect session can still be completed, else to the catalog and Apps).
 */
async function failurePage(c: C, error: ErrorBody, status: number, formOf?: string, heading = "The connection did not complete", viewer?: Me | null) {
  const back = formOf && SESSION_ID.test(formOf) ? `/connect/${formOf}` : null;
  return errorPage(c, error, {
    status,
    heading,
    title: status === 404 ? "Not found" : "Connection failed",
    nav: viewer === undefined ? await navFor(c) : navOf(c, viewer),
    actions: (
      <>
        {back ? <a class="button" href={back}>Back to the form</a> : <a class="button" href="/catalog">Connect an app</a>}
        <a class="button secondary" href="/apps">Back to Apps</a>
      </>
    ),
  });
}

/** A connect step the vault refused: its answer names the viewer, so the page needs no second call. */
const stepFailure = (c: C, failed: { error: ErrorBody; status: number; viewer?: Me | null }, formOf?: string) =>
  failurePage(c, failed.error, failed.status, formOf, undefined, failed.viewer);

const bodyOf = (e: unknown): ErrorBody => errorBodyOf(e, "Something went wrong while connecting.");

app.get("/oauth/health", healthRoute("oauth", OAUTH_SETTINGS));
app.get("/health", healthRoute("oauth", OAUTH_SETTINGS));
app.get("/static/app.css", (c) => c.body(STYLES, 200, { "content-type": "text/css; charset=utf-8", "cache-control": "public, max-age=300" }));
app.get(ICON_PATH, (c) => c.body(ICON, 200, { "content-type": "image/svg+xml", "cache-control": "public, max-age=86400" }));

/**
 * On to the provider's consent page. Not a 302: CSP `form-action 'self'` also governs redirects
 * after a form post (Chromium blocks the hop to the provider's origin), whereas a meta refresh is a
 * new navigation. The link is for a browser that does not follow it.
 */
function ToProvider({ url, app }: { url: string; app: string }) {
  return (
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <meta http-equiv="refresh" content={`0;url=${url}`} />
        <title>Continue to {app} · Keystroke</title>
        <link rel="icon" href={ICON_PATH} />
        <link rel="stylesheet" href="/static/app.css" />
      </head>
      <body>
        <main id="main">
          <h1>Continuing to {app}…</h1>
          <p><a class="button" href={url} data-testid="authorize">Continue to {app}</a></p>
        </main>
      </body>
    </html>
  );
}

app.post("/oauth/start", async (c) => {
  const token = sessionToken(c);
  if (!token) return c.redirect("/signin", 303);
  let form: Record<string, string | File | (string | File)[]>;
  try {
    form = await c.req.parseBody({ all: true });
  } catch {
    return failurePage(c, { code: "invalid_request", message: "The form could not be read.", fix: "Go back to the connect page and submit it again.", details: { field: "body" } }, 400);
  }
  const session = typeof form.session === "string" ? form.session : "";
  if (!csrfValid(c, form.csrf)) return failurePage(c, { code: "forbidden", message: "The form expired.", fix: "Go back to the form and submit it again." }, 403, session);
  const orgId = parseToken(token)!.orgId;
  // Show the form again with what the member chose, so nothing typed is lost (else the failure page).
  const formAgain = (error: ErrorBody, options: VaultResult<ConnectOptions> | undefined, viewer: Me | null | undefined) => {
    const member = viewer?.member;
    if (!options?.ok || !member) return failurePage(c, error, 400, session, undefined, viewer);
    return c.html(<ConnectForm o={options.value} s={{ email: member.email, role: member.role, csrf: csrfToken(c) }} error={error} values={postedValues(form)} />, 400);
  };
  let choice: ConnectChoice;
  try {
    const name = typeof form.name === "string" && form.name.trim() ? form.name.trim() : undefined;
    // Checked by the vault (lib/schemas/connect.ts connectChoiceOf), which keeps zod out of this worker.
    choice = { targets: targetsFromForm(([] as unknown[]).concat(form.target ?? []).map(String)), ...(name ? { name } : {}), ...scopeChoice(form) };
  } catch {
    // A place no form offers: the place question again.
    const loaded = SESSION_ID.test(session) ? await vaultOf(c, orgId).loadConnectPage(token, session, origin(c)) : null;
    return formAgain(CHOOSE_PLACE, loaded?.ok ? loaded.value.options : undefined, loaded?.ok ? loaded.value.viewer : loaded ? null : undefined);
  }
  // The vault checks the choice, makes the state and the PKCE verifier and answers only the provider's URL.
  const begun = await vaultOf(c, orgId).beginConnect(token, session, choice, redirectUri(c));
  // A choice it refused comes with the form's options: the form again, from this one call.
  if (!begun.ok && "form" in begun && begun.form) return formAgain(begun.error, begun.form, begun.viewer);
  // A refused choice goes back to the form; a session that ended starts over from the catalog.
  if (!begun.ok) return stepFailure(c, begun, begun.error.details?.field === "name" || !["conflict", "not_found"].includes(begun.error.code) ? session : undefined);
  return c.html(<ToProvider url={begun.value.url} app={begun.value.app} />);
});

/**
 * The callback's query parameters other than the flow's own, for connection data the provider
 * sends there (Intuit's realmId); bounded, since anyone can put anything on this URL. The vault
 * keeps only the ones the app's catalog entry declares, each checked against its rule.
 */
function callbackParams(query: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(query)) {
    if (["state", "code", "error", "error_description", "error_uri", "scope", "iss"].includes(k) || !/^[A-Za-z][A-Za-z0-9_]{0,39}$/.test(k) || v.length > 300) continue;
    out[k] = v;
    if (Object.keys(out).length >= 10) break;
  }
  return out;
}

app.get("/oauth/callback", async (c) => {
  const state = c.req.query("state") ?? "";
  const orgId = /^([a-z0-9]{1,40})\./.exec(state)?.[1];
  if (!orgId) return failurePage(c, { code: "invalid_request", message: "This sign-in link is malformed.", fix: "Start the connection again.", details: { field: "state" } }, 400);
  const token = sessionToken(c);
  if (!token || parseToken(token)?.orgId !== orgId) return failurePage(c, { code: "unauthorized", message: "Sign in as the member who started this connection, then start it again." }, 401);
  // One call: the vault consumes the state, exchanges the code, stores the connection and ends the session.
  const done = await vaultOf(c, orgId).finishConnect(token, { state, code: c.req.query("code") ?? null, error: c.req.query("error") ?? null, params: callbackParams(c.req.query()) });
  if (!done.ok) return stepFailure(c, done);
  return c.redirect(done.value.redirect, 303);
});

// This worker serves browsers: its errors are pages (JSON only for a client that asks for it).
const wantsJson = (c: C) => !(c.req.header("accept") ?? "").includes("text/html") && (c.req.header("accept") ?? "").includes("application/json");
app.notFound((c) => {
  const error: ErrorBody = { code: "not_found", message: `There is no page ${new URL(c.req.url).pathname}.`, fix: "Check the address, or go back to the Apps page." };
  return wantsJson(c) ? c.json({ error }, 404) : failurePage(c, error, 404, undefined, "Page not found");
});
app.onError((e, c) => {
  const status = e instanceof AppError ? e.httpStatus : 500;
  if (status >= 500) console.error("oauth worker error", e instanceof Error ? e.name : typeof e, c.req.method, new URL(c.req.url).pathname);
  return wantsJson(c) ? c.json({ error: bodyOf(e) }, status as 500) : failurePage(c, bodyOf(e), status);
});

export default app;
