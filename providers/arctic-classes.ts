/**
 * Each catalog app's own arctic 3.7.0 class, behind one shape (`Speaker`), so the provider's quirks
 * are arctic's: client authentication in the body or as HTTP basic, PKCE, scope separators, GitHub's
 * errors in HTTP 200 answers, Atlassian's audience, Notion's owner. Apps arctic has no class for
 * (the generic `oauth2` app, Slack's bot install, an org's custom OAuth app) get arctic's generic
 * OAuth2Client with the configured endpoints, separator and PKCE flag. Only oauth-client.ts uses this.
 *
 * Configured endpoints (dev: the sandbox; production: an org's self-hosted provider) and arctic's
 * hard-coded ones. The classes that take a base (GitLab's URL, Salesforce's domain, a Microsoft
 * Entra tenant) get it from the configured token URL when that URL has the provider's shape, and
 * then send every request there themselves. Otherwise, where a configured endpoint differs from
 * the class's, `routed` sends the one request of that call to the configured URL:
 *   arctic has no fetch seam; it calls the global `fetch` once per call, synchronously, before its
 *   first await (request.js sendTokenRequest / sendTokenRevocationRequest). `routed` swaps
 *   `globalThis.fetch` for a forwarder, starts the arctic call, and puts the real fetch back in a
 *   `finally`, all in one synchronous run, so no other request of the isolate (another org's
 *   refresh in the same Durable Object isolate, another call of this one) can run while the
 *   forwarder is installed: JavaScript runs nothing else between two statements of a synchronous
 *   block. Limits: it depends on arctic calling fetch before awaiting anything (true of every
 *   class and of OAuth2Client in 3.7.0, pinned exactly; test/api/providers.test.ts fails if a
 *   request escapes to the hard-coded URL); a call that sent no request, or two, inside the
 *   window is refused as an internal error. The forwarder only changes the URL: method, headers
 *   (the class's client authentication) and body are arctic's.
 * The authorization URL needs no fetch: its origin and path are replaced by the configured one,
 * keeping arctic's query.
 */
import {
  Atlassian, Autodesk, Bitbucket, Box, CodeChallengeMethod, Coinbase, Discord, Dropbox, Etsy, Facebook, Figma, GitHub, GitLab, Google, Intuit,
  Linear, LinkedIn, MicrosoftEntraId, Notion, OAuth2Client, Patreon, Reddit, Salesforce, Spotify, Strava, TikTok, Twitch, Twitter, Yahoo, Zoom,
  type OAuth2Tokens,
} from "arctic";
import { getApp } from "../lib/catalog";
import { AppError } from "../lib/errors";
import type { ProviderConfig } from "../lib/oauth";

/** What a class's createAuthorizationURL does with a PKCE verifier. */
export type Pkce = "always" | "optional" | "never";

/** One provider, as its arctic class (or the generic client) speaks it. */
export interface Speaker {
  /** The class's name: `OAuth2Client` for the generic client. */
  arctic: string;
  pkce: Pkce;
  /** False for classes whose authorization URL takes no scopes (Bitbucket, Notion: set on the provider's app). */
  scopes: boolean;
  authorize(state: string, verifier: string | null, scopes: string[]): URL;
  exchange(code: string, verifier: string | null): Promise<OAuth2Tokens>;
  /** Null when the class has no such method; the caller falls back to the generic client at the configured URL. */
  refresh: ((refreshToken: string) => Promise<OAuth2Tokens>) | null;
  revoke: ((token: string) => Promise<void>) | null;
  /** Where the class itself sends each call (arctic's constants, or built from the base it was given). */
  native: { authorize: string; token: string; refresh: string; revoke: string | null };
}

interface Refreshes { refreshAccessToken?(refreshToken: string): Promise<OAuth2Tokens>; revokeToken?(token: string): Promise<void> }
interface Plain extends Refreshes { createAuthorizationURL(state: string, scopes: string[]): URL; validateAuthorizationCode(code: string): Promise<OAuth2Tokens> }
interface Scopeless extends Refreshes { createAuthorizationURL(state: string): URL; validateAuthorizationCode(code: string): Promise<OAuth2Tokens> }
interface WithPkce extends Refreshes { createAuthorizationURL(state: string, verifier: string, scopes: string[]): URL; validateAuthorizationCode(code: string, verifier: string): Promise<OAuth2Tokens> }
interface OptionalPkce extends Refreshes { createAuthorizationURL(state: string, verifier: string | null, scopes: string[]): URL; validateAuthorizationCode(code: string, verifier: string | null): Promise<OAuth2Tokens> }

