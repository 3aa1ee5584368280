import { Hono, type Context } from "hono";
import type { ConnectOptions } from "../../../../lib/schemas/connect";
import { ConnectChoice, CreateConnectSessionBody, targetsFromForm } from "../../../../lib/schemas/connect";
import { fromZodError, type ErrorBody } from "../../../../lib/errors";
import { Fields } from "../../../../lib/schemas/common";
import { publicUrl, type ApiEnv } from "../http/vault";
import { Csrf, ErrorBanner, Page } from "../../../shared/layout";
import { csrfValid } from "../../../shared/session";
import { ConnectForm, defaultValues, postedValues } from "../../../shared/connect-form";
import { errorPage } from "../../../shared/error-page";
import { act, FORM_EXPIRED, formOf, loadPage, navOf, pageValue, statusOf, text, type WebSession } from "./pages";

/** The connect flow's pages (SPEC section 6), shared by the web button, the CLI and MCP links. */
export const connectPages = new Hono<ApiEnv>();

function Ended({ o, s }: { o: ConnectOptions; s: WebSession }) {
  return (
    <Page title={`Connect ${o.app.name}`} nav={navOf(s, "/catalog")}>
      <h1>Connect {o.app.name}</h1>
      <ErrorBanner error={o.session.status === "failed" ? { message: o.session.error ?? "This connection failed.", fix: "Start a new one from the catalog.", details: { remedy: { do: "new_connect_session" } } } : { message: "This connection is already completed." }} />
      <a class="button" href="/apps">Back to Apps</a>
    </Page>
  );
}

/**
 * `/connect?app=<slug>`: the link in missing_credentials and the catalog. A GET changes nothing
 * (a link or an image on another site must not start connections), so it only asks; the button
 * posts (with the session's CSRF value) and that starts the connect session.
 */
connectPages.get("/connect", async (c) => {
  const slug = (c.req.query("app") ?? "").slice(0, 100);
  const project = (c.req.query("project") ?? "").slice(0, 100);
  // A step-up link (a scopes refusal's fix, lib/fixes.ts): reconnect one credential asking for more scopes.
  const reconnect = (c.req.query("reconnect") ?? "").slice(0, 300);
  const scopes = (c.req.query("scopes") ?? "").slice(0, 2000);
  const loaded = await loadPage(c, (vault, token) => vault.loadCatalogPage(token, slug || undefined));
  if (loaded instanceof Response) return loaded;
  const { s } = loaded;
  const listed = pageValue(loaded.page.apps);
  const app = listed.value?.apps.find((a) => a.slug === slug);
  const error: ErrorBody | null = listed.error ?? (app ? null : { code: "not_found", message: slug ? `There is no app \`${slug}\`.` : "No app was named.", fix: "Pick one in the catalog." });
  return c.html(
    <Page title={app ? `Connect ${app.name}` : "Connect"} nav={navOf(s, "/catalog")}>
      <h1>{app ? (reconnect ? `Reconnect ${reconnect}` : `Connect ${app.name}`) : "Connect an app"}</h1>
      <ErrorBanner error={error} />
      {app ? (
        <form method="post" action="/connect" class="card">
          <p class="flush">{app.description}</p>
          {reconnect && scopes ? <p>New tokens go into {reconnect}, also asking for {scopes.split(/\s+/).filter(Boolean).map((x) => <><code>{x}</code> </>)}</p> : null}
          <Csrf value={s.csrf} />
          <input type="hidden" name="app" value={app.slug} />
          {project ? <input type="hidden" name="project" value={project} /> : null}
          {reconnect ? <input type="hidden" name="reconnect" value={reconnect} /> : null}
          {scopes ? <input type="hidden" name="scopes" value={scopes} /> : null}
          <p><button type="submit">{reconnect ? `Reconnect ${reconnect}` : `Connect ${app.name}`}</button></p>
        </form>
      ) : (
        <a class="button" href="/catalog">Open the catalog</a>
      )}
    </Page>,
    error ? statusOf(error) : 200,
  );
});

