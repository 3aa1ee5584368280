/**
 * The apps catalog's shapes. zod is the single source of truth: every type here is inferred from
 * its schema, and the catalog data is parsed with these schemas at module load (see index.ts).
 */
import { z } from "zod";
import { FIELD_NAME_PATTERN, Slug } from "../schemas/common";
import { ConnectionKey, ScopeName } from "../schemas/connection";

/** Machine name of an app: lib/schemas/common's slug, so usable unescaped in CLI args and URL segments. */
export { Slug };
/** Catalog field names are camelCase so they map 1:1 onto JSON keys and SDK option names. */
export const FIELD_NAME_RE = /^[a-zA-Z][a-zA-Z0-9]{0,62}$/;
/**
 * Custom apps take whatever field names `credentials set --set f=v` accepted, and that also
 * allows '_' (lib/schemas/common FieldName), so FieldSpec accepts it; the catalog itself is
 * held to FIELD_NAME_RE by the tests.
 */
export const CUSTOM_FIELD_NAME_RE = FIELD_NAME_PATTERN;

export const FieldSpec = z.object({
  name: z.string().regex(CUSTOM_FIELD_NAME_RE, "field names are 1-63 letters, digits or '_', starting with a letter"),
  label: z.string().min(1),
  /** Secret fields are encrypted at rest and only ever shown masked; the rest (ids, regions) are shown. */
  secret: z.boolean(),
  optional: z.boolean().default(false),
});
export type FieldSpec = z.infer<typeof FieldSpec>;

/** Dotted path into a JSON document, e.g. "id", "data.viewer.id", "team.id". */
const JsonPath = z.string().regex(/^[A-Za-z0-9_$@-]+(\.[A-Za-z0-9_$@-]+)*$/, "expected a dotted JSON path");

/** Provider endpoints are always http(s); http is allowed so a local fake provider can be used. */
const HttpUrl = z.url({ protocol: /^https?$/ });
/**
 * Endpoints of apps that live on the customer's own subdomain (Shopify, Zendesk) carry the
 * placeholder `{subdomain}`, replaced by the credential's connection data before any call
 * (lib/connection.ts withConnectionEndpoints).
 */
export const SUBDOMAIN_PLACEHOLDER = "{subdomain}";
const EndpointUrl = z.string().refine((s) => HttpUrl.safeParse(s.replaceAll(SUBDOMAIN_PLACEHOLDER, "subdomain")).success, "expected an http(s) URL");

/**
 * Where a connection value (lib/schemas/connection ConnectionKey) is read at connect: a token
 * answer field, a query parameter of the provider's callback, an id_token claim, a lookup after
 * the code exchange (GET with the new access token), or the connect form before the redirect.
 */
export const ConnectionSpec = z.discriminatedUnion("from", [
  z.strictObject({ key: ConnectionKey, from: z.literal("token_response"), path: JsonPath }),
  z.strictObject({ key: ConnectionKey, from: z.literal("callback"), param: z.string().regex(/^[A-Za-z][A-Za-z0-9_]{0,39}$/) }),
  z.strictObject({ key: ConnectionKey, from: z.literal("id_token"), path: JsonPath }),
  z.strictObject({ key: ConnectionKey, from: z.literal("lookup"), url: HttpUrl, path: JsonPath }),
  z.strictObject({ key: z.literal("subdomain"), from: z.literal("form"), label: z.string().min(1), suffix: z.string().min(1).describe("shown after the input, e.g. .zendesk.com") }),
  /** API-key apps: a non-secret field of the credential (Freshdesk's subdomain), checked by the value's rule at set and rotate. */
  z.strictObject({ key: z.literal("subdomain"), from: z.literal("field"), field: z.string().regex(FIELD_NAME_PATTERN) }),
]);
export type ConnectionSpec = z.infer<typeof ConnectionSpec>;

export const Identity = z.object({
  /**
   * Where the account identity is read: a GET to userinfoUrl, the OIDC id_token's claims, the token
   * response body, or the connection data (a store is its own account: Shopify's subdomain).
   */
  source: z.enum(["userinfo", "id_token", "token_response", "connection"]),
  idPath: JsonPath,
  emailPath: JsonPath.optional(),
  namePath: JsonPath.optional(),
});
export type Identity = z.infer<typeof Identity>;

