import { Hono, type Context } from "hono";
import { z } from "zod";
import { AppError, fromZodError, type ErrorBody } from "../../../../lib/errors";
import { Slug } from "../../../../lib/schemas/common";
import { Name } from "../../../../lib/schemas/credentials";
import { parseSignup, signupEmail } from "../../../../lib/signup";
import type { PlatformUser } from "../../../../lib/platform-user";
import type { PendingInvitation } from "../../../../durable-objects/directory";
import { vaultStub } from "../../../../durable-objects/vault-stub";
import { Csrf, ErrorBanner, Page } from "../../../shared/layout";
import { csrfToken, sessionToken, startSession, vaultOfSession } from "../../../shared/session";
import type { ApiEnv } from "../http/vault";
import { createOrg } from "../routes/orgs";
import { asErrorBody, FORM_EXPIRED, formOf, statusOf, text } from "./pages";
import { platformUser } from "./platform-user";
import { safeNext } from "./signin";

/**
 * The org switcher (SPEC section 12): the platform user's orgs from the Directory (one read),
 * switching into one (a web session there), and /orgs/new where SIGNUP allows. Who the person
 * is comes from the platform-user cookie set at sign-in (lib/platform-user.ts), not a session.
 */
export const orgPages = new Hono<ApiEnv>();

const signInFirst = (c: Context<ApiEnv>, next: string) => c.redirect(`/signin?next=${encodeURIComponent(next)}`, 303);

const NewOrgForm = z.strictObject({ slug: Slug, name: Name });

function SignOut({ csrf }: { csrf: string }) {
  return (
    <form method="post" action="/signout" class="flush">
      <Csrf value={csrf} />
      <button class="secondary small" type="submit">Sign out</button>
    </form>
  );
}

function Who({ user }: { user: PlatformUser }) {
  return <p class="small" data-testid="platform-user">Signed in as {user.login ? `${user.login} · ` : ""}{user.emails.join(", ")}</p>;
}

