import { Hono, type Context } from "hono";
import { fromZodError, type ErrorBody } from "../../../../lib/errors";
import { mayGrant, mayManage } from "../../../../lib/members";
import { isAdmin } from "../../../../lib/permissions";
import { Role } from "../../../../lib/schemas/common";
import type { Member } from "../../../../lib/schemas/identity";
import { CreateInvitationBody } from "../../../../lib/schemas/members";
import type { CreatedInvitation } from "../../../../lib/schemas/orgs";
import type { MembersPage } from "../../../../durable-objects/vault/pages";
import { Csrf, ErrorBanner, OkBanner, Page, When } from "../../../shared/layout";
import { PostButton } from "./row-action";
import { SecretCard } from "./secret-card";
import { publicUrl, type ApiEnv } from "../http/vault";
import { act, doneBanner, FORM_EXPIRED, formOf, loadPage, navOf, pageValue, statusOf, text, texts, webError, type WebSession } from "./pages";

/**
 * Members and invitations (SPEC section 12). Everyone sees the members; owners and admins invite
 * (the link is shown once, in the answer to the form post), revoke invitations, change roles and
 * remove members, as far as the vault allows (the buttons follow lib/members.ts, the vault decides).
 */
export const memberPages = new Hono<ApiEnv>();
memberPages.onError(webError);

const ROLES = Role.options;
const DONE: Record<string, string> = {
  role: "The role is changed.",
  removed: "The member is removed: their sessions, CLI logins and API keys stopped working, and their own credentials are revoked.",
  revoked: "The invitation is revoked: its link no longer works.",
};

interface Opts { created?: CreatedInvitation; ok?: string | null; error?: ErrorBody | null; confirm?: Member; email?: string }

