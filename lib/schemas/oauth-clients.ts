import { z } from "zod";
import { safeText, Slug, Timestamp } from "./common";
// The one scope rule (RFC 6749 scope-token, no commas): an org client's and a custom app's scopes are connect scopes.
import { ScopeName } from "./connection";

/**
 * An org's own OAuth client for an app (SPEC section 13) and org-local custom OAuth apps. The
 * URL rules (https, no localhost or private address) are the vault's, checked when saved
 * (lib/urls.ts), because dev mode relaxes them and only the vault knows it is in dev mode.
 */

/** Client ids and secrets are opaque printable ASCII at every provider: no spaces, no control characters. */
const Opaque = (max: number) => z.string().min(1, "must not be empty").max(max, `must be at most ${max} characters`).regex(/^[\x21-\x7e]+$/, "must be printable ASCII without spaces");
/** Shown on every member's connect form and the CLI: no control or bidi characters, like any label. */
const Url = safeText(z.string().min(1, "must not be empty").max(2000, "must be at most 2000 characters"));

export const OAuthEndpoints = z.strictObject({
  authorize_url: Url.optional(),
  token_url: Url.optional(),
  refresh_url: Url.optional().describe("only when the provider refreshes elsewhere than token_url"),
  userinfo_url: Url.optional(),
  revoke_url: Url.optional(),
});
export type OAuthEndpoints = z.infer<typeof OAuthEndpoints>;

export const PutOAuthClientBody = z.strictObject({
  client_id: Opaque(500),
  client_secret: Opaque(2000).optional().describe("sealed at rest, never answered; may be left out only when client_id stays the same (the stored secret is kept)"),
  endpoints: OAuthEndpoints.optional().describe("replace the app's endpoints (self-hosted and generic providers); each must be https and public"),
  scopes: z.array(ScopeName).max(100, "at most 100 scopes").optional().describe("the default scopes connections ask for, instead of the app's"),
  pkce: z.boolean().optional().describe("whether the authorization uses PKCE, instead of the app's default"),
});
export type PutOAuthClientBody = z.infer<typeof PutOAuthClientBody>;

export const OAuthClient = z.object({
  id: z.string().describe("stable while client_id stays the same; credentials remember it"),
  client_id: z.string(),
  has_secret: z.boolean(),
  endpoints: OAuthEndpoints,
  scopes: z.array(z.string()).nullable(),
  pkce: z.boolean().nullable(),
  created_by: z.string(),
  created_at: Timestamp,
  updated_at: Timestamp,
});
export type OAuthClient = z.infer<typeof OAuthClient>;

/** GET/PUT/DELETE /v1/apps/{slug}/oauth-client: the org's client (never its secret) and which client connecting uses now. */
export const OAuthClientSettings = z.object({
  app: z.string(),
  redirect_uri: z.string().describe("register this at the provider as the OAuth app's callback URL"),
  client: OAuthClient.nullable().describe("the org's own client, or null"),
  platform_client: z.boolean().describe("whether the platform has a client for this app"),
  connects_with: z.enum(["org", "platform", "none"]).describe("which client a new connection uses; none: connecting is refused until an admin adds a client"),
  /** Live credentials made with the org's client, and with another (removed or replaced) one or the platform's. */
  credentials: z.object({ org_client: z.number().int(), other_client: z.number().int() }),
});
export type OAuthClientSettings = z.infer<typeof OAuthClientSettings>;

export const CustomAppName = safeText(z.string().trim().min(1, "must not be empty").max(100, "must be at most 100 characters"));
const JsonPath = z.string().regex(/^[A-Za-z0-9_$@-]+(\.[A-Za-z0-9_$@-]+)*$/, "expected a dotted JSON path such as sub or data.user.id");

/** POST /v1/apps: an org-local custom OAuth app; its endpoints and client come from PUT /v1/apps/{slug}/oauth-client. */
export const CreateCustomAppBody = z.strictObject({
  slug: Slug,
  name: CustomAppName,
  kind: z.literal("oauth"),
  description: safeText(z.string().trim().max(300, "must be at most 300 characters")).optional(),
  scopes: z.array(ScopeName).max(100, "at most 100 scopes").optional(),
  scope_separator: z.enum([" ", ","]).optional().describe("how scopes are joined on the wire (default space)"),
  pkce: z.boolean().optional().describe("default true"),
  identity: z
    .strictObject({
      source: z.enum(["userinfo", "id_token", "token_response"]),
      id_path: JsonPath,
      email_path: JsonPath.optional(),
      name_path: JsonPath.optional(),
    })
    .optional()
    .describe("where the connected account is read; default the OIDC userinfo document (sub, email, name)"),
});
export type CreateCustomAppBody = z.infer<typeof CreateCustomAppBody>;
