import { z } from "zod";
import { AppError, invalidField } from "../../lib/errors";
import { mayGrant, mayManage } from "../../lib/members";
import { isAdmin, type Principal } from "../../lib/permissions";
import { ProjectRole, Role } from "../../lib/schemas/common";
import type { Member } from "../../lib/schemas/identity";
import { MemberName, type AcceptedInvitation, type CreateInvitationBody, type Invitation, type RemovedMember } from "../../lib/schemas/members";
import type { CreatedInvitation } from "../../lib/schemas/orgs";
import { hashToken, newId } from "../../lib/tokens";
import { writeAudit } from "./audit";
import { loadPrincipal } from "./auth";
import { iso, type Actor, type VaultContext } from "./context";
import { openFields } from "./credentials";
import { readOrg } from "./identity";
import { InvitationProjects, writeInvitation } from "./invitations";

/**
 * Invitations, role changes and offboarding (SPEC section 12). Every rule is checked here, against
 * the caller's role as this same call loaded it; the last-owner rule is a count inside the
 * transaction that writes, so concurrent requests (one at a time in a Durable Object) never leave
 * an org without an owner.
 */

const MemberRow = z.object({ id: z.string(), email: z.string(), name: z.string(), role: Role });
const InvitationRow = z.object({
  id: z.string(),
  email: z.string(),
  role: Role,
  projects: z.string(),
  invited_by: z.string().nullable(),
  created_at: z.number(),
  expires_at: z.number(),
  accepted_at: z.number().nullable(),
  revoked_at: z.number().nullable(),
});
type InvitationRow = z.infer<typeof InvitationRow>;

export function liveMember(ctx: VaultContext, where: "id" | "email", value: string): Member | null {
  const raw = ctx.sql.exec(`SELECT id, email, name, role FROM members WHERE ${where} = ? AND removed_at IS NULL`, value).toArray()[0];
  return raw ? MemberRow.parse(raw) : null;
}

const ownerCount = (ctx: VaultContext) => Number(ctx.sql.exec(`SELECT COUNT(*) AS n FROM members WHERE role = 'owner' AND removed_at IS NULL`).one().n);

function denied(ctx: VaultContext, actor: Actor, action: string, target: string, message: string, field: string): never {
  writeAudit(ctx, actor, { action, outcome: "denied", target });
  throw new AppError("forbidden", message, { fix: "Ask an org owner.", details: { field } });
}

function toInvitation(ctx: VaultContext, r: InvitationRow): Invitation {
  return {
    id: r.id,
    email: r.email,
    role: r.role,
    projects: InvitationProjects.parse(JSON.parse(r.projects)),
    invited_by: r.invited_by,
    status: r.expires_at <= ctx.now ? "expired" : "pending",
    created_at: iso(r.created_at)!,
    expires_at: iso(r.expires_at)!,
  };
}

// ---- invitations ----

export async function inviteMember(ctx: VaultContext, actor: Actor, p: Principal, body: CreateInvitationBody, publicUrl: string): Promise<CreatedInvitation> {
  const email = body.email.toLowerCase();
  if (!isAdmin(p)) denied(ctx, actor, "invitation.created", email, "Only org owners and admins invite people.", "role");
  if (!mayGrant(p, body.role)) denied(ctx, actor, "invitation.created", email, `You may not invite an ${body.role}: only owners invite owners.`, "role");
  if (liveMember(ctx, "email", email)) {
    throw new AppError("conflict", `${email} is already a member of this organization.`, { fix: "Change their role on the Members page instead.", details: { field: "email" } });
  }
  const projects = body.projects ?? [];
  const seen = new Set<string>();
  projects.forEach((pr, i) => {
    if (seen.has(pr.project)) throw invalidField(`projects[${i}].project`, `Project \`${pr.project}\` is named twice.`);
    seen.add(pr.project);
    if (ctx.sql.exec(`SELECT 1 FROM projects WHERE slug = ?`, pr.project).toArray().length === 0) {
      throw invalidField(`projects[${i}].project`, `There is no project \`${pr.project}\`.`);
    }
  });
  return writeInvitation(ctx, actor, { email, role: body.role, projects }, publicUrl);
}

const PENDING = `accepted_at IS NULL AND revoked_at IS NULL`;