/** The catalog's Connect button (and the page above): starts a connect session, then its form. */
connectPages.post("/connect", async (c) => {
  // A refusal is shown on a page with the nav, which only a page load answers (one more call, only then).
  const refused = async (error: ErrorBody, status: number) => {
    const loaded = await loadPage(c, (vault, token) => vault.loadCatalogPage(token, "-"));
    if (loaded instanceof Response) return loaded;
    return errorPage(c, error, { status, title: "Connect", heading: "Connect an app", nav: navOf(loaded.s, "/catalog"), actions: <a class="button" href="/catalog">Open the catalog</a> });
  };
  const form = await formOf(c);
  if (!form) return refused(FORM_EXPIRED, 403);
  const reconnect = text(form, "reconnect");
  const scopes = text(form, "scopes").split(/\s+/).filter(Boolean);
  const body = { app: text(form, "app"), ...(reconnect ? { reconnect } : {}), ...(scopes.length ? { scopes } : {}) };
  const checked = CreateConnectSessionBody.safeParse(body);
  if (!checked.success) return refused(fromZodError(checked.error, { fallback: "form" }).toBody(), 400);
  const r = await act(c, (vault, token) => vault.createConnectSession(token, checked.data, publicUrl(c)));
  if (r instanceof Response) return r;
  if (!r.ok) return refused(r.error, statusOf(r.error));
  const project = text(form, "project");
  return c.redirect(`/connect/${r.value.id}${project ? `?project=${encodeURIComponent(project)}` : ""}`, 303);
});

connectPages.get("/connect/:id", async (c) => {
  const loaded = await loadPage(c, (vault, token) => vault.loadConnectPage(token, c.req.param("id"), publicUrl(c)));
  if (loaded instanceof Response) return loaded;
  const { s } = loaded;
  const r = pageValue(loaded.page.options);
  if (r.error) return errorPage(c, r.error, { status: 404, title: "Connect", nav: navOf(s, "/catalog") });
  if (r.value.session.status !== "pending") return c.html(<Ended o={r.value} s={s} />);
  return c.html(<ConnectForm o={r.value} s={s} values={defaultValues(r.value, c.req.query("project"))} />);
});

type Checked = { choice: ConnectChoice; fields: Record<string, string> } | { error: ErrorBody; status: number };

/** The posted connect form, checked at the edge (no vault call yet). */
function checkConnectForm(c: Context<ApiEnv>, form: Record<string, string | File | (string | File)[]>): Checked {
  if (!csrfValid(c, form.csrf)) return { error: { code: "forbidden", message: "The form expired.", fix: "Submit it again." }, status: 403 };
  let targets;
  try {
    targets = targetsFromForm(([] as unknown[]).concat(form.target ?? []).map(String));
  } catch {
    return { error: { code: "invalid_request", message: "Choose where it will be available." }, status: 400 };
  }
  if (targets.length === 0) return { error: { code: "invalid_request", message: "Choose where it will be available.", fix: "Pick at least one place.", details: { field: "target" } }, status: 400 };
  const name = typeof form.name === "string" && form.name.trim() ? form.name.trim() : undefined;
  const choice = ConnectChoice.safeParse({ targets, ...(name ? { name } : {}) });
  if (!choice.success) return { error: fromZodError(choice.error, { fallback: "form", say: (_f, problem) => ({ message: problem }) }).toBody(), status: 400 };
  const fields: Record<string, string> = {};
  for (const [k, v] of Object.entries(form)) if (k.startsWith("field.") && typeof v === "string" && v !== "") fields[k.slice(6)] = v;
  const checked = Fields.safeParse(fields);
  if (!checked.success) return { error: fromZodError(checked.error, { input: fields, fallback: "the fields", say: (f, problem) => ({ message: `Check ${f}: ${problem}.` }) }).toBody(), status: 400 };
  return { choice: choice.data, fields: checked.data };
}

/** API-key apps complete here (one vault call; a refusal loads the form again to show it); OAuth apps post to /oauth/start. */
connectPages.post("/connect/:id", async (c) => {
  const id = c.req.param("id");
  // An unreadable body is an expired form (no CSRF value can be read from it), never a 500.
  const form = await c.req.parseBody({ all: true }).catch(() => ({}));
  let problem = checkConnectForm(c, form);
  if (!("error" in problem)) {
    const { choice, fields } = problem;
    const r = await act(c, (vault, token) => vault.completeConnectWithFields(token, id, choice, fields));
    if (r instanceof Response) return r;
    if (r.ok) return c.redirect(`/apps?connected=${id}`, 303);
    problem = { error: r.error, status: r.error.code === "forbidden" ? 403 : 400 };
  }
  const loaded = await loadPage(c, (vault, token) => vault.loadConnectPage(token, id, publicUrl(c)));
  if (loaded instanceof Response) return loaded;
  const { s } = loaded;
  const options = pageValue(loaded.page.options);
  if (options.error) return errorPage(c, options.error, { status: 404, title: "Connect", nav: navOf(s, "/catalog") });
  return c.html(<ConnectForm o={options.value} s={s} error={problem.error} values={postedValues(form)} />, problem.status as 400);
});
