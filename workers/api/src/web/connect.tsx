import { Hono } from "hono";
import type { ConnectOptions } from "../../../../lib/schemas/connect";
import { ConnectChoice, targetsFromForm } from "../../../../lib/schemas/connect";
import type { ErrorBody } from "../../../../lib/errors";
import { Fields } from "../../../../lib/schemas/common";
import { publicUrl, type ApiEnv } from "../http/vault";
import { Csrf, ErrorBanner, Page } from "./layout";
import { csrfValid } from "./session";
import { FORM_EXPIRED, formOf, navOf, pageValue, requireSession, statusOf, text, type WebSession } from "./pages";

/** The connect flow's pages (SPEC section 6), shared by the web button, the CLI and MCP links. */
export const connectPages = new Hono<ApiEnv>();

/** What the member chose (kept when the form comes back with an error; never the secret fields). */
export interface ConnectValues {
  targets: string[];
  name: string;
}

/**
 * The first choice offered: the project the member came from, else the widest scope they may use
 * (the org for owners and admins, "only me" for builders), so a plain submit always has a target.
 */
export function defaultValues(o: ConnectOptions, project?: string): ConnectValues {
  const target = project && o.targets.projects.includes(project) ? `project:${project}` : o.targets.org ? "org" : o.targets.user ? "user" : o.targets.projects[0] ? `project:${o.targets.projects[0]}` : "user";
  return { targets: [target], name: "" };
}

/** The form's choice as it was posted, to show it again. */
export function postedValues(form: Record<string, unknown>): ConnectValues {
  return { targets: ([] as unknown[]).concat(form.target ?? []).filter((v): v is string => typeof v === "string"), name: typeof form.name === "string" ? form.name.slice(0, 200) : "" };
}

