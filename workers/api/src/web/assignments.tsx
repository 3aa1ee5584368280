import { Hono, type Context } from "hono";
import { fromZodError, type ErrorBody } from "../../../../lib/errors";
import { canPin } from "../../../../lib/permissions";
import { SLUG_PATTERN } from "../../../../lib/schemas/common";
import type { Credential } from "../../../../lib/schemas/credentials";
import { ConsumerKind, DeleteAssignmentBody, PutAssignmentBody, type AssignmentView, type ConsumerView, type ExplainResult } from "../../../../lib/schemas/resolution";
import { publicUrl, type ApiEnv } from "../http/vault";
import { Csrf, ErrorBanner, FixLine, OkBanner, Page, When } from "../../../shared/layout";
import type { AssignmentsPage } from "../../../../durable-objects/vault/pages";
import { act, FORM_EXPIRED, formOf, loadPage, navOf, pageValue, text, webError } from "./pages";

/**
 * Assignments per workflow, agent and poll (SPEC sections 4 and 7): the target's consumers and
 * what each resolves to, with the rule (the vault's explain, one call per consumer), the pins on
 * the target, and forms to assign and unassign. Members pin credentials they manage (their own,
 * their projects' as project admin, any as org admin); a pin to a credential hidden from them shows
 * as "hidden" (the vault masks it).
 */
export const assignmentPages = new Hono<ApiEnv>();
assignmentPages.onError(webError);

const KINDS = ConsumerKind.options;

export const RULES: Record<string, string> = {
  explicit: "the run named this credential",
  assignment: "assigned to this consumer",
  assignment_wildcard: "assigned to every consumer of the target (*)",
  pinned_scope: "the requirement pins this scope",
  project: "the project's credential for the app",
  org: "the org's credential for the app",
};

interface View {
  kind: ConsumerKind | null;
  target: string;
  project: string;
  app: string;
}

function viewUrl(v: View, extra: Record<string, string> = {}): string {
  const q = new URLSearchParams();
  if (v.kind) q.set("kind", v.kind);
  if (v.target) q.set("target", v.target);
  if (v.project) q.set("project", v.project);
  if (v.app) q.set("app", v.app);
  for (const [k, val] of Object.entries(extra)) q.set(k, val);
  return `/assignments?${q}`;
}

function viewOf(get: (k: string) => string | undefined): { view: View; error: ErrorBody | null } {
  const kind = ConsumerKind.safeParse(get("kind"));
  const view: View = { kind: kind.success ? kind.data : null, target: (get("target") ?? "").trim(), project: get("project") ?? "", app: get("app") ?? "" };
  if (get("kind") && !kind.success) return { view, error: { code: "invalid_request", message: "Pick workflow, agent or poll.", fix: "Choose the kind from the list." } };
  if (view.target && !SLUG_PATTERN.test(view.target)) return { view: { ...view, target: "" }, error: { code: "invalid_request", message: `\`${view.target}\` is not a valid slug.`, fix: "Use 1-63 characters of a-z, 0-9, '_' or '-'." } };
  if (view.app && !SLUG_PATTERN.test(view.app)) return { view: { ...view, app: "" }, error: { code: "invalid_request", message: `\`${view.app}\` is not a valid app slug.` } };
  return { view, error: null };
}

function Resolution({ r }: { r: ExplainResult | undefined }) {
  if (!r) return <span class="muted">—</span>;
  if (r.ok) {
    return (
      <>
        <code data-testid="resolves-to">{r.credential.ref}</code>
        <div class="small muted">{r.explanation}</div>
      </>
    );
  }
  return (
    <div>
      <span class="badge danger">{r.error.code}</span> {r.error.message}
      <FixLine error={r.error} small />
    </div>
  );
}

function PinnedCredential({ c }: { c: AssignmentView["credential"] }) {
  if (!c) return <span class="muted" data-testid="hidden-credential">hidden: a credential you cannot see</span>;
  return <><code>{c.ref}</code> {c.status !== "active" ? <span class="badge warn">{c.status}</span> : null}</>;
}

