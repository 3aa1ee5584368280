import { z } from "zod";
import { Name } from "./credentials";
import { Org } from "./identity";
import { Role, Slug, Timestamp } from "./common";

/** An email as people type it; stored and matched lowercased (invitations match verified emails case-insensitively). */
export const Email = z.email("must be an email address").max(254).transform((s) => s.toLowerCase());

/** The operator's `POST /v1/orgs` (SPEC section 12). */
export const CreateOrgBody = z.strictObject({ slug: Slug, name: Name, owner_email: Email });
export type CreateOrgBody = z.infer<typeof CreateOrgBody>;

/** A new invitation: the link carries its secret, shown once. */
export const CreatedInvitation = z.object({
  id: z.string(),
  email: z.string(),
  role: Role,
  url: z.string().describe("the invitation link; its secret is in this answer only"),
  expires_at: Timestamp,
});
export type CreatedInvitation = z.infer<typeof CreatedInvitation>;

export const CreatedOrg = z.object({ org: Org, invitation: CreatedInvitation });
export type CreatedOrg = z.infer<typeof CreatedOrg>;

/** `GET /v1/me/orgs`: the orgs the caller's person belongs to; `current` is the token's own org. */
export const MyOrg = z.object({ id: z.string(), slug: z.string(), name: z.string(), current: z.boolean() });
export type MyOrg = z.infer<typeof MyOrg>;
export const MyOrgs = z.object({ orgs: z.array(MyOrg) });
export type MyOrgs = z.infer<typeof MyOrgs>;