/** The connect form; the oauth worker renders it too, when /oauth/start refuses a choice. */
export function ConnectForm({ o, s, error, values }: { o: ConnectOptions; s: Pick<WebSession, "email" | "role" | "csrf">; error?: ErrorBody | null; values?: ConnectValues }) {
  const oauth = o.app.kind === "oauth";
  const action = oauth ? "/oauth/start" : `/connect/${o.session.id}`;
  const v = values ?? defaultValues(o);
  const on = (t: string) => v.targets.includes(t);
  return (
    <Page title={`Connect ${o.app.name}`} nav={navOf(s, "/catalog")}>
      <h1>{o.session.reconnect ? `Reconnect ${o.session.reconnect}` : `Connect ${o.app.name}`}</h1>
      <ErrorBanner error={error} />
      <form method="post" action={action} class="card">
        <input type="hidden" name="csrf" value={s.csrf} />
        <input type="hidden" name="session" value={o.session.id} />
        {o.fixed_target ? (
          <p>
            New tokens go into the same credential, at <strong>{o.fixed_target}</strong>.
            <input type="hidden" name="target" value={o.fixed_target.replace(/^user:.*$/, "user")} />
          </p>
        ) : (
          <fieldset>
            <legend>Where will it be available?</legend>
            {o.targets.org ? (
              <label><input type="checkbox" name="target" value="org" checked={on("org")} /> The whole organization</label>
            ) : null}
            <label><input type="checkbox" name="target" value="user" checked={on("user")} /> Only me</label>
            {o.targets.projects.map((p) => (
              <label><input type="checkbox" name="target" value={`project:${p}`} checked={on(`project:${p}`)} /> Project {p}</label>
            ))}
          </fieldset>
        )}
        {o.fixed_target ? null : (
          <>
            <label for="name">Name (optional)</label>
            <input id="name" type="text" name="name" placeholder="work" maxlength={200} value={v.name} />
          </>
        )}
        {o.app.fields.map((f) => (
          <>
            <label for={`f-${f.name}`}>{f.label}{f.optional ? " (optional)" : ""}</label>
            <input id={`f-${f.name}`} type={f.secret ? "password" : "text"} name={`field.${f.name}`} autocomplete="off" required={!f.optional} />
          </>
        ))}
        <p>
          <button type="submit">{oauth ? `Continue to ${o.app.name}` : "Save"}</button>
        </p>
      </form>
    </Page>
  );
}

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
  const s = await requireSession(c);
  if (s instanceof Response) return s;
  const slug = (c.req.query("app") ?? "").slice(0, 100);
  const project = (c.req.query("project") ?? "").slice(0, 100);
  const listed = pageValue(await s.vault.apps(s.token, slug || undefined));
  const app = listed.value?.apps.find((a) => a.slug === slug);
  const error: ErrorBody | null = listed.error ?? (app ? null : { code: "not_found", message: slug ? `There is no app \`${slug}\`.` : "No app was named.", fix: "Pick one in the catalog." });
  return c.html(
    <Page title={app ? `Connect ${app.name}` : "Connect"} nav={navOf(s, "/catalog")}>
      <h1>{app ? `Connect ${app.name}` : "Connect an app"}</h1>
      <ErrorBanner error={error} />
      {app ? (
        <form method="post" action="/connect" class="card">
          <p class="flush">{app.description}</p>
          <Csrf value={s.csrf} />
          <input type="hidden" name="app" value={app.slug} />
          {project ? <input type="hidden" name="project" value={project} /> : null}
          <p><button type="submit">Connect {app.name}</button></p>
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
  const s = await requireSession(c);
  if (s instanceof Response) return s;
  const form = await formOf(c);
  if (!form) return c.html(<Page title="Connect" nav={navOf(s, "/catalog")}><h1>Connect an app</h1><ErrorBanner error={FORM_EXPIRED} /><a class="button" href="/catalog">Open the catalog</a></Page>, 403);
  const r = pageValue(await s.vault.createConnectSession(s.token, { app: text(form, "app") }, publicUrl(c)));
  if (r.error) return c.html(<Page title="Connect" nav={navOf(s, "/catalog")}><h1>Connect an app</h1><ErrorBanner error={r.error} /><a class="button" href="/catalog">Open the catalog</a></Page>, statusOf(r.error));
  const project = text(form, "project");
  return c.redirect(`/connect/${r.value.id}${project ? `?project=${encodeURIComponent(project)}` : ""}`, 303);
});

connectPages.get("/connect/:id", async (c) => {
  const s = await requireSession(c);
  if (s instanceof Response) return s;
  const r = pageValue(await s.vault.connectOptions(s.token, c.req.param("id"), publicUrl(c)));
  if (r.error) return c.html(<Page title="Connect" nav={navOf(s, "/catalog")}><ErrorBanner error={r.error} /></Page>, 404);
  if (r.value.session.status !== "pending") return c.html(<Ended o={r.value} s={s} />);
  return c.html(<ConnectForm o={r.value} s={s} values={defaultValues(r.value, c.req.query("project"))} />);
});

/** API-key apps complete here; OAuth apps post to /oauth/start instead. */
connectPages.post("/connect/:id", async (c) => {
  const s = await requireSession(c);
  if (s instanceof Response) return s;
  const id = c.req.param("id");
  const form = await c.req.parseBody({ all: true });
  const options = pageValue(await s.vault.connectOptions(s.token, id, publicUrl(c)));
  if (options.error) return c.html(<Page title="Connect" nav={navOf(s, "/catalog")}><ErrorBanner error={options.error} /></Page>, 404);
  const again = (error: ErrorBody, status: number) => c.html(<ConnectForm o={options.value} s={s} error={error} values={postedValues(form)} />, status as 400);
  if (!csrfValid(c, form.csrf)) return again({ code: "forbidden", message: "The form expired.", fix: "Submit it again." }, 403);
  let targets;
  try {
    targets = targetsFromForm(([] as unknown[]).concat(form.target ?? []).map(String));
  } catch {
    return again({ code: "invalid_request", message: "Choose where it will be available." }, 400);
  }
  if (targets.length === 0) return again({ code: "invalid_request", message: "Choose where it will be available.", fix: "Pick at least one place.", details: { field: "target" } }, 400);
  const name = typeof form.name === "string" && form.name.trim() ? form.name.trim() : undefined;
  const choice = ConnectChoice.safeParse({ targets, ...(name ? { name } : {}) });
  if (!choice.success) return again({ code: "invalid_request", message: choice.error.issues[0]?.message ?? "Check the form." }, 400);
  const fields: Record<string, string> = {};
  for (const [k, v] of Object.entries(form)) if (k.startsWith("field.") && typeof v === "string" && v !== "") fields[k.slice(6)] = v;
  const checked = Fields.safeParse(fields);
  if (!checked.success) return again({ code: "invalid_request", message: `Check ${String(checked.error.issues[0]?.path[0] ?? "the fields")}: ${checked.error.issues[0]?.message ?? "invalid"}.` }, 400);
  const r = pageValue(await s.vault.completeConnectWithFields(s.token, id, choice.data, checked.data));
  if (r.error) return again(r.error, r.error.code === "forbidden" ? 403 : 400);
  return c.redirect(`/apps?connected=${id}`, 303);
});