export const OAuthProvider = z
  .object({
    authorizeUrl: EndpointUrl,
    tokenUrl: EndpointUrl,
    /**
     * Only for providers that refresh at a different endpoint than the code exchange (Figma).
     * Absent means refresh at tokenUrl.
     */
    refreshUrl: EndpointUrl.optional(),
    revokeUrl: EndpointUrl.optional(),
    userinfoUrl: EndpointUrl.optional(),
    /** When set, userinfoUrl is a GraphQL endpoint: POST `{ query }` instead of a GET (Linear). */
    userinfoQuery: z.string().min(1).optional(),
    scopes: z.array(ScopeName).default([]),
    /** Scopes the provider documents as useful beyond the defaults: offered as checkboxes in the connect flow. */
    optionalScopes: z.array(ScopeName).default([]),
    /**
     * How scopes are joined. Used only by the generic client (apps without an arctic class: Slack's
     * commas); for the others it documents what their arctic class sends (Strava and TikTok: commas).
     */
    scopeSeparator: z.enum([" ", ","]).default(" "),
    pkce: z.boolean(),
    /** Whether the provider issues refresh tokens (so expiring access tokens can be renewed unattended). */
    refresh: z.boolean(),
    identity: Identity,
    extraAuthorizeParams: z.record(z.string(), z.string()).optional(),
    /** Non-secret values captured at connect and kept with the credential (SPEC section 13). */
    connection: z.array(ConnectionSpec).default([]),
    /**
     * The arctic 3.7.0 class providers/arctic-classes.ts speaks to this provider with ("OAuth2Client"
     * or absent: none, the generic client). arctic itself is never imported here.
     */
    arcticProvider: z.string().optional(),
  })
  .refine((p) => p.identity.source !== "userinfo" || p.userinfoUrl !== undefined, {
    message: "identity.source 'userinfo' needs a userinfoUrl",
    path: ["userinfoUrl"],
  });
export type OAuthProvider = z.infer<typeof OAuthProvider>;

const appBase = {
  slug: Slug,
  name: z.string().min(1),
  category: z.string().min(1),
  description: z.string().min(1),
};

export const OAuthApp = z.object({
  ...appBase,
  kind: z.literal("oauth"),
  provider: OAuthProvider,
  /** A channel app delivers conversations to agents (only Slack today). */
  channel: z.boolean(),
  /** True for org-local custom OAuth apps (POST /v1/apps; lib/catalog/custom-oauth.ts). */
  custom: z.boolean(),
});
export type OAuthApp = z.infer<typeof OAuthApp>;

/**
 * A probe (SPEC section 14): one cheap authenticated request and what success looks like.
 * `{field}` in the url, headers or basic auth is the credential's field (`{field|default}` when
 * the field is optional); the key travels only where the provider expects it. Some APIs answer
 * 200 with an error body: `refusedAt` (a truthy value there means the key was refused) and
 * `okWhen` (this path must equal this value) say how to read those.
 */
export const Probe = z.strictObject({
  method: z.enum(["GET", "POST"]).default("GET"),
  /** https, or a field that holds the base URL (`{url}/rest/v1/`, checked against `host`). */
  url: z.string().regex(/^(https:\/\/|\{)[^\s]+$/, "expected an https URL (templates allowed)"),
  headers: z.record(z.string(), z.string()).default({}),
  basic: z.strictObject({ user: z.string(), password: z.string() }).optional(),
  /** A JSON body for POST probes (no secret in it: the key goes in a header). */
  body: z.string().optional(),
  /** For templated hosts (a field names the host): the host must match, or the probe is not run. */
  host: z.string().optional(),
  success: z.array(z.number().int().min(200).max(299)).default([200]),
  refusedAt: JsonPath.optional(),
  okWhen: z.strictObject({ path: JsonPath, equals: z.union([z.string(), z.number(), z.boolean()]) }).optional(),
});
export type Probe = z.infer<typeof Probe>;
export type ProbeInput = z.input<typeof Probe>;

export const ApiKeyApp = z.object({
  ...appBase,
  kind: z.literal("api_key"),
  fields: z
    .array(FieldSpec)
    .min(1)
    .refine((fs) => new Set(fs.map((f) => f.name)).size === fs.length, { message: "field names must be unique" }),
  /** True for org-local apps created by `credentials set <key>` with a key not in the catalog. */
  custom: z.boolean(),
  /** Every catalog API-key app has one (test/lib/probes.test.ts); custom apps have none. */
  probe: Probe.optional(),
  /** Connection data read from the credential's own non-secret fields (SPEC section 13). */
  connection: z.array(ConnectionSpec).default([]),
});
export type ApiKeyApp = z.infer<typeof ApiKeyApp>;

export const App = z.discriminatedUnion("kind", [OAuthApp, ApiKeyApp]);
export type App = z.infer<typeof App>;
/** What the data files write: defaults (optional: false, scopes: [], scopeSeparator: " ") may be left out. */
export type AppInput = z.input<typeof App>;
export type OAuthAppInput = z.input<typeof OAuthApp>;
export type ApiKeyAppInput = z.input<typeof ApiKeyApp>;
