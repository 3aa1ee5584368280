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
    createRoute({ method: "get", path: "/v1/credentials", tags, security: BEARER, summary: "List credentials (masked)", request: { query: ListCredentialsQuery }, responses: { 200: json(CredentialList), ...ERRORS } }),
    async (c) => {
      const { token, vault } = vaultFor(c);
      return c.json(unwrap(await vault.listCredentials(token, c.req.valid("query"))), 200);
    },
  )
  .openapi(
    createRoute({ method: "post", path: "/v1/credentials", tags, security: BEARER, summary: "Set a credential at one or more targets (idempotent per app + slug + target)", request: { body: jsonBody(SetCredentialsBody) }, responses: { 200: json(CredentialList), ...ERRORS } }),
    async (c) => {
      const { token, vault } = vaultFor(c);
      return c.json(unwrap(await vault.setCredentials(token, c.req.valid("json"))), 200);
    },
  )
  .openapi(
    createRoute({ method: "get", path: "/v1/credentials/{ref}", tags, security: BEARER, summary: "Get one credential (masked)", request: { params: RefParam }, responses: { 200: json(Credential), ...ERRORS } }),
    async (c) => {
      const { token, vault } = vaultFor(c);
      return c.json(unwrap(await vault.getCredential(token, c.req.valid("param").ref)), 200);
    },
  )
  .openapi(
    createRoute({ method: "patch", path: "/v1/credentials/{ref}", tags, security: BEARER, summary: "Rename and/or set the default", request: { params: RefParam, body: jsonBody(UpdateCredentialBody) }, responses: { 200: json(Credential), ...ERRORS } }),
    async (c) => {
      const { token, vault } = vaultFor(c);
      return c.json(unwrap(await vault.updateCredential(token, c.req.valid("param").ref, c.req.valid("json"))), 200);
    },
  )
  .openapi(
    createRoute({ method: "post", path: "/v1/credentials/{ref}/rotate", tags, security: BEARER, summary: "Replace a manual secret; id, default and assignments stay", request: { params: RefParam, body: jsonBody(RotateCredentialBody) }, responses: { 200: json(Credential), ...ERRORS } }),
    async (c) => {
      const { token, vault } = vaultFor(c);
      return c.json(unwrap(await vault.rotateCredential(token, c.req.valid("param").ref, c.req.valid("json"))), 200);
    },
  )
  .openapi(
    createRoute({ method: "post", path: "/v1/credentials/{ref}/revoke", tags, security: BEARER, summary: "Destroy the secret material; the row stays as revoked", request: { params: RefParam }, responses: { 200: json(Credential), ...ERRORS } }),
    async (c) => {
      const { token, vault } = vaultFor(c);
      return c.json(unwrap(await vault.revokeCredential(token, c.req.valid("param").ref)), 200);
    },
  );