/** Open invitations (pending, and expired ones not yet replaced), newest first; owners and admins. */
export function listInvitations(ctx: VaultContext, actor: Actor | null, p: Principal): Invitation[] {
  if (!isAdmin(p)) {
    writeAudit(ctx, actor, { action: "invitation.list", outcome: "denied" });
    throw new AppError("forbidden", "Only org owners and admins see invitations.");
  }
  return ctx.sql
    .exec(`SELECT * FROM invitations WHERE ${PENDING} ORDER BY created_at DESC, id`)
    .toArray()
    .map((r) => toInvitation(ctx, InvitationRow.parse(r)));
}

export function revokeInvitation(ctx: VaultContext, actor: Actor, p: Principal, id: string): Invitation {
  const raw = ctx.sql.exec(`SELECT * FROM invitations WHERE id = ? AND ${PENDING}`, id).toArray()[0];
  if (!isAdmin(p)) denied(ctx, actor, "invitation.revoke", id, "Only org owners and admins revoke invitations.", "id");
  if (!raw) throw new AppError("not_found", `There is no open invitation \`${id}\`.`, { details: { field: "id" } });
  const row = InvitationRow.parse(raw);
  if (!mayGrant(p, row.role)) denied(ctx, actor, "invitation.revoke", id, "Only owners revoke an invitation to become an owner.", "id");
  ctx.storage.transactionSync(() => {
    ctx.sql.exec(`UPDATE invitations SET revoked_at = ? WHERE id = ?`, ctx.now, id);
    writeAudit(ctx, actor, { action: "invitation.revoke", target: id, detail: { email: row.email, role: row.role } });
  });
  return toInvitation(ctx, row);
}

/**
 * Accepting: `secret` is the link's part after `<orgId>.`, `emails` the signed-in platform user's
 * verified emails (the caller read them from GitHub), `name` the display name their GitHub account
 * gives (a new member's name; unusable or null: their email). Any refusal writes nothing, so the
 * rightful person can still use the link. Single use: the claim is an UPDATE that only a pending row passes.
 */
type InvitationKey = { secret: string } | { id: string };

/**
 * The invitation `by` names, if these verified emails may accept it now; else the refusal. Reads
 * only. By id: /orgs's Accept, for a pending invitation of the person's verified emails. The email
 * check is what authorizes either way; the secret only finds the row.
 */
async function acceptable(ctx: VaultContext, by: InvitationKey, emails: readonly string[]): Promise<() => InvitationRow> {
  const field = "id" in by ? "id" : "token";
  const secretHash = "secret" in by ? await hashToken(by.secret) : null;
  const verified = new Set(emails.map((e) => e.toLowerCase()));
  // Synchronous from here: the caller runs it inside its transaction, with nothing awaited between.
  return () => {
    const raw = secretHash
      ? ctx.sql.exec(`SELECT * FROM invitations WHERE secret_hash = ?`, secretHash).toArray()[0]
      : ctx.sql.exec(`SELECT * FROM invitations WHERE id = ?`, (by as { id: string }).id).toArray()[0];
    if (!raw) throw new AppError("not_found", "This invitation link is not valid.", { fix: "Ask for a new invitation.", details: { field } });
    const inv = InvitationRow.parse(raw);
    if (inv.accepted_at !== null) throw new AppError("conflict", "This invitation has already been used.", { fix: "Each invitation link works once; ask for a new one.", details: { field } });
    if (inv.revoked_at !== null) throw new AppError("not_found", "This invitation was revoked.", { fix: "Ask for a new invitation.", details: { field } });
    if (inv.expires_at <= ctx.now) throw new AppError("conflict", "This invitation has expired.", { fix: "Invitations last 7 days; ask for a new one.", details: { field } });
    if (!verified.has(inv.email)) {
      throw new AppError("forbidden", `This invitation is for ${inv.email}, which is not a verified email of the account you signed in with.`, {
        fix: `Sign in with the GitHub account that has ${inv.email} verified, or add and verify it at GitHub (Settings, Emails).`,
        details: { field: "email" },
      });
    }
    if (liveMember(ctx, "email", inv.email)) throw new AppError("conflict", `${inv.email} is already a member of this organization.`, { details: { field: "email" } });
    return inv;
  };
}

/**
 * A new member's display name: what their GitHub account calls them (the login), unless it breaks
 * the name rule (MemberName: control or bidi characters, too long, blank), then their email.
 */
export function memberDisplayName(name: string | null, email: string): string {
  const parsed = MemberName.safeParse(name ?? "");
  return parsed.success ? parsed.data : email;
}