function render(c: Context<ApiEnv>, s: WebSession, page: MembersPage, opts: Opts = {}, status = 200) {
  const admin = isAdmin(s.principal);
  const invitations = page.invitations ? pageValue(page.invitations) : null;
  const projects = s.projects;
  if (opts.created) c.header("cache-control", "no-store");
  return c.html(
    <Page title="Members" nav={navOf(s, "/members")}>
      <h1>Members</h1>
      <ErrorBanner error={opts.error} />
      <OkBanner message={opts.ok} />
      {opts.confirm ? (
        <form method="post" action={`/members/${encodeURIComponent(opts.confirm.id)}/remove`} class="card" data-testid="confirm-remove">
          <Csrf value={s.csrf} />
          <input type="hidden" name="confirm" value="yes" />
          <p><strong>Remove {opts.confirm.email}?</strong> Every session, CLI login and API key of theirs stops working at once and their own credentials are revoked. Credentials they made for the org or a project stay.</p>
          <div class="buttons"><button class="danger" type="submit">Remove {opts.confirm.email}</button> <a class="button secondary" href="/members">Cancel</a></div>
        </form>
      ) : null}
      {opts.created ? (
        <SecretCard testid="new-invitation" valueId="invitation-link" value={opts.created.url}>
          <strong>Invitation for {opts.created.email} ({opts.created.role}) created.</strong> Send them this link now: it is shown only this once, works once, until <When at={opts.created.expires_at} />.
        </SecretCard>
      ) : null}
      <table>
        <thead><tr><th>Email</th><th>Role</th>{admin ? <th></th> : null}</tr></thead>
        <tbody>
          {page.members.map((m) => {
            const self = m.id === s.principal.member;
            const manage = admin && mayManage(s.principal, m);
            return (
              <tr data-member={m.email}>
                <td data-label="Email">{m.email}{self ? <span class="small"> (you)</span> : null}</td>
                <td data-label="Role">
                  {manage && !self ? (
                    <form method="post" action={`/members/${encodeURIComponent(m.id)}/role`} class="inline">
                      <Csrf value={s.csrf} />
                      <select name="role" aria-label={`Role of ${m.email}`}>
                        {ROLES.filter((r) => r === m.role || mayGrant(s.principal, r)).map((r) => <option value={r} selected={r === m.role}>{r}</option>)}
                      </select>
                      <button class="secondary small" type="submit">Change</button>
                    </form>
                  ) : m.role}
                </td>
                {admin ? (
                  <td>
                    {manage || self ? (
                      <PostButton action={`/members/${encodeURIComponent(m.id)}/remove`} csrf={s.csrf} buttonClass="danger small" label={`Remove ${m.email}`}>{self ? "Leave" : "Remove"}</PostButton>
                    ) : null}
                  </td>
                ) : null}
              </tr>
            );
          })}
        </tbody>
      </table>
      {admin ? (
        <>
          <h2>Invite someone</h2>
          <form method="post" action="/members/invite" class="card filters" aria-label="Invite a person">
            <Csrf value={s.csrf} />
            <div>
              <label for="i-email">Email</label>
              <input id="i-email" type="email" name="email" value={opts.email ?? ""} maxlength={254} required />
            </div>
            <div>
              <label for="i-role">Role</label>
              <select id="i-role" name="role">{ROLES.filter((r) => mayGrant(s.principal, r)).map((r) => <option value={r} selected={r === "builder"}>{r}</option>)}</select>
            </div>
            {projects.length ? (
              <fieldset>
                <legend>Builder of projects</legend>
                {projects.map((p) => <label><input type="checkbox" name="projects" value={p} /> {p}</label>)}
              </fieldset>
            ) : null}
            <div class="buttons"><button type="submit">Create invitation</button></div>
          </form>
          <h2>Open invitations</h2>
          <ErrorBanner error={invitations?.error ?? null} />
          {invitations?.value?.invitations.length ? (
            <table>
              <thead><tr><th>Email</th><th>Role</th><th>Projects</th><th>Expires</th><th></th></tr></thead>
              <tbody>
                {invitations.value.invitations.map((i) => (
                  <tr data-invitation={i.id}>
                    <td data-label="Email">{i.email}</td>
                    <td data-label="Role">{i.role}</td>
                    <td data-label="Projects">{i.projects.map((p) => `${p.project} (${p.role})`).join(", ") || "—"}</td>
                    <td data-label="Expires">{i.status === "expired" ? <span class="badge off">expired</span> : <When at={i.expires_at} />}</td>
                    <td>
                      {mayGrant(s.principal, i.role) ? (
                        <PostButton action={`/members/invitations/${encodeURIComponent(i.id)}/revoke`} csrf={s.csrf} buttonClass="danger small" label={`Revoke the invitation of ${i.email}`}>Revoke</PostButton>
                      ) : null}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          ) : invitations?.value ? <p class="muted">No open invitations.</p> : null}
        </>
      ) : null}
    </Page>,
    status as 200,
  );
}

async function again(c: Context<ApiEnv>, opts: Opts, status: number, confirmId?: string) {
  const loaded = await loadPage(c, (vault, token) => vault.loadMembersPage(token));
  if (loaded instanceof Response) return loaded;
  const confirm = confirmId ? loaded.page.members.find((m) => m.id === confirmId) : undefined;
  return render(c, loaded.s, loaded.page, { ...opts, confirm }, status);
}

memberPages.get("/members", (c) => again(c, { ok: doneBanner(DONE, c.req.query("done")) }, 200));

memberPages.post("/members/invite", async (c) => {
  const form = await formOf(c);
  if (!form) return again(c, { error: FORM_EXPIRED }, 403);
  const input = { email: text(form, "email"), role: text(form, "role"), projects: texts(form, "projects").map((project) => ({ project, role: "builder" })) };
  const body = CreateInvitationBody.safeParse(input);
  if (!body.success) return again(c, { error: fromZodError(body.error, { input }).toBody(), email: input.email }, 400);
  const loaded = await loadPage(c, (vault, token) => vault.inviteMemberOnPage(token, body.data, publicUrl(c)));
  if (loaded instanceof Response) return loaded;
  const r = pageValue(loaded.page.created);
  if (r.error) return render(c, loaded.s, loaded.page, { error: r.error, email: input.email }, statusOf(r.error));
  // Not a redirect: the link is in this one answer only.
  return render(c, loaded.s, loaded.page, { created: r.value });
});

memberPages.post("/members/:id/role", async (c) => {
  const form = await formOf(c);
  if (!form) return again(c, { error: FORM_EXPIRED }, 403);
  const role = Role.safeParse(text(form, "role"));
  if (!role.success) return again(c, { error: fromZodError(role.error, { fallback: "role" }).toBody() }, 400);
  const r = await act(c, (vault, token) => vault.changeMemberRole(token, c.req.param("id"), role.data));
  if (r instanceof Response) return r;
  if (!r.ok) return again(c, { error: r.error }, statusOf(r.error));
  return c.redirect("/members?done=role", 303);
});

memberPages.post("/members/:id/remove", async (c) => {
  const form = await formOf(c);
  if (!form) return again(c, { error: FORM_EXPIRED }, 403);
  // The first post asks to confirm; only the confirmation's post removes.
  if (text(form, "confirm") !== "yes") return again(c, {}, 200, c.req.param("id"));
  const r = await act(c, (vault, token) => vault.removeMember(token, c.req.param("id")));
  if (r instanceof Response) return r;
  if (!r.ok) return again(c, { error: r.error }, statusOf(r.error));
  return c.redirect("/members?done=removed", 303);
});

memberPages.post("/members/invitations/:id/revoke", async (c) => {
  const form = await formOf(c);
  if (!form) return again(c, { error: FORM_EXPIRED }, 403);
  const r = await act(c, (vault, token) => vault.revokeInvitation(token, c.req.param("id")));
  if (r instanceof Response) return r;
  if (!r.ok) return again(c, { error: r.error }, statusOf(r.error));
  return c.redirect("/members?done=revoked", 303);
});
