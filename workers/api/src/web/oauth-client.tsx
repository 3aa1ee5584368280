import { Hono, type Context } from "hono";
import { AppError, fromZodError, type ErrorBody } from "../../../../lib/errors";
import { PutOAuthClientBody, type OAuthClientSettings } from "../../../../lib/schemas/oauth-clients";
import type { OAuthClientPage } from "../../../../durable-objects/vault/pages";
import type { VaultResult } from "../../../../lib/rpc";
import type { ApiEnv } from "../http/vault";
import { publicUrl } from "../http/vault";
import { Csrf, ErrorBanner, OkBanner, Page, When } from "../../../shared/layout";
import { act, doneBanner, FORM_EXPIRED, formOf, loadPage, navOf, statusOf, text, webError, type WebSession } from "./pages";

/**
 * An app's OAuth client settings (SPEC section 13), for org owners and admins: the redirect URI
 * to register at the provider, which client connecting uses now, and a form to register, replace
 * or remove the organization's own client. The secret is typed, sealed in the vault and never
 * shown again; anyone else sees the vault's refusal in place.
 */
export const oauthClientPages = new Hono<ApiEnv>();
oauthClientPages.onError(webError);

const ENDPOINTS = [
  ["authorize_url", "Authorize URL"],
  ["token_url", "Token URL"],
  ["refresh_url", "Refresh URL (only if not the token URL)"],
  ["userinfo_url", "Userinfo URL"],
  ["revoke_url", "Revoke URL"],
] as const;

const DONE: Record<string, string> = { saved: "The OAuth client is saved.", removed: "The OAuth client is removed." };
const USES: Record<OAuthClientSettings["connects_with"], string> = {
  org: "the organization's own client (below)",
  platform: "the platform's client",
  none: "no client: connecting is refused until an org owner or admin adds one here",
};

