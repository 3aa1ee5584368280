import { Hono, type Context } from "hono";
import { fromZodError, type ErrorBody } from "../../../../lib/errors";
import { isAdmin } from "../../../../lib/permissions";
import { CreateApiKeyBody, type ApiKey } from "../../../../lib/schemas/identity";
import type { ApiEnv } from "../http/vault";
import { Csrf, ErrorBanner, OkBanner, Page, When } from "../../../shared/layout";
import type { ApiKeysPage } from "../../../../durable-objects/vault/pages";
import { act, FORM_EXPIRED, formOf, loadPage, navOf, pageValue, statusOf, text, webError, type WebSession } from "./pages";

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
        <div class="card" role="status" data-testid="new-key">
          <p><strong>Key “{opts.created.name}” created.</strong> Copy it now: it is shown only this once and cannot be recovered.</p>
          <p class="lead">Your new key</p>
          <code id="new-key-value" class="secret-once">{opts.created.key}</code>
          <p class="muted small">Use it as <code>Authorization: Bearer &lt;key&gt;</code>, or <code>KEYSTROKE_TOKEN</code> for the CLI.</p>
        </div>
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
                    <form method="post" action={`/api-keys/${encodeURIComponent(k.id)}/revoke`} class="inline">
                      <Csrf value={s.csrf} />
                      <button class="danger small" type="submit" aria-label={`Revoke key ${k.name}`}>Revoke</button>
                    </form>
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

/** The page again, with a banner (one vault call). */
async function again(c: Context<ApiEnv>, opts: Parameters<typeof render>[3], status: number) {
  const loaded = await loadPage(c, (vault, token) => vault.loadApiKeysPage(token));
  return loaded instanceof Response ? loaded : render(c, loaded.s, loaded.page, opts, status);
}

apiKeyPages.get("/api-keys", (c) => again(c, { ok: c.req.query("done") === "revoked" ? "The key is revoked: requests that use it are refused from now on." : null }, 200));

apiKeyPages.post("/api-keys", async (c) => {
  const form = await formOf(c);
  if (!form) return again(c, { error: FORM_EXPIRED }, 403);
  const input = { name: text(form, "name") };
  const body = CreateApiKeyBody.safeParse(input);
  if (!body.success) return again(c, { error: fromZodError(body.error, { input, say: (_f, problem) => ({ message: `The name ${problem}.`, fix: "Give the key a name you will recognise later." }) }).toBody() }, 400);
  // The action and the page that shows its answer, in one vault call.
  const loaded = await loadPage(c, (vault, token) => vault.createApiKeyOnPage(token, body.data.name));
  if (loaded instanceof Response) return loaded;
  const r = pageValue(loaded.page.created);
  if (r.error) return render(c, loaded.s, loaded.page, { error: r.error, name: body.data.name }, statusOf(r.error));
  // Not a redirect: the key is in this one answer and nowhere else (not in a URL, not on reload).
  return render(c, loaded.s, loaded.page, { created: r.value });
});

apiKeyPages.post("/api-keys/:id/revoke", async (c) => {
  const form = await formOf(c);
  if (!form) return again(c, { error: FORM_EXPIRED }, 403);
  const r = await act(c, (vault, token) => vault.revokeApiKey(token, c.req.param("id")));
  if (r instanceof Response) return r;
  if (!r.ok) return again(c, { error: r.error }, statusOf(r.error));
  return c.redirect("/api-keys?done=revoked", 303);
});