function PendingInvitations({ csrf, invitations }: { csrf: string; invitations: PendingInvitation[] }) {
  return (
    <>
      <h2>Pending invitations</h2>
      <table>
        <thead><tr><th>Organization</th><th>Role</th><th>For</th><th>Expires</th><th></th></tr></thead>
        <tbody>
          {invitations.map((inv) => (
            <tr data-invitation={inv.id}>
              <td>{inv.org.name} <span class="small">({inv.org.slug})</span></td>
              <td>{inv.role}</td>
              <td class="small">{inv.email}</td>
              <td class="small"><time datetime={new Date(inv.expiresAt).toISOString()}>{new Date(inv.expiresAt).toISOString().slice(0, 16).replace("T", " ")} UTC</time></td>
              <td>
                <form method="post" action={`/orgs/invitations/${encodeURIComponent(inv.id)}/accept`} class="flush">
                  <Csrf value={csrf} />
                  <button type="submit">Accept</button>
                </form>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </>
  );
}

orgPages.get("/orgs", async (c) => {
  const user = await platformUser(c);
  if (!user) return signInFirst(c, "/orgs");
  const csrf = csrfToken(c);
  // One Directory read: the orgs and the pending invitations (its index of the vaults' ones).
  const { orgs: mine, invitations } = await c.env.DIRECTORY.getByName("global").loadOrgsPage(user.emails);
  const current = c.get("session")?.orgId ?? null;
  const canCreate = signupEmail(parseSignup(c.env.SIGNUP), user.emails) !== null;
  const next = c.req.query("next") ?? "";
  return c.html(
    <Page title="Your organizations">
      <h1>Your organizations</h1>
      <Who user={user} />
      {mine.length === 0 ? (
        <div class="card">
          <p>None of your verified emails belongs to an organization yet.</p>
          <p class="small">An owner or admin invites you by email: open the invitation link you were sent.</p>
        </div>
      ) : (
        <table>
          <thead><tr><th>Organization</th><th>As</th><th></th></tr></thead>
          <tbody>
            {mine.map(({ org, email }) => (
              <tr data-org={org.slug}>
                <td>{org.name} <span class="small">({org.slug})</span></td>
                <td class="small">{email}</td>
                <td>
                  {org.id === current ? (
                    <span class="small" aria-current="true">current</span>
                  ) : (
                    <form method="post" action="/orgs/switch" class="flush">
                      <Csrf value={csrf} />
                      <input type="hidden" name="org" value={org.slug} />
                      <input type="hidden" name="next" value={next} />
                      <button type="submit">Switch</button>
                    </form>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {invitations.length ? <PendingInvitations csrf={csrf} invitations={invitations} /> : null}
      <div class="actions">
        {canCreate ? <a class="button secondary" href="/orgs/new">Create an organization</a> : null}
        <SignOut csrf={csrf} />
      </div>
    </Page>,
  );
});

/** Switching: a web session in the chosen org, for the email the Directory matched there. */
orgPages.post("/orgs/switch", async (c) => {
  const form = await formOf(c);
  if (!form) return c.html(<Page title="Switch organization"><ErrorBanner error={FORM_EXPIRED} /></Page>, 403);
  const user = await platformUser(c);
  if (!user) return signInFirst(c, "/orgs");
  const slug = text(form, "org");
  const match = (await c.env.DIRECTORY.getByName("global").orgsOfEmails(user.emails)).find((m) => m.org.slug === slug);
  if (!match) {
    return c.html(<Page title="Switch organization"><h1>Switch organization</h1><ErrorBanner error={{ message: `You are not a member of ${slug || "that organization"}.`, fix: "Pick one of your organizations." }} /><a class="button secondary" href="/orgs">Your organizations</a></Page>, 404);
  }
  const r = await vaultStub(c.env, match.org.id).startWebSession(match.email, "github");
  if (!r.ok) return c.html(<Page title="Switch organization"><h1>Switch organization</h1><ErrorBanner error={r.error} /><a class="button secondary" href="/orgs">Your organizations</a></Page>, statusOf(r.error));
  // The session of the org left behind ends now rather than lingering until it expires.
  const old = sessionToken(c);
  if (old) await vaultOfSession(c.env, old).signOut(old).catch(() => undefined);
  await startSession(c, r.value.token);
  return c.redirect(safeNext(c, text(form, "next") || undefined), 303);
});

/**
 * Accepting a listed invitation: the Directory finds its org (only among the person's own pending
 * ones), the vault checks it again against the verified emails and answers a web session there.
 */
orgPages.post("/orgs/invitations/:id/accept", async (c) => {
  const form = await formOf(c);
  if (!form) return c.html(<Page title="Invitation"><ErrorBanner error={FORM_EXPIRED} /></Page>, 403);
  const user = await platformUser(c);
  if (!user) return signInFirst(c, "/orgs");
  const back = <a class="button secondary" href="/orgs">Your organizations</a>;
  const inv = await c.env.DIRECTORY.getByName("global").pendingInvitation(user.emails, c.req.param("id"));
  if (!inv) {
    return c.html(<Page title="Invitation"><h1>Invitation</h1><ErrorBanner error={{ message: "There is no pending invitation for you with that id.", fix: "Pick one on your organizations page." }} />{back}</Page>, 404);
  }
  const r = await vaultStub(c.env, inv.org.id).acceptInvitationById(inv.id, user.emails, user.login || null);
  if (!r.ok) return c.html(<Page title="Invitation"><h1>Invitation</h1><ErrorBanner error={r.error} />{back}</Page>, statusOf(r.error));
  const old = sessionToken(c);
  if (old) await vaultOfSession(c.env, old).signOut(old).catch(() => undefined);
  await startSession(c, r.value.session.token);
  return c.redirect("/apps", 303);
});

function NewOrgPage({ c, user, email, error, values }: { c: Context<ApiEnv>; user: PlatformUser; email: string | null; error?: ErrorBody | null; values?: { slug: string; name: string } }) {
  const field = error?.details?.field;
  return (
    <Page title="Create an organization">
      <h1>Create an organization</h1>
      <Who user={user} />
      <ErrorBanner error={error} />
      {email ? (
        <form method="post" action="/orgs/new" class="card">
          <Csrf value={csrfToken(c)} />
          <label>Name <input name="name" required maxlength={200} value={values?.name ?? ""} aria-invalid={field === "name" ? "true" : undefined} /></label>
          <label>Slug <input name="slug" required pattern="[a-z0-9][a-z0-9_\-]{0,62}" value={values?.slug ?? ""} aria-invalid={field === "slug" ? "true" : undefined} /></label>
          <p class="small">You become its owner as {email}.</p>
          <button type="submit">Create</button>
        </form>
      ) : null}
      <a class="button secondary" href="/orgs">Your organizations</a>
    </Page>
  );
}

const signupClosed = (user: PlatformUser): ErrorBody => ({
  code: "forbidden",
  message: `Creating organizations is not open to ${user.emails.join(", ")} on this deployment.`,
  fix: "Ask the operator to create one for you, or an owner to invite you.",
});

orgPages.get("/orgs/new", async (c) => {
  const user = await platformUser(c);
  if (!user) return signInFirst(c, "/orgs/new");
  const email = signupEmail(parseSignup(c.env.SIGNUP), user.emails);
  return c.html(<NewOrgPage c={c} user={user} email={email} error={email ? null : signupClosed(user)} />, email ? 200 : 403);
});

/** The signed-in user creates an org and becomes its owner, then is signed in to it. */
orgPages.post("/orgs/new", async (c) => {
  const form = await formOf(c);
  if (!form) return c.html(<Page title="Create an organization"><ErrorBanner error={FORM_EXPIRED} /></Page>, 403);
  const user = await platformUser(c);
  if (!user) return signInFirst(c, "/orgs/new");
  const email = signupEmail(parseSignup(c.env.SIGNUP), user.emails);
  if (!email) return c.html(<NewOrgPage c={c} user={user} email={null} error={signupClosed(user)} />, 403);
  const values = { slug: text(form, "slug"), name: text(form, "name") };
  const parsed = NewOrgForm.safeParse(values);
  if (!parsed.success) {
    const error = fromZodError(parsed.error, { input: values }).toBody();
    return c.html(<NewOrgPage c={c} user={user} email={email} error={error} values={values} />, 400);
  }
  let orgId: string;
  try {
    orgId = (await createOrg(c, parsed.data, { email, name: user.login || email }, null)).org.id;
  } catch (e) {
    const error = asErrorBody(e);
    return c.html(<NewOrgPage c={c} user={user} email={email} error={error} values={values} />, e instanceof AppError ? (e.httpStatus as 409) : 500);
  }
  const r = await vaultStub(c.env, orgId).startWebSession(email, "github");
  if (!r.ok) return c.redirect("/orgs", 303);
  const old = sessionToken(c);
  if (old) await vaultOfSession(c.env, old).signOut(old).catch(() => undefined);
  await startSession(c, r.value.token);
  return c.redirect("/apps", 303);
});
