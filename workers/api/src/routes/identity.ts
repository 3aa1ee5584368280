import { createRoute, z } from "@hono/zod-openapi";
import { ApiKey, CreateApiKeyBody, CreatedApiKey, Me, Member, Project } from "../../../../lib/schemas/identity";
import { BEARER, ERRORS, json, jsonBody, router } from "../http/openapi";
import { unwrap, vaultFor } from "../http/vault";

const KeyParam = z.object({ id: z.string().regex(/^key_[a-z2-7]{20}$/, "must be an API key id (key_...)") });

export const identity = router()
  .openapi(
    createRoute({ method: "get", path: "/v1/me", tags: ["identity"], security: BEARER, summary: "Who am I", responses: { 200: json(Me), ...ERRORS } }),
    async (c) => {
      const { token, vault } = vaultFor(c);
      return c.json(unwrap(await vault.me(token)), 200);
    },
  )
  .openapi(
    createRoute({ method: "get", path: "/v1/projects", tags: ["identity"], security: BEARER, summary: "Projects the caller can see", responses: { 200: json(z.object({ projects: z.array(Project) })), ...ERRORS } }),
    async (c) => {
      const { token, vault } = vaultFor(c);
      return c.json(unwrap(await vault.projects(token)), 200);
    },
  )
  .openapi(
    createRoute({ method: "get", path: "/v1/members", tags: ["identity"], security: BEARER, summary: "Members of the org", responses: { 200: json(z.object({ members: z.array(Member) })), ...ERRORS } }),
    async (c) => {
      const { token, vault } = vaultFor(c);
      return c.json(unwrap(await vault.members(token)), 200);
    },
  )
  .openapi(
    createRoute({ method: "post", path: "/v1/api-keys", tags: ["api-keys"], security: BEARER, summary: "Create an API key (shown once)", request: { body: jsonBody(CreateApiKeyBody) }, responses: { 201: json(CreatedApiKey), ...ERRORS } }),
    async (c) => {
      const { token, vault } = vaultFor(c);
      return c.json(unwrap(await vault.createApiKey(token, c.req.valid("json").name)), 201);
    },
  )
  .openapi(
    createRoute({ method: "get", path: "/v1/api-keys", tags: ["api-keys"], security: BEARER, summary: "List API keys (previews only)", responses: { 200: json(z.object({ api_keys: z.array(ApiKey) })), ...ERRORS } }),
    async (c) => {
      const { token, vault } = vaultFor(c);
      return c.json(unwrap(await vault.listApiKeys(token)), 200);
    },
  )
  .openapi(
    createRoute({ method: "delete", path: "/v1/api-keys/{id}", tags: ["api-keys"], security: BEARER, summary: "Revoke an API key", request: { params: KeyParam }, responses: { 200: json(ApiKey), ...ERRORS } }),
    async (c) => {
      const { token, vault } = vaultFor(c);
      return c.json(unwrap(await vault.revokeApiKey(token, c.req.valid("param").id)), 200);
    },
  );
