import { createRoute, z } from "@hono/zod-openapi";
import { AppParam, AppSummary, AppsQuery, UpdateCustomAppBody } from "../../../../lib/schemas/apps";
import { CreateCustomAppBody, OAuthClientSettings, PutOAuthClientBody } from "../../../../lib/schemas/oauth-clients";
import { BEARER, ERRORS, json, jsonBody, router } from "../http/openapi";
import { publicUrl, unwrap, vaultFor } from "../http/vault";

export const apps = router()
  .openapi(
  createRoute({ method: "get", path: "/v1/apps", tags: ["apps"], security: BEARER, operationId: "listApps", summary: "List apps", description: "The catalog and the org's custom apps, optionally filtered by `search`.", request: { query: AppsQuery }, responses: { 200: json(z.object({ apps: z.array(AppSummary) })), ...ERRORS } }),
  async (c) => {
    const { token, vault } = vaultFor(c);
    return c.json(unwrap(await vault.listApps(token, c.req.valid("query").search)), 200);
  },
)
  .openapi(
    createRoute({
      method: "patch", path: "/v1/apps/{slug}", tags: ["apps"], security: BEARER, operationId: "updateCustomApp", summary: "Edit a custom app",
      description: "Org owners and admins only: replace a custom app's field list. Stored credentials keep their values; later sets and rotations use the new fields. Catalog apps cannot be edited.",
      request: { params: AppParam, body: jsonBody(UpdateCustomAppBody) }, responses: { 200: json(AppSummary), ...ERRORS },
    }),
    async (c) => {
      const { token, vault } = vaultFor(c);
      return c.json(unwrap(await vault.updateCustomApp(token, c.req.valid("param").slug, c.req.valid("json"))), 200);
    },
  )
  .openapi(
    createRoute({
      method: "delete", path: "/v1/apps/{slug}", tags: ["apps"], security: BEARER, operationId: "deleteCustomApp", summary: "Delete a custom app",
      description: "Org owners and admins only. Refused with 409 while any credential of the app is live (at any scope): revoke them first.",
      request: { params: AppParam }, responses: { 200: json(z.object({ deleted: AppSummary })), ...ERRORS },
    }),
    async (c) => {
      const { token, vault } = vaultFor(c);
      return c.json(unwrap(await vault.deleteCustomApp(token, c.req.valid("param").slug)), 200);
    },
  )
  .openapi(
    createRoute({
      method: "post", path: "/v1/apps", tags: ["apps"], security: BEARER, operationId: "createCustomApp", summary: "Create a custom OAuth app",
      description: "Org owners and admins only: an org-local OAuth app. It connects once an admin saves its OAuth client with its endpoints (`PUT /v1/apps/{slug}/oauth-client`).",
      request: { body: jsonBody(CreateCustomAppBody) }, responses: { 201: json(AppSummary, "Created"), ...ERRORS },
    }),
    async (c) => {
      const { token, vault } = vaultFor(c);
      return c.json(unwrap(await vault.createCustomApp(token, c.req.valid("json"))), 201);
    },
  )
  .openapi(
    createRoute({
      method: "get", path: "/v1/apps/{slug}/oauth-client", tags: ["apps"], security: BEARER, operationId: "getOAuthClient", summary: "Show an app's OAuth client",
      description: "Org owners and admins only: the organization's own OAuth client of the app (never its secret), the redirect URI to register at the provider, and which client connecting uses now.",
      request: { params: AppParam }, responses: { 200: json(OAuthClientSettings), ...ERRORS },
    }),
    async (c) => {
      const { token, vault } = vaultFor(c);
      return c.json(unwrap(await vault.getOAuthClient(token, c.req.valid("param").slug, publicUrl(c))), 200);
    },
  )
  .openapi(
    createRoute({
      method: "put", path: "/v1/apps/{slug}/oauth-client", tags: ["apps"], security: BEARER, operationId: "putOAuthClient", summary: "Register or replace an app's OAuth client",
      description: "Org owners and admins only. The secret is sealed and never answered. Endpoints (self-hosted and generic providers) must be public https URLs. The same client_id keeps its credentials refreshing; another client_id makes credentials of the old one need a reconnect.",
      request: { params: AppParam, body: jsonBody(PutOAuthClientBody) }, responses: { 200: json(OAuthClientSettings), ...ERRORS },
    }),
    async (c) => {
      const { token, vault } = vaultFor(c);
      return c.json(unwrap(await vault.putOAuthClient(token, c.req.valid("param").slug, c.req.valid("json"), publicUrl(c))), 200);
    },
  )
  .openapi(
    createRoute({
      method: "delete", path: "/v1/apps/{slug}/oauth-client", tags: ["apps"], security: BEARER, operationId: "deleteOAuthClient", summary: "Remove an app's OAuth client",
      description: "Org owners and admins only. Connecting then uses the platform's client, or is refused when there is none; credentials made with the removed client need a reconnect at their next refresh.",
      request: { params: AppParam }, responses: { 200: json(OAuthClientSettings), ...ERRORS },
    }),
    async (c) => {
      const { token, vault } = vaultFor(c);
      return c.json(unwrap(await vault.deleteOAuthClient(token, c.req.valid("param").slug, publicUrl(c))), 200);
    },
  );
