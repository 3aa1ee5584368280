import { Hono } from "hono";
import { fromZodError, type ErrorBody } from "../../../../lib/errors";
import { isAdmin } from "../../../../lib/permissions";
import { AuditQuery, type AuditEntry } from "../../../../lib/schemas/audit";
import type { ApiEnv } from "../http/vault";
import { ErrorBanner, Page, When } from "../../../shared/layout";
import { loadPage, navOf, pageValue, webError } from "./pages";

/**
 * The audit log (SPEC section 7): newest first, filtered by action (exact, or a family with a
 * trailing dot), actor, credential and time, paged with the vault's next_cursor. Owners and admins
 * read every row, other members their own (the vault enforces it).
 */
export const auditPages = new Hono<ApiEnv>();
auditPages.onError(webError);

const ACTIONS = [
  "credential.", "credential.create", "credential.replace", "credential.rename", "credential.set_default", "credential.rotate", "credential.revoke", "credential.resolve",
  "connect.", "assignment.", "assignment.set", "assignment.delete", "channel.", "channel.bind", "channel.unbind", "api_key.", "api_key.create", "api_key.revoke", "auth.sign_in", "cli_login.", "token.revoke",
  "project.", "project.create", "project.rename", "project.delete", "project.member.", "runtime_token.", "runtime_token.create", "runtime_token.revoke",
  "invitation.", "invitation.created", "invitation.revoke", "invitation.accept", "member.", "member.role_change", "member.remove",
];
const PAGE = 25;

/** `datetime-local` answers `2026-11-28T10:00` (read as UTC here); full ISO times pass through. */
function sinceOf(raw: string): string | undefined {
  if (!raw) return undefined;
  if (/^\d{4}-\d\d-\d\dT\d\d:\d\d$/.test(raw)) return `${raw}:00Z`;
  if (/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d$/.test(raw)) return `${raw}Z`;
  return raw;
}

const OUTCOME: Record<AuditEntry["outcome"], string> = { ok: "badge ok", denied: "badge danger", failed: "badge warn" };

function detailText(d: AuditEntry["detail"]): string {
  return Object.entries(d)
    .filter(([, v]) => v !== null && v !== "")
    .map(([k, v]) => `${k}=${typeof v === "object" ? JSON.stringify(v) : String(v)}`)
    .join(" ");
}