/** The email an acceptance would add, refused exactly as accepting would be; nothing is written. */
export async function invitationEmail(ctx: VaultContext, by: InvitationKey, emails: readonly string[]): Promise<string> {
  return (await acceptable(ctx, by, emails))().email;
}

export async function acceptInvitation(ctx: VaultContext, by: InvitationKey, emails: readonly string[], name: string | null = null): Promise<AcceptedInvitation> {
  const check = await acceptable(ctx, by, emails);
  return ctx.storage.transactionSync(() => {
    const inv = check();
    const former = ctx.sql.exec(`SELECT id FROM members WHERE email = ?`, inv.email).toArray()[0];
    const memberId = former ? String(former.id) : newId("mem");
    if (former) ctx.sql.exec(`UPDATE members SET role = ?, removed_at = NULL WHERE id = ?`, inv.role, memberId);
    else ctx.sql.exec(`INSERT INTO members (id, email, name, role, created_at) VALUES (?, ?, ?, ?, ?)`, memberId, inv.email, memberDisplayName(name, inv.email), inv.role, ctx.now);
    for (const pr of InvitationProjects.parse(JSON.parse(inv.projects))) {
      // A project deleted since the invitation is skipped, not an error.
      ctx.sql.exec(`INSERT OR REPLACE INTO project_members (project, member_id, role) SELECT slug, ?, ? FROM projects WHERE slug = ?`, memberId, ProjectRole.parse(pr.role), pr.project);
    }
    ctx.sql.exec(`UPDATE invitations SET accepted_at = ?, accepted_by = ? WHERE id = ?`, ctx.now, memberId, inv.id);
    // Other open invitations of the same person are moot now.
    ctx.sql.exec(`UPDATE invitations SET revoked_at = ? WHERE email = ? AND id != ? AND ${PENDING}`, ctx.now, inv.email, inv.id);
    const actor: Actor = { kind: "user", tokenId: `invitation:${inv.id}`, principal: loadPrincipal(ctx, memberId) };
    writeAudit(ctx, actor, { action: "invitation.accept", target: inv.id, detail: { email: inv.email, role: inv.role, member: memberId } });
    return { org: readOrg(ctx.sql)!, member: liveMember(ctx, "id", memberId)! };
  });
}

// ---- members ----

function target(ctx: VaultContext, id: string): Member {
  const m = liveMember(ctx, "id", id);
  if (!m) throw new AppError("not_found", `There is no member \`${id}\`.`, { fix: "List members with `keystroke members list`.", details: { field: "id" } });
  return m;
}

function lastOwner(ctx: VaultContext, m: Member, action: string): void {
  if (m.role === "owner" && ownerCount(ctx) <= 1) {
    throw new AppError("conflict", `${m.email} is the organization's last owner.`, { fix: "Make another member an owner first.", details: { field: action === "member.remove" ? "id" : "role" } });
  }
}

/** Owners change any role, admins only builders' (and never to owner), nobody their own. */
export function changeMemberRole(ctx: VaultContext, actor: Actor, p: Principal, id: string, role: Role): Member {
  // No await from here to the write: with the caller's role loaded by this same call, the checks
  // and the write see one state, whatever else is queued at the vault.
  const m = target(ctx, id);
  if (m.id === p.member) denied(ctx, actor, "member.role_change", id, "Nobody changes their own role.", "id");
  if (!mayManage(p, m)) denied(ctx, actor, "member.role_change", id, `You may not change the role of an ${m.role}.`, "id");
  if (!mayGrant(p, role)) denied(ctx, actor, "member.role_change", id, "Only owners make owners.", "role");
  if (m.role === role) return m;
  return ctx.storage.transactionSync(() => {
    if (role !== "owner") lastOwner(ctx, m, "member.role_change");
    ctx.sql.exec(`UPDATE members SET role = ? WHERE id = ?`, role, id);
    writeAudit(ctx, actor, { action: "member.role_change", target: id, detail: { email: m.email, from: m.role, to: role } });
    return { ...m, role };
  });
}

type Upstream = (app: string, tokens: Record<string, string>, credentialId: string) => Promise<boolean>;

