import { createRoute, z } from "@hono/zod-openapi";
import { CreatedWebhook, CreateWebhookBody, DeliveriesPage, DeliveriesQuery, RotatedWebhookSecret, UpdateWebhookBody, Webhook, WebhookDelivery, WebhookId } from "../../../../lib/schemas/webhooks";
import { BEARER, ERRORS, json, jsonBody, router } from "../http/openapi";
import { unwrap, vaultFor } from "../http/vault";

const params = z.object({ id: WebhookId });
const ADMINS = "Owners and admins (checked in the vault).";

/** Signed lifecycle webhooks (SPEC section 14): endpoints, secrets, test sends and the deliveries log. */
export const webhooks = router()
  .openapi(
    createRoute({ method: "post", path: "/v1/webhooks", tags: ["webhooks"], security: BEARER, operationId: "createWebhook", summary: "Add a webhook endpoint", description: `${ADMINS} The URL must be https and may not name localhost or a loopback, private or link-local address (dev mode excepted); at most 20 per org. The signing secret (\`whsec_…\`) is in this answer only.`, request: { body: jsonBody(CreateWebhookBody) }, responses: { 201: json(CreatedWebhook), ...ERRORS } }),
    async (c) => {
      const { token, vault } = vaultFor(c);
      return c.json(unwrap(await vault.createWebhook(token, c.req.valid("json"))), 201);
    },
  )
  .openapi(
    createRoute({ method: "get", path: "/v1/webhooks", tags: ["webhooks"], security: BEARER, operationId: "listWebhooks", summary: "List webhook endpoints", description: `${ADMINS} Never a secret.`, responses: { 200: json(z.object({ webhooks: z.array(Webhook) })), ...ERRORS } }),
    async (c) => {
      const { token, vault } = vaultFor(c);
      return c.json(unwrap(await vault.listWebhooks(token)), 200);
    },
  )
  .openapi(
    createRoute({ method: "patch", path: "/v1/webhooks/{id}", tags: ["webhooks"], security: BEARER, operationId: "updateWebhook", summary: "Change a webhook endpoint", description: `${ADMINS} url, events (null: every event) and enabled. Enabling it again sends what is still queued within its 24 hours.`, request: { params, body: jsonBody(UpdateWebhookBody) }, responses: { 200: json(Webhook), ...ERRORS } }),
    async (c) => {
      const { token, vault } = vaultFor(c);
      return c.json(unwrap(await vault.updateWebhook(token, c.req.valid("param").id, c.req.valid("json"))), 200);
    },
  )
  .openapi(
    createRoute({ method: "delete", path: "/v1/webhooks/{id}", tags: ["webhooks"], security: BEARER, operationId: "deleteWebhook", summary: "Delete a webhook endpoint", description: `${ADMINS} Its queued deliveries and its log go with it.`, request: { params }, responses: { 200: json(z.object({ deleted: Webhook })), ...ERRORS } }),
    async (c) => {
      const { token, vault } = vaultFor(c);
      return c.json(unwrap(await vault.deleteWebhook(token, c.req.valid("param").id)), 200);
    },
  )
  .openapi(
    createRoute({ method: "post", path: "/v1/webhooks/{id}/rotate-secret", tags: ["webhooks"], security: BEARER, operationId: "rotateWebhookSecret", summary: "Rotate a webhook's signing secret", description: `${ADMINS} The new secret is in this answer only; for 24 hours every delivery carries a signature with each secret (space-separated in webhook-signature), so the receiver can switch without losing one.`, request: { params }, responses: { 200: json(RotatedWebhookSecret), ...ERRORS } }),
    async (c) => {
      const { token, vault } = vaultFor(c);
      return c.json(unwrap(await vault.rotateWebhookSecret(token, c.req.valid("param").id)), 200);
    },
  )
  .openapi(
    createRoute({ method: "post", path: "/v1/webhooks/{id}/test", tags: ["webhooks"], security: BEARER, operationId: "testWebhook", summary: "Send a test delivery", description: `${ADMINS} One signed \`webhook.test\` delivery, sent now; the answer says how the endpoint answered. Never retried.`, request: { params }, responses: { 200: json(WebhookDelivery), ...ERRORS } }),
    async (c) => {
      const { token, vault } = vaultFor(c);
      return c.json(unwrap(await vault.testWebhook(token, c.req.valid("param").id)), 200);
    },
  )
  .openapi(
    createRoute({ method: "get", path: "/v1/webhooks/{id}/deliveries", tags: ["webhooks"], security: BEARER, operationId: "listWebhookDeliveries", summary: "An endpoint's recent deliveries", description: `${ADMINS} Newest first, one page (\`limit\`, \`cursor\`, \`next_cursor\`): event type, status, attempts, the last response code; never a body.`, request: { params, query: DeliveriesQuery }, responses: { 200: json(DeliveriesPage), ...ERRORS } }),
    async (c) => {
      const { token, vault } = vaultFor(c);
      return c.json(unwrap(await vault.listWebhookDeliveries(token, c.req.valid("param").id, c.req.valid("query"))), 200);
    },
  );
