import { Hono, type Context } from "hono";
import { fromZodError, type ErrorBody } from "../../../../lib/errors";
import { CreateWebhookBody, type CreatedWebhook, type WebhookDelivery } from "../../../../lib/schemas/webhooks";
import { WEBHOOK_EVENTS } from "../../../../lib/webhook-events";
import type { WebhooksPage } from "../../../../durable-objects/vault/pages";
import type { ApiEnv } from "../http/vault";
import { Csrf, ErrorBanner, OkBanner, Page, When } from "../../../shared/layout";
import { PostButton } from "./row-action";
import { SecretCard } from "./secret-card";
import { act, FORM_EXPIRED, formOf, loadPage, navOf, pageValue, statusOf, text, texts, webError, type WebSession } from "./pages";

/**
 * Webhooks (SPEC section 14, owners and admins): endpoints with their latest deliveries, add one
 * (its signing secret shown once, in the answer to the post), rotate its secret (the new one shown
 * once; the old one signs alongside for 24 hours), send a test, delete. One vault call each.
 */
export const webhookPages = new Hono<ApiEnv>();
webhookPages.onError(webError);

type Opts = { created?: CreatedWebhook; rotated?: boolean; tested?: WebhookDelivery; ok?: string | null; error?: ErrorBody | null; url?: string };

function deliveryLabel(d: WebhookDelivery): string {
  const last = d.last_status !== null ? `HTTP ${d.last_status}` : (d.last_error ?? "");
  return `${d.event_type}: ${d.status}${d.attempts > 1 ? ` after ${d.attempts} attempts` : ""}${last ? ` (${last})` : ""}`;
}

