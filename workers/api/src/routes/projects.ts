import { createRoute, z } from "@hono/zod-openapi";
import { Slug } from "../../../../lib/schemas/common";
import { Project } from "../../../../lib/schemas/identity";
import { CreateProjectBody, DeletedProject, ProjectMembership, PutProjectMemberBody, RenameProjectBody } from "../../../../lib/schemas/projects";
import { BEARER, ERRORS, json, jsonBody, router } from "../http/openapi";
import { unwrap, vaultFor } from "../http/vault";

const SlugParam = z.object({ slug: Slug });
const MemberParams = z.object({ slug: Slug, member: z.string().min(1).max(320).describe("a member id (mem_…) or email") });
const DeleteQuery = z.object({ force: z.enum(["true", "false"]).optional().describe("`true`: revoke the project's credentials and remove its pins and channel bindings too") });

/** Projects and project members (SPEC section 12); permissions are checked in the vault. */
export const projects = router()
  .openapi(
    createRoute({ method: "post", path: "/v1/projects", tags: ["projects"], security: BEARER, operationId: "createProject", summary: "Create a project", description: "Owners and admins. A slug that exists is a conflict naming `slug`.", request: { body: jsonBody(CreateProjectBody) }, responses: { 201: json(Project), ...ERRORS } }),
    async (c) => {
      const { token, vault } = vaultFor(c);
      return c.json(unwrap(await vault.createProject(token, c.req.valid("json"))), 201);
    },
  )
  .openapi(
    createRoute({ method: "patch", path: "/v1/projects/{slug}", tags: ["projects"], security: BEARER, operationId: "renameProject", summary: "Rename a project", description: "Owners and admins; the slug never changes.", request: { params: SlugParam, body: jsonBody(RenameProjectBody) }, responses: { 200: json(Project), ...ERRORS } }),
    async (c) => {
      const { token, vault } = vaultFor(c);
      return c.json(unwrap(await vault.renameProject(token, c.req.valid("param").slug, c.req.valid("json").name)), 200);
    },
  )
  .openapi(
    createRoute({ method: "delete", path: "/v1/projects/{slug}", tags: ["projects"], security: BEARER, operationId: "deleteProject", summary: "Delete a project", description: "Owners and admins. Refused (conflict) while the project has live credentials, assignments or Slack channel bindings, unless `force=true`, which revokes and removes them in the same transaction (OAuth grants are revoked at the provider afterwards, best effort).", request: { params: SlugParam, query: DeleteQuery }, responses: { 200: json(DeletedProject), ...ERRORS } }),
    async (c) => {
      const { token, vault } = vaultFor(c);
      return c.json(unwrap(await vault.deleteProject(token, c.req.valid("param").slug, c.req.valid("query").force === "true")), 200);
    },
  )
  .openapi(
    createRoute({ method: "put", path: "/v1/projects/{slug}/members/{member}", tags: ["projects"], security: BEARER, operationId: "putProjectMember", summary: "Add a project member or change their role", description: "Org owners and admins, and the project's admins.", request: { params: MemberParams, body: jsonBody(PutProjectMemberBody) }, responses: { 200: json(ProjectMembership), ...ERRORS } }),
    async (c) => {
      const { token, vault } = vaultFor(c);
      const { slug, member } = c.req.valid("param");
      return c.json(unwrap(await vault.putProjectMember(token, slug, member, c.req.valid("json").role)), 200);
    },
  )
  .openapi(
    createRoute({ method: "delete", path: "/v1/projects/{slug}/members/{member}", tags: ["projects"], security: BEARER, operationId: "removeProjectMember", summary: "Remove a project member", description: "Org owners and admins, and the project's admins. The member stays in the org.", request: { params: MemberParams }, responses: { 200: json(ProjectMembership), ...ERRORS } }),
    async (c) => {
      const { token, vault } = vaultFor(c);
      const { slug, member } = c.req.valid("param");
      return c.json(unwrap(await vault.removeProjectMember(token, slug, member)), 200);
    },
  );
