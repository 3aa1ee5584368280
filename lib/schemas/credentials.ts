import { z } from "zod";
import { PageQuery } from "../paging";
import { Fields, safeText, Scope, Slug, SLUG_SOURCE, Target, Timestamp } from "./common";
import { Connection } from "./connection";

/**
 * Health (SPEC section 14): `expiring` is still handed out; `needs_reauth` (OAuth: reconnect) and
 * `invalid` (the provider refused the key: set a working one) never are.
 */
export const CredentialStatus = z.enum(["active", "expiring", "needs_reauth", "invalid", "revoked"]);
export type CredentialStatus = z.infer<typeof CredentialStatus>;
/** Why a credential is not plainly active: a closed set, so views and webhooks can branch on it. */
export const StatusReason = z.enum([
  "invalid_grant",
  "refresh_failed",
  "probe_unauthorized",
  "expires_soon",
  "revoked_by_member",
  "member_offboarded",
  "installation_removed",
  "project_deleted",
  // The provider refused the token when it was used (Slack: invalid_auth, token_revoked, account_inactive).
  "token_refused",
]);
export type StatusReason = z.infer<typeof StatusReason>;
/** What the last failed check or refresh met; composed here, never a provider's body. */
export const HealthErrorCode = z.enum(["unauthorized", "refused", "server_error", "unexpected_status", "timeout", "unreachable", "invalid_grant", "refresh_failed"]);
export type HealthErrorCode = z.infer<typeof HealthErrorCode>;
export const LastError = z.object({ at: Timestamp, code: HealthErrorCode, message: z.string() });
export type LastError = z.infer<typeof LastError>;
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
  status_reason: StatusReason.nullable(),
  last_error: LastError.nullable().describe("the last failed check or refresh; cleared when one succeeds"),
  checked_at: Timestamp.nullable().describe("when a probe or refresh last gave a verdict"),
  preview: z.string().nullable(),
  account: Account.nullable(),
  scopes: z.array(z.string()).describe("the scopes granted (the token answer's, else those asked for)"),
  requested_scopes: z.array(z.string()).describe("the scopes the last connect asked for"),
  connection: Connection,
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
  verify: z.boolean().optional().describe("run the app's probe first (default true); false stores the key unchecked"),
});
export type SetCredentialsBody = z.infer<typeof SetCredentialsBody>;

export const UpdateCredentialBody = z
  .strictObject({ name: Name.optional(), slug: Slug.optional(), default: z.boolean().optional() })
  .refine((b) => b.name !== undefined || b.slug !== undefined || b.default !== undefined, "give name, slug or default");
export type UpdateCredentialBody = z.infer<typeof UpdateCredentialBody>;

export const RotateCredentialBody = z.strictObject({
  fields: Fields,
  verify: z.boolean().optional().describe("run the app's probe on the new value first (default true)"),
});
export type RotateCredentialBody = z.infer<typeof RotateCredentialBody>;

/** `scope=` filter: org, user, project, or project:<slug>. */
export const ScopeFilter = z
  .string()
  .regex(new RegExp(`^(org|user|project)(:${SLUG_SOURCE})?$`), "must be org, user, project or project:<slug>");

export const ListCredentialsQuery = z.strictObject({
  app: Slug.optional(),
  scope: ScopeFilter.optional(),
  status: CredentialStatus.optional(),
  attention: z.enum(["true", "false"]).optional().describe("true: only credentials that need attention (expiring, needs_reauth, invalid, or a failing check)"),
  ...PageQuery.shape,
});
export type ListCredentialsQuery = z.infer<typeof ListCredentialsQuery>;

/** What one probe said about a credential's value (set, rotate, check). */
export const CheckResult = z.object({
  id: z.string(),
  ref: z.string(),
  result: z.enum(["works", "refused", "unknown", "skipped"]).describe("works: the provider accepted it; refused: 401/403 or an error body (now invalid); unknown: a timeout or 5xx (only last_error); skipped: not checked"),
  message: z.string(),
});
export type CheckResult = z.infer<typeof CheckResult>;
export const CheckAnswer = z.object({ credential: Credential, check: CheckResult });
/** Set and rotate say whether the key works (SPEC section 14): the probe's verdict per credential. */
export const SetAnswer = z.object({ credentials: z.array(Credential), checks: z.array(CheckResult) });
export type SetAnswer = z.infer<typeof SetAnswer>;
export const RotateAnswer = Credential.extend({ check: CheckResult });
export type RotateAnswer = z.infer<typeof RotateAnswer>;
export type CheckAnswer = z.infer<typeof CheckAnswer>;
