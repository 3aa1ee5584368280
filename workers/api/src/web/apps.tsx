import { Hono, type Context } from "hono";
import { can } from "../../../../lib/permissions";
import { getApp } from "../../../../lib/catalog";
import { fromZodError, type ErrorBody } from "../../../../lib/errors";
import type { AppSummary } from "../../../../lib/schemas/apps";
import { Fields } from "../../../../lib/schemas/common";
import { ListCredentialsQuery, UpdateCredentialBody, type Credential } from "../../../../lib/schemas/credentials";
import { publicUrl, type ApiEnv } from "../http/vault";
import { Csrf, ErrorBanner, OkBanner, Page, When } from "../../../shared/layout";
import { PostButton } from "./row-action";
import type { Member } from "../../../../lib/schemas/identity";
import { act, doneBanner, FORM_EXPIRED, formOf, loadPage, navOf, pageValue, statusOf, text, webError, type WebSession } from "./pages";

/**
 * The Apps page (SPEC section 7): one row per credential instance, filters by app, scope and
 * status, and the row actions the member may do (lib/permissions `can`): rename, set default,
 * rotate (manual secrets), reconnect (OAuth), revoke (after a confirmation page). The catalog is
 * in catalog.tsx. Plain forms; no client JavaScript.
 */
export const appsPages = new Hono<ApiEnv>();
appsPages.onError(webError);

type Members = Map<string, string>;

export function scopeText(c: Pick<Credential, "scope">, members?: Members, me?: string): string {
  if (c.scope.type === "org") return "org";
  if (c.scope.type === "project") return `project ${c.scope.project}`;
  if (c.scope.user === me) return "only me";
  return `user ${members?.get(c.scope.user) ?? c.scope.user}`;
}

const STATUS_BADGE: Record<Credential["status"], string> = { active: "badge ok", expiring: "badge warn", needs_reauth: "badge warn", invalid: "badge danger", revoked: "badge off" };
const STATUS_TEXT: Record<Credential["status"], string> = { active: "active", expiring: "expiring", needs_reauth: "needs reauth", invalid: "invalid", revoked: "revoked" };
/** The reason, in words (SPEC section 14's closed set). */
const REASON_TEXT: Record<NonNullable<Credential["status_reason"]>, string> = {
  invalid_grant: "the provider refused the refresh token",
  refresh_failed: "the token could not be refreshed",
  probe_unauthorized: "the provider refused the key",
  expires_soon: "the token expires soon",
  revoked_by_member: "revoked by a member",
  member_offboarded: "its member was offboarded",
  installation_removed: "the app was uninstalled",
  project_deleted: "its project was deleted",
  token_refused: "the provider refused the token when it was used",
};

export const StatusBadge = ({ status, reason }: { status: Credential["status"]; reason?: Credential["status_reason"] }) => (
  <span class={STATUS_BADGE[status]} data-status={status} title={reason ? REASON_TEXT[reason] : undefined}>{STATUS_TEXT[status]}</span>
);

/** Status cell: the badge, the reason and the last failed check, so nobody has to guess why. */
function Health({ x }: { x: Credential }) {
  return (
    <>
      <StatusBadge status={x.status} reason={x.status_reason} />
      {x.status_reason && x.status !== "active" ? <div class="small" data-testid="status-reason">{REASON_TEXT[x.status_reason]} <code>{x.status_reason}</code></div> : null}
      {x.last_error ? <div class="small muted" data-testid="last-error">Last error <When at={x.last_error.at} />: {x.last_error.message}</div> : null}
    </>
  );
}

/** What a member may do with one row, straight from lib/permissions. */
function rowActions(s: WebSession, x: Credential) {
  const live = x.status !== "revoked";
  const manage = live && can(s.principal, "manage", x.scope);
  return {
    rename: manage,
    setDefault: manage && !x.default && x.status === "active",
    rotate: manage && x.kind === "api_key",
    reconnect: manage && x.kind === "oauth",
    revoke: live && can(s.principal, "revoke", x.scope),
    // A probe for API keys of catalog apps, a refresh for OAuth; never another member's own credential (vault/health canCheck).
    check: live && (x.scope.type !== "user" || x.scope.user === s.principal.member) && (x.kind === "oauth" || hasProbe(x.app)),
  };
}

const hasProbe = (slug: string): boolean => {
  const app = getApp(slug);
  return app?.kind === "api_key" && app.probe !== undefined;
};

