import { z } from "zod";
import type { Role } from "../../lib/schemas/common";
import type { CreatedInvitation } from "../../lib/schemas/orgs";
import { hashToken, newId } from "../../lib/tokens";
import { writeAudit } from "./audit";
import { iso, type Actor, type VaultContext } from "./context";

/** SPEC section 12: an invitation is good for 7 days, once. */
export const INVITATION_TTL_MS = 7 * 24 * 60 * 60 * 1000;

export const InvitationProjects = z.array(z.object({ project: z.string(), role: z.enum(["admin", "builder"]) }));

/**
 * Writes an invitation and answers its link once. The link's secret is 32 random bytes; only its
 * hash is stored. The link names the org (its id is signed, not secret) so the accepting worker
 * reaches the right vault: `<origin>/invitations/<orgId>.<secret>`. `inviter` null = the operator
 * (`POST /v1/orgs`). Who may invite whom is the caller's check, before this.
 */
export async function writeInvitation(
  ctx: VaultContext,
  inviter: Actor | null,
  spec: { email: string; role: Role; projects: z.infer<typeof InvitationProjects> },
  publicUrl: string,
): Promise<CreatedInvitation> {
  const bytes = crypto.getRandomValues(new Uint8Array(32));
  const secret = btoa(String.fromCharCode(...bytes)).replaceAll("+", "-").replaceAll("/", "_").replace(/=+$/, "");
  const secretHash = await hashToken(secret);
  const id = newId("inv");
  const email = spec.email.toLowerCase();
  const expiresAt = ctx.now + INVITATION_TTL_MS;
  ctx.storage.transactionSync(() => {
    ctx.sql.exec(
      `INSERT INTO invitations (id, secret_hash, email, role, projects, invited_by, created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
      id, secretHash, email, spec.role, JSON.stringify(spec.projects), inviter?.principal?.member ?? null, ctx.now, expiresAt,
    );
    writeAudit(ctx, inviter, { action: "invitation.created", target: id, detail: { email, role: spec.role, by: inviter ? "member" : "operator" } });
  });
  return { id, email, role: spec.role, url: `${publicUrl}/invitations/${ctx.orgId}.${secret}`, expires_at: iso(expiresAt)! };
}
