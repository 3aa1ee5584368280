import { z } from "zod";
import { Member, Org } from "./identity";
import { Email } from "./orgs";
import { ProjectRole, Role, safeText, Slug, Timestamp } from "./common";

/** `POST /v1/invitations` (SPEC section 12). */
export const CreateInvitationBody = z.strictObject({
  email: Email,
  role: Role,
  projects: z.array(z.strictObject({ project: Slug, role: ProjectRole })).max(100).optional().describe("project memberships the new member gets on accepting"),
});
export type CreateInvitationBody = z.infer<typeof CreateInvitationBody>;

/** An invitation as lists show it: never its link or secret. */
export const Invitation = z.object({
  id: z.string(),
  email: z.string(),
  role: Role,
  projects: z.array(z.object({ project: z.string(), role: ProjectRole })),
  invited_by: z.string().nullable().describe("member id; null when the operator invited (POST /v1/orgs)"),
  status: z.enum(["pending", "expired"]),
  created_at: Timestamp,
  expires_at: Timestamp,
});
export type Invitation = z.infer<typeof Invitation>;

export const InvitationId = z.string().regex(/^inv_[a-z2-7]{20}$/, "must be an invitation id (inv_...)");
export const MemberId = z.string().regex(/^mem_[a-z2-7]{20}$/, "must be a member id (mem_...)");

export const UpdateMemberBody = z.strictObject({ role: Role });
export type UpdateMemberBody = z.infer<typeof UpdateMemberBody>;

/** What offboarding did, in counts (SPEC section 12). */
export const RemovedMember = z.object({
  member: Member,
  tokens_revoked: z.number().int(),
  credentials_revoked: z.number().int(),
  connect_sessions_failed: z.number().int(),
});
export type RemovedMember = z.infer<typeof RemovedMember>;

/**
 * A member's display name, as accepting an invitation takes it from the person's GitHub account
 * (their login; the dev seed gives the demo names). Not typed into a form: one that breaks these
 * rules is dropped and the member is named by their email instead.
 */
export const MemberName = safeText(z.string().trim().min(1, "must not be empty").max(100, "must be at most 100 characters"));

/** The link's secret part (after `<orgId>.`) and the signed-in user's verified emails. */
export const AcceptedInvitation = z.object({ org: Org, member: Member });
export type AcceptedInvitation = z.infer<typeof AcceptedInvitation>;
