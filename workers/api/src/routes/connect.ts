import { createRoute } from "@hono/zod-openapi";
import { ConnectSession, CreateConnectSessionBody, SessionIdParam } from "../../../../lib/schemas/connect";
import { BEARER, ERRORS, json, jsonBody, router } from "../http/openapi";
import { publicUrl, unwrap, vaultFor } from "../http/vault";

export const connect = router()
  .openapi(
    createRoute({ method: "post", path: "/v1/connect-sessions", tags: ["connect"], security: BEARER, operationId: "createConnectSession", summary: "Start a connect session", description: "Single use, valid for 30 minutes and bound to the caller: open its `url` in a browser to finish, then poll it.", request: { body: jsonBody(CreateConnectSessionBody) }, responses: { 201: json(ConnectSession), ...ERRORS } }),
    async (c) => {
      const { token, vault } = vaultFor(c);
      return c.json(unwrap(await vault.createConnectSession(token, c.req.valid("json"), publicUrl(c))), 201);
    },
  )
  .openapi(
    createRoute({ method: "get", path: "/v1/connect-sessions/{id}", tags: ["connect"], security: BEARER, operationId: "getConnectSession", summary: "Poll a connect session", description: "pending, completed (with the credentials it stored) or failed (with the reason).", request: { params: SessionIdParam }, responses: { 200: json(ConnectSession), ...ERRORS } }),
    async (c) => {
      const { token, vault } = vaultFor(c);
      return c.json(unwrap(await vault.getConnectSession(token, c.req.valid("param").id, publicUrl(c))), 200);
    },
  );