auditPages.get("/audit", async (c) => {
  const f = { action: c.req.query("action")?.trim() ?? "", actor: c.req.query("actor") ?? "", credential: c.req.query("credential") ?? "", since: c.req.query("since") ?? "", cursor: c.req.query("cursor") ?? "" };
  const parsed = AuditQuery.safeParse({
    ...(f.action ? { action: f.action } : {}),
    ...(f.actor ? { actor: f.actor } : {}),
    ...(f.credential ? { credential: f.credential } : {}),
    ...(f.since ? { since: sinceOf(f.since) } : {}),
    ...(f.cursor ? { cursor: f.cursor } : {}),
    limit: PAGE,
  });
  let error: ErrorBody | null = null;
  if (!parsed.success) {
    error = fromZodError(parsed.error, {
      fallback: "filter",
      say: (field, problem) => field === "since"
        ? { message: "The time filter is not a date and time.", fix: "Pick a date and time (UTC), or clear the filter." }
        : { message: `The ${field} filter ${problem}.`, fix: "Correct it or clear the filters." },
    }).toBody();
  }
  const loaded = await loadPage(c, (vault, token) => vault.loadAuditPage(token, parsed.success ? parsed.data : null));
  if (loaded instanceof Response) return loaded;
  const { s, page } = loaded;
  const r = page.entries ? pageValue(page.entries) : null;
  const emails = new Map(page.members.map((m) => [m.id, m.email]));
  const credentials = page.credentials;
  const refs = new Map(credentials.map((x) => [x.id, x.ref]));
  const admin = isAdmin(s.principal);
  const keep = new URLSearchParams();
  for (const k of ["action", "actor", "credential", "since"] as const) if (f[k]) keep.set(k, f[k]);
  const filtered = keep.size > 0;
  const next = r?.value?.next_cursor ? `/audit?${new URLSearchParams([...keep, ["cursor", r.value.next_cursor]])}` : null;
  const sinceValue = /^\d{4}-\d\d-\d\dT\d\d:\d\d/.test(f.since) ? f.since.slice(0, 16) : "";
  return c.html(
    <Page title="Audit log" nav={navOf(s, "/audit")}>
      <h1>Audit log</h1>
      <p class="muted">{admin ? "Every change, refusal and runtime resolve in the organization, newest first." : "Your own actions, newest first. Owners and admins see everyone's."}</p>
      <form method="get" action="/audit" class="card filters" role="search" aria-label="Filter the audit log">
        <div>
          <label for="au-action">Action</label>
          <input id="au-action" type="text" name="action" value={f.action} list="au-actions" placeholder="e.g. credential." />
          <datalist id="au-actions">{ACTIONS.map((a) => <option value={a} />)}</datalist>
        </div>
        {admin ? (
          <div>
            <label for="au-actor">Actor</label>
            <select id="au-actor" name="actor">
              <option value="">anyone</option>
              {[...emails].map(([id, email]) => <option value={id} selected={f.actor === id}>{email}</option>)}
            </select>
          </div>
        ) : null}
        <div>
          <label for="au-credential">Credential</label>
          <select id="au-credential" name="credential">
            <option value="">any</option>
            {credentials.map((x) => <option value={x.id} selected={f.credential === x.id}>{x.ref}{x.status === "revoked" ? " (revoked)" : ""}</option>)}
          </select>
        </div>
        <div>
          <label for="au-since">Since (UTC)</label>
          <input id="au-since" type="datetime-local" name="since" value={sinceValue} />
        </div>
        <div class="buttons">
          <button type="submit">Filter</button>
          {filtered ? <a href="/audit">Clear</a> : null}
        </div>
      </form>
      <ErrorBanner error={error ?? r?.error} />
      {r?.value?.entries.length ? (
        <table class="audit">
          <thead><tr><th>When</th><th>Actor</th><th>Action</th><th>Outcome</th><th>Credential</th><th>Target</th><th>Detail</th></tr></thead>
          <tbody>
            {r.value.entries.map((e) => (
              <tr data-action={e.action} data-seq={e.seq}>
                <td data-label="When"><When at={e.at} /></td>
                <td data-label="Actor">
                  {e.actor_email ?? (e.actor_kind === "rt" || e.actor_kind === "system" || !e.actor ? <span class="muted">{e.actor_kind === "rt" ? "runtime" : "system"}</span> : emails.get(e.actor) ?? e.actor)}
                  {e.actor_kind === "key" ? <span class="muted small"> (API key)</span> : null}
                </td>
                <td data-label="Action"><code class="action">{e.action}</code></td>
                <td data-label="Outcome"><span class={OUTCOME[e.outcome]}>{e.outcome}</span></td>
                <td data-label="Credential">{e.credential ? <code>{e.credential_ref ?? refs.get(e.credential) ?? e.credential}</code> : <span class="muted">—</span>}</td>
                <td data-label="Target">{e.target_email ?? (e.target ? emails.get(e.target) ?? e.target : "")}</td>
                <td data-label="Detail" class="small">{detailText(e.detail)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : r?.value ? (
        <div class="card"><p>{filtered ? "No entry matches these filters." : "No entries yet."}</p></div>
      ) : null}
      <nav class="pager" aria-label="Pages">
        {f.cursor ? <a href={`/audit${keep.size ? `?${keep}` : ""}`}>Newest</a> : null}
        {next ? <a href={next} rel="next">Older entries</a> : null}
      </nav>
    </Page>,
    error ? 400 : 200,
  );
});
