import { createRoute, z } from "@hono/zod-openapi";
import { AppParam, AppSummary, AppsQuery, UpdateCustomAppBody } from "../../../../lib/schemas/apps";
import { BEARER, ERRORS, json, jsonBody, router } from "../http/openapi";
import { unwrap, vaultFor } from "../http/vault";

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
  );
