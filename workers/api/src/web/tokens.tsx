import { Hono, type Context } from "hono";
import type { ErrorBody } from "../../../../lib/errors";
import { CreateRuntimeTokenBody, type CreatedRuntimeToken } from "../../../../lib/schemas/tokens";
import type { MyToken } from "../../../../lib/schemas/identity";
import type { ApiEnv } from "../http/vault";
import { Csrf, ErrorBanner, OkBanner, Page, When } from "../../../shared/layout";
import { PostButton } from "./row-action";
import { SecretCard } from "./secret-card";
import type { RuntimeTokensPage } from "../../../../durable-objects/vault/pages";
import { act, FORM_EXPIRED, formOf, loadPage, navOf, pageValue, statusOf, webError, type WebSession } from "./pages";
import { mountShownOnce } from "./shown-once";

/**
 * Runtime tokens (owners and admins: create, shown once in the answer to the post; list; revoke)
 * and My tokens (every member: their live sessions, CLI logins and API keys; revoke). SPEC section 12.
 */
export const tokenPages = new Hono<ApiEnv>();
tokenPages.onError(webError);

type RtOpts = { created?: CreatedRuntimeToken; ok?: string | null; error?: ErrorBody | null; name?: string };

function renderRuntime(c: Context<ApiEnv>, s: WebSession, page: RuntimeTokensPage, opts: RtOpts = {}, status = 200) {
  const list = page.tokens ? pageValue(page.tokens) : null;
  const emails = new Map(page.members.map((m) => [m.id, m.email]));
  if (opts.created) c.header("cache-control", "no-store");
  return c.html(
    <Page title="Runtime tokens" nav={navOf(s, "/runtime-tokens")}>
      <h1>Runtime tokens</h1>
      <p class="muted">The execution plane resolves credentials with a runtime token. Several may be live at once: to rotate, create a new one, switch the execution plane to it, then revoke the old one.</p>
      <ErrorBanner error={opts.error} />
      <OkBanner message={opts.ok} />
      {!list ? (
        <p class="muted" data-testid="not-admin">Only org owners and admins manage runtime tokens.</p>
      ) : (
        <>
          {opts.created ? (
            <SecretCard testid="new-runtime-token" valueId="new-runtime-token-value" value={opts.created.token}>
              <strong>Runtime token “{opts.created.name}” created.</strong> Copy it now: it is shown only this once and cannot be recovered.
            </SecretCard>
          ) : null}
          <form method="post" action="/runtime-tokens" class="card filters" aria-label="Create a runtime token">
            <Csrf value={s.csrf} />
            <div>
              <label for="rt-name">Name</label>
              <input id="rt-name" type="text" name="name" value={opts.name ?? ""} placeholder="e.g. production runner" maxlength={100} required />
            </div>
            <div class="buttons"><button type="submit">Create runtime token</button></div>
          </form>
          <ErrorBanner error={list.error} />
          {list.value?.runtime_tokens.length ? (
            <table>
              <thead><tr><th>Name</th><th>Token</th><th>Created by</th><th>Created</th><th>Last used</th><th></th></tr></thead>
              <tbody>
                {list.value.runtime_tokens.map((t) => (
                  <tr data-token={t.id}>
                    <td data-label="Name">{t.name}</td>
                    <td data-label="Token"><code>{t.preview}</code></td>
                    <td data-label="Created by">{t.created_by ? (emails.get(t.created_by) ?? t.created_by) : "-"}</td>
                    <td data-label="Created"><When at={t.created_at} /></td>
                    <td data-label="Last used"><When at={t.last_used_at} /></td>
                    <td>
                      <PostButton action={`/runtime-tokens/${encodeURIComponent(t.id)}/revoke`} csrf={s.csrf} buttonClass="danger small" label={`Revoke runtime token ${t.name}`}>Revoke</PostButton>
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          ) : list.value ? (
            <p class="muted">No live runtime tokens.</p>
          ) : null}
        </>
      )}
    </Page>,
    status as 200,
  );
}

mountShownOnce(tokenPages, {
  path: "/runtime-tokens",
  body: CreateRuntimeTokenBody,
  nameFix: "Name the execution plane the token is for.",
  revokedMessage: "The runtime token is revoked: calls that use it are refused from now on.",
  load: (vault, token) => vault.loadRuntimeTokensPage(token),
  create: (vault, token, name) => vault.createRuntimeTokenOnPage(token, name),
  revoke: (vault, token, id) => vault.revokeRuntimeToken(token, id),
  render: renderRuntime,
});

const KIND: Record<MyToken["kind"], string> = { user: "sign-in", key: "API key", rt: "runtime" };

function renderMine(c: Context<ApiEnv>, s: WebSession, tokens: MyToken[], opts: { ok?: string | null; error?: ErrorBody | null } = {}, status = 200) {
  return c.html(
    <Page title="My tokens" nav={navOf(s, "/tokens")}>
      <h1>My tokens</h1>
      <p class="muted">Everything that signs in as you: web sessions, CLI logins and API keys. Revoke one and it stops working at once.</p>
      <ErrorBanner error={opts.error} />
      <OkBanner message={opts.ok} />
      <table>
        <thead><tr><th>Label</th><th>Kind</th><th>Token</th><th>Created</th><th>Last used</th><th>Expires</th><th></th></tr></thead>
        <tbody>
          {tokens.map((t) => (
            <tr data-token={t.id}>
              <td data-label="Label">{t.name}{t.current ? <> <span class="badge ok">this session</span></> : null}</td>
              <td data-label="Kind">{KIND[t.kind]}</td>
              <td data-label="Token"><code>{t.preview}</code></td>
              <td data-label="Created"><When at={t.created_at} /></td>
              <td data-label="Last used"><When at={t.last_used_at} /></td>
              <td data-label="Expires"><When at={t.expires_at} /></td>
              <td>
                <PostButton action={`/tokens/${encodeURIComponent(t.id)}/revoke`} csrf={s.csrf} buttonClass="danger small" label={`Revoke ${t.name}`}>Revoke</PostButton>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </Page>,
    status as 200,
  );
}

async function mineAgain(c: Context<ApiEnv>, opts: Parameters<typeof renderMine>[3], status: number) {
  const loaded = await loadPage(c, (vault, token) => vault.loadMyTokensPage(token));
  return loaded instanceof Response ? loaded : renderMine(c, loaded.s, loaded.page.tokens, opts, status);
}

tokenPages.get("/tokens", (c) => mineAgain(c, { ok: c.req.query("done") === "revoked" ? "The token is revoked." : null }, 200));

tokenPages.post("/tokens/:id/revoke", async (c) => {
  const form = await formOf(c);
  if (!form) return mineAgain(c, { error: FORM_EXPIRED }, 403);
  const r = await act(c, (vault, token) => vault.revokeMyToken(token, c.req.param("id")));
  if (r instanceof Response) return r;
  if (!r.ok) return mineAgain(c, { error: r.error }, statusOf(r.error));
  // Revoking this very session signs the browser out: the next page goes to sign-in.
  return c.redirect(r.value.current ? "/signin" : "/tokens?done=revoked", 303);
});
