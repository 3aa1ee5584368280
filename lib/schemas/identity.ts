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

export const CreateApiKeyBody = z.strictObject({ name: Name });
export type CreateApiKeyBody = z.infer<typeof CreateApiKeyBody>;
export const CreatedApiKey = ApiKey.extend({ key: z.string().describe("shown once") });