function render(c: Context<ApiEnv>, s: WebSession, page: WebhooksPage, opts: Opts = {}, status = 200) {
  const list = page.webhooks ? pageValue(page.webhooks) : null;
  if (opts.created) c.header("cache-control", "no-store");
  const tested = opts.tested;
  return c.html(
    <Page title="Webhooks" nav={navOf(s, "/webhooks")}>
      <h1>Webhooks</h1>
      <p class="muted">Signed lifecycle events (credentials, assignments, channel bindings, connect sessions, members) sent to your endpoints, the <a href="https://www.standardwebhooks.com">Standard Webhooks</a> way: verify each delivery with its signing secret. Failed deliveries are retried for 24 hours; an endpoint failing for 3 days is disabled.</p>
      <ErrorBanner error={opts.error} />
      <OkBanner message={opts.ok} />
      {tested?.status === "delivered" ? <OkBanner message={`Test delivered: ${deliveryLabel(tested)}.`} /> : null}
      {tested && tested.status !== "delivered" ? <ErrorBanner error={{ message: `The test delivery failed: ${deliveryLabel(tested)}.`, fix: "Check the URL and that the receiver answers 2xx within 10 seconds." }} /> : null}
      {!list ? (
        <p class="muted" data-testid="not-admin">Only org owners and admins manage webhooks.</p>
      ) : (
        <>
          {opts.created ? (
            <SecretCard testid="new-webhook-secret" valueId="new-webhook-secret-value" value={opts.created.secret}>
              <strong>{opts.rotated ? `New signing secret for ${opts.created.url}.` : `Webhook for ${opts.created.url} added.`}</strong> Copy its signing secret now: it is shown only this once and cannot be recovered.{opts.rotated ? " The previous secret keeps signing alongside for 24 hours." : ""}
            </SecretCard>
          ) : null}
          <form method="post" action="/webhooks" class="card filters" aria-label="Add a webhook endpoint">
            <Csrf value={s.csrf} />
            <div>
              <label for="wh-url">Endpoint URL</label>
              <input id="wh-url" type="url" name="url" value={opts.url ?? ""} placeholder="https://hooks.example.com/keystroke" maxlength={2000} required />
            </div>
            <fieldset>
              <legend>Events (none ticked: every event)</legend>
              {WEBHOOK_EVENTS.map((e) => <label class="small"><input type="checkbox" name="events" value={e} /> {e}</label>)}
            </fieldset>
            <div class="buttons"><button type="submit">Add endpoint</button></div>
          </form>
          <ErrorBanner error={list.error} />
          {list.value?.webhooks.length ? (
            <table>
              <thead><tr><th>URL</th><th>Events</th><th>Status</th><th>Recent deliveries</th><th>Created</th><th></th></tr></thead>
              <tbody>
                {list.value.webhooks.map((w) => (
                  <tr data-webhook={w.id}>
                    <td data-label="URL"><code>{w.url}</code></td>
                    <td data-label="Events">{w.events ? w.events.join(", ") : "every event"}</td>
                    <td data-label="Status">
                      {w.enabled ? <span class="badge ok">enabled</span> : <span class="badge off">disabled{w.disabled_reason === "failing" ? ": failing for 3 days" : ""}</span>}
                      {w.failing_since ? <div class="small muted">failing since <When at={w.failing_since} /></div> : null}
                      {w.previous_secret_until ? <div class="small muted">previous secret signs until <When at={w.previous_secret_until} /></div> : null}
                    </td>
                    <td data-label="Recent deliveries">
                      {w.recent.length ? <ul class="small">{w.recent.map((d) => <li data-delivery={d.id}>{deliveryLabel(d)}, <When at={d.created_at} /></li>)}</ul> : <span class="muted">none yet</span>}
                    </td>
                    <td data-label="Created"><When at={w.created_at} /></td>
                    <td>
                      <PostButton action={`/webhooks/${encodeURIComponent(w.id)}/test`} csrf={s.csrf} buttonClass="small" label={`Send a test to ${w.url}`}>Send test</PostButton>
                      <PostButton action={`/webhooks/${encodeURIComponent(w.id)}/rotate`} csrf={s.csrf} buttonClass="small" label={`Rotate the secret of ${w.url}`}>Rotate secret</PostButton>
                      <PostButton action={`/webhooks/${encodeURIComponent(w.id)}/delete`} csrf={s.csrf} buttonClass="danger small" label={`Delete the webhook for ${w.url}`}>Delete</PostButton>
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          ) : list.value ? (
            <p class="muted">No webhook endpoints yet.</p>
          ) : null}
        </>
      )}
    </Page>,
    status as 200,
  );
}

async function again(c: Context<ApiEnv>, opts: Opts, status: number) {
  const loaded = await loadPage(c, (vault, token) => vault.loadWebhooksPage(token));
  return loaded instanceof Response ? loaded : render(c, loaded.s, loaded.page, opts, status);
}

webhookPages.get("/webhooks", (c) => again(c, { ok: c.req.query("done") === "deleted" ? "The webhook endpoint is deleted." : null }, 200));

webhookPages.post("/webhooks", async (c) => {
  const form = await formOf(c);
  if (!form) return again(c, { error: FORM_EXPIRED }, 403);
  const events = texts(form, "events");
  const input = { url: text(form, "url"), ...(events.length ? { events } : {}) };
  const body = CreateWebhookBody.safeParse(input);
  if (!body.success) return again(c, { error: fromZodError(body.error, { input }).toBody(), url: input.url }, 400);
  const loaded = await loadPage(c, (vault, token) => vault.createWebhookOnPage(token, body.data));
  if (loaded instanceof Response) return loaded;
  const r = pageValue(loaded.page.created);
  if (r.error) return render(c, loaded.s, loaded.page, { error: r.error, url: input.url }, statusOf(r.error));
  return render(c, loaded.s, loaded.page, { created: r.value });
});

webhookPages.post("/webhooks/:id/rotate", async (c) => {
  const form = await formOf(c);
  if (!form) return again(c, { error: FORM_EXPIRED }, 403);
  const loaded = await loadPage(c, (vault, token) => vault.rotateWebhookSecretOnPage(token, c.req.param("id")));
  if (loaded instanceof Response) return loaded;
  const r = pageValue(loaded.page.created);
  if (r.error) return render(c, loaded.s, loaded.page, { error: r.error }, statusOf(r.error));
  return render(c, loaded.s, loaded.page, { created: r.value, rotated: true });
});

webhookPages.post("/webhooks/:id/test", async (c) => {
  const form = await formOf(c);
  if (!form) return again(c, { error: FORM_EXPIRED }, 403);
  const loaded = await loadPage(c, (vault, token) => vault.testWebhookOnPage(token, c.req.param("id")));
  if (loaded instanceof Response) return loaded;
  const r = pageValue(loaded.page.tested);
  if (r.error) return render(c, loaded.s, loaded.page, { error: r.error }, statusOf(r.error));
  return render(c, loaded.s, loaded.page, { tested: r.value });
});

webhookPages.post("/webhooks/:id/delete", async (c) => {
  const form = await formOf(c);
  if (!form) return again(c, { error: FORM_EXPIRED }, 403);
  const r = await act(c, (vault, token) => vault.deleteWebhook(token, c.req.param("id")));
  if (r instanceof Response) return r;
  if (!r.ok) return again(c, { error: r.error }, statusOf(r.error));
  return c.redirect("/webhooks?done=deleted", 303);
});
