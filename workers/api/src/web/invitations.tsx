import { Hono, type Context } from "hono";
import { AppError } from "../../../../lib/errors";
import { vaultStub } from "../../../../durable-objects/vault-stub";
import { Csrf, ErrorBanner, Page } from "../../../shared/layout";
import { csrfToken, sessionToken, startSession, vaultOfSession } from "../../../shared/session";
import type { ApiEnv } from "../http/vault";
import { FORM_EXPIRED, formOf, statusOf, webError } from "./pages";
import { platformUser } from "./platform-user";

/**
 * Accepting an invitation (SPEC section 12): the link `/invitations/<orgId>.<secret>` (made by
 * vault/invitations.ts). Opening it asks nothing of the vault; a signed-in platform user (GitHub,
 * verified emails) accepts with a form post: one vault call checks the secret and the email and
 * answers a web session in the org. Signed out, sign-in comes back here.
 */
export const invitationPages = new Hono<ApiEnv>();
invitationPages.onError(webError);

const LINK = /^(o[a-z2-7]{31})\.([A-Za-z0-9_-]{20,100})$/;

function parseLink(raw: string): { orgId: string; secret: string } | null {
  const m = LINK.exec(raw);
  return m ? { orgId: m[1]!, secret: m[2]! } : null;
}

const invalid = () => new AppError("not_found", "This invitation link is not valid.", { fix: "Ask for a new invitation.", details: { field: "token" } });

function AcceptPage({ c, path, emails, error }: { c: Context<ApiEnv>; path: string; emails: string[]; error?: Parameters<typeof ErrorBanner>[0]["error"] }) {
  return (
    <Page title="Invitation">
      <h1>You are invited to an organization</h1>
      <ErrorBanner error={error ?? null} />
      <p class="small" data-testid="platform-user">Signed in with the verified emails {emails.join(", ")}.</p>
      <form method="post" action={path} class="card">
        <Csrf value={csrfToken(c)} />
        <p>Accepting makes you a member with the role the invitation names. It works for the email it was sent to, once.</p>
        <div class="buttons"><button type="submit">Accept the invitation</button> <a class="button secondary" href="/orgs">Not now</a></div>
      </form>
    </Page>
  );
}

invitationPages.get("/invitations/:link", async (c) => {
  c.header("cache-control", "no-store");
  c.header("referrer-policy", "no-referrer");
  if (!parseLink(c.req.param("link"))) throw invalid();
  const path = new URL(c.req.url).pathname;
  const user = await platformUser(c);
  if (!user) return c.redirect(`/signin?next=${encodeURIComponent(path)}`, 303);
  return c.html(<AcceptPage c={c} path={path} emails={user.emails} />);
});

invitationPages.post("/invitations/:link", async (c) => {
  c.header("cache-control", "no-store");
  const link = parseLink(c.req.param("link"));
  if (!link) throw invalid();
  const path = new URL(c.req.url).pathname;
  const user = await platformUser(c);
  if (!user) return c.redirect(`/signin?next=${encodeURIComponent(path)}`, 303);
  const form = await formOf(c);
  if (!form) return c.html(<AcceptPage c={c} path={path} emails={user.emails} error={FORM_EXPIRED} />, 403);
  const vault = vaultStub(c.env, link.orgId, invalid);
  const r = await vault.acceptInvitation(link.secret, user.emails, user.login || null);
  if (!r.ok) return c.html(<AcceptPage c={c} path={path} emails={user.emails} error={r.error} />, statusOf(r.error));
  // The session of another org ends now rather than lingering.
  const old = sessionToken(c);
  if (old) await vaultOfSession(c.env, old).signOut(old).catch(() => undefined);
  await startSession(c, r.value.session.token);
  return c.redirect("/apps", 303);
});