type Part = Omit<Speaker, "arctic" | "native">;

const rest = (p: Refreshes): Pick<Part, "refresh" | "revoke"> => ({
  refresh: p.refreshAccessToken ? (t) => p.refreshAccessToken!(t) : null,
  revoke: p.revokeToken ? (t) => p.revokeToken!(t) : null,
});
const plain = (p: Plain): Part => ({ pkce: "never", scopes: true, authorize: (s, _v, sc) => p.createAuthorizationURL(s, sc), exchange: (c) => p.validateAuthorizationCode(c), ...rest(p) });
const scopeless = (p: Scopeless): Part => ({ pkce: "never", scopes: false, authorize: (s) => p.createAuthorizationURL(s), exchange: (c) => p.validateAuthorizationCode(c), ...rest(p) });
const verifierOf = (v: string | null): string => {
  if (v === null) throw new AppError("internal", "This provider needs a PKCE verifier.");
  return v;
};
const withPkce = (p: WithPkce): Part => ({
  pkce: "always", scopes: true,
  authorize: (s, v, sc) => p.createAuthorizationURL(s, verifierOf(v), sc),
  exchange: (c, v) => p.validateAuthorizationCode(c, verifierOf(v)),
  ...rest(p),
});
const optionalPkce = (p: OptionalPkce): Part => ({ pkce: "optional", scopes: true, authorize: (s, v, sc) => p.createAuthorizationURL(s, v, sc), exchange: (c, v) => p.validateAuthorizationCode(c, v), ...rest(p) });

interface Client { id: string; secret: string | null; redirect: string }

/** The secret, for classes that cannot act as a public client. */
function secretOf(c: Client, cls: string): string {
  if (c.secret === null) {
    throw new AppError("invalid_request", `${cls} needs a client secret, and this app's OAuth client has none.`, {
      fix: "An admin adds the client secret to the app's OAuth client (or an operator to OAUTH_CLIENTS).",
      details: { field: "client_secret" },
    });
  }
  return c.secret;
}
type Base = { base: string; native: Speaker["native"] };

/** `https://<x><suffix>` → x when `url` has that shape (a base the class can be given), else null. */
function baseOf(url: string, prefix: string, suffix: string, pattern: RegExp): string | null {
  if (!url.startsWith(prefix) || !url.endsWith(suffix)) return null;
  const x = url.slice(prefix.length, url.length - suffix.length);
  return pattern.test(x) ? x : null;
}

