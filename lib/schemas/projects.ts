import { z } from "zod";
import { ProjectRole, safeText, Slug } from "./common";

/** Projects CRUD and project members (SPEC section 12). */
export const ProjectName = safeText(z.string().trim().min(1, "must not be empty").max(100, "must be at most 100 characters"));

export const CreateProjectBody = z.strictObject({ slug: Slug, name: ProjectName });
export type CreateProjectBody = z.infer<typeof CreateProjectBody>;
export const RenameProjectBody = z.strictObject({ name: ProjectName });
export type RenameProjectBody = z.infer<typeof RenameProjectBody>;
export const PutProjectMemberBody = z.strictObject({ role: ProjectRole });
export type PutProjectMemberBody = z.infer<typeof PutProjectMemberBody>;

/** What `DELETE /v1/projects/{slug}` removed (with `?force=true`, also what it revoked). */
export const DeletedProject = z.object({
  slug: z.string(),
  revoked_credentials: z.number().int(),
  removed_assignments: z.number().int(),
  removed_channel_bindings: z.number().int(),
});
export type DeletedProject = z.infer<typeof DeletedProject>;

export const ProjectMembership = z.object({ project: z.string(), member: z.string(), role: ProjectRole.nullable().describe("null once removed") });
export type ProjectMembership = z.infer<typeof ProjectMembership>;
