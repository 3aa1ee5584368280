import { z } from "zod";
import { Fields, safeText, Scope, Slug, SLUG_SOURCE, Target, Timestamp } from "./common";

export const CredentialStatus = z.enum(["active", "needs_reauth", "revoked"]);
export type CredentialStatus = z.infer<typeof CredentialStatus>;
export const CredentialKind = z.enum(["oauth", "api_key"]);

export const Account = z.object({ id: z.string(), email: z.string().optional(), name: z.string().optional() });
export type Account = z.infer<typeof Account>;

/** The credential as every API shows it: never a secret, only a masked preview. */
export const Credential = z.object({
  id: z.string(),
  ref: z.string().describe("fully qualified reference, e.g. linear/project/support/work"),
  app: z.string(),
  slug: Slug,
  name: z.string(),
  scope: Scope,
  default: z.boolean(),
  kind: CredentialKind,
  status: CredentialStatus,
  preview: z.string().nullable(),
  account: Account.nullable(),
  scopes: z.array(z.string()),
  expires_at: Timestamp.nullable(),
  created_by: z.string(),
  created_at: Timestamp,
  updated_at: Timestamp,
  rotated_at: Timestamp.nullable(),
  last_used_at: Timestamp.nullable(),
});
export type Credential = z.infer<typeof Credential>;

/** Display names (credentials, API keys, connect sessions): free text, but never control or bidi characters. */
export const Name = safeText(z.string().trim().min(1, "must not be empty").max(200, "must be at most 200 characters"));

export const SetCredentialsBody = z.strictObject({
  app: Slug,
  fields: Fields,
  targets: z.array(Target).min(1, "name at least one target").max(50, "at most 50 targets").optional(),
  slug: Slug.optional(),
  name: Name.optional(),
});
export type SetCredentialsBody = z.infer<typeof SetCredentialsBody>;

export const UpdateCredentialBody = z
  .strictObject({ name: Name.optional(), slug: Slug.optional(), default: z.boolean().optional() })
  .refine((b) => b.name !== undefined || b.slug !== undefined || b.default !== undefined, "give name, slug or default");
export type UpdateCredentialBody = z.infer<typeof UpdateCredentialBody>;

export const RotateCredentialBody = z.strictObject({ fields: Fields });
export type RotateCredentialBody = z.infer<typeof RotateCredentialBody>;

/** `scope=` filter: org, user, project, or project:<slug>. */
export const ScopeFilter = z
  .string()
  .regex(new RegExp(`^(org|user|project)(:${SLUG_SOURCE})?$`), "must be org, user, project or project:<slug>");

export const ListCredentialsQuery = z.strictObject({
  app: Slug.optional(),
  scope: ScopeFilter.optional(),
  status: CredentialStatus.optional(),
});
export type ListCredentialsQuery = z.infer<typeof ListCredentialsQuery>;
