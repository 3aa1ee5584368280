import { createRoute } from "@hono/zod-openapi";
import { AuditPage, AuditQuery } from "../../../../lib/schemas/audit";
import { BEARER, ERRORS, json, router } from "../http/openapi";
import { unwrap, vaultFor } from "../http/vault";

export const audit = router().openapi(
  createRoute({ method: "get", path: "/v1/audit", tags: ["audit"], security: BEARER, operationId: "listAuditEntries", summary: "List audit entries", description: "The org's audit log, newest first, filtered by action, actor, credential and time; page with `next_cursor`.", request: { query: AuditQuery }, responses: { 200: json(AuditPage), ...ERRORS } }),
  async (c) => {
    const { token, vault } = vaultFor(c);
    return c.json(unwrap(await vault.queryAudit(token, c.req.valid("query"))), 200);
  },
);
