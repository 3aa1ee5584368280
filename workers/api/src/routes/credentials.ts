import { createRoute, z } from "@hono/zod-openapi";
import {
  CheckAnswer,
  Credential,
  ListCredentialsQuery,
  RotateAnswer,
  RotateCredentialBody,
  SetAnswer,
  SetCredentialsBody,
  UpdateCredentialBody,
} from "../../../../lib/schemas/credentials";
import { BEARER, ERRORS, json, jsonBody, router } from "../http/openapi";
import { unwrap, vaultFor } from "../http/vault";
import { NextCursor } from "../../../../lib/paging";

const RefParam = z.object({
  ref: z.string().min(1).max(300).openapi({ description: "a credential reference, percent-encoded (linear%2Fwork) or an id" }),
});
const CredentialList = z.object({ credentials: z.array(Credential) });
const CredentialPage = z.object({ credentials: z.array(Credential), next_cursor: NextCursor });
const tags = ["credentials"];

export const credentials = router()
  .openapi(
    createRoute({ method: "get", path: "/v1/credentials", tags, security: BEARER, operationId: "listCredentials", summary: "List credentials", description: "The credentials the caller can see, masked, filtered by app, scope and status; one page in reference order (`limit`, `cursor`, `next_cursor`).", request: { query: ListCredentialsQuery }, responses: { 200: json(CredentialPage), ...ERRORS } }),
    async (c) => {
      const { token, vault } = vaultFor(c);
      return c.json(unwrap(await vault.listCredentials(token, c.req.valid("query"))), 200);
    },
  )
  .openapi(
    createRoute({ method: "post", path: "/v1/credentials", tags, security: BEARER, operationId: "setCredentials", summary: "Set a credential", description: "Stores the fields at one or more targets (org, user, project), idempotent per app + slug + target, and answers the masked rows. The app's probe checks the key first (unless `verify: false`): a refused key is stored as `invalid` and never handed out; `checks` says what the provider answered.", request: { body: jsonBody(SetCredentialsBody) }, responses: { 200: json(SetAnswer), ...ERRORS } }),
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
    createRoute({ method: "post", path: "/v1/credentials/{ref}/rotate", tags, security: BEARER, operationId: "rotateCredential", summary: "Rotate a secret", description: "Replaces the fields of a manual secret; id, default and assignments stay. The new value is probed first unless `verify: false`; `check` says what the provider answered.", request: { params: RefParam, body: jsonBody(RotateCredentialBody) }, responses: { 200: json(RotateAnswer), ...ERRORS } }),
    async (c) => {
      const { token, vault } = vaultFor(c);
      return c.json(unwrap(await vault.rotateCredential(token, c.req.valid("param").ref, c.req.valid("json"))), 200);
    },
  )
  .openapi(
    createRoute({ method: "post", path: "/v1/credentials/{ref}/check", tags, security: BEARER, operationId: "checkCredential", summary: "Check a credential now", description: "API keys: runs the app's probe (one cheap authenticated request) and records the verdict: 401/403 or an error body marks it `invalid`, a timeout or 5xx only `last_error`, a success after a failure `active` again. OAuth: refreshes the token if it is due. Custom apps have no probe (400). Whoever may see the credential may check it, except another member's own.", request: { params: RefParam }, responses: { 200: json(CheckAnswer), ...ERRORS } }),
    async (c) => {
      const { token, vault } = vaultFor(c);
      return c.json(unwrap(await vault.checkCredential(token, c.req.valid("param").ref)), 200);
    },
  )
  .openapi(
    createRoute({ method: "post", path: "/v1/credentials/{ref}/revoke", tags, security: BEARER, operationId: "revokeCredential", summary: "Revoke a credential", description: "Destroys the secret material; the row stays, with status revoked.", request: { params: RefParam }, responses: { 200: json(Credential), ...ERRORS } }),
    async (c) => {
      const { token, vault } = vaultFor(c);
      return c.json(unwrap(await vault.revokeCredential(token, c.req.valid("param").ref)), 200);
    },
  );