/**
 * Offboarding, in one transaction: the member's tokens (web sessions, CLI, API keys) revoked,
 * their user credentials revoked (sealed fields destroyed), their pending connect sessions failed,
 * their CLI logins dropped, their project memberships gone, the row marked removed. Credentials
 * they made at org or project scope stay. Upstream revocation follows, best effort and audited.
 * Owners remove anyone, admins builders; anyone may leave (remove themselves) unless last owner.
 */
export async function removeMember(ctx: VaultContext, actor: Actor, p: Principal, id: string, upstream: Upstream): Promise<RemovedMember> {
  const check = (caller: Principal) => {
    const m = target(ctx, id);
    if (m.id !== caller.member && !mayManage(caller, m)) denied(ctx, actor, "member.remove", id, `You may not remove an ${m.role}.`, "id");
    lastOwner(ctx, m, "member.remove");
    return m;
  };
  check(p);
  // OAuth tokens are read before they are destroyed, to revoke them at the provider afterwards.
  const oauth = ctx.sql.exec(`SELECT id, app FROM credentials WHERE scope_type = 'user' AND scope_id = ? AND kind = 'oauth' AND status != 'revoked'`, id).toArray();
  const grants: { id: string; app: string; tokens: Record<string, string> }[] = [];
  for (const c of oauth) grants.push({ id: String(c.id), app: String(c.app), tokens: await openFields(ctx, String(c.id)) });

  const result = ctx.storage.transactionSync(() => {
    // Re-checked: the awaits above let other requests run (a concurrent removal or demotion).
    const m = check(loadPrincipal(ctx, p.member));
    const tokens = ctx.sql.exec(`UPDATE tokens SET revoked_at = ? WHERE member_id = ? AND revoked_at IS NULL RETURNING id`, ctx.now, id).toArray().length;
    const creds = ctx.sql.exec(`SELECT id, app, slug FROM credentials WHERE scope_type = 'user' AND scope_id = ? AND status != 'revoked'`, id).toArray();
    for (const c of creds) {
      ctx.sql.exec(`DELETE FROM secret_fields WHERE credential_id = ?`, c.id);
      ctx.sql.exec(`UPDATE credentials SET status = 'revoked', health = NULL, status_reason = 'member_offboarded', is_default = 0, preview = NULL, revoked_at = ?, updated_at = ? WHERE id = ?`, ctx.now, ctx.now, c.id);
      writeAudit(ctx, actor, { action: "credential.revoke", credentialId: String(c.id), target: `user:${id}`, detail: { app: String(c.app), slug: String(c.slug), reason: "member_removed" } });
    }
    const ended = ctx.sql
      .exec(`UPDATE connect_sessions SET status = 'failed', error = ?, finished_at = ? WHERE member_id = ? AND status = 'pending' RETURNING id, app`, "The member was removed from the organization.", ctx.now, id)
      .toArray();
    // Each one a connect_session.failed event, as any failed session is.
    for (const r of ended) writeAudit(ctx, actor, { action: "connect.fail", outcome: "failed", target: String(r.id), detail: { app: String(r.app), reason: "The member was removed from the organization." } });
    const sessions = ended.length;
    ctx.sql.exec(`UPDATE oauth_states SET consumed_at = ? WHERE consumed_at IS NULL AND session_id IN (SELECT id FROM connect_sessions WHERE member_id = ?)`, ctx.now, id);
    ctx.sql.exec(`DELETE FROM cli_logins WHERE member_id = ?`, id);
    ctx.sql.exec(`DELETE FROM project_members WHERE member_id = ?`, id);
    ctx.sql.exec(`UPDATE members SET removed_at = ? WHERE id = ?`, ctx.now, id);
    const revokedIds = new Set(creds.map((c) => String(c.id)));
    writeAudit(ctx, actor, { action: "member.remove", target: id, detail: { email: m.email, role: m.role, tokens_revoked: tokens, credentials_revoked: creds.length, connect_sessions_failed: sessions } });
    return { removed: { member: m, tokens_revoked: tokens, credentials_revoked: creds.length, connect_sessions_failed: sessions }, revokedIds };
  });
  for (const g of grants) {
    if (!result.revokedIds.has(g.id)) continue;
    const ok = await upstream(g.app, g.tokens, g.id).catch(() => false);
    writeAudit({ ...ctx, now: Date.now() }, actor, { action: "credential.revoke_upstream", outcome: ok ? "ok" : "failed", credentialId: g.id, target: `user:${id}`, detail: { app: g.app } });
  }
  return result.removed;
}
