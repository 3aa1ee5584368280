import * as arctic from "arctic";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { CATALOG, type OAuthApp } from "../../lib/catalog";
import { providerConfig, type ProviderConfig } from "../../lib/oauth";
import { SANDBOX_CLIENT, sandboxOverrides } from "../../durable-objects/vault/outbound";
import { authorizationUrl, exchangeCode, generateCodeVerifier, refreshTokens, revokeToken } from "../../providers/oauth-client";
import { ARCTIC_CLASSES, routed, speakerFor } from "../../providers/arctic-classes";
import { provider, sandboxOAuth } from "../../workers/dev/src/sandbox/oauth";
import { shapeOf } from "../../workers/dev/src/sandbox/provider-shapes";

/**
 * Issue 14 item 3 (SPEC section 13, "arctic does the provider work"): every catalog OAuth app
 * connects (authorize URL -> the sandbox's consent -> code exchange), refreshes and revokes
 * through providers/oauth-client.ts, and each one with an arctic class goes through that class:
 * its prototype methods are spied on, and the sandbox (provider-shapes.ts) refuses any other
 * client authentication, scope separator or PKCE use than that class's. Two ways to the sandbox:
 * the dev override (configured endpoints differ from arctic's: base derivation or routing), and
 * the production path (the catalog's endpoints, which must be exactly where arctic sends; a
 * fetch spy hands those to the sandbox).
 */
const SANDBOX = "http://sandbox.test";
const REDIRECT = "http://localhost:8787/oauth/callback";
const oauthApps = CATALOG.filter((a): a is OAuthApp => a.kind === "oauth");
const arcticApps = oauthApps.filter((a) => a.provider.arcticProvider && a.provider.arcticProvider !== "OAuth2Client");
const clients = (slug: string) => ({ [slug]: SANDBOX_CLIENT });

/** Production URLs (normalised) -> sandbox paths, for the app under test; any other upstream URL answers 599. */
let upstream = new Map<string, string>();
let requested: string[] = [];
const norm = (u: string) => new URL(u).href;

beforeEach(() => {
  upstream = new Map();
  requested = [];
  provider.seen = {};
  vi.spyOn(globalThis, "fetch").mockImplementation(async (input, init) => {
    const req = new Request(input as RequestInfo, init);
    requested.push(req.url.split("?")[0]!);
    const u = new URL(req.url);
    const path = u.origin === SANDBOX ? u.pathname.replace(/^\/_sandbox\/oauth/, "") : upstream.get(req.url);
    return path ? sandboxOAuth.fetch(new Request(SANDBOX + path, req)) : new Response("unexpected upstream call", { status: 599 });
  });
});
afterEach(() => vi.restoreAllMocks());

function direct(app: OAuthApp): ProviderConfig {
  const p = app.provider;
  upstream.set(norm(p.tokenUrl), `/${app.slug}/token`);
  if (p.refreshUrl) upstream.set(norm(p.refreshUrl), `/${app.slug}/token`);
  if (p.revokeUrl) upstream.set(norm(p.revokeUrl), `/${app.slug}/revoke`);
  return providerConfig(app, {}, clients(app.slug));
}
const viaSandbox = (app: OAuthApp): ProviderConfig => providerConfig(app, sandboxOverrides(`${SANDBOX}/`, app.slug), clients(app.slug));

/** authorize -> consent -> code exchange -> refresh (when the app refreshes) -> revoke (when it has an endpoint). */
async function connectAndRefresh(app: OAuthApp, cfg: ProviderConfig) {
  const verifier = generateCodeVerifier();
  const url = authorizationUrl(cfg, REDIRECT, "st-1", cfg.pkce ? verifier : null);
  expect(`${url.origin}${url.pathname}`).toBe(norm(cfg.authorizeUrl).split("?")[0]);
  const body = new URLSearchParams({ ...Object.fromEntries(url.searchParams), decision: "approve", login: "ada" });
  const consent = await sandboxOAuth.fetch(new Request(`${SANDBOX}/${app.slug}/authorize`, { method: "POST", headers: { "content-type": "application/x-www-form-urlencoded" }, body }));
  expect(consent.status, await consent.clone().text()).toBe(302);
  const code = new URL(consent.headers.get("location")!).searchParams.get("code")!;
  const data = await exchangeCode(cfg, REDIRECT, code, verifier);
  expect(data.access_token).toMatch(/^sbx_at_/);
  let refreshed: Record<string, unknown> | null = null;
  if (app.provider.refresh) refreshed = await refreshTokens(cfg, data.refresh_token as string);
  const revoked = cfg.revokeUrl ? await revokeToken(cfg, data.access_token as string) : null;
  return { url, data, refreshed, revoked };
}

