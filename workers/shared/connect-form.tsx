import type { ErrorBody } from "../../lib/errors";
import { scopesFromForm } from "../../lib/connect-form-values";
import type { ConnectOptions } from "../../lib/schemas/connect";
import { ErrorBanner, Page } from "./layout";

/** What the member chose (kept when the form comes back with an error; never the secret fields). */
export interface ConnectValues {
  targets: string[];
  name: string;
  /** Optional scopes ticked and extra ones typed; null: the session's own choice (chosen_scopes). */
  scopes?: string[] | null;
  subdomain?: string;
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
  const c = scopeChoice(form);
  return {
    targets: ([] as unknown[]).concat(form.target ?? []).filter((v): v is string => typeof v === "string"),
    name: typeof form.name === "string" ? form.name.slice(0, 200) : "",
    scopes: c.scopes ?? null,
    subdomain: typeof form["connection.subdomain"] === "string" ? form["connection.subdomain"].slice(0, 100) : "",
  };
}

/**
 * The scopes and pre-redirect values of a posted OAuth connect form, in ConnectChoice shape
 * (checked there). Scopes only when the form offered them (`scope_form`), so a post without that
 * section keeps the session's own extra scopes.
 */
export function scopeChoice(form: Record<string, unknown>): { scopes?: string[]; connection?: { subdomain?: string } } {
  const out: { scopes?: string[]; connection?: { subdomain?: string } } = {};
  if (form.scope_form === "1") {
    const ticked = ([] as unknown[]).concat(form.scope ?? []).filter((v): v is string => typeof v === "string");
    out.scopes = scopesFromForm(ticked, typeof form.extra_scopes === "string" ? form.extra_scopes.slice(0, 10_000) : "");
  }
  if (typeof form["connection.subdomain"] === "string") out.connection = { subdomain: form["connection.subdomain"] };
  return out;
}

/** The scope choices of an OAuth app: the defaults (always asked), optional ones to tick, extra ones to type. */
function ScopeFields({ oauth, values }: { oauth: NonNullable<ConnectOptions["oauth"]>; values: ConnectValues }) {
  const chosen = values.scopes ?? oauth.chosen_scopes;
  const typed = chosen.filter((x) => !oauth.optional_scopes.includes(x) && !oauth.default_scopes.includes(x));
  return (
    <fieldset>
      <legend>Permissions</legend>
      <input type="hidden" name="scope_form" value="1" />
      <p class="flush">Always asked for: {oauth.default_scopes.length ? oauth.default_scopes.map((x) => <><code>{x}</code> </>) : <span class="muted">no scopes</span>}</p>
      {oauth.optional_scopes.map((x) => (
        <label><input type="checkbox" name="scope" value={x} checked={chosen.includes(x) || oauth.default_scopes.includes(x)} /> <code>{x}</code></label>
      ))}
      <label for="extra_scopes">More scopes (optional, separated by spaces)</label>
      <input id="extra_scopes" type="text" name="extra_scopes" autocomplete="off" maxlength={2000} value={typed.join(" ")} />
    </fieldset>
  );
}

/** Values asked before the redirect (a subdomain); a reconnect shows the ones it keeps. */
function ConnectionFields({ oauth, values }: { oauth: NonNullable<ConnectOptions["oauth"]>; values: ConnectValues }) {
  if (oauth.fixed_connection) {
    const kept = Object.entries(oauth.fixed_connection);
    return kept.length ? <p>Keeps {kept.map(([k, v]) => <><code>{k}</code> {v} </>)}</p> : null;
  }
  return (
    <>
      {oauth.connection.map((f) => (
        <>
          <label for={`c-${f.key}`}>{f.label}</label>
          <span><input id={`c-${f.key}`} type="text" name={`connection.${f.key}`} required autocomplete="off" maxlength={63} pattern="[A-Za-z0-9]([A-Za-z0-9\-]{0,61}[A-Za-z0-9])?" value={values.subdomain ?? ""} /> {f.suffix}</span>
        </>
      ))}
    </>
  );
}

/** The connect form; the api renders it at /connect/<id>, the oauth worker when /oauth/start refuses a choice. */
export function ConnectForm({ o, s, error, values }: { o: ConnectOptions; s: { email: string; role: string; csrf: string }; error?: ErrorBody | null; values?: ConnectValues }) {
  const oauth = o.app.kind === "oauth";
  const action = oauth ? "/oauth/start" : `/connect/${o.session.id}`;
  const v = values ?? defaultValues(o);
  const on = (t: string) => v.targets.includes(t);
  return (
    <Page title={`Connect ${o.app.name}`} nav={{ member: s.email, role: s.role, csrf: s.csrf, current: "/catalog" }}>
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
        {o.oauth ? <ConnectionFields oauth={o.oauth} values={v} /> : null}
        {o.oauth ? <ScopeFields oauth={o.oauth} values={v} /> : null}
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
