import { createRoute, z } from "@hono/zod-openapi";
import { Member } from "../../../../lib/schemas/identity";
import { CreateInvitationBody, Invitation, InvitationId, MemberId, RemovedMember, UpdateMemberBody } from "../../../../lib/schemas/members";
import { CreatedInvitation } from "../../../../lib/schemas/orgs";
import { BEARER, ERRORS, json, jsonBody, router } from "../http/openapi";
import { publicUrl, unwrap, vaultFor } from "../http/vault";
import { NextCursor, PageQuery } from "../../../../lib/paging";

/** Invitations and members (SPEC section 12); every rule is the vault's (vault/members.ts). */
export const members = router()
  .openapi(
    createRoute({ method: "post", path: "/v1/invitations", tags: ["members"], security: BEARER, operationId: "createInvitation", summary: "Invite a person", description: "Owners and admins invite an email with an org role (only owners invite owners) and optional project roles. The link (its secret) is in this answer only; it works once, for 7 days, for a signed-in user with that verified email.", request: { body: jsonBody(CreateInvitationBody) }, responses: { 201: json(CreatedInvitation), ...ERRORS } }),
    async (c) => {
      const { token, vault } = vaultFor(c);
      c.header("cache-control", "no-store");
      return c.json(unwrap(await vault.inviteMember(token, c.req.valid("json"), publicUrl(c))), 201);
    },
  )
  .openapi(
    createRoute({ method: "get", path: "/v1/invitations", tags: ["members"], security: BEARER, operationId: "listInvitations", summary: "List invitations", description: "Open invitations (pending or expired), newest first; never a link. Owners and admins.", request: { query: PageQuery }, responses: { 200: json(z.object({ invitations: z.array(Invitation), next_cursor: NextCursor })), ...ERRORS } }),
    async (c) => {
      const { token, vault } = vaultFor(c);
      return c.json(unwrap(await vault.listInvitations(token, c.req.valid("query"))), 200);
    },
  )
  .openapi(
    createRoute({ method: "delete", path: "/v1/invitations/{id}", tags: ["members"], security: BEARER, operationId: "revokeInvitation", summary: "Revoke an invitation", description: "The link stops working at once. Owners and admins; an owner invitation only by an owner.", request: { params: z.object({ id: InvitationId }) }, responses: { 200: json(Invitation), ...ERRORS } }),
    async (c) => {
      const { token, vault } = vaultFor(c);
      return c.json(unwrap(await vault.revokeInvitation(token, c.req.valid("param").id)), 200);
    },
  )
  .openapi(
    createRoute({ method: "patch", path: "/v1/members/{id}", tags: ["members"], security: BEARER, operationId: "updateMember", summary: "Change a member's role", description: "Owners change any role; admins only builders' (to builder or admin); nobody their own. Demoting the last owner is a conflict.", request: { params: z.object({ id: MemberId }), body: jsonBody(UpdateMemberBody) }, responses: { 200: json(Member), ...ERRORS } }),
    async (c) => {
      const { token, vault } = vaultFor(c);
      return c.json(unwrap(await vault.changeMemberRole(token, c.req.valid("param").id, c.req.valid("json").role)), 200);
    },
  )
  .openapi(
    createRoute({ method: "delete", path: "/v1/members/{id}", tags: ["members"], security: BEARER, operationId: "removeMember", summary: "Remove (offboard) a member", description: "In one transaction: every token of theirs revoked, their user credentials revoked (upstream too where the provider supports it), their pending connect sessions failed. Credentials they made at org or project scope stay. Owners remove anyone, admins builders, anyone themselves; the last owner never.", request: { params: z.object({ id: MemberId }) }, responses: { 200: json(RemovedMember), ...ERRORS } }),
    async (c) => {
      const { token, vault } = vaultFor(c);
      return c.json(unwrap(await vault.removeMember(token, c.req.valid("param").id)), 200);
    },
  );
