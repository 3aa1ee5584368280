import { createRoute, z } from "@hono/zod-openapi";
import { ApiKey, CreateApiKeyBody, CreatedApiKey, Me, Member, MyToken, Project, RevokedToken, TokenId } from "../../../../lib/schemas/identity";
import { BEARER, ERRORS, json, jsonBody, router } from "../http/openapi";
import { unwrap, vaultFor } from "../http/vault";
import { NextCursor, PageQuery } from "../../../../lib/paging";

const KeyParam = z.object({ id: z.string().regex(/^key_[a-z2-7]{20}$/, "must be an API key id (key_...)") });

export const identity = router()
  .openapi(
    createRoute({ method: "get", path: "/v1/me", tags: ["identity"], security: BEARER, operationId: "getMe", summary: "Who am I", description: "The caller behind the token (member or API key), its org and its role.", responses: { 200: json(Me), ...ERRORS } }),
    async (c) => {
      const { token, vault } = vaultFor(c);
      return c.json(unwrap(await vault.describeMe(token)), 200);
    },
  )
  .openapi(
    createRoute({ method: "get", path: "/v1/me/tokens", tags: ["identity"], security: BEARER, operationId: "listMyTokens", summary: "List my tokens", description: "The caller's live tokens (web sessions, CLI logins, API keys): id, kind, label, preview, created, last used, expires. Never a token or its hash (SPEC section 12).", request: { query: PageQuery }, responses: { 200: json(z.object({ tokens: z.array(MyToken), next_cursor: NextCursor })), ...ERRORS } }),
    async (c) => {
      const { token, vault } = vaultFor(c);
      c.header("cache-control", "no-store");
      return c.json(unwrap(await vault.listMyTokens(token, c.req.valid("query"))), 200);
    },
  )
  .openapi(
    createRoute({ method: "delete", path: "/v1/me/tokens/{id}", tags: ["identity"], security: BEARER, operationId: "revokeMyToken", summary: "Revoke one of my tokens", description: "Revokes one of the caller's own live tokens (the calling one included). Another member's token answers 404.", request: { params: z.object({ id: TokenId }) }, responses: { 200: json(RevokedToken), ...ERRORS } }),
    async (c) => {
      const { token, vault } = vaultFor(c);
      return c.json(unwrap(await vault.revokeMyToken(token, c.req.valid("param").id)), 200);
    },
  )
  .openapi(
    createRoute({ method: "get", path: "/v1/projects", tags: ["identity"], security: BEARER, operationId: "listProjects", summary: "List projects", description: "Projects the caller can see: the project targets of credentials and pins.", request: { query: PageQuery }, responses: { 200: json(z.object({ projects: z.array(Project), next_cursor: NextCursor })), ...ERRORS } }),
    async (c) => {
      const { token, vault } = vaultFor(c);
      return c.json(unwrap(await vault.listProjects(token, c.req.valid("query"))), 200);
    },
  )
  .openapi(
    createRoute({ method: "get", path: "/v1/members", tags: ["identity"], security: BEARER, operationId: "listMembers", summary: "List members", description: "Members of the org, with their org role.", request: { query: PageQuery }, responses: { 200: json(z.object({ members: z.array(Member), next_cursor: NextCursor })), ...ERRORS } }),
    async (c) => {
      const { token, vault } = vaultFor(c);
      return c.json(unwrap(await vault.listMembers(token, c.req.valid("query"))), 200);
    },
  )
  .openapi(
    createRoute({ method: "post", path: "/v1/api-keys", tags: ["api-keys"], security: BEARER, operationId: "createApiKey", summary: "Create an API key", description: "Creates an org API key. The key is in this answer only; later lists show its preview.", request: { body: jsonBody(CreateApiKeyBody) }, responses: { 201: json(CreatedApiKey), ...ERRORS } }),
    async (c) => {
      const { token, vault } = vaultFor(c);
      return c.json(unwrap(await vault.createApiKey(token, c.req.valid("json").name)), 201);
    },
  )
  .openapi(
    createRoute({ method: "get", path: "/v1/api-keys", tags: ["api-keys"], security: BEARER, operationId: "listApiKeys", summary: "List API keys", description: "The org's API keys, previews only, never a key.", request: { query: PageQuery }, responses: { 200: json(z.object({ api_keys: z.array(ApiKey), next_cursor: NextCursor })), ...ERRORS } }),
    async (c) => {
      const { token, vault } = vaultFor(c);
      return c.json(unwrap(await vault.listApiKeys(token, c.req.valid("query"))), 200);
    },
  )
  .openapi(
    createRoute({ method: "delete", path: "/v1/api-keys/{id}", tags: ["api-keys"], security: BEARER, operationId: "revokeApiKey", summary: "Revoke an API key", description: "Revokes the key at once: requests that send it are refused from then on.", request: { params: KeyParam }, responses: { 200: json(ApiKey), ...ERRORS } }),
    async (c) => {
      const { token, vault } = vaultFor(c);
      return c.json(unwrap(await vault.revokeApiKey(token, c.req.valid("param").id)), 200);
    },
  );
