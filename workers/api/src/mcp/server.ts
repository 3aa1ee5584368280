import { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import { WebStandardStreamableHTTPServerTransport } from "@modelcontextprotocol/sdk/server/webStandardStreamableHttp.js";
import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js";
import type { Context } from "hono";
import { z } from "zod";
import type { ErrorBody } from "../../../../lib/errors";
import { AppError } from "../../../../lib/errors";
import { scopeLabel } from "../../../../lib/refs";
import { Slug } from "../../../../lib/schemas/common";
import { Name } from "../../../../lib/schemas/credentials";
import { Connection, ScopeList } from "../../../../lib/schemas/connection";
import { parseToken } from "../../../../lib/tokens";
import { originAllowed } from "../../../../lib/origin";
import { publicUrl, unwrap, vaultFor, type ApiEnv } from "../http/vault";
import { fixForMcp } from "../../../../lib/fixes";
import { PageQuery } from "../../../../lib/paging";

/**
 * MCP (SPEC section 8): stateless streamable HTTP with JSON answers, a fresh server per request.
 * Tools act as the caller (an API key or member token) and can never return a secret: they only
 * reach vault methods whose answers are masked.
 */
type Vault = ReturnType<typeof vaultFor>["vault"];

const ConnectOut = { url: z.string(), session_id: z.string(), expires_at: z.string() };
const StatusOut = {
  session_id: z.string(),
  app: z.string(),
  status: z.enum(["pending", "completed", "failed"]),
  expires_at: z.string(),
  credentials: z.array(z.object({ id: z.string(), ref: z.string(), app: z.string(), status: z.string() })),
  error: z.string().nullable(),
};
const MaskedCredential = z.object({ id: z.string(), ref: z.string(), app: z.string(), name: z.string(), scope: z.string(), default: z.boolean(), status: z.string(), status_reason: z.string().nullable(), last_error: z.string().nullable().describe("the last failed check or refresh, in Keystroke's words"), preview: z.string().nullable(), account: z.string().nullable(), scopes: z.array(z.string()), connection: Connection });

/**
 * Failures are tool results with the fix, so the model can act on them; never protocol errors.
 * The fix names tools and the web app, never a CLI command (lib/fixes).
 */
function toolError(e: unknown): CallToolResult {
  const body: ErrorBody = e instanceof AppError ? e.toBody() : { code: "internal", message: "The tool failed." };
  const fix = fixForMcp(body);
  // The envelope's code and field lead the text (SPEC section 10), so a client can tell `forbidden`
  // from `rate_limited` and see which argument was wrong; the whole envelope rides in _meta.
  const field = typeof body.details?.field === "string" ? ` (field \`${body.details.field}\`)` : "";
  return {
    isError: true,
    content: [{ type: "text", text: `${body.code}${field}: ${body.message}${fix ? ` Fix: ${fix}` : ""}` }],
    _meta: { error: { ...body, ...(fix ? { fix } : {}) } },
  };
}

/** An error answered before MCP is spoken (no token, a bad one): the same envelope, the fix worded for an MCP client. */
function forMcp(e: unknown): unknown {
  if (!(e instanceof AppError)) return e;
  const fix = fixForMcp(e);
  return new AppError(e.code, e.message, { ...(fix ? { fix } : {}), ...(e.details ? { details: e.details } : {}), ...(e.status ? { status: e.status } : {}) });
}

function ok<T extends Record<string, unknown>>(structured: T, text: string): CallToolResult {
  return { structuredContent: structured, content: [{ type: "text", text }] };
}

function buildServer(vault: Vault, token: string, origin: string): McpServer {
  const server = new McpServer({ name: "keystroke", version: "1.0.0" });

  server.registerTool(
    "connect_app",
    {
      description: "Start connecting an app (OAuth or API key) for the user. Returns a link the user must open in a browser to finish; poll connect_status with the session id.",
      inputSchema: {
        app: Slug.describe("the app's slug, e.g. github, linear, exa (see list_apps)"),
        name: Name.optional().describe("optional display name for the credential"),
        reconnect: z.string().min(1).max(300).optional().describe("a credential reference: new tokens into that credential (a step-up with scopes)"),
        scopes: ScopeList.optional().describe("OAuth scopes to ask for beyond the app's defaults"),
      },
      outputSchema: ConnectOut,
    },
    async ({ app, name, reconnect, scopes }) => {
      try {
        const s = unwrap(await vault.createConnectSession(token, { app, ...(name ? { name } : {}), ...(reconnect ? { reconnect } : {}), ...(scopes?.length ? { scopes } : {}) }, origin));
        return ok({ url: s.url, session_id: s.id, expires_at: s.expires_at }, `Ask the user to open ${s.url} to connect ${app} (expires ${s.expires_at}).`);
      } catch (e) {
        return toolError(e);
      }
    },
  );

  server.registerTool(
    "connect_status",
    {
      description: "Where a connect session stands: pending, completed (with the new credentials, masked) or failed (with the reason).",
      inputSchema: { session_id: z.string().regex(/^cs_[a-z2-7]{20}$/, "a session id from connect_app (cs_...)") },
      outputSchema: StatusOut,
    },
    async ({ session_id }) => {
      try {
        const s = unwrap(await vault.getConnectSession(token, session_id, origin));
        const credentials = (s.credentials ?? []).map((c) => ({ id: c.id, ref: c.ref, app: c.app, status: c.status }));
        const text = s.status === "completed" ? `Connected: ${credentials.map((c) => c.ref).join(", ")}.` : s.status === "failed" ? `Failed: ${s.error}` : "Still waiting for the user to finish in the browser.";
        return ok({ session_id: s.id, app: s.app, status: s.status, expires_at: s.expires_at, credentials, error: s.error }, text);
      } catch (e) {
        return toolError(e);
      }
    },
  );

  server.registerTool(
    "list_apps",
    {
      description: "The apps that can be connected (catalog and the org's custom apps), with how many credentials each already has.",
      inputSchema: { search: z.string().max(100).optional() },
      outputSchema: { apps: z.array(z.object({ slug: z.string(), name: z.string(), kind: z.enum(["oauth", "api_key"]), connected: z.number() })) },
    },
    async ({ search }) => {
      try {
        const { apps } = unwrap(await vault.listApps(token, search));
        const list = apps.map((a) => ({ slug: a.slug, name: a.name, kind: a.kind, connected: a.connected }));
        return ok({ apps: list }, list.map((a) => `${a.slug} (${a.kind}${a.connected ? `, ${a.connected} connected` : ""})`).join("\n") || "No app matches.");
      } catch (e) {
        return toolError(e);
      }
    },
  );

  server.registerTool(
    "list_credentials",
    {
      description: "The credentials the caller can see, masked (never a secret), one page of 100 in reference order; pass next_cursor as cursor for the next page.",
      inputSchema: { app: Slug.optional(), cursor: PageQuery.shape.cursor },
      outputSchema: { credentials: z.array(MaskedCredential), next_cursor: z.string().nullable() },
    },
    async ({ app, cursor }) => {
      try {
        const { credentials, next_cursor } = unwrap(await vault.listCredentials(token, { ...(app ? { app } : {}), ...(cursor ? { cursor } : {}) }));
        const list = credentials.map((c) => ({
          id: c.id, ref: c.ref, app: c.app, name: c.name,
          scope: scopeLabel(c.scope),
          default: c.default, status: c.status, status_reason: c.status_reason, last_error: c.last_error?.message ?? null, preview: c.preview,
          account: c.account ? c.account.name ?? c.account.email ?? c.account.id : null,
          scopes: c.scopes, connection: c.connection,
        }));
        const more = next_cursor ? `\nMore: call list_credentials again with cursor "${next_cursor}".` : "";
        return ok({ credentials: list, next_cursor }, (list.map((c) => `${c.ref} [${c.status}${c.status_reason && c.status !== "active" ? `: ${c.status_reason}` : ""}]${c.default ? " default" : ""}${c.last_error ? ` (last error: ${c.last_error})` : ""}`).join("\n") || "No credentials.") + more);
      } catch (e) {
        return toolError(e);
      }
    },
  );
  return server;
}

/** `POST /mcp`. Other methods: 405 (no standalone SSE stream in stateless mode). */
export async function handleMcp(c: Context<ApiEnv>): Promise<Response> {
  if (c.req.method !== "POST") return new Response(null, { status: 405, headers: { allow: "POST" } });
  // DNS-rebinding protection (MCP spec): a browser page of a foreign origin may not drive the server.
  // Checked against configuration only (lib/origin.ts): a rebinding page's Origin equals the Host it sends.
  const from = c.req.header("origin");
  if (from !== undefined && !originAllowed(c.env, from)) {
    throw new AppError("forbidden", "Requests from this origin are not allowed.", { details: { field: "origin" } });
  }
  const origin = publicUrl(c);
  let token: string, vault: Vault;
  try {
    ({ token, vault } = vaultFor(c));
    if (parseToken(token)?.kind === "rt") throw new AppError("forbidden", "MCP takes an API key or a member token, not a runtime token.");
    // Authenticate before speaking MCP at all: no token, or a bad one, is a plain 401.
    unwrap(await vault.describeMe(token));
  } catch (e) {
    throw forMcp(e);
  }
  const server = buildServer(vault, token, origin);
  const transport = new WebStandardStreamableHTTPServerTransport({ sessionIdGenerator: undefined, enableJsonResponse: true });
  await server.connect(transport);
  return transport.handleRequest(c.req.raw);
}