function RuleCell({ r }: { r: ExplainResult | undefined }) {
  if (!r || !r.ok) return <span class="muted">—</span>;
  return (
    <>
      <code data-testid="rule">{r.rule}</code>
      <div class="small muted">{RULES[r.rule] ?? ""}</div>
    </>
  );
}

interface Loaded {
  consumers: ConsumerView[];
  assignments: AssignmentView[];
  apps: string[];
  explained: Map<string, ExplainResult[] | ErrorBody>;
  credentials: Credential[];
  error: ErrorBody | null;
}

/** The chosen target's part of the page, as the vault answered it (explain for every consumer in the same call). */
function loaded(t: NonNullable<AssignmentsPage["target"]>, credentials: Credential[]): Loaded {
  const cs = pageValue(t.consumers);
  const as = pageValue(t.assignments);
  return { consumers: cs.value?.consumers ?? [], assignments: as.value?.assignments ?? [], apps: t.apps, explained: t.explained, credentials, error: cs.error ?? as.error };
}

const HINT: Record<ConsumerKind, string> = {
  workflow: "Workflow consumers appear once a run reports a step (step_completed). You can still assign by step id, or to every step with *.",
  agent: "Agent consumers are the agent's tools, registered by the execution plane, plus any named in assignments.",
  poll: "Poll consumers come only from assignments: assign with the action slug, or to every action with *.",
};

