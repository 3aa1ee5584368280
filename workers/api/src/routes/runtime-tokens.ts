import { createRoute, z } from "@hono/zod-openapi";
import { MyToken, RevokedToken, TokenId } from "../../../../lib/schemas/identity";
import { CreatedRuntimeToken, CreateRuntimeTokenBody, RevokedRuntimeToken, RuntimeToken, RuntimeTokenId } from "../../../../lib/schemas/tokens";
import { BEARER, ERRORS, json, jsonBody, router } from "../http/openapi";
import { unwrap, vaultFor } from "../http/vault";
import { NextCursor, PageQuery } from "../../../../lib/paging";

const MemberId = z.string().regex(/^mem_[a-z2-7]{20}$/, "must be a member id (mem_...)");

/** Runtime tokens and every member's tokens (SPEC section 12): owners and admins, checked in the vault. */
export const runtimeTokens = router()
  .openapi(
    createRoute({ method: "post", path: "/v1/runtime-tokens", tags: ["runtime-tokens"], security: BEARER, operationId: "createRuntimeToken", summary: "Create a runtime token", description: "Owners and admins, with a member token. The token is in this answer only; several may be live, so rotating is create, switch, revoke.", request: { body: jsonBody(CreateRuntimeTokenBody) }, responses: { 201: json(CreatedRuntimeToken), ...ERRORS } }),
    async (c) => {
      const { token, vault } = vaultFor(c);
      return c.json(unwrap(await vault.createRuntimeToken(token, c.req.valid("json").name)), 201);
    },
  )
  .openapi(
    createRoute({ method: "get", path: "/v1/runtime-tokens", tags: ["runtime-tokens"], security: BEARER, operationId: "listRuntimeTokens", summary: "List runtime tokens", description: "The org's live runtime tokens (owners and admins): name, preview, who created it, created, last used. Never a token.", request: { query: PageQuery }, responses: { 200: json(z.object({ runtime_tokens: z.array(RuntimeToken), next_cursor: NextCursor })), ...ERRORS } }),
    async (c) => {
      const { token, vault } = vaultFor(c);
      return c.json(unwrap(await vault.listRuntimeTokens(token, c.req.valid("query"))), 200);
    },
  )
  .openapi(
    createRoute({ method: "delete", path: "/v1/runtime-tokens/{id}", tags: ["runtime-tokens"], security: BEARER, operationId: "revokeRuntimeToken", summary: "Revoke a runtime token", description: "Revokes it at once: the next runtime call with it is refused.", request: { params: z.object({ id: RuntimeTokenId }) }, responses: { 200: json(RevokedRuntimeToken), ...ERRORS } }),
    async (c) => {
      const { token, vault } = vaultFor(c);
      return c.json(unwrap(await vault.revokeRuntimeToken(token, c.req.valid("param").id)), 200);
    },
  )
  .openapi(
    createRoute({ method: "get", path: "/v1/members/{id}/tokens", tags: ["identity"], security: BEARER, operationId: "listMemberTokens", summary: "List a member's tokens", description: "Owners and admins: a member's live tokens (web sessions, CLI logins, API keys), as GET /v1/me/tokens shows them to that member.", request: { params: z.object({ id: MemberId }), query: PageQuery }, responses: { 200: json(z.object({ tokens: z.array(MyToken), next_cursor: NextCursor })), ...ERRORS } }),
    async (c) => {
      const { token, vault } = vaultFor(c);
      return c.json(unwrap(await vault.listMemberTokens(token, c.req.valid("param").id, c.req.valid("query"))), 200);
    },
  )
  .openapi(
    createRoute({ method: "delete", path: "/v1/members/{id}/tokens/{token}", tags: ["identity"], security: BEARER, operationId: "revokeMemberToken", summary: "Revoke a member's token", description: "Owners and admins: revokes one of a member's live tokens at once.", request: { params: z.object({ id: MemberId, token: TokenId }) }, responses: { 200: json(RevokedToken), ...ERRORS } }),
    async (c) => {
      const { token, vault } = vaultFor(c);
      const params = c.req.valid("param");
      return c.json(unwrap(await vault.revokeMemberToken(token, params.id, params.token)), 200);
    },
  );
