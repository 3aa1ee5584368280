import type { ErrorBody } from "../../lib/errors";
import type { ConnectOptions } from "../../lib/schemas/connect";
import { ErrorBanner, Page } from "./layout";

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
