import { bodyLimit } from "hono/body-limit";
import { AppError } from "../../../lib/errors";
import { renderError } from "./http/errors";
import { noStoreByDefault, securityHeaders } from "../../shared/security";
import { webSession } from "../../shared/session";
import { healthRoute, requireConfig } from "../../shared/config";
import { SETTINGS } from "../../../lib/config-check";
import { publicUrl, unwrap, vaultFor } from "./http/vault";
import { router } from "./http/openapi";
import { limitManagementReads } from "./http/limits";
import { openApiDocument } from "./api-document";
import { apps } from "./routes/apps";
import { audit } from "./routes/audit";
import { credentials } from "./routes/credentials";
import { identity } from "./routes/identity";
import { connect } from "./routes/connect";
import { handleMcp } from "./mcp/server";
import { appsPages } from "./web/apps";
import { catalogPages } from "./web/catalog";
import { connectPages } from "./web/connect";
import { ICON, ICON_PATH, STYLES } from "../../shared/layout";
import { signin } from "./web/signin";
import { orgPages } from "./web/orgs";
import { resolution } from "./routes/resolution";
import { cliLogins } from "./routes/cli-logins";
import { cliLoginPage } from "./web/cli-login";
import { assignmentPages } from "./web/assignments";
import { channelPages } from "./web/channels";
import { apiKeyPages } from "./web/api-keys";
import { tokenPages } from "./web/tokens";
import { webhookPages } from "./web/webhooks";
import { projectPages } from "./web/projects";
import { oauthClientPages } from "./web/oauth-client";
import { auditPages } from "./web/audit";
import { memberPages } from "./web/members";
import { invitationPages } from "./web/invitations";
import { wantsPage, webError } from "./web/pages";
import { channels } from "./routes/channels";
import { members } from "./routes/members";
import { orgs } from "./routes/orgs";
import { runtimeTokens } from "./routes/runtime-tokens";
import { projects } from "./routes/projects";
import { webhooks } from "./routes/webhooks";

export { OrgVault } from "../../../durable-objects/org-vault";
export { Directory } from "../../../durable-objects/directory";
// One door per calling worker (DESIGN section 2): each other worker's service binding names one of
// these entrypoints and reaches only that caller's methods. Only this worker binds VAULT.
export { OAuthDoor } from "../../../durable-objects/doors/oauth";
export { SlackDoor } from "../../../durable-objects/doors/slack";
export { DevDoor } from "../../../durable-objects/doors/dev";

/** 50 fields of 64 KiB each fit; anything larger is not a credential. */
const MAX_BODY_BYTES = 4 * 1024 * 1024;

const app = router();

// Security headers and no-store on every answer, pages and errors alike; a deployment missing a
// required setting answers 503 naming it (workers/shared/config.ts); the CSRF value of a session.
app.use("*", securityHeaders, noStoreByDefault, requireConfig(SETTINGS.api, ["/health"]), webSession);
app.use(
  "*",
  bodyLimit({ maxSize: MAX_BODY_BYTES, onError: () => { throw new AppError("invalid_request", "The body is too large.", { details: { field: "body" }, status: 413 }); } }),
);

app.use("/v1/*", limitManagementReads);

app.get("/health", healthRoute("api", SETTINGS.api));
// One authenticated vault round trip and nothing else: a baseline for the benchmarks.
app.get("/v1/ping", async (c) => {
  const { token, vault } = vaultFor(c);
  return c.json(unwrap(await vault.ping(token)));
});
// The same round trip carrying a body (read, not parsed): the floor of any POST route (bench/README.md).
app.post("/v1/ping", async (c) => {
  const { token, vault } = vaultFor(c);
  await c.req.arrayBuffer();
  return c.json(unwrap(await vault.ping(token)));
});
app.get("/static/app.css", (c) => c.body(STYLES, 200, { "content-type": "text/css; charset=utf-8", "cache-control": "public, max-age=300" }));
app.get(ICON_PATH, (c) => c.body(ICON, 200, { "content-type": "image/svg+xml", "cache-control": "public, max-age=86400" }));
app.route("/", signin);
app.route("/", orgPages);
app.route("/", connectPages);
app.route("/", appsPages);
app.route("/", catalogPages);
app.route("/", assignmentPages);
app.route("/", channelPages);
app.route("/", apiKeyPages);
app.route("/", tokenPages);
app.route("/", webhookPages);
app.route("/", projectPages);
app.route("/", oauthClientPages);
app.route("/", auditPages);
app.route("/", memberPages);
app.route("/", invitationPages);
// The operator API authenticates with PLATFORM_ADMIN_TOKEN, never a vault token.
app.route("/", orgs);
app.route("/", identity);
app.route("/", members);
app.route("/", runtimeTokens);
app.route("/", projects);
app.route("/", webhooks);
app.route("/", connect);
app.all("/mcp", handleMcp);
app.route("/", apps);
app.route("/", credentials);
app.route("/", audit);
app.route("/", resolution);
app.route("/", cliLogins);
app.route("/", cliLoginPage);
app.route("/", channels);

// Built from the same routers (api-document.ts), its server being this deployment's public origin.
app.get("/openapi.json", (c) => c.json(openApiDocument(publicUrl(c))));

app.notFound((c) => wantsPage(c) ? webError(new AppError("not_found", `There is no page ${new URL(c.req.url).pathname}.`, { fix: "Check the address, or go back to the Apps page." }), c) : renderError(new AppError("not_found", `No route ${c.req.method} ${new URL(c.req.url).pathname}.`, { fix: "See /openapi.json for the API." }), c));
app.onError(renderError);

export default app;