/** GitLab.com or self-managed: `<base>/oauth/{authorize,token,revoke}` (arctic joinURIAndPath). */
function gitlabBase(cfg: ProviderConfig): Base {
  const b = /^https?:\/\/[^?#]+?(?=\/oauth\/token$)/.exec(cfg.tokenUrl)?.[0] ?? "https://gitlab.com";
  return { base: b, native: { authorize: `${b}/oauth/authorize`, token: `${b}/oauth/token`, refresh: `${b}/oauth/token`, revoke: `${b}/oauth/revoke` } };
}
/** Salesforce: `https://<domain>/services/oauth2/…` (login.salesforce.com, test.salesforce.com or a My Domain). */
function salesforceDomain(cfg: ProviderConfig): Base {
  const d = baseOf(cfg.tokenUrl, "https://", "/services/oauth2/token", /^[A-Za-z0-9.-]+(:\d+)?$/) ?? "login.salesforce.com";
  const at = (p: string) => `https://${d}/services/oauth2/${p}`;
  return { base: d, native: { authorize: at("authorize"), token: at("token"), refresh: at("token"), revoke: at("revoke") } };
}
/** Microsoft Entra ID: `https://login.microsoftonline.com/<tenant>/oauth2/v2.0/…` (common, organizations or a tenant id). */
function entraTenant(cfg: ProviderConfig): Base {
  const t = baseOf(cfg.tokenUrl, "https://login.microsoftonline.com/", "/oauth2/v2.0/token", /^[A-Za-z0-9.-]+$/) ?? "common";
  const at = (p: string) => `https://login.microsoftonline.com/${t}/oauth2/v2.0/${p}`;
  return { base: t, native: { authorize: at("authorize"), token: at("token"), refresh: at("token"), revoke: null } };
}

/** The classes of the catalog's apps, by the catalog's `arcticProvider` name. */
const CLASSES: Record<string, (c: Client, cfg: ProviderConfig) => Part & { native?: Speaker["native"] }> = {
  Atlassian: (c) => plain(new Atlassian(c.id, secretOf(c, "Atlassian"), c.redirect)),
  Autodesk: (c) => withPkce(new Autodesk(c.id, c.secret, c.redirect)),
  Bitbucket: (c) => scopeless(new Bitbucket(c.id, secretOf(c, "Bitbucket"), c.redirect)),
  Box: (c) => plain(new Box(c.id, secretOf(c, "Box"), c.redirect)),
  Coinbase: (c) => plain(new Coinbase(c.id, secretOf(c, "Coinbase"), c.redirect)),
  Discord: (c) => optionalPkce(new Discord(c.id, c.secret, c.redirect)),
  Dropbox: (c) => plain(new Dropbox(c.id, secretOf(c, "Dropbox"), c.redirect)),
  // A public client: arctic's Etsy takes no secret (PKCE instead).
  Etsy: (c) => withPkce(new Etsy(c.id, c.redirect)),
  Facebook: (c) => plain(new Facebook(c.id, secretOf(c, "Facebook"), c.redirect)),
  Figma: (c) => plain(new Figma(c.id, secretOf(c, "Figma"), c.redirect)),
  GitHub: (c) => plain(new GitHub(c.id, secretOf(c, "GitHub"), c.redirect)),
  GitLab: (c, cfg) => {
    const g = gitlabBase(cfg);
    return { ...plain(new GitLab(g.base, c.id, c.secret, c.redirect)), native: g.native };
  },
  Google: (c) => withPkce(new Google(c.id, secretOf(c, "Google"), c.redirect)),
  Intuit: (c) => plain(new Intuit(c.id, secretOf(c, "Intuit"), c.redirect)),
  Linear: (c) => plain(new Linear(c.id, secretOf(c, "Linear"), c.redirect)),
  LinkedIn: (c) => plain(new LinkedIn(c.id, secretOf(c, "LinkedIn"), c.redirect)),
  MicrosoftEntraId: (c, cfg) => {
    const t = entraTenant(cfg);
    const p = new MicrosoftEntraId(t.base, c.id, c.secret, c.redirect);
    // Its refresh takes scopes too; none asks for the grant's own.
    const pkce = withPkce({ createAuthorizationURL: (s, v, sc) => p.createAuthorizationURL(s, v, sc), validateAuthorizationCode: (code, v) => p.validateAuthorizationCode(code, v) });
    return { ...pkce, refresh: (rt) => p.refreshAccessToken(rt, []), native: t.native };
  },
  Notion: (c) => scopeless(new Notion(c.id, secretOf(c, "Notion"), c.redirect)),
  Patreon: (c) => plain(new Patreon(c.id, secretOf(c, "Patreon"), c.redirect)),
  Reddit: (c) => plain(new Reddit(c.id, secretOf(c, "Reddit"), c.redirect)),
  Salesforce: (c, cfg) => {
    const d = salesforceDomain(cfg);
    return { ...withPkce(new Salesforce(d.base, c.id, c.secret, c.redirect)), native: d.native };
  },
  Spotify: (c) => optionalPkce(new Spotify(c.id, c.secret, c.redirect)),
  Strava: (c) => plain(new Strava(c.id, secretOf(c, "Strava"), c.redirect)),
  TikTok: (c) => withPkce(new TikTok(c.id, secretOf(c, "TikTok"), c.redirect)),
  Twitch: (c) => plain(new Twitch(c.id, secretOf(c, "Twitch"), c.redirect)),
  Twitter: (c) => withPkce(new Twitter(c.id, c.secret, c.redirect)),
  Yahoo: (c) => plain(new Yahoo(c.id, secretOf(c, "Yahoo"), c.redirect)),
  Zoom: (c) => withPkce(new Zoom(c.id, secretOf(c, "Zoom"), c.redirect)),
};

/** The names arctic classes are known by here (the catalog test holds every catalog app to them). */
export const ARCTIC_CLASSES: readonly string[] = Object.keys(CLASSES);

/** The generic client at the configured endpoints: scopes joined as configured, PKCE when configured. */
function generic(cfg: ProviderConfig, redirectUri: string | null): Speaker {
  const c = new OAuth2Client(cfg.clientId, cfg.clientSecret, redirectUri);
  const scoped = (url: URL, scopes: string[]) => {
    // OAuth2Client joins scopes with spaces; Slack's bot install wants commas.
    if (scopes.length) url.searchParams.set("scope", scopes.join(cfg.scopeSeparator));
    return url;
  };
  return {
    arctic: "OAuth2Client",
    pkce: cfg.pkce ? "optional" : "never",
    scopes: true,
    authorize: (s, v, sc) => scoped(cfg.pkce && v ? c.createAuthorizationURLWithPKCE(cfg.authorizeUrl, s, CodeChallengeMethod.S256, v, []) : c.createAuthorizationURL(cfg.authorizeUrl, s, []), sc),
    exchange: (code, v) => c.validateAuthorizationCode(cfg.tokenUrl, code, cfg.pkce ? v : null),
    refresh: (rt) => c.refreshAccessToken(cfg.refreshUrl, rt, []),
    revoke: cfg.revokeUrl ? (t) => c.revokeToken(cfg.revokeUrl!, t) : null,
    native: { authorize: cfg.authorizeUrl, token: cfg.tokenUrl, refresh: cfg.refreshUrl, revoke: cfg.revokeUrl },
  };
}

/**
 * The speaker for `cfg`: its arctic class when it has one, else the generic client. A class's
 * hard-coded endpoints are the catalog entry's (the catalog copies them from arctic; the per-app
 * test checks the requests really go there).
 */
export function speakerFor(cfg: ProviderConfig, redirectUri: string | null): Speaker {
  const make = cfg.arcticProvider ? CLASSES[cfg.arcticProvider] : undefined;
  if (!make) return generic(cfg, redirectUri);
  const part = make({ id: cfg.clientId, secret: cfg.clientSecret, redirect: redirectUri ?? "" }, cfg);
  const home = getApp(cfg.app);
  const p = home?.kind === "oauth" ? home.provider : null;
  const native = part.native ?? {
    authorize: p?.authorizeUrl ?? cfg.authorizeUrl,
    token: p?.tokenUrl ?? cfg.tokenUrl,
    refresh: p?.refreshUrl ?? p?.tokenUrl ?? cfg.refreshUrl,
    revoke: p?.revokeUrl ?? null,
  };
  return { ...part, arctic: cfg.arcticProvider!, native };
}

const same = (a: string, b: string): boolean => {
  try {
    return new URL(a).href === new URL(b).href;
  } catch {
    return a === b;
  }
};

/** The configured URL when it is not where the class goes by itself, else null (nothing to route). */
export const routeTo = (native: string | null, configured: string): string | null => (native !== null && same(native, configured) ? null : configured);

/** arctic's authorization URL moved to the configured authorize endpoint (its query kept). */
export function atAuthorizeUrl(url: URL, configured: string): URL {
  if (same(`${url.origin}${url.pathname}`, configured)) return url;
  const moved = new URL(configured);
  for (const [k, v] of url.searchParams) moved.searchParams.set(k, v);
  return moved;
}

/**
 * Starts one arctic call with its single request sent to `target` (null: where arctic sends it).
 * See the header for why this cannot leak into another request of the isolate.
 */
export function routed<T>(target: string | null, call: () => Promise<T>): Promise<T> {
  if (target === null) return call();
  const real = globalThis.fetch;
  let sent = 0;
  const forward = (input: RequestInfo | URL, init?: RequestInit): Promise<Response> => {
    sent++;
    return real.call(globalThis, new Request(target, new Request(input, init)));
  };
  let work: Promise<T>;
  globalThis.fetch = forward as typeof fetch;
  try {
    work = call();
  } finally {
    globalThis.fetch = real;
  }
  if (sent !== 1) {
    work.catch(() => undefined);
    return Promise.reject(new AppError("internal", "The provider call could not be routed to its configured endpoint."));
  }
  return work;
}
