import { z } from "zod";
import type { OAuthApp, ProviderOverrides } from "./catalog";
import { withProviderOverrides } from "./catalog";
import { AppError } from "./errors";
import type { Account } from "./schemas/credentials";
import { outsideText } from "./schemas/common";

/**
 * Pure OAuth helpers shared by the oauth worker (code exchange) and the vault (refresh, revoke):
 * which endpoints and client a provider uses, how to read its token answers and account identity.
 */

/** Everything needed to talk to one provider for one org: endpoints after overrides, and the client. */
export const ProviderConfig = z.object({
  app: z.string(),
  authorizeUrl: z.string(),
  tokenUrl: z.string(),
  refreshUrl: z.string(),
  revokeUrl: z.string().nullable(),
  userinfoUrl: z.string().nullable(),
  userinfoQuery: z.string().nullable(),
  scopes: z.array(z.string()),
  scopeSeparator: z.enum([" ", ","]),
  pkce: z.boolean(),
  identity: z.object({ source: z.enum(["userinfo", "id_token", "token_response", "connection"]), idPath: z.string(), emailPath: z.string().optional(), namePath: z.string().optional() }),
  extraAuthorizeParams: z.record(z.string(), z.string()),
  clientId: z.string(),
  clientSecret: z.string().nullable(),
  /** Slack's bot install: comma scopes, `ok:false` answers, auth.test for the bot id. */
  slack: z.boolean(),
  /**
   * The arctic 3.7.0 class that speaks to this provider (providers/oauth-client.ts), from the
   * catalog; null: arctic has none (the generic `oauth2` app, Slack's bot install, an org's
   * custom OAuth app), so the generic client serves it with scopeSeparator and pkce above.
   */
  arcticProvider: z.string().nullable(),
});
export type ProviderConfig = z.infer<typeof ProviderConfig>;

/** `OAUTH_CLIENTS` secret: `{"github":{"id":"…","secret":"…"}, …}`. */
export const OAuthClients = z.record(z.string(), z.object({ id: z.string().min(1), secret: z.string().min(1).nullable().optional() }));

/** `fallback` is the client for apps OAUTH_CLIENTS does not name (the caller's choice; none in production). */
export function providerConfig(
  app: OAuthApp,
  overrides: ProviderOverrides,
  clients: z.infer<typeof OAuthClients>,
  fallback: { id: string; secret: string } | null = null,
): ProviderConfig {
  const p = withProviderOverrides(app, overrides).provider;
  const client = clients[app.slug] ?? fallback ?? undefined;
  if (!client) {
    throw new AppError("invalid_request", `${app.name} is not configured on this platform yet.`, {
      fix: `An operator adds its OAuth client to OAUTH_CLIENTS (see README, Configuration).`,
      details: { field: "app" },
    });
  }
  return {
    app: app.slug,
    authorizeUrl: p.authorizeUrl,
    tokenUrl: p.tokenUrl,
    refreshUrl: p.refreshUrl ?? p.tokenUrl,
    revokeUrl: p.revokeUrl ?? null,
    userinfoUrl: p.userinfoUrl ?? null,
    userinfoQuery: p.userinfoQuery ?? null,
    scopes: p.scopes,
    scopeSeparator: p.scopeSeparator,
    pkce: p.pkce,
    identity: p.identity,
    extraAuthorizeParams: p.extraAuthorizeParams ?? {},
    clientId: client.id,
    clientSecret: client.secret ?? null,
    slack: app.slug === "slack",
    arcticProvider: p.arcticProvider && p.arcticProvider !== "OAuth2Client" ? p.arcticProvider : null,
  };
}

export function parseClients(raw: string | undefined): z.infer<typeof OAuthClients> {
  if (!raw) return {};
  try {
    return OAuthClients.parse(JSON.parse(raw));
  } catch {
    throw new AppError("internal", "OAUTH_CLIENTS is malformed.");
  }
}

/** What we keep of a token answer; the rest of the body is only read for identity. */
export interface TokenSet {
  accessToken: string;
  refreshToken: string | null;
  expiresAt: number | null;
  scopes: string[];
}

const TokenBody = z.object({
  access_token: z.string().min(1),
  refresh_token: z.string().min(1).optional(),
  expires_in: z.coerce.number().positive().optional(),
  scope: z.string().optional(),
});

export function tokenSet(data: unknown, now: number, separator: " " | ",", requested: string[]): TokenSet {
  const parsed = TokenBody.safeParse(data);
  if (!parsed.success) throw new AppError("upstream_error", "The provider's token answer had no access token.");
  const t = parsed.data;
  return {
    accessToken: t.access_token,
    refreshToken: t.refresh_token ?? null,
    expiresAt: t.expires_in ? now + t.expires_in * 1000 : null,
    scopes: t.scope !== undefined ? grantedScopes(t.scope.split(/[ ,]+/)) : requested,
  };
}

/** The scopes a provider says it granted, as shown and stored: at most 100, each made safe to show. */
export function grantedScopes(scopes: readonly string[]): string[] {
  return scopes.filter(Boolean).slice(0, MAX_GRANTED).map((x) => outsideText(x, 200));
}
const MAX_GRANTED = 100;

export function readPath(doc: unknown, path: string): unknown {
  let cur: unknown = doc;
  for (const key of path.split(".")) {
    if (cur === null || typeof cur !== "object") return undefined;
    cur = (cur as Record<string, unknown>)[key];
  }
  return cur;
}

const asText = (v: unknown): string | undefined => (typeof v === "string" && v ? v : typeof v === "number" ? String(v) : undefined);

/** The connected account, read where the provider keeps it. */
export function accountFrom(identity: ProviderConfig["identity"], doc: unknown): Account {
  const raw = asText(readPath(doc, identity.idPath));
  if (!raw) throw new AppError("upstream_error", "The provider did not say which account was connected.");
  // The provider's text becomes the credential's name and shows on pages and in the CLI: made safe
  // here, the same way every time, so the id still tells one account from another.
  const account: Account = { id: outsideText(raw, 256) };
  const email = identity.emailPath ? asText(readPath(doc, identity.emailPath)) : undefined;
  const name = identity.namePath ? asText(readPath(doc, identity.namePath)) : undefined;
  if (email) account.email = outsideText(email, 320);
  if (name) account.name = outsideText(name, 200);
  return account;
}

/** The claims of an id_token received directly from the token endpoint (TLS authenticates it there). */
export function idTokenClaims(idToken: string): Record<string, unknown> {
  const part = idToken.split(".")[1];
  if (!part) throw new AppError("upstream_error", "The provider's id_token is malformed.");
  try {
    const json = atob(part.replace(/-/g, "+").replace(/_/g, "/") + "=".repeat((4 - (part.length % 4)) % 4));
    return z.record(z.string(), z.unknown()).parse(JSON.parse(json));
  } catch {
    throw new AppError("upstream_error", "The provider's id_token is malformed.");
  }
}

/** Tokens are refreshed when they expire within this window (SPEC section 4). */
export const REFRESH_WINDOW_MS = 5 * 60_000;
export const needsRefresh = (expiresAt: number | null, now: number): boolean => expiresAt !== null && expiresAt - REFRESH_WINDOW_MS <= now;
