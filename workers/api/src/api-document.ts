import { z } from "@hono/zod-openapi";
import { BEARER, ErrorEnvelope, router } from "./http/openapi";
import { apps } from "./routes/apps";
import { audit } from "./routes/audit";
import { channels } from "./routes/channels";
import { cliLogins } from "./routes/cli-logins";
import { connect } from "./routes/connect";
import { credentials } from "./routes/credentials";
import { identity } from "./routes/identity";
import { members } from "./routes/members";
import { resolution } from "./routes/resolution";
import { orgs } from "./routes/orgs";
import { runtimeTokens } from "./routes/runtime-tokens";
import { projects } from "./routes/projects";
import { webhooks } from "./routes/webhooks";

/**
 * The OpenAPI document of the HTTP API (SPEC section 11), built from the same routers index.ts
 * mounts. Pure (no bindings, no I/O), so test/lib/openapi-lint.test.ts can build it in Node and run
 * redocly and spectral over it; test/api/openapi.test.ts checks the served copy against the router.
 */
const API_ROUTERS = [identity, members, connect, apps, credentials, audit, resolution, cliLogins, channels, orgs, runtimeTokens, projects, webhooks];

const TAGS = [
  { name: "identity", description: "Who the caller is, the org's members and projects: the context for scopes." },
  { name: "api-keys", description: "Org API keys for scripts and CI; a key is shown once, at creation." },
  { name: "apps", description: "The apps catalog and the org's custom apps." },
  { name: "credentials", description: "Stored credentials, always masked: set, rename, rotate, revoke." },
  { name: "connect", description: "Connect sessions: the browser flow that stores an OAuth grant or an API key." },
  { name: "assignments", description: "Pins from a workflow step, agent tool or poll consumer to one credential." },
  { name: "resolution", description: "Dry runs of runtime resolution for members: the decision, never a secret." },
  { name: "runtime", description: "Called by the agent runtime with its runtime token: resolve secrets, learn consumers." },
  { name: "audit", description: "The org's audit log." },
  { name: "cli-logins", description: "The CLI's browser login: start, approve in the browser, poll for the token." },
  { name: "channels", description: "Slack installations, channel bindings to agents and agent sessions." },
  { name: "orgs", description: "Creating organizations: the operator's call, with the platform admin token." },
  { name: "runtime-tokens", description: "The execution plane's tokens: created by owners and admins, shown once, several live." },
  { name: "projects", description: "Projects and their members: created by owners and admins, members managed by project admins too." },
  { name: "members", description: "Invitations (single use, 7 days), role changes and offboarding." },
  { name: "webhooks", description: "Signed lifecycle events (Standard Webhooks): endpoints, secrets shown once, test sends and the deliveries log." },
  { name: "mcp", description: "The MCP server (SPEC section 8) over streamable HTTP." },
];

/** A JSON-RPC 2.0 message, as far as the document needs to say (the MCP SDK validates the rest). */
const JsonRpcMessage = z
  .object({
    jsonrpc: z.literal("2.0"),
    id: z.union([z.string(), z.number().int()]).optional(),
    method: z.string().optional(),
    params: z.record(z.string(), z.unknown()).optional(),
    result: z.record(z.string(), z.unknown()).optional(),
    error: z.object({ code: z.number().int(), message: z.string(), data: z.unknown().optional() }).optional(),
  })
  .openapi("JsonRpcMessage", { description: "A JSON-RPC 2.0 request, notification or response (MCP)." });

const jsonRpc = (description: string) => ({ description, content: { "application/json": { schema: JsonRpcMessage } } });
const envelope = (description: string) => ({ description, content: { "application/json": { schema: ErrorEnvelope } } });

/**
 * Answered for any JSON body by the app-wide body limit (index.ts) and the validators
 * (http/errors.ts), so declared once as components and referenced by every operation with a body.
 */
const BODY_ERRORS = {
  413: { name: "BodyTooLarge", description: "invalid_request (details.field `body`): the body is over 4 MiB" },
  415: { name: "BodyNotJson", description: "invalid_request (details.field `body`): the body is not `application/json`" },
};

function build() {
  const app = router();
  for (const r of API_ROUTERS) app.route("/", r);
  for (const { name, description } of Object.values(BODY_ERRORS)) {
    app.openAPIRegistry.registerComponent("responses", name, { description, content: { "application/json": { schema: { $ref: "#/components/schemas/ErrorEnvelope" } } } });
  }
  app.openAPIRegistry.registerComponent("securitySchemes", "bearer", { type: "http", scheme: "bearer", description: "ks_user_…, ks_key_… or ks_rt_… tokens" });
  app.openAPIRegistry.registerComponent("securitySchemes", "platformAdmin", { type: "http", scheme: "bearer", description: "The operator's PLATFORM_ADMIN_TOKEN (a deployment secret, not a ks_ token)" });
  // index.ts serves /mcp with the MCP SDK, outside zod-openapi: described here by hand.
  app.openAPIRegistry.registerPath({
    method: "post", path: "/mcp", operationId: "mcpMessage", tags: ["mcp"], security: BEARER,
    summary: "MCP over streamable HTTP (stateless, JSON answers)",
    description: "JSON-RPC 2.0 messages of the Model Context Protocol: `initialize`, `tools/list`, `tools/call` (SPEC section 8). Takes a member token or an API key, never a runtime token. A browser `Origin` other than the platform's is refused. Other methods answer 405.",
    request: { body: { required: true, content: { "application/json": { schema: JsonRpcMessage } } } },
    responses: {
      200: jsonRpc("The JSON-RPC response"),
      202: { description: "A notification or response was accepted; no body" },
      400: jsonRpc("A JSON-RPC error: the body is not a valid JSON-RPC message"),
      401: envelope("unauthorized: no token or a bad one"),
      403: envelope("forbidden: a runtime token, or a foreign `Origin`"),
      406: jsonRpc("A JSON-RPC error: `Accept` must list `application/json` and `text/event-stream`"),
      413: envelope(BODY_ERRORS[413].description),
      415: jsonRpc("A JSON-RPC error: the body is not `application/json`"),
    },
  });
  const doc = app.getOpenAPI31Document({
    openapi: "3.1.0",
    info: {
      title: "Keystroke apps & credentials API",
      version: "1.0.0",
      description: "Connect apps, store credentials, resolve exactly the right one at run time. Errors are one envelope (`ErrorEnvelope`, SPEC section 10).",
    },
    tags: TAGS,
  });
  for (const item of Object.values(doc.paths ?? {})) {
    for (const op of [item.post, item.put, item.patch, item.delete]) {
      if (!op?.requestBody) continue;
      op.responses ??= {};
      for (const [code, { name }] of Object.entries(BODY_ERRORS)) op.responses[code] ??= { $ref: `#/components/responses/${name}` };
    }
  }
  return doc;
}

let built: ReturnType<typeof build> | undefined;

/** The document, its one server being the deployment's public origin `server` (built once). */
export function openApiDocument(server: string) {
  built ??= build();
  const { openapi, info, ...rest } = built;
  // Keystroke is not open source: the document says so (SPDX LicenseRef-, OpenAPI 3.1 `identifier`,
  // which openapi3-ts does not type) rather than leaving the license unstated.
  const license = { name: "Proprietary", identifier: "LicenseRef-Proprietary" };
  return { openapi, info: { ...info, license, contact: { name: "Keystroke on this deployment", url: server } }, servers: [{ url: server, description: "This deployment" }], ...rest };
}
