import { Hono, type Context } from "hono";
import type { ErrorBody } from "../../../../lib/errors";
import { isAdmin } from "../../../../lib/permissions";
import { CreateApiKeyBody, type ApiKey } from "../../../../lib/schemas/identity";
import type { ApiEnv } from "../http/vault";
import { Csrf, ErrorBanner, OkBanner, Page, When } from "../../../shared/layout";
import { PostButton } from "./row-action";
import { SecretCard } from "./secret-card";
import type { ApiKeysPage } from "../../../../durable-objects/vault/pages";
import { navOf, pageValue, webError, type WebSession } from "./pages";
import { mountShownOnce } from "./shown-once";

/**
 * API keys (SPEC section 7): create (the key is shown once, in the answer to the form post, never
 * in a URL or again), list (previews only), revoke. Members manage their own keys; owners and
 * admins see and revoke everyone's.
 */
export const apiKeyPages = new Hono<ApiEnv>();
apiKeyPages.onError(webError);

function render(c: Context<ApiEnv>, s: WebSession, page: ApiKeysPage, opts: { created?: ApiKey & { key: string }; ok?: string | null; error?: ErrorBody | null; name?: string } = {}, status = 200) {
  const list = pageValue(page.keys);
  const admin = isAdmin(s.principal);
  const emails = new Map(page.members.map((m) => [m.id, m.email]));
  // The answer that carries a new key must not be cached anywhere.
  if (opts.created) c.header("cache-control", "no-store");
  return c.html(
    <Page title="API keys" nav={navOf(s, "/api-keys")}>
      <h1>API keys</h1>
      <p class="muted">A key acts as the member who created it, for scripts and the MCP server. {admin ? "As an org admin you see every member's keys." : "You see your own keys."}</p>
      <ErrorBanner error={opts.error} />
      <OkBanner message={opts.ok} />
      {opts.created ? (
        <SecretCard
          testid="new-key"
          valueId="new-key-value"
          value={opts.created.key}
          lead={<p class="lead">Your new key</p>}
          after={<p class="muted small">Use it as <code>Authorization: Bearer &lt;key&gt;</code>, or <code>KEYSTROKE_TOKEN</code> for the CLI.</p>}
        >
          <strong>Key “{opts.created.name}” created.</strong> Copy it now: it is shown only this once and cannot be recovered.
        </SecretCard>
      ) : null}
      <form method="post" action="/api-keys" class="card filters" aria-label="Create an API key">
        <Csrf value={s.csrf} />
        <div>
          <label for="k-name">Name</label>
          <input id="k-name" type="text" name="name" value={opts.name ?? ""} placeholder="e.g. deploy script" maxlength={200} required />
        </div>
        <div class="buttons"><button type="submit">Create key</button></div>
      </form>
      <ErrorBanner error={list.error} />
      {list.value?.api_keys.length ? (
        <table>
          <thead><tr><th>Name</th><th>Key</th>{admin ? <th>Member</th> : null}<th>Created</th><th>Last used</th><th>Status</th><th></th></tr></thead>
          <tbody>
            {list.value.api_keys.map((k) => (
              <tr data-key={k.id}>
                <td data-label="Name">{k.name}</td>
                <td data-label="Key"><code>{k.preview}</code></td>
                {admin ? <td data-label="Member">{emails.get(k.member) ?? k.member}</td> : null}
                <td data-label="Created"><When at={k.created_at} /></td>
                <td data-label="Last used"><When at={k.last_used_at} /></td>
                <td data-label="Status">{k.revoked_at ? <span class="badge off">revoked</span> : <span class="badge ok">active</span>}</td>
                <td>
                  {k.revoked_at ? null : (
                    <PostButton action={`/api-keys/${encodeURIComponent(k.id)}/revoke`} csrf={s.csrf} buttonClass="danger small" label={`Revoke key ${k.name}`}>Revoke</PostButton>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : list.value ? (
        <p class="muted">No API keys yet.</p>
      ) : null}
    </Page>,
    status as 200,
  );
}

mountShownOnce(apiKeyPages, {
  path: "/api-keys",
  body: CreateApiKeyBody,
  nameFix: "Give the key a name you will recognise later.",
  revokedMessage: "The key is revoked: requests that use it are refused from now on.",
  load: (vault, token) => vault.loadApiKeysPage(token),
  create: (vault, token, name) => vault.createApiKeyOnPage(token, name),
  revoke: (vault, token, id) => vault.revokeApiKey(token, id),
  render,
});
