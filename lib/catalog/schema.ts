/**
 * The apps catalog's shapes. zod is the single source of truth: every type here is inferred from
 * its schema, and the catalog data is parsed with these schemas at module load (see index.ts).
 */
import { z } from "zod";
import { FIELD_NAME_PATTERN, Slug } from "../schemas/common";

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

export const Identity = z.object({
  /** Where the account identity is read: a GET to userinfoUrl, the OIDC id_token's claims, or the token response body. */
  source: z.enum(["userinfo", "id_token", "token_response"]),
  idPath: JsonPath,
  emailPath: JsonPath.optional(),
  namePath: JsonPath.optional(),
});
export type Identity = z.infer<typeof Identity>;

export const OAuthProvider = z
  .object({
    authorizeUrl: HttpUrl,
    tokenUrl: HttpUrl,
    /**
     * Only for providers that refresh at a different endpoint than the code exchange (Figma).
     * Absent means refresh at tokenUrl.
     */
    refreshUrl: HttpUrl.optional(),
    revokeUrl: HttpUrl.optional(),
    userinfoUrl: HttpUrl.optional(),
    /** When set, userinfoUrl is a GraphQL endpoint: POST `{ query }` instead of a GET (Linear). */
    userinfoQuery: z.string().min(1).optional(),
    scopes: z.array(z.string().min(1)).default([]),
    /** Most providers follow RFC 6749 (space); Slack, Strava, TikTok and Linear want commas. */
    scopeSeparator: z.enum([" ", ","]).default(" "),
    pkce: z.boolean(),
    /** Whether the provider issues refresh tokens (so expiring access tokens can be renewed unattended). */
    refresh: z.boolean(),
    identity: Identity,
    extraAuthorizeParams: z.record(z.string(), z.string()).optional(),
    /** The arctic 3.7.0 class this entry mirrors; documentary only, arctic is never imported here. */
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
  custom: z.literal(false),
});
export type OAuthApp = z.infer<typeof OAuthApp>;

export const ApiKeyApp = z.object({
  ...appBase,
  kind: z.literal("api_key"),
  fields: z
    .array(FieldSpec)
    .min(1)
    .refine((fs) => new Set(fs.map((f) => f.name)).size === fs.length, { message: "field names must be unique" }),
  /** True for org-local apps created by `credentials set <key>` with a key not in the catalog. */
  custom: z.boolean(),
});
export type ApiKeyApp = z.infer<typeof ApiKeyApp>;

export const App = z.discriminatedUnion("kind", [OAuthApp, ApiKeyApp]);
export type App = z.infer<typeof App>;
/** What the data files write: defaults (optional: false, scopes: [], scopeSeparator: " ") may be left out. */
export type AppInput = z.input<typeof App>;
export type OAuthAppInput = z.input<typeof OAuthApp>;
export type ApiKeyAppInput = z.input<typeof ApiKeyApp>;