function render(c: Context<ApiEnv>, s: WebSession, page: OAuthClientPage, slug: string, opts: { ok?: string | null; error?: ErrorBody | null } = {}, status = 200) {
  const name = page.app?.name ?? slug;
  const settings = page.settings.ok ? page.settings.value : null;
  const client = settings?.client ?? null;
  const base = `/apps/${encodeURIComponent(slug)}/oauth-client`;
  return c.html(
    <Page title={`${name}: OAuth client`} nav={navOf(s, "/catalog")}>
      <h1>{name}: OAuth client</h1>
      <p class="muted">Connections to {name} go through an OAuth app registered at the provider: the organization's own, else the platform's.</p>
      <ErrorBanner error={opts.error} />
      <OkBanner message={opts.ok} />
      {page.settings.ok ? null : <ErrorBanner error={page.settings.error} />}
      {settings ? (
        <>
          <section class="card" aria-label="Where connections go">
            <p>Redirect URI to register at the provider: <code data-testid="redirect-uri">{settings.redirect_uri}</code></p>
            <p data-testid="connects-with">Connecting uses {USES[settings.connects_with]}.</p>
            {client ? (
              <dl>
                <dt>Client ID</dt><dd><code data-testid="client-id">{client.client_id}</code></dd>
                <dt>Client secret</dt><dd>{client.has_secret ? "stored, sealed; never shown" : "none (public client)"}</dd>
                {ENDPOINTS.filter(([k]) => client.endpoints[k]).map(([k, label]) => <><dt>{label}</dt><dd><code>{client.endpoints[k]}</code></dd></>)}
                {client.scopes ? <><dt>Scopes</dt><dd><code>{client.scopes.join(" ")}</code></dd></> : null}
                {client.pkce !== null ? <><dt>PKCE</dt><dd>{client.pkce ? "on" : "off"}</dd></> : null}
                <dt>Updated</dt><dd><When at={client.updated_at} /></dd>
                <dt>Credentials</dt><dd>{settings.credentials.org_client} made with this client; {settings.credentials.other_client} with another (they keep their own client, or need a reconnect when it was removed or replaced)</dd>
              </dl>
            ) : null}
          </section>
          <form method="post" action={base} class="card" aria-label="Save the OAuth client">
            <Csrf value={s.csrf} />
            <h2>{client ? "Replace the client" : "Register the organization's client"}</h2>
            <div><label for="oc-id">Client ID</label><input id="oc-id" type="text" name="client_id" value={client?.client_id ?? ""} maxlength={500} required autocomplete="off" /></div>
            <div><label for="oc-secret">Client secret{client?.has_secret ? " (leave empty to keep the stored one of the same client ID)" : ""}</label><input id="oc-secret" type="password" name="client_secret" maxlength={2000} autocomplete="new-password" /></div>
            <p class="muted small">Endpoints: only for self-hosted or generic providers (GitLab self-managed, Keycloak, Okta, a custom app). Each must be a public https URL; given endpoints replace the app's as a set.</p>
            {ENDPOINTS.map(([k, label]) => (
              <div><label for={`oc-${k}`}>{label}</label><input id={`oc-${k}`} type="text" inputmode="url" name={k} value={client?.endpoints[k] ?? ""} maxlength={2000} /></div>
            ))}
            <div><label for="oc-scopes">Default scopes (space separated; empty: the app's)</label><input id="oc-scopes" type="text" name="scopes" value={client?.scopes?.join(" ") ?? ""} /></div>
            <div>
              <label for="oc-pkce">PKCE</label>
              <select id="oc-pkce" name="pkce">
                <option value="" selected={client?.pkce == null}>the app's default</option>
                <option value="true" selected={client?.pkce === true}>on</option>
                <option value="false" selected={client?.pkce === false}>off</option>
              </select>
            </div>
            <div class="buttons"><button type="submit">Save client</button></div>
          </form>
          {client ? (
            <form method="post" action={`${base}/remove`} class="card" aria-label="Remove the OAuth client">
              <Csrf value={s.csrf} />
              <p>Removing it makes new connections use the platform's client, or refuses them when there is none. Credentials made with it need a reconnect at their next refresh.</p>
              <button class="danger" type="submit">Remove client</button>
            </form>
          ) : null}
        </>
      ) : null}
    </Page>,
    status as 200,
  );
}

async function again(c: Context<ApiEnv>, opts: Parameters<typeof render>[4], status: number) {
  const slug = c.req.param("slug") ?? "";
  const loaded = await loadPage(c, (vault, token) => vault.loadOAuthClientPage(token, slug, publicUrl(c)));
  if (loaded instanceof Response) return loaded;
  // No such app (or not an OAuth one): the error page, not an empty form.
  const settings = loaded.page.settings;
  if (!loaded.page.app && !settings.ok) return webError(new AppError(settings.error.code, settings.error.message, { fix: settings.error.fix, details: settings.error.details }), c);
  return render(c, loaded.s, loaded.page, slug, opts, status);
}

/** The form's fields as the API body: empty means "not given". */
function bodyOf(form: Record<string, unknown>): Record<string, unknown> {
  const f = form as Parameters<typeof text>[0];
  const endpoints = Object.fromEntries(ENDPOINTS.map(([k]) => [k, text(f, k)]).filter(([, v]) => v));
  const scopes = text(f, "scopes").split(/\s+/).filter(Boolean);
  const pkce = text(f, "pkce");
  return {
    client_id: text(f, "client_id"),
    ...(text(f, "client_secret") ? { client_secret: text(f, "client_secret") } : {}),
    ...(Object.keys(endpoints).length ? { endpoints } : {}),
    ...(scopes.length ? { scopes } : {}),
    ...(pkce ? { pkce: pkce === "true" } : {}),
  };
}

async function action(c: Context<ApiEnv>, done: string, run: Parameters<typeof act>[1]): Promise<Response> {
  const r = (await act(c, run)) as VaultResult<unknown> | Response;
  if (r instanceof Response) return r;
  if (!r.ok) return again(c, { error: r.error }, statusOf(r.error));
  return c.redirect(`/apps/${encodeURIComponent(c.req.param("slug") ?? "")}/oauth-client?done=${done}`, 303);
}

oauthClientPages.get("/apps/:slug/oauth-client", (c) => again(c, { ok: doneBanner(DONE, c.req.query("done")) }, 200));

oauthClientPages.post("/apps/:slug/oauth-client", async (c) => {
  const form = await formOf(c);
  if (!form) return again(c, { error: FORM_EXPIRED }, 403);
  const body = PutOAuthClientBody.safeParse(bodyOf(form));
  // The secret is never echoed back into the form, and never into an error.
  if (!body.success) return again(c, { error: fromZodError(body.error).toBody() }, 400);
  return action(c, "saved", (vault, token) => vault.putOAuthClient(token, c.req.param("slug"), body.data, publicUrl(c)));
});

oauthClientPages.post("/apps/:slug/oauth-client/remove", async (c) => {
  const form = await formOf(c);
  if (!form) return again(c, { error: FORM_EXPIRED }, 403);
  return action(c, "removed", (vault, token) => vault.deleteOAuthClient(token, c.req.param("slug"), publicUrl(c)));
});
