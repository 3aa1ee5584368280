import { createRoute, z } from "@hono/zod-openapi";
import {
  Credential,
  ListCredentialsQuery,
  RotateCredentialBody,
  SetCredentialsBody,
  UpdateCredentialBody,
} from "../../../../lib/schemas/credentials";
import { BEARER, ERRORS, json, jsonBody, router } from "../http/openapi";
import { unwrap, vaultFor } from "../http/vault";

const RefParam = z.object({
  ref: z.string().min(1).max(300).openapi({ description: "a credential reference, percent-encoded (linear%2Fwork) or an id" }),
});
const CredentialList = z.object({ credentials: z.array(Credential) });
const tags = ["credentials"];

export const credentials = router()
  .openapi(
    createRoute({ method: "get", path: "/v1/credentials", tags, security: BEARER, operationId: "listCredentials", summary: "List credentials", description: "The credentials the caller can see, masked, filtered by app, scope and status.", request: { query: ListCredentialsQuery }, responses: { 200: json(CredentialList), ...ERRORS } }),
    async (c) => {
      const { token, vault } = vaultFor(c);
      return c.json(unwrap(await vault.listCredentials(token, c.req.valid("query"))), 200);
    },
  )
  .openapi(
    createRoute({ method: "post", path: "/v1/credentials", tags, security: BEARER, operationId: "setCredentials", summary: "Set a credential", description: "Stores the fields at one or more targets (org, user, project), idempotent per app + slug + target, and answers the masked rows.", request: { body: jsonBody(SetCredentialsBody) }, responses: { 200: json(CredentialList), ...ERRORS } }),
    async (c) => {
      const { token, vault } = vaultFor(c);
      return c.json(unwrap(await vault.setCredentials(token, c.req.valid("json"))), 200);
    },
  )
  .openapi(
    createRoute({ method: "get", path: "/v1/credentials/{ref}", tags, security: BEARER, operationId: "getCredential", summary: "Get a credential", description: "One credential by reference or id, masked.", request: { params: RefParam }, responses: { 200: json(Credential), ...ERRORS } }),
    async (c) => {
      const { token, vault } = vaultFor(c);
      return c.json(unwrap(await vault.getCredential(token, c.req.valid("param").ref)), 200);
    },
  )
  .openapi(
    createRoute({ method: "patch", path: "/v1/credentials/{ref}", tags, security: BEARER, operationId: "updateCredential", summary: "Rename a credential or make it the default", description: "Changes its name and/or slug, or makes it the default of its app at its scope.", request: { params: RefParam, body: jsonBody(UpdateCredentialBody) }, responses: { 200: json(Credential), ...ERRORS } }),
    async (c) => {
      const { token, vault } = vaultFor(c);
      return c.json(unwrap(await vault.updateCredential(token, c.req.valid("param").ref, c.req.valid("json"))), 200);
    },
  )
  .openapi(
    createRoute({ method: "post", path: "/v1/credentials/{ref}/rotate", tags, security: BEARER, operationId: "rotateCredential", summary: "Rotate a secret", description: "Replaces the fields of a manual secret; id, default and assignments stay.", request: { params: RefParam, body: jsonBody(RotateCredentialBody) }, responses: { 200: json(Credential), ...ERRORS } }),
    async (c) => {
      const { token, vault } = vaultFor(c);
      return c.json(unwrap(await vault.rotateCredential(token, c.req.valid("param").ref, c.req.valid("json"))), 200);
    },
  )
  .openapi(
    createRoute({ method: "post", path: "/v1/credentials/{ref}/revoke", tags, security: BEARER, operationId: "revokeCredential", summary: "Revoke a credential", description: "Destroys the secret material; the row stays, with status revoked.", request: { params: RefParam }, responses: { 200: json(Credential), ...ERRORS } }),
    async (c) => {
      const { token, vault } = vaultFor(c);
      return c.json(unwrap(await vault.revokeCredential(token, c.req.valid("param").ref)), 200);
    },
  );