function spyClass(name: string) {
  const proto = (arctic as unknown as Record<string, { prototype: Record<string, unknown> }>)[name]!.prototype;
  const spies: Record<string, ReturnType<typeof vi.spyOn>> = {};
  for (const m of ["createAuthorizationURL", "validateAuthorizationCode", "refreshAccessToken", "revokeToken"]) {
    if (typeof proto[m] === "function") spies[m] = vi.spyOn(proto as Record<string, () => unknown>, m as never);
  }
  return spies;
}

describe("every catalog OAuth app with an arctic class goes through that class", () => {
  it("the catalog names only classes the providers module has", () => {
    expect(arcticApps.length).toBeGreaterThanOrEqual(25);
    for (const a of arcticApps) expect(ARCTIC_CLASSES, a.slug).toContain(a.provider.arcticProvider);
  });

  for (const mode of ["sandbox override", "production endpoints"] as const) {
    it.each(arcticApps.map((a) => [a.slug, a] as const))(`%s: connects, refreshes and revokes through its class (${mode})`, async (slug, app) => {
      const cls = app.provider.arcticProvider!;
      const spies = spyClass(cls);
      const cfg = mode === "sandbox override" ? viaSandbox(app) : direct(app);
      const { url, refreshed, revoked } = await connectAndRefresh(app, cfg);
      expect(spies.createAuthorizationURL).toHaveBeenCalledTimes(1);
      if (mode === "production endpoints") {
        // arctic's own authorization URL is the catalog's: the catalog documents the class truly.
        const own = spies.createAuthorizationURL!.mock.results[0]!.value as URL;
        expect(`${own.origin}${own.pathname}`).toBe(norm(app.provider.authorizeUrl));
      }
      expect(spies.validateAuthorizationCode).toHaveBeenCalledTimes(1);
      if (app.provider.refresh) {
        expect(spies.refreshAccessToken, "the catalog says it refreshes: arctic's class must").toHaveBeenCalledTimes(1);
        expect(refreshed!.access_token).toMatch(/^sbx_at_/);
      }
      if (spies.revokeToken && cfg.revokeUrl) expect(spies.revokeToken).toHaveBeenCalledTimes(1);
      if (revoked !== null) expect(revoked).toBe(true);
      // What the sandbox saw is the class's shape, and the catalog's documented facts agree with it.
      const seen = provider.seen[slug]!;
      const shape = shapeOf(slug);
      expect(seen.token).toMatchObject({ auth: shape.auth, client_id: SANDBOX_CLIENT.id, code_verifier: shape.pkce === "always" || (shape.pkce === "optional" && cfg.pkce) });
      if (app.provider.refresh) expect(seen.refresh).toMatchObject({ auth: shape.auth });
      if (spies.revokeToken && cfg.revokeUrl) expect(seen.revoke).toMatchObject({ auth: shape.auth });
      expect(seen.authorize!.pkce, "catalog pkce = the class's").toBe(app.provider.pkce);
      const scope = url.searchParams.get("scope");
      if (speakerFor(cfg, REDIRECT).scopes) expect(scope ?? "").toBe(app.provider.scopes.join(app.provider.scopeSeparator));
      else expect(scope).toBeNull();
      // Only the sandbox and the app's own catalog endpoints were called: nothing escaped to arctic's hard-coded URLs.
      expect(requested.filter((r) => !r.startsWith(SANDBOX) && !upstream.has(r))).toEqual([]);
    });
  }

  it.each([
    "linear", "jira", "confluence", "notion", "box", "coinbase", "etsy", "linkedin", "facebook", "tiktok", "twitch", "patreon", "strava",
  ])("%s: the generic client's shape is refused by the sandbox (so the pass above is the class's)", async (slug) => {
    const app = oauthApps.find((a) => a.slug === slug)!;
    const cfg = { ...viaSandbox(app), arcticProvider: null };
    await expect(connectAndRefresh(app, cfg)).rejects.toThrow();
  });
});

