import { Hono, type Context } from "hono";
import type { OrgVault } from "../../../durable-objects/org-vault";
import type { ErrorBody } from "../../../lib/errors";
import { AppError } from "../../../lib/errors";
import { accountFrom, idTokenClaims, tokenSet, type ProviderConfig } from "../../../lib/oauth";
import { ConnectChoice, targetsFromForm } from "../../../lib/schemas/connect";
import { hashToken, parseToken } from "../../../lib/tokens";
import { ErrorBanner, Page, STYLES } from "../../api/src/web/layout";
import { csrfValid, sessionToken } from "../../api/src/web/session";
import { authorizationUrl, exchangeCode, fetchUserinfo, generateCodeVerifier, generateState } from "./provider-client";

export interface OAuthEnv {
  VAULT: DurableObjectNamespace<OrgVault>;
  ROUTES: KVNamespace;
  PUBLIC_URL?: string;
}
type C = Context<{ Bindings: OAuthEnv }>;

/**
 * /oauth/start and /oauth/callback (SPEC section 6, step 3). State is `<orgId>.<random>`, so the
 * callback knows its vault; the vault keeps only its hash, single use, bound to the session and
 * the member. Every failure ends the session `failed` with a readable reason and stores nothing.
 */
const app = new Hono<{ Bindings: OAuthEnv }>();

const origin = (c: C) => c.env.PUBLIC_URL || new URL(c.req.url).origin;
const redirectUri = (c: C) => `${origin(c)}/oauth/callback`;
const vaultOf = (c: C, orgId: string) => c.env.VAULT.get(c.env.VAULT.idFromName(orgId));

function failurePage(c: C, error: ErrorBody, status: number) {
  return c.html(
    <Page title="Connection failed">
      <h1>The connection did not complete</h1>
      <ErrorBanner error={error} />
      <a class="button" href="/apps">Back to Apps</a>
    </Page>,
    status as 400,
  );
}

const bodyOf = (e: unknown): ErrorBody => (e instanceof AppError ? e.toBody() : { code: "internal", message: "Something went wrong while connecting." });

app.get("/oauth/health", (c) => c.json({ ok: true, worker: "oauth" }));
app.get("/static/app.css", (c) => c.body(STYLES, 200, { "content-type": "text/css; charset=utf-8" }));

app.post("/oauth/start", async (c) => {
  const token = sessionToken(c);
  if (!token) return c.redirect("/signin", 303);
  const form = await c.req.parseBody({ all: true });
  if (!csrfValid(c, form.csrf)) return failurePage(c, { code: "forbidden", message: "The form expired.", fix: "Go back and submit it again." }, 403);
  const session = String(form.session ?? "");
  let choice: ConnectChoice;
  try {
    const name = typeof form.name === "string" && form.name.trim() ? form.name.trim() : undefined;
    choice = ConnectChoice.parse({ targets: targetsFromForm(([] as unknown[]).concat(form.target ?? []).map(String)), ...(name ? { name } : {}) });
  } catch {
    return failurePage(c, { code: "invalid_request", message: "Choose where the connection will be available.", fix: `Go back to /connect/${session} and pick at least one place.` }, 400);
  }
  const orgId = parseToken(token)!.orgId;
  const state = `${orgId}.${generateState()}`;
  const verifier = generateCodeVerifier();
  const begun = await vaultOf(c, orgId).beginOAuth(token, session, choice, { hash: await hashToken(state), verifier, redirectUri: redirectUri(c) });
  if (!begun.ok) return failurePage(c, begun.error, begun.status);
  const url = authorizationUrl(begun.value.config, redirectUri(c), state, begun.value.config.pkce ? verifier : null);
  return c.redirect(url.toString(), 302);
});

/** The account behind the new tokens, read where the provider keeps it. */
async function identify(cfg: ProviderConfig, data: Record<string, unknown>, accessToken: string) {
  if (cfg.identity.source === "token_response") return accountFrom(cfg.identity, data);
  if (cfg.identity.source === "id_token") {
    if (typeof data.id_token !== "string") throw new AppError("upstream_error", "The provider sent no id_token.");
    return accountFrom(cfg.identity, idTokenClaims(data.id_token));
  }
  return accountFrom(cfg.identity, await fetchUserinfo(cfg, accessToken));
}

app.get("/oauth/callback", async (c) => {
  const state = c.req.query("state") ?? "";
  const orgId = /^([a-z0-9]{1,40})\./.exec(state)?.[1];
  if (!orgId) return failurePage(c, { code: "invalid_request", message: "This sign-in link is malformed.", fix: "Start the connection again.", details: { field: "state" } }, 400);
  const token = sessionToken(c);
  if (!token || parseToken(token)?.orgId !== orgId) return failurePage(c, { code: "unauthorized", message: "Sign in as the member who started this connection, then start it again." }, 401);
  const vault = vaultOf(c, orgId);
  const stateHash = await hashToken(state);

  const consumed = await vault.consumeOAuthState(token, stateHash);
  if (!consumed.ok) return failurePage(c, consumed.error, consumed.status);
  const { session, config, verifier } = consumed.value;

  const providerError = c.req.query("error");
  if (providerError) {
    const reason = providerError === "access_denied" ? `You declined access at ${config.app}; nothing was stored.` : `${config.app} answered: ${providerError}. Nothing was stored.`;
    await vault.failOAuth(token, stateHash, reason);
    return failurePage(c, { code: "upstream_error", message: reason, fix: "Start the connection again to retry." }, 400);
  }
  try {
    const code = c.req.query("code");
    if (!code) throw new AppError("upstream_error", "The provider sent no authorization code.");
    const data = await exchangeCode(config, consumed.value.redirectUri, code, verifier);
    if (config.slack) {
      // A bot install: the workspace and its bot, recorded with the route team -> org.
      const installed = await vault.completeSlackInstall(token, stateHash, data as Parameters<typeof vault.completeSlackInstall>[2]);
      if (!installed.ok) throw AppError.fromBody(installed.error, installed.status);
      return c.redirect(`/apps?connected=${session}`, 303);
    }
    const tokens = tokenSet(data, Date.now(), config.scopeSeparator, config.scopes);
    const account = await identify(config, data, tokens.accessToken);
    const stored = await vault.completeOAuth(token, stateHash, tokens, account);
    if (!stored.ok) return failurePage(c, stored.error, stored.status);
  } catch (e) {
    const error = bodyOf(e);
    await vault.failOAuth(token, stateHash, `${error.message} Nothing was stored.`);
    return failurePage(c, error, 502);
  }
  return c.redirect(`/apps?connected=${session}`, 303);
});

app.notFound((c) => c.json({ error: { code: "not_found", message: `No route ${c.req.method} ${new URL(c.req.url).pathname}.` } }, 404));
app.onError((e, c) => c.json({ error: bodyOf(e) }, 500));

export default app;