const DONE: Record<string, (ref: string) => string> = {
  renamed: (r) => `Renamed: ${r}.`,
  default: (r) => `${r} is now the default.`,
  rotated: (r) => `Rotated ${r}: the new secret is in use; its id, default flag and assignments stay.`,
  checked: (r) => `Checked ${r}: its status below is the provider's answer.`,
  revoked: (r) => `Revoked ${r}: its secret is destroyed; the row stays for the audit trail.`,
};

const pathOf = (x: Pick<Credential, "id">, action: string) => `/apps/${encodeURIComponent(x.id)}/${action}`;
const doneUrl = (done: string, ref: string) => `/apps?done=${done}&ref=${encodeURIComponent(ref)}`;

function Row({ s, x, members }: { s: WebSession; x: Credential; members: Members }) {
  const a = rowActions(s, x);
  const account = x.account ? x.account.email ?? x.account.name ?? x.account.id : null;
  return (
    <tr data-ref={x.ref} data-id={x.id}>
      <td data-label="App"><strong>{x.app}</strong></td>
      <td data-label="Name">
        {x.name} <code>{x.slug}</code> {x.default ? <span class="badge" data-testid="default-badge">default</span> : null}
      </td>
      <td data-label="Scope">{scopeText(x, members, s.principal.member)}</td>
      <td data-label="Status"><Health x={x} /></td>
      <td data-label="Account">
        {account ?? <span class="muted">—</span>}
        {Object.entries(x.connection).map(([k, v]) => <div class="small" data-testid="connection"><code>{k}</code> {v}</div>)}
      </td>
      <td data-label="Preview">{x.preview ? <code>{x.preview}</code> : <span class="muted">—</span>}</td>
      <td data-label="Last used"><When at={x.last_used_at} /></td>
      <td data-label="Actions">
        <div class="actions">
          {a.rename ? <a class="button secondary small" href={pathOf(x, "rename")} aria-label={`Rename ${x.ref}`}>Rename</a> : null}
          {a.setDefault ? (
            <PostButton action={pathOf(x, "default")} csrf={s.csrf} buttonClass="secondary small" label={`Set default ${x.ref}`} inline={false}>Set default</PostButton>
          ) : null}
          {a.rotate ? <a class="button secondary small" href={pathOf(x, "rotate")} aria-label={`Rotate ${x.ref}`}>Rotate</a> : null}
          {a.reconnect ? (
            <PostButton action={pathOf(x, "reconnect")} csrf={s.csrf} buttonClass="secondary small" label={`Reconnect ${x.ref}`} inline={false}>Reconnect</PostButton>
          ) : null}
          {a.check ? (
            <PostButton action={pathOf(x, "check")} csrf={s.csrf} buttonClass="secondary small" label={`Check ${x.ref}`} inline={false}>Check</PostButton>
          ) : null}
          {a.revoke ? <a class="button danger small" href={pathOf(x, "revoke")} aria-label={`Revoke ${x.ref}`}>Revoke</a> : null}
        </div>
      </td>
    </tr>
  );
}

const emailsOf = (members: Member[]): Members => new Map(members.map((m) => [m.id, m.email]));

appsPages.get("/", (c) => c.redirect("/apps", 303));

