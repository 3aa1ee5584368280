import { Hono } from "hono";
import type { ConnectOptions } from "../../../../lib/schemas/connect";
import { ConnectChoice, targetsFromForm } from "../../../../lib/schemas/connect";
import type { ErrorBody } from "../../../../lib/errors";
import { Fields } from "../../../../lib/schemas/common";
import { publicUrl, type ApiEnv } from "../http/vault";
import { ErrorBanner, Page } from "./layout";
import { csrfValid } from "./session";
import { navOf, pageValue, requireSession, type WebSession } from "./pages";

/** The connect flow's pages (SPEC section 6), shared by the web button, the CLI and MCP links. */
export const connectPages = new Hono<ApiEnv>();

function ConnectForm({ o, s, error }: { o: ConnectOptions; s: WebSession; error?: ErrorBody | null }) {
  const oauth = o.app.kind === "oauth";
  const action = oauth ? "/oauth/start" : `/connect/${o.session.id}`;
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
              <label><input type="checkbox" name="target" value="org" /> The whole organization</label>
            ) : null}
            <label><input type="checkbox" name="target" value="user" checked={!o.targets.org} /> Only me</label>
            {o.targets.projects.map((p) => (
              <label><input type="checkbox" name="target" value={`project:${p}`} /> Project {p}</label>
            ))}
          </fieldset>
        )}
        {o.fixed_target ? null : (
          <>
            <label for="name">Name (optional)</label>
            <input id="name" type="text" name="name" placeholder="work" maxlength={200} />
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
      <ErrorBanner error={o.session.status === "failed" ? { message: o.session.error ?? "This connection failed.", fix: "Start a new one from the Apps page or with `keystroke connect`." } : { message: "This connection is already completed." }} />
      <a class="button" href="/apps">Back to Apps</a>
    </Page>
  );
}

/** `/connect?app=<slug>`: the link in missing_credentials; starts a session for whoever opens it. */
connectPages.get("/connect", async (c) => {
  const s = await requireSession(c);
  if (s instanceof Response) return s;
  const app = c.req.query("app") ?? "";
  const r = pageValue(await s.vault.createConnectSession(s.token, { app }, publicUrl(c)));
  if (r.error) return c.html(<Page title="Connect" nav={navOf(s, "/catalog")}><ErrorBanner error={r.error} /></Page>, 400);
  return c.redirect(`/connect/${r.value.id}`, 303);
});

connectPages.get("/connect/:id", async (c) => {
  const s = await requireSession(c);
  if (s instanceof Response) return s;
  const r = pageValue(await s.vault.connectOptions(s.token, c.req.param("id"), publicUrl(c)));
  if (r.error) return c.html(<Page title="Connect" nav={navOf(s, "/catalog")}><ErrorBanner error={r.error} /></Page>, 404);
  if (r.value.session.status !== "pending") return c.html(<Ended o={r.value} s={s} />);
  return c.html(<ConnectForm o={r.value} s={s} />);
});

/** API-key apps complete here; OAuth apps post to /oauth/start instead. */
connectPages.post("/connect/:id", async (c) => {
  const s = await requireSession(c);
  if (s instanceof Response) return s;
  const id = c.req.param("id");
  const form = await c.req.parseBody({ all: true });
  const options = pageValue(await s.vault.connectOptions(s.token, id, publicUrl(c)));
  if (options.error) return c.html(<Page title="Connect" nav={navOf(s, "/catalog")}><ErrorBanner error={options.error} /></Page>, 404);
  const again = (error: ErrorBody, status: number) => c.html(<ConnectForm o={options.value} s={s} error={error} />, status as 400);
  if (!csrfValid(c, form.csrf)) return again({ code: "forbidden", message: "The form expired.", fix: "Submit it again." }, 403);
  let targets;
  try {
    targets = targetsFromForm(([] as unknown[]).concat(form.target ?? []).map(String));
  } catch {
    return again({ code: "invalid_request", message: "Choose where it will be available." }, 400);
  }
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