/** The page in one vault call (loadAssignmentsPage), with a banner. */
async function render(c: Context<ApiEnv>, v: View, banner: { ok?: string | null; error?: ErrorBody | null } = {}, status = 200) {
  const got = await loadPage(c, (vault, token) => vault.loadAssignmentsPage(token, v, publicUrl(c)));
  if (got instanceof Response) return got;
  const { s, page } = got;
  const all = page.all ? pageValue(page.all) : null;
  const data = v.kind && v.target && page.target ? loaded(page.target, page.credentials) : null;
  const knownTargets = [...new Set((all?.value?.assignments ?? data?.assignments ?? []).map((a) => a.target))].sort();
  const credentials = page.credentials;
  const credentialApps = [...new Set(credentials.map((x) => x.app))].sort();
  const assignable = credentials.filter((x) => x.status !== "revoked" && canPin(s.principal, x.scope));
  const label = v.kind && v.target ? `${v.kind} ${v.target}` : "";
  return c.html(
    <Page title={label ? `Assignments · ${label}` : "Assignments"} nav={navOf(s, "/assignments")}>
      <h1>Assignments{label ? <>: <code>{label}</code></> : null}</h1>
      <OkBanner message={banner.ok} />
      <ErrorBanner error={banner.error} />
      <form method="get" action="/assignments" class="card filters" aria-label="Choose a workflow, agent or poll">
        <div>
          <label for="a-kind">Kind</label>
          <select id="a-kind" name="kind">
            {KINDS.map((k) => <option value={k} selected={v.kind === k}>{k}</option>)}
          </select>
        </div>
        <div>
          <label for="a-target">Workflow, agent or poll</label>
          <input id="a-target" type="text" name="target" value={v.target} list="known-targets" placeholder="e.g. daily-digest" required />
          <datalist id="known-targets">{knownTargets.map((t) => <option value={t} />)}</datalist>
        </div>
        <div>
          <label for="a-project">Runs in project</label>
          <select id="a-project" name="project">
            <option value="">no project</option>
            {s.projects.map((p) => <option value={p} selected={v.project === p}>{p}</option>)}
          </select>
        </div>
        <div>
          <label for="a-app">Also explain app</label>
          <input id="a-app" type="text" name="app" value={v.app} list="known-apps" placeholder="e.g. exa" />
          <datalist id="known-apps">{credentialApps.map((a) => <option value={a} />)}</datalist>
        </div>
        <div class="buttons"><button type="submit">Show</button></div>
      </form>

      {all ? (
        <>
          <h2>All assignments</h2>
          <ErrorBanner error={all.error} />
          {all.value?.assignments.length ? (
            <table>
              <thead><tr><th>Target</th><th>Consumer</th><th>App</th><th>Credential</th><th></th></tr></thead>
              <tbody>
                {all.value.assignments.map((a) => (
                  <tr>
                    <td data-label="Target">{a.kind} <code>{a.target}</code></td>
                    <td data-label="Consumer"><code>{a.consumer}</code></td>
                    <td data-label="App">{a.app}</td>
                    <td data-label="Credential"><PinnedCredential c={a.credential} /></td>
                    <td><a href={viewUrl({ kind: a.kind, target: a.target, project: "", app: "" })}>Open</a></td>
                  </tr>
                ))}
              </tbody>
            </table>
          ) : all.value ? (
            <div class="card"><p>No assignments yet. Choose a workflow, agent or poll above to see its consumers and pin credentials to them.</p></div>
          ) : null}
        </>
      ) : null}

      {data && v.kind ? (
        <>
          <ErrorBanner error={data.error} />
          <h2>Consumers and what they resolve to</h2>
          {v.project ? null : <p class="muted small">Resolved as a run outside any project. Pick “Runs in project” to include that project's credentials.</p>}
          {data.consumers.length === 0 ? (
            <div class="card"><p>No consumers known for {label} yet.</p><p class="muted">{HINT[v.kind]}</p></div>
          ) : data.apps.length === 0 ? (
            <>
              <div class="card"><p>Nothing is assigned on {label} yet. Enter an app in “Also explain app” to see what each consumer resolves to.</p></div>
              <table>
                <thead><tr><th>Consumer</th><th>Learned from</th><th>Last seen</th></tr></thead>
                <tbody>{data.consumers.map((x) => <tr data-consumer={x.id}><td data-label="Consumer"><code>{x.id}</code></td><td data-label="Learned from">{x.sources.join(", ")}</td><td data-label="Last seen"><When at={x.last_seen_at} never="—" /></td></tr>)}</tbody>
              </table>
            </>
          ) : (
            <table>
              <thead><tr><th>Consumer</th><th>App</th><th>Resolves to</th><th>Rule</th></tr></thead>
              <tbody>
                {data.consumers.flatMap((x) => {
                  const e = data.explained.get(x.id);
                  if (e && !Array.isArray(e)) return [<tr data-consumer={x.id}><td data-label="Consumer"><code>{x.id}</code></td><td colspan={3}><ErrorBanner error={e} /></td></tr>];
                  return data.apps.map((app, i) => (
                    <tr data-consumer={x.id} data-app={app}>
                      <td data-label="Consumer"><code>{x.id}</code>{i === 0 ? <div class="small muted">{x.sources.join(", ")}</div> : null}</td>
                      <td data-label="App">{app}</td>
                      <td data-label="Resolves to"><Resolution r={e?.[i]} /></td>
                      <td data-label="Rule"><RuleCell r={e?.[i]} /></td>
                    </tr>
                  ));
                })}
              </tbody>
            </table>
          )}

          <h2>Pinned on {label}</h2>
          {data.assignments.length ? (
            <table>
              <thead><tr><th>Consumer</th><th>App</th><th>Credential</th><th>Assigned</th><th></th></tr></thead>
              <tbody>
                {data.assignments.map((a) => (
                  <tr data-assignment={`${a.consumer}:${a.app}`}>
                    <td data-label="Consumer"><code>{a.consumer}</code>{a.consumer === "*" ? <span class="muted small"> every consumer</span> : null}</td>
                    <td data-label="App">{a.app}</td>
                    <td data-label="Credential"><PinnedCredential c={a.credential} /></td>
                    <td data-label="Assigned"><When at={a.created_at} /></td>
                    <td>
                      <form method="post" action="/assignments/unassign" class="inline">
                        <Csrf value={s.csrf} />
                        <input type="hidden" name="kind" value={a.kind} />
                        <input type="hidden" name="target" value={a.target} />
                        <input type="hidden" name="consumer" value={a.consumer} />
                        <input type="hidden" name="app" value={a.app} />
                        <input type="hidden" name="project" value={v.project} />
                        <input type="hidden" name="explain" value={v.app} />
                        <button class="danger small" type="submit" aria-label={`Unassign ${a.app} from ${a.consumer}`}>Unassign</button>
                      </form>
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          ) : (
            <p class="muted">Nothing pinned: each consumer gets its run's project credential, or else the org's.</p>
          )}

          <h2>Assign a credential</h2>
          {assignable.length ? (
            <form method="post" action="/assignments/assign" class="card">
              <Csrf value={s.csrf} />
              <input type="hidden" name="kind" value={v.kind} />
              <input type="hidden" name="target" value={v.target} />
              <input type="hidden" name="project" value={v.project} />
              <input type="hidden" name="explain" value={v.app} />
              <label for="as-consumer">Consumer</label>
              <select id="as-consumer" name="consumer">
                <option value="*">* (every consumer of {label})</option>
                {data.consumers.map((x) => <option value={x.id}>{x.id}</option>)}
              </select>
              <label for="as-other">…or another consumer id</label>
              <input id="as-other" type="text" name="consumer_other" placeholder={v.kind === "workflow" ? "step id" : v.kind === "agent" ? "tool slug" : "action slug"} />
              <label for="as-credential">Credential</label>
              <select id="as-credential" name="credential" required>
                {[...new Set(assignable.map((x) => x.app))].sort().map((app) => (
                  <optgroup label={app}>
                    {assignable.filter((x) => x.app === app).map((x) => <option value={x.id}>{x.ref}{x.default ? " (default)" : ""}</option>)}
                  </optgroup>
                ))}
              </select>
              <p><button type="submit">Assign</button></p>
            </form>
          ) : (
            <div class="card"><p>No credential you can assign yet. <a href="/catalog">Connect an app</a> first.</p></div>
          )}
        </>
      ) : null}
    </Page>,
    status as 200,
  );
}

assignmentPages.get("/assignments", async (c) => {
  const { view, error } = viewOf((k) => c.req.query(k));
  const done = c.req.query("done");
  const ok = done === "assigned" ? "Assigned." : done === "unassigned" ? "Unassigned." : null;
  return render(c, view, { ok, error }, error ? 400 : 200);
});

/** The view a form came from (its `app` field is the unassigned app, so the explained one travels as `explain`). */
function formView(form: Awaited<ReturnType<typeof formOf>> & object): View {
  return viewOf((k) => text(form, k === "app" ? "explain" : k) || undefined).view;
}

assignmentPages.post("/assignments/assign", async (c) => {
  const form = await formOf(c);
  if (!form) return render(c, { kind: null, target: "", project: "", app: "" }, { error: FORM_EXPIRED }, 403);
  const v = formView(form);
  const consumer = text(form, "consumer_other") || text(form, "consumer") || "*";
  const body = PutAssignmentBody.safeParse({ kind: text(form, "kind"), target: text(form, "target"), consumer, credential: text(form, "credential") });
  if (!body.success) {
    const error = fromZodError(body.error, { fallback: "form", say: (f, problem) => ({ message: `The ${f} ${problem}.`, fix: "Correct it and assign again." }) });
    return render(c, v, { error: error.toBody() }, 400);
  }
  const r = await act(c, (vault, token) => vault.putAssignment(token, body.data));
  if (r instanceof Response) return r;
  if (!r.ok) return render(c, v, { error: r.error }, 400);
  return c.redirect(viewUrl(v, { done: "assigned" }), 303);
});

assignmentPages.post("/assignments/unassign", async (c) => {
  const form = await formOf(c);
  if (!form) return render(c, { kind: null, target: "", project: "", app: "" }, { error: FORM_EXPIRED }, 403);
  const v = formView(form);
  const body = DeleteAssignmentBody.safeParse({ kind: text(form, "kind"), target: text(form, "target"), consumer: text(form, "consumer") || "*", app: text(form, "app") });
  if (!body.success) return render(c, v, { error: { code: "invalid_request", message: "The unassign form is incomplete.", fix: "Reload the page and try again." } }, 400);
  const r = await act(c, (vault, token) => vault.deleteAssignment(token, body.data));
  if (r instanceof Response) return r;
  if (!r.ok) return render(c, v, { error: r.error }, r.error.code === "not_found" ? 404 : 400);
  return c.redirect(viewUrl(v, { done: "unassigned" }), 303);
});