appsPages.get("/apps", async (c) => {
  const raw = { app: c.req.query("app") || undefined, scope: c.req.query("scope") || undefined, status: c.req.query("status") || undefined, attention: c.req.query("attention") || undefined, cursor: c.req.query("cursor") || undefined };
  const query = ListCredentialsQuery.safeParse(raw);
  const filterError: ErrorBody | null = query.success ? null : fromZodError(query.error, { input: raw, fallback: "filter", say: (f) => ({ message: `The ${f} filter is not one of the listed values.`, fix: "Pick a value from the lists, or clear the filters." }) }).toBody();
  const connected = c.req.query("connected");
  const loaded = await loadPage(c, (vault, token) =>
    vault.loadAppsPage(token, { filter: query.success && (raw.app || raw.scope || raw.status || raw.attention || raw.cursor) ? query.data : null, connected: connected && /^cs_[a-z2-7]{20}$/.test(connected) ? connected : null }, publicUrl(c)),
  );
  if (loaded instanceof Response) return loaded;
  const { s, page } = loaded;
  const filtered = pageValue(page.filtered);
  const members = emailsOf(page.members);
  const session = page.session;
  const done = c.req.query("done");
  const doneRef = c.req.query("ref") ?? "";
  const okBanner = doneBanner(DONE, done);
  const apps = page.apps;
  const rows = query.success ? filtered.value?.credentials ?? [] : [];
  // One page at a time (the API's page size); Next carries the filters and the cursor.
  const next = query.success ? filtered.value?.next_cursor ?? null : null;
  const pageLink = (cursor: string | null) => `/apps?${new URLSearchParams(Object.entries({ ...raw, cursor: cursor ?? undefined }).filter((e): e is [string, string] => e[1] !== undefined))}`;
  return c.html(
    <Page title="Apps" nav={navOf(s, "/apps")}>
      <div class="head">
        <h1>Apps</h1>
        <a class="button" href="/catalog">Connect an app</a>
      </div>
      {session?.ok && session.value.status === "completed" ? (
        <OkBanner message={`Connected ${session.value.app}: ${(session.value.credentials ?? []).map((x) => x.ref).join(", ")}.`} />
      ) : null}
      {session?.ok && (session.value.credentials ?? []).some((x) => x.status === "invalid") ? (
        // The key was checked before it was stored (SPEC section 14): say so, not just "connected".
        <ErrorBanner error={{ message: `The provider refused the key of ${(session.value.credentials ?? []).filter((x) => x.status === "invalid").map((x) => x.ref).join(", ")}: it is stored as invalid and never handed out.`, fix: "Rotate it with a working key." }} />
      ) : null}
      {session?.ok && session.value.status === "failed" ? <ErrorBanner error={{ message: session.value.error ?? "The connection failed.", fix: "Start it again from Connect an app." }} /> : null}
      {okBanner && /^[\w./:-]{1,300}$/.test(doneRef) ? <OkBanner message={okBanner(doneRef)} /> : null}
      {done === "rotated_refused" && /^[\w./:-]{1,300}$/.test(doneRef) ? <ErrorBanner error={{ message: `Rotated ${doneRef}, but the provider refused the new key: it is stored as invalid and never handed out.`, fix: "Rotate it again with a working key." }} /> : null}
      <form method="get" action="/apps" class="card filters" role="search" aria-label="Filter credentials">
        <div>
          <label for="f-app">App</label>
          <select id="f-app" name="app">
            <option value="">All apps</option>
            {apps.map((a) => <option value={a} selected={raw.app === a}>{a}</option>)}
          </select>
        </div>
        <div>
          <label for="f-scope">Scope</label>
          <select id="f-scope" name="scope">
            <option value="">All scopes</option>
            <option value="org" selected={raw.scope === "org"}>org</option>
            <option value="user" selected={raw.scope === "user"}>only me</option>
            {s.projects.map((p) => <option value={`project:${p}`} selected={raw.scope === `project:${p}`}>project {p}</option>)}
          </select>
        </div>
        <div>
          <label for="f-status">Status</label>
          <select id="f-status" name="status">
            <option value="">Any status</option>
            {(["active", "expiring", "needs_reauth", "invalid", "revoked"] as const).map((st) => <option value={st} selected={raw.status === st}>{STATUS_TEXT[st]}</option>)}
          </select>
        </div>
        <div class="check">
          {/* Expiring, needs reauth, invalid, or live with a failing check (SPEC section 14). */}
          <label><input type="checkbox" name="attention" value="true" checked={raw.attention === "true"} /> Needs attention</label>
        </div>
        <div class="buttons">
          <button type="submit">Filter</button>
          <a href="/apps">Clear</a>
        </div>
      </form>
      <ErrorBanner error={filterError ?? filtered.error} />
      {rows.length ? (
        <table>
          <thead>
            <tr><th>App</th><th>Name</th><th>Scope</th><th>Status</th><th>Account</th><th>Preview</th><th>Last used</th><th>Actions</th></tr>
          </thead>
          <tbody>
            {rows.map((x) => <Row s={s} x={x} members={members} />)}
          </tbody>
        </table>
      ) : null}
      {rows.length && (next || raw.cursor) ? (
        <nav class="pager" aria-label="Pages">
          {raw.cursor ? <a href={pageLink(null)}>First page</a> : null}
          {next ? <a class="button secondary small" href={pageLink(next)} rel="next">Next page</a> : null}
        </nav>
      ) : null}
      {rows.length || filtered.error || filterError ? null : (
        <div class="card">
          {raw.app || raw.scope || raw.status || raw.attention ? <p>No credential matches these filters.</p> : <p>No credentials yet.</p>}
          <p><a href="/catalog">Connect an app</a> to store an API key or sign in to an OAuth app.</p>
        </div>
      )}
    </Page>,
    filterError ? 400 : 200,
  );
});

