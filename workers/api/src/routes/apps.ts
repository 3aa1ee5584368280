import { createRoute, z } from "@hono/zod-openapi";
import { AppSummary, AppsQuery } from "../../../../lib/schemas/apps";
import { BEARER, ERRORS, json, router } from "../http/openapi";
import { unwrap, vaultFor } from "../http/vault";

export const apps = router().openapi(
  createRoute({ method: "get", path: "/v1/apps", tags: ["apps"], security: BEARER, summary: "The catalog and the org's custom apps", request: { query: AppsQuery }, responses: { 200: json(z.object({ apps: z.array(AppSummary) })), ...ERRORS } }),
  async (c) => {
    const { token, vault } = vaultFor(c);
    return c.json(unwrap(await vault.apps(token, c.req.valid("query").search)), 200);
  },
);
