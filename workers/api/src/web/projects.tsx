import { Hono, type Context } from "hono";
import { fromZodError, type ErrorBody } from "../../../../lib/errors";
import { isAdmin } from "../../../../lib/permissions";
import { CreateProjectBody, PutProjectMemberBody, RenameProjectBody } from "../../../../lib/schemas/projects";
import type { ApiEnv } from "../http/vault";
import { Csrf, ErrorBanner, OkBanner, Page } from "../../../shared/layout";
import { PostButton } from "./row-action";
import type { ProjectsPage } from "../../../../durable-objects/vault/pages";
import { act, doneBanner, FORM_EXPIRED, formOf, loadPage, navOf, statusOf, text, webError, type WebSession } from "./pages";
import type { VaultResult } from "../../../../lib/rpc";

/**
 * Projects and their members (SPEC section 12): org owners and admins create, rename and delete;
 * they and each project's admins manage its members. Role-aware: a form shows only where the
 * viewer may use it; the vault checks again.
 */
export const projectPages = new Hono<ApiEnv>();
projectPages.onError(webError);

const DONE: Record<string, string> = {
  created: "The project is created.",
  renamed: "The project is renamed.",
  deleted: "The project is deleted.",
  member: "The project's members are updated.",
};

function render(c: Context<ApiEnv>, s: WebSession, page: ProjectsPage, opts: { ok?: string | null; error?: ErrorBody | null } = {}, status = 200) {
  const admin = isAdmin(s.principal);
  const emails = new Map(page.members.map((m) => [m.id, m.email]));
  return c.html(
    <Page title="Projects" nav={navOf(s, "/projects")}>
      <h1>Projects</h1>
      <p class="muted">A project holds credentials for its members. {admin ? "As an org admin you manage every project." : "You see the projects you belong to."}</p>
      <ErrorBanner error={opts.error} />
      <OkBanner message={opts.ok} />
      {admin ? (
        <form method="post" action="/projects" class="card filters" aria-label="Create a project">
          <Csrf value={s.csrf} />
          <div><label for="p-slug">Slug</label><input id="p-slug" type="text" name="slug" placeholder="e.g. support" maxlength={63} required /></div>
          <div><label for="p-name">Name</label><input id="p-name" type="text" name="name" placeholder="e.g. Support" maxlength={100} required /></div>
          <div class="buttons"><button type="submit">Create project</button></div>
        </form>
      ) : null}
      {page.projects.length === 0 ? <p class="muted">No projects.</p> : null}
      {page.projects.map((p) => {
        const manages = admin || p.role === "admin";
        const base = `/projects/${encodeURIComponent(p.slug)}`;
        return (
          <section class="card" data-project={p.slug}>
            <h2>{p.name} <code>{p.slug}</code></h2>
            {admin ? (
              <div class="buttons">
                <form method="post" action={`${base}/rename`} class="inline" aria-label={`Rename ${p.slug}`}>
                  <Csrf value={s.csrf} />
                  <input type="text" name="name" value={p.name} maxlength={100} required aria-label="New name" />
                  <button class="secondary small" type="submit">Rename</button>
                </form>
                <form method="post" action={`${base}/delete`} class="inline" aria-label={`Delete ${p.slug}`}>
                  <Csrf value={s.csrf} />
                  <label class="small"><input type="checkbox" name="force" value="true" /> also revoke its credentials and remove its pins and channel bindings</label>
                  <button class="danger small" type="submit">Delete</button>
                </form>
              </div>
            ) : null}
            <table>
              <thead><tr><th>Member</th><th>Project role</th><th></th></tr></thead>
              <tbody>
                {p.members.map((m) => (
                  <tr>
                    <td data-label="Member">{emails.get(m.member) ?? m.member}</td>
                    <td data-label="Project role">{m.role}</td>
                    <td>
                      {manages ? (
                        <PostButton action={`${base}/members/${encodeURIComponent(m.member)}/remove`} csrf={s.csrf} buttonClass="danger small" label={`Remove ${emails.get(m.member) ?? m.member} from ${p.slug}`}>Remove</PostButton>
                      ) : null}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
            {manages ? (
              <form method="post" action={`${base}/members`} class="filters" aria-label={`Add a member to ${p.slug}`}>
                <Csrf value={s.csrf} />
                <select name="member" aria-label="Member">{page.members.map((m) => <option value={m.id}>{m.email}</option>)}</select>
                <select name="role" aria-label="Project role"><option value="builder">builder</option><option value="admin">admin</option></select>
                <button class="small" type="submit">Add or change role</button>
              </form>
            ) : null}
          </section>
        );
      })}
    </Page>,
    status as 200,
  );
}

async function again(c: Context<ApiEnv>, opts: Parameters<typeof render>[3], status: number) {
  const loaded = await loadPage(c, (vault, token) => vault.loadProjectsPage(token));
  return loaded instanceof Response ? loaded : render(c, loaded.s, loaded.page, opts, status);
}

/** One vault call for the action; the page again only when it was refused. */
async function action(c: Context<ApiEnv>, done: string, run: Parameters<typeof act>[1]): Promise<Response> {
  const r = (await act(c, run)) as VaultResult<unknown> | Response;
  if (r instanceof Response) return r;
  if (!r.ok) return again(c, { error: r.error }, statusOf(r.error));
  return c.redirect(`/projects?done=${done}`, 303);
}

const bad = (error: Parameters<typeof fromZodError>[0], input: Record<string, string>) => fromZodError(error, { input }).toBody();

projectPages.get("/projects", (c) => again(c, { ok: doneBanner(DONE, c.req.query("done")) }, 200));

projectPages.post("/projects", async (c) => {
  const form = await formOf(c);
  if (!form) return again(c, { error: FORM_EXPIRED }, 403);
  const input = { slug: text(form, "slug"), name: text(form, "name") };
  const body = CreateProjectBody.safeParse(input);
  if (!body.success) return again(c, { error: bad(body.error, input) }, 400);
  return action(c, "created", (vault, token) => vault.createProject(token, body.data));
});

projectPages.post("/projects/:slug/rename", async (c) => {
  const form = await formOf(c);
  if (!form) return again(c, { error: FORM_EXPIRED }, 403);
  const input = { name: text(form, "name") };
  const body = RenameProjectBody.safeParse(input);
  if (!body.success) return again(c, { error: bad(body.error, input) }, 400);
  return action(c, "renamed", (vault, token) => vault.renameProject(token, c.req.param("slug"), body.data.name));
});

projectPages.post("/projects/:slug/delete", async (c) => {
  const form = await formOf(c);
  if (!form) return again(c, { error: FORM_EXPIRED }, 403);
  const force = text(form, "force") === "true";
  return action(c, "deleted", (vault, token) => vault.deleteProject(token, c.req.param("slug"), force));
});

projectPages.post("/projects/:slug/members", async (c) => {
  const form = await formOf(c);
  if (!form) return again(c, { error: FORM_EXPIRED }, 403);
  const input = { role: text(form, "role") };
  const body = PutProjectMemberBody.safeParse(input);
  if (!body.success) return again(c, { error: bad(body.error, input) }, 400);
  return action(c, "member", (vault, token) => vault.putProjectMember(token, c.req.param("slug"), text(form, "member"), body.data.role));
});

projectPages.post("/projects/:slug/members/:member/remove", async (c) => {
  const form = await formOf(c);
  if (!form) return again(c, { error: FORM_EXPIRED }, 403);
  return action(c, "member", (vault, token) => vault.removeProjectMember(token, c.req.param("slug"), c.req.param("member")));
});