// ---- one credential: rename, set default, rotate, reconnect, revoke ----

/** One credential's page data in one vault call: the credential, the member emails and its app. */
async function credentialOf(c: Context<ApiEnv>, id: string) {
  const loaded = await loadPage(c, (vault, token) => vault.loadCredentialPage(token, id));
  if (loaded instanceof Response) return loaded;
  return { s: loaded.s, x: pageValue(loaded.page.credential), members: emailsOf(loaded.page.members), app: loaded.page.app };
}

function Problem({ s, title, error, back = "/apps" }: { s: WebSession; title: string; error: ErrorBody; back?: string }) {
  return (
    <Page title={title} nav={navOf(s, "/apps")}>
      <h1>{title}</h1>
      <ErrorBanner error={error} />
      <a class="button secondary" href={back}>Back</a>
    </Page>
  );
}

const NOT_ALLOWED = (what: string, x: Credential): ErrorBody => ({
  code: "forbidden",
  message: `You may not ${what} ${x.ref}.`,
  fix: x.scope.type === "org" ? "Ask an org owner or admin." : x.scope.type === "project" ? `Ask an admin of project ${x.scope.project}.` : "Only the member it belongs to can.",
});

function RenameForm({ s, x, error, values }: { s: WebSession; x: Credential; error?: ErrorBody | null; values?: { name: string; slug: string } }) {
  return (
    <Page title={`Rename ${x.ref}`} nav={navOf(s, "/apps")}>
      <h1>Rename <code>{x.ref}</code></h1>
      <ErrorBanner error={error} />
      <form method="post" action={pathOf(x, "rename")} class="card">
        <Csrf value={s.csrf} />
        <label for="name">Display name</label>
        <input id="name" type="text" name="name" value={values?.name ?? x.name} maxlength={200} required />
        <label for="slug">Slug (the machine name in references)</label>
        <input id="slug" type="text" name="slug" value={values?.slug ?? x.slug} maxlength={63} required aria-describedby="slug-help" />
        <p id="slug-help" class="muted small">Lowercase letters, digits, '-' or '_'. Scripts that name it by slug must follow a change.</p>
        <p class="actions">
          <button type="submit">Save</button>
          <a class="button secondary" href="/apps">Cancel</a>
        </p>
      </form>
    </Page>
  );
}

appsPages.get("/apps/:id/rename", async (c) => {
  const loaded = await credentialOf(c, c.req.param("id"));
  if (loaded instanceof Response) return loaded;
  const { s, x } = loaded;
  if (x.error) return c.html(<Problem s={s} title="Rename" error={x.error} />, statusOf(x.error));
  if (!rowActions(s, x.value).rename) return c.html(<Problem s={s} title="Rename" error={NOT_ALLOWED("rename", x.value)} />, 403);
  return c.html(<RenameForm s={s} x={x.value} />);
});

appsPages.post("/apps/:id/rename", async (c) => {
  const form = await formOf(c);
  const loaded = await credentialOf(c, c.req.param("id"));
  if (loaded instanceof Response) return loaded;
  const { s, x } = loaded;
  if (!form) return c.html(<Problem s={s} title="Rename" error={FORM_EXPIRED} />, 403);
  if (x.error) return c.html(<Problem s={s} title="Rename" error={x.error} />, statusOf(x.error));
  const values = { name: text(form, "name"), slug: text(form, "slug") };
  const body: Record<string, string> = {};
  if (values.name !== x.value.name) body.name = values.name;
  if (values.slug !== x.value.slug) body.slug = values.slug;
  if (Object.keys(body).length === 0) return c.redirect("/apps", 303);
  const parsed = UpdateCredentialBody.safeParse(body);
  if (!parsed.success) {
    const error = fromZodError(parsed.error, { input: body, fallback: "name", say: (f, problem) => ({ message: `The ${f === "slug" ? "slug" : "display name"} ${problem}.`, fix: "Correct it and save again." }) });
    return c.html(<RenameForm s={s} x={x.value} values={values} error={error.toBody()} />, 400);
  }
  const r = await act(c, (vault, token) => vault.updateCredential(token, x.value.id, parsed.data));
  if (r instanceof Response) return r;
  if (!r.ok) return c.html(<RenameForm s={s} x={x.value} values={values} error={r.error} />, statusOf(r.error));
  return c.redirect(doneUrl("renamed", r.value.ref), 303);
});