describe("apps arctic has no class for use the generic client", () => {
  it.each(oauthApps.filter((a) => !arcticApps.includes(a)).map((a) => [a.slug, a] as const))("%s", async (_slug, app) => {
    const spies = spyClass("OAuth2Client");
    const { data } = await connectAndRefresh(app, viaSandbox(app));
    expect(spies.validateAuthorizationCode).toHaveBeenCalledTimes(1);
    expect(data.access_token).toMatch(/^sbx_at_/);
  });
});

describe("configured endpoints", () => {
  it("classes that take a base get it from the configured URLs (no routing)", () => {
    const app = (slug: string) => oauthApps.find((a) => a.slug === slug)!;
    const gitlab = providerConfig(app("gitlab"), { authorizeUrl: "https://git.acme.test/oauth/authorize", tokenUrl: "https://git.acme.test/oauth/token", revokeUrl: "https://git.acme.test/oauth/revoke" }, clients("gitlab"));
    expect(speakerFor(gitlab, REDIRECT).native).toMatchObject({ token: gitlab.tokenUrl, revoke: gitlab.revokeUrl });
    const sf = providerConfig(app("salesforce"), { authorizeUrl: "https://acme.my.salesforce.com/services/oauth2/authorize", tokenUrl: "https://acme.my.salesforce.com/services/oauth2/token" }, clients("salesforce"));
    expect(speakerFor(sf, REDIRECT).native.token).toBe(sf.tokenUrl);
    const ms = providerConfig(app("microsoft"), { authorizeUrl: "https://login.microsoftonline.com/acme.test/oauth2/v2.0/authorize", tokenUrl: "https://login.microsoftonline.com/acme.test/oauth2/v2.0/token" }, clients("microsoft"));
    expect(speakerFor(ms, REDIRECT).native.token).toBe(ms.tokenUrl);
    expect(authorizationUrl(ms, REDIRECT, "s", generateCodeVerifier()).href).toMatch(/^https:\/\/login\.microsoftonline\.com\/acme\.test\/oauth2\/v2\.0\/authorize\?/);
  });

  it("routing is per call: concurrent routed and direct refreshes each reach their own endpoint", async () => {
    const github = oauthApps.find((a) => a.slug === "github")!;
    const sandboxCfg = viaSandbox(github);
    const directCfg = direct(github);
    const spied = globalThis.fetch;
    const [a, b] = await Promise.all([connectAndRefresh(github, sandboxCfg), connectAndRefresh(github, directCfg)]);
    requested = [];
    await Promise.all([refreshTokens(sandboxCfg, a.refreshed!.refresh_token as string), refreshTokens(directCfg, b.refreshed!.refresh_token as string)]);
    expect(requested.sort()).toEqual([`${SANDBOX}/_sandbox/oauth/github/token`, "https://github.com/login/oauth/access_token"].sort());
    expect(globalThis.fetch).toBe(spied); // the isolate's fetch is back after every window
  });

  it("a class that cannot be a public client refuses a client without a secret, naming the field", () => {
    const cfg = { ...viaSandbox(oauthApps.find((a) => a.slug === "github")!), clientSecret: null };
    expect(() => authorizationUrl(cfg, REDIRECT, "s", null)).toThrow(expect.objectContaining({ code: "invalid_request", details: { field: "client_secret" } }));
  });

  it.each(["discord", "twitter", "gitlab"])("%s: a client without a secret connects as a public client through the class", async (slug) => {
    const app = oauthApps.find((a) => a.slug === slug)!;
    await connectAndRefresh(app, { ...viaSandbox(app), clientSecret: null });
    expect(provider.seen[slug]).toMatchObject({ token: { auth: "public" }, refresh: { auth: "public" } });
  });

  it("a call that sends no request inside its window is refused", async () => {
    await expect(routed("https://elsewhere.test/token", () => Promise.resolve("no request"))).rejects.toMatchObject({ code: "internal" });
  });

  it("GitHub's HTTP-200 refusals are read as invalid_grant (so a refused refresh marks needs_reauth)", async () => {
    const cfg = viaSandbox(oauthApps.find((a) => a.slug === "github")!);
    await expect(refreshTokens(cfg, "sbx_rt_unknown")).rejects.toMatchObject({ details: { provider_error: "invalid_grant" } });
  });
});
