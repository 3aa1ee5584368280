import { z } from "zod";
import { Name } from "./credentials";
import { ProjectRole, Role, Timestamp, TokenKind } from "./common";

export const Member = z.object({ id: z.string(), email: z.string(), name: z.string(), role: Role });
export type Member = z.infer<typeof Member>;

export const Project = z.object({
  slug: z.string(),
  name: z.string(),
  role: ProjectRole.nullable().describe("the caller's role in the project; null for org admins who are not members"),
  members: z.array(z.object({ member: z.string(), role: ProjectRole })),
});
export type Project = z.infer<typeof Project>;

export const Org = z.object({ id: z.string(), slug: z.string(), name: z.string() });
export type Org = z.infer<typeof Org>;

export const Me = z.object({
  org: Org,
  member: Member.nullable(),
  token: z.object({ kind: TokenKind, expires_at: Timestamp.nullable() }),
  projects: z.array(z.object({ slug: z.string(), role: ProjectRole.nullable() })),
});
export type Me = z.infer<typeof Me>;

export const ApiKey = z.object({
  id: z.string(),
  name: z.string(),
  preview: z.string(),
  member: z.string(),
  created_at: Timestamp,
  last_used_at: Timestamp.nullable(),
  revoked_at: Timestamp.nullable(),
});
export type ApiKey = z.infer<typeof ApiKey>;

/** `GET /v1/me/tokens` (SPEC section 12): one of the caller's live tokens. Never the token or its hash. */
export const MyToken = z.object({
  id: z.string(),
  kind: TokenKind,
  name: z.string().describe("the label: `web session (…)`, `cli login`, or the API key's name"),
  preview: z.string().describe("`ks_<kind>_…` and the last 4 characters, to tell tokens apart"),
  current: z.boolean().describe("true for the token that made this request"),
  created_at: Timestamp,
  last_used_at: Timestamp.nullable(),
  expires_at: Timestamp.nullable(),
});
export type MyToken = z.infer<typeof MyToken>;
export const RevokedToken = MyToken.extend({ revoked_at: Timestamp });
export type RevokedToken = z.infer<typeof RevokedToken>;
/** Token ids: `tok_…` (sessions, CLI logins, seeded tokens) and `key_…` (API keys). */
export const TokenId = z.string().regex(/^(tok|key)_[a-z2-7]{20}$/, "must be a token id (tok_... or key_...)");

export const CreateApiKeyBody = z.strictObject({ name: Name });
export type CreateApiKeyBody = z.infer<typeof CreateApiKeyBody>;
export const CreatedApiKey = ApiKey.extend({ key: z.string().describe("shown once") });