/** A one-button action: one vault call; only a refusal loads the page again to show why. */
async function problem(c: Context<ApiEnv>, title: string, error: ErrorBody, status: number) {
  const loaded = await credentialOf(c, c.req.param("id") ?? "");
  return loaded instanceof Response ? loaded : c.html(<Problem s={loaded.s} title={title} error={error} />, status as 400);
}

appsPages.post("/apps/:id/check", async (c) => {
  const form = await formOf(c);
  if (!form) return problem(c, "Check", FORM_EXPIRED, 403);
  const r = await act(c, (vault, token) => vault.checkCredential(token, c.req.param("id")));
  if (r instanceof Response) return r;
  if (!r.ok) return problem(c, "Check", r.error, statusOf(r.error));
  return c.redirect(doneUrl("checked", r.value.credential.ref), 303);
});

appsPages.post("/apps/:id/default", async (c) => {
  const form = await formOf(c);
  if (!form) return problem(c, "Set default", FORM_EXPIRED, 403);
  const r = await act(c, (vault, token) => vault.updateCredential(token, c.req.param("id"), { default: true }));
  if (r instanceof Response) return r;
  if (!r.ok) return problem(c, "Set default", r.error, statusOf(r.error));
  return c.redirect(doneUrl("default", r.value.ref), 303);
});

function RotateForm({ s, x, app, error }: { s: WebSession; x: Credential; app: AppSummary; error?: ErrorBody | null }) {
  const fields = app.fields ?? [];
  return (
    <Page title={`Rotate ${x.ref}`} nav={navOf(s, "/apps")}>
      <h1>Rotate <code>{x.ref}</code></h1>
      <ErrorBanner error={error} />
      <form method="post" action={pathOf(x, "rotate")} class="card">
        <Csrf value={s.csrf} />
        <p>
          Paste the new secret. The credential keeps its id, default flag and assignments; runs use the
          new value from now on. Fields left empty keep their current value.
        </p>
        {x.preview ? <p class="muted">Current: <code>{x.preview}</code></p> : null}
        {fields.map((f, i) => (
          <>
            <label for={`f-${f.name}`}>{f.label}</label>
            <input id={`f-${f.name}`} type={f.secret ? "password" : "text"} name={`field.${f.name}`} autocomplete="off" required={i === 0 && fields.length === 1} />
          </>
        ))}
        <p class="actions">
          <button type="submit">Rotate</button>
          <a class="button secondary" href="/apps">Cancel</a>
        </p>
      </form>
    </Page>
  );
}

type Loaded = Exclude<Awaited<ReturnType<typeof credentialOf>>, Response>;

function rotatable({ s, x, app }: Loaded): { x: Credential; app: AppSummary } | { error: ErrorBody; status: number } {
  if (x.error) return { error: x.error, status: statusOf(x.error) };
  if (x.value.kind !== "api_key") return { error: { code: "invalid_request", message: `${x.value.ref} is an OAuth connection; its tokens rotate themselves.`, fix: "Use Reconnect on the Apps page instead." }, status: 400 };
  if (!rowActions(s, x.value).rotate) return { error: NOT_ALLOWED("rotate", x.value), status: 403 };
  if (!app?.fields?.length) return { error: { code: "not_found", message: `The app ${x.value.app} is not in the catalog any more.`, fix: "Its fields are not known to this page: replace the secret through the API (POST /v1/credentials/{ref}/rotate), or revoke it and store a new one." }, status: 404 };
  return { x: x.value, app };
}

appsPages.get("/apps/:id/rotate", async (c) => {
  const loaded = await credentialOf(c, c.req.param("id"));
  if (loaded instanceof Response) return loaded;
  const { s } = loaded;
  const r = rotatable(loaded);
  if ("error" in r) return c.html(<Problem s={s} title="Rotate" error={r.error} />, r.status as 400);
  return c.html(<RotateForm s={s} x={r.x} app={r.app} />);
});

appsPages.post("/apps/:id/rotate", async (c) => {
  const form = await formOf(c);
  const loaded = await credentialOf(c, c.req.param("id"));
  if (loaded instanceof Response) return loaded;
  const { s } = loaded;
  if (!form) return c.html(<Problem s={s} title="Rotate" error={FORM_EXPIRED} />, 403);
  const r = rotatable(loaded);
  if ("error" in r) return c.html(<Problem s={s} title="Rotate" error={r.error} />, r.status as 400);
  const fields: Record<string, string> = {};
  for (const f of r.app.fields ?? []) {
    const v = form[`field.${f.name}`];
    if (typeof v === "string" && v !== "") fields[f.name] = v;
  }
  const checked = Fields.safeParse(fields);
  if (!checked.success) {
    const say = (f: string, problem: string) => ({ message: Object.keys(fields).length === 0 ? "Paste the new secret." : `Check ${f}: ${problem}.`, fix: "Fill in at least one field." });
    return c.html(<RotateForm s={s} x={r.x} app={r.app} error={fromZodError(checked.error, { input: fields, fallback: "the fields", say }).toBody()} />, 400);
  }
  const done = await act(c, (vault, token) => vault.rotateCredential(token, r.x.id, { fields: checked.data }));
  if (done instanceof Response) return done;
  if (!done.ok) return c.html(<RotateForm s={s} x={r.x} app={r.app} error={done.error} />, statusOf(done.error));
  return c.redirect(doneUrl(done.value.status === "invalid" ? "rotated_refused" : "rotated", done.value.ref), 303);
});

/** OAuth: a connect session that puts new tokens into the same credential, then its page. */
appsPages.post("/apps/:id/reconnect", async (c) => {
  const form = await formOf(c);
  if (!form) return problem(c, "Reconnect", FORM_EXPIRED, 403);
  const r = await act(c, (vault, token) => vault.reconnectCredential(token, c.req.param("id"), publicUrl(c)));
  if (r instanceof Response) return r;
  if (!r.ok) return problem(c, "Reconnect", r.error, statusOf(r.error));
  return c.redirect(`/connect/${r.value.id}`, 303);
});

appsPages.get("/apps/:id/revoke", async (c) => {
  const loaded = await credentialOf(c, c.req.param("id"));
  if (loaded instanceof Response) return loaded;
  const { s, x } = loaded;
  if (x.error) return c.html(<Problem s={s} title="Revoke" error={x.error} />, statusOf(x.error));
  if (x.value.status === "revoked") return c.html(<Problem s={s} title="Revoke" error={{ code: "conflict", message: `${x.value.ref} is already revoked.` }} />, 409);
  if (!rowActions(s, x.value).revoke) return c.html(<Problem s={s} title="Revoke" error={NOT_ALLOWED("revoke", x.value)} />, 403);
  const v = x.value;
  return c.html(
    <Page title={`Revoke ${v.ref}`} nav={navOf(s, "/apps")}>
      <h1>Revoke <code>{v.ref}</code>?</h1>
      <div class="card">
        <dl class="kv">
          <dt>App</dt><dd>{v.app}</dd>
          <dt>Name</dt><dd>{v.name} <code>{v.slug}</code></dd>
          <dt>Scope</dt><dd>{scopeText(v, loaded.members, s.principal.member)}</dd>
          {v.account ? <><dt>Account</dt><dd>{v.account.email ?? v.account.name ?? v.account.id}</dd></> : null}
          {v.preview ? <><dt>Preview</dt><dd><code>{v.preview}</code></dd></> : null}
        </dl>
        <p>
          The secret is destroyed{v.kind === "oauth" ? " and the tokens are revoked at the provider" : ""}. Runs that use it
          fail with <code>credential_unavailable</code>, and assignments that point at it report it. The row stays, marked
          revoked, for the audit trail. This cannot be undone.
        </p>
        <form method="post" action={pathOf(v, "revoke")} class="actions">
          <Csrf value={s.csrf} />
          <button class="danger solid" type="submit">Revoke {v.ref}</button>
          <a class="button secondary" href="/apps">Cancel</a>
        </form>
      </div>
    </Page>,
  );
});

appsPages.post("/apps/:id/revoke", async (c) => {
  const form = await formOf(c);
  if (!form) return problem(c, "Revoke", FORM_EXPIRED, 403);
  const r = await act(c, (vault, token) => vault.revokeCredential(token, c.req.param("id")));
  if (r instanceof Response) return r;
  if (!r.ok) return problem(c, "Revoke", r.error, statusOf(r.error));
  return c.redirect(doneUrl("revoked", r.value.ref), 303);
});

// ---- the catalog: "Connect an app" ----
