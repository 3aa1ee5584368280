import { describe, expect, it } from "vitest";
import { AppError } from "../../lib/errors";
import {
  App,
  CATALOG,
  FIELD_NAME_RE,
  RESERVED_SLUGS,
  customApp,
  getApp,
  searchApps,
  withProviderOverrides,
} from "../../lib/catalog";
import type { ApiKeyApp, OAuthApp } from "../../lib/catalog";
import { sandboxOverrides } from "../../durable-objects/vault/outbound";
import { API_KEY_APPS } from "../../lib/catalog/api-key-apps";
import { OAUTH_APPS_CORE } from "../../lib/catalog/oauth-apps";
import { checkCustomSlug, CustomOAuthSpec, customOAuthApp } from "../../lib/catalog/custom-oauth";
import { OAUTH_APPS_MORE } from "../../lib/catalog/oauth-apps-more";
import { OAUTH_APPS_HOSTED } from "../../lib/catalog/oauth-apps-hosted";

const oauthApps = CATALOG.filter((a): a is OAuthApp => a.kind === "oauth");
const apiKeyApps = CATALOG.filter((a): a is ApiKeyApp => a.kind === "api_key");

function oauth(slug: string): OAuthApp {
  const app = getApp(slug);
  if (app?.kind !== "oauth") throw new Error(`${slug} is not an oauth app`);
  return app;
}

function apiKey(slug: string): ApiKeyApp {
  const app = getApp(slug);
  if (app?.kind !== "api_key") throw new Error(`${slug} is not an api_key app`);
  return app;
}

function caught(fn: () => unknown): unknown {
  try {
    fn();
  } catch (e) {
    return e;
  }
  throw new Error("expected a throw");
}

describe("catalog contents", () => {
  it("holds every entry of the data files", () => {
    expect(CATALOG).toHaveLength(OAUTH_APPS_CORE.length + OAUTH_APPS_MORE.length + OAUTH_APPS_HOSTED.length + API_KEY_APPS.length);
  });

  it("has at least 25 arctic-backed oauth apps besides slack, oauth2 and the subdomain-hosted ones arctic lacks", () => {
    const hosted = new Set(OAUTH_APPS_HOSTED.map((a) => a.slug));
    const arcticBacked = oauthApps.filter((a) => a.slug !== "slack" && a.slug !== "oauth2" && !hosted.has(a.slug));
    for (const slug of hosted) expect(oauth(slug).provider.arcticProvider, slug).toBeUndefined();
    expect(arcticBacked.length).toBeGreaterThanOrEqual(25);
    for (const app of arcticBacked) expect(app.provider.arcticProvider, app.slug).toMatch(/^[A-Z]/);
    expect(new Set(arcticBacked.map((a) => a.provider.arcticProvider)).size).toBeGreaterThanOrEqual(25);
  });

  it("has at least 15 api_key apps, none of them custom", () => {
    expect(apiKeyApps.length).toBeGreaterThanOrEqual(15);
    expect(apiKeyApps.every((a) => a.custom === false)).toBe(true);
  });

  it("has unique slugs, none of them a reserved scope word", () => {
    const slugs = CATALOG.map((a) => a.slug);
    expect(new Set(slugs).size).toBe(slugs.length);
    for (const s of slugs) expect(RESERVED_SLUGS.has(s), s).toBe(false);
  });

  it("re-parses every entry unchanged with the zod schema", () => {
    for (const app of CATALOG) expect(App.parse(app), app.slug).toEqual(app);
  });

  it("makes slack the only channel app", () => {
    expect(CATALOG.filter((a) => a.kind === "oauth" && a.channel).map((a) => a.slug)).toEqual(["slack"]);
  });

  it("uses camelCase field names and unique fields in catalog api_key apps", () => {
    for (const app of apiKeyApps) {
      for (const f of app.fields) expect(f.name, `${app.slug}.${f.name}`).toMatch(FIELD_NAME_RE);
      expect(new Set(app.fields.map((f) => f.name)).size).toBe(app.fields.length);
      expect(app.fields.some((f) => f.secret && !f.optional), `${app.slug} needs a required secret`).toBe(true);
    }
  });

  it("uses https for every real provider endpoint", () => {
    for (const app of oauthApps) {
      const p = app.provider;
      for (const url of [p.authorizeUrl, p.tokenUrl, p.refreshUrl, p.revokeUrl, p.userinfoUrl]) {
        if (url !== undefined) expect(new URL(url).protocol, `${app.slug}: ${url}`).toBe("https:");
      }
    }
  });

  it("describes the slack bot install", () => {
    const slack = oauth("slack");
    expect(slack.provider).toMatchObject({
      authorizeUrl: "https://slack.com/oauth/v2/authorize",
      tokenUrl: "https://slack.com/api/oauth.v2.access",
      revokeUrl: "https://slack.com/api/auth.revoke",
      scopeSeparator: ",",
      pkce: false,
      identity: { source: "token_response", idPath: "team.id" },
    });
    expect(slack.provider.scopes).toEqual([
      "app_mentions:read",
      "channels:history",
      "channels:read",
      "groups:history",
      "groups:read",
      "im:history",
      "im:read",
      "mpim:history",
      "chat:write",
    ]);
  });

  it("gives the generic oauth2 app unresolvable placeholder endpoints", () => {
    const p = oauth("oauth2").provider;
    for (const url of [p.authorizeUrl, p.tokenUrl]) expect(new URL(url).hostname).toMatch(/\.invalid$/);
  });

  it("mirrors arctic's endpoints and PKCE facts", () => {
    expect(oauth("google").provider).toMatchObject({
      authorizeUrl: "https://accounts.google.com/o/oauth2/v2/auth",
      tokenUrl: "https://oauth2.googleapis.com/token",
      revokeUrl: "https://oauth2.googleapis.com/revoke",
      pkce: true,
      refresh: true,
    });
    expect(oauth("github").provider).toMatchObject({
      authorizeUrl: "https://github.com/login/oauth/authorize",
      tokenUrl: "https://github.com/login/oauth/access_token",
      pkce: false,
    });
    expect(oauth("microsoft").provider.authorizeUrl).toBe("https://login.microsoftonline.com/common/oauth2/v2.0/authorize");
    expect(oauth("figma").provider.refreshUrl).toBe("https://api.figma.com/v1/oauth/refresh");
    expect(oauth("strava").provider.scopeSeparator).toBe(",");
    expect(oauth("linear").provider.identity.idPath).toBe("data.viewer.id");
  });

  it("applies schema defaults to entries that leave them out", () => {
    expect(oauth("github").provider.scopeSeparator).toBe(" ");
    expect(apiKey("anthropic").fields).toEqual([{ name: "apiKey", label: "API key", secret: true, optional: false }]);
  });

  it("has the documented api_key field shapes", () => {
    expect(apiKey("openai").fields).toEqual([
      { name: "apiKey", label: "API key", secret: true, optional: false },
      { name: "organization", label: "Organization ID", secret: false, optional: true },
    ]);
    expect(apiKey("twilio").fields.map((f) => [f.name, f.secret])).toEqual([
      ["accountSid", false],
      ["authToken", true],
    ]);
    expect(apiKey("supabase").fields.map((f) => [f.name, f.secret])).toEqual([
      ["url", false],
      ["serviceRoleKey", true],
    ]);
    expect(apiKey("stripe").fields.map((f) => f.name)).toEqual(["secretKey"]);
    expect(apiKey("exa").fields.map((f) => f.name)).toEqual(["apiKey"]);
  });

  it("is frozen, so callers cannot mutate shared state", () => {
    expect(Object.isFrozen(CATALOG)).toBe(true);
    const github = oauth("github");
    expect(() => {
      (github.provider as { tokenUrl: string }).tokenUrl = "https://evil.example/token";
    }).toThrow(TypeError);
    expect(oauth("github").provider.tokenUrl).toBe("https://github.com/login/oauth/access_token");
  });
});

describe("schema", () => {
  const base = { slug: "x", name: "X", kind: "api_key", category: "c", description: "d", custom: false };

  it("rejects bad slugs, empty field lists and duplicate fields", () => {
    const field = { name: "apiKey", label: "API key", secret: true };
    expect(App.safeParse({ ...base, fields: [field] }).success).toBe(true);
    expect(App.safeParse({ ...base, slug: "Bad", fields: [field] }).success).toBe(false);
    expect(App.safeParse({ ...base, slug: "-x", fields: [field] }).success).toBe(false);
    expect(App.safeParse({ ...base, fields: [] }).success).toBe(false);
    expect(App.safeParse({ ...base, fields: [field, field] }).success).toBe(false);
    expect(App.safeParse({ ...base, fields: [{ ...field, name: "1key" }] }).success).toBe(false);
  });

  it("rejects an oauth app that has a non-http endpoint or reads userinfo without a URL; no catalog oauth app is custom", () => {
    const good = structuredClone(oauth("github")) as unknown as Record<string, unknown> & { provider: Record<string, unknown> };
    expect(App.safeParse(good).success).toBe(true);
    // The shape allows custom (org-local custom OAuth apps, issue 14); the catalog itself has none.
    expect(App.safeParse({ ...good, custom: true }).success).toBe(true);
    expect(oauthApps.filter((a) => a.custom).map((a) => a.slug)).toEqual([]);
    expect(App.safeParse({ ...good, provider: { ...good.provider, tokenUrl: "ftp://github.com/token" } }).success).toBe(false);
    expect(App.safeParse({ ...good, provider: { ...good.provider, userinfoUrl: undefined } }).success).toBe(false);
    expect(App.safeParse({ ...good, provider: { ...good.provider, scopeSeparator: ";" } }).success).toBe(false);
  });
});

describe("getApp", () => {
  it("finds apps by exact slug only", () => {
    expect(getApp("exa")?.name).toBe("Exa");
    expect(getApp("EXA")).toBeUndefined();
    expect(getApp("nope")).toBeUndefined();
    expect(getApp("__proto__")).toBeUndefined();
  });
});

describe("searchApps", () => {
  it("returns every app alphabetically for an empty or blank query", () => {
    const all = searchApps();
    expect(all).toHaveLength(CATALOG.length);
    expect(all.map((a) => a.slug)).toEqual(CATALOG.map((a) => a.slug).sort());
    expect(searchApps("").map((a) => a.slug)).toEqual(all.map((a) => a.slug));
    expect(searchApps("   ").map((a) => a.slug)).toEqual(all.map((a) => a.slug));
  });

  it("returns a fresh array each time", () => {
    const first = searchApps();
    first.pop();
    expect(searchApps()).toHaveLength(CATALOG.length);
  });

  it("is case-insensitive", () => {
    expect(searchApps("GitHub").map((a) => a.slug)).toEqual(searchApps("github").map((a) => a.slug));
    expect(searchApps("GITHUB")[0]?.slug).toBe("github");
  });

  it("ranks exact slug, then slug prefix, then name, then the rest", () => {
    // "git": prefix of github and gitlab; a substring of nothing else's slug or name.
    expect(searchApps("git").slice(0, 2).map((a) => a.slug)).toEqual(["github", "gitlab"]);
    // "box": exact slug, then dropbox whose name contains it.
    expect(searchApps("box").slice(0, 2).map((a) => a.slug)).toEqual(["box", "dropbox"]);
    // "x": no slug starts with it; names containing it come first, then description-only matches.
    expect(searchApps("x").map((a) => a.slug)).toEqual([
      "box", "dropbox", "exa", "perplexity", "twitter", // names: Box, Dropbox, Exa, Perplexity, X (Twitter)
      "deepgram", "elevenlabs", "salesforce", // descriptions: "text", "text", "sandbox"
    ]);
  });

  it("puts a name match before a category or description match", () => {
    const custom: App[] = [
      { ...apiKey("exa"), slug: "zeta", name: "Zeta", category: "search", description: "has widget inside" },
      { ...apiKey("exa"), slug: "alpha", name: "Alpha", category: "widget tools", description: "d" },
      { ...apiKey("exa"), slug: "mid", name: "My Widget", category: "c", description: "d" },
      { ...apiKey("exa"), slug: "widget-pro", name: "Pro", category: "c", description: "d" },
      { ...apiKey("exa"), slug: "widget", name: "W", category: "c", description: "d" },
      { ...apiKey("exa"), slug: "nomatch", name: "N", category: "c", description: "d" },
    ];
    expect(searchApps("Widget", custom).map((a) => a.slug)).toEqual(["widget", "widget-pro", "mid", "alpha", "zeta"]);
  });

  it("matches category and description", () => {
    const ai = searchApps("ai").map((a) => a.slug);
    expect(ai).toEqual(expect.arrayContaining(["openai", "anthropic", "mistral"]));
    const slugs = searchApps("claude").map((a) => a.slug);
    expect(slugs).toEqual(["anthropic"]);
  });

  it("returns nothing when nothing matches", () => {
    expect(searchApps("zzzz-not-an-app")).toEqual([]);
  });
});

describe("customApp", () => {
  it("builds an org-local api_key app with secret fields", () => {
    const app = customApp("acme-crm", ["apiKey", "tenantId"]);
    expect(app).toEqual({
      slug: "acme-crm",
      name: "acme-crm",
      kind: "api_key",
      category: "custom",
      description: expect.any(String),
      fields: [
        { name: "apiKey", label: "apiKey", secret: true, optional: false },
        { name: "tenantId", label: "tenantId", secret: true, optional: false },
      ],
      custom: true,
      // No connection data (SPEC section 13): only catalog apps declare it.
      connection: [],
    });
    expect(App.parse(app)).toEqual(app);
    expect(getApp("acme-crm")).toBeUndefined();
  });

  it("drops repeated field names and accepts the names `credentials set` accepts", () => {
    expect(customApp("acme", ["token", "token", "API_KEY"]).fields.map((f) => f.name)).toEqual(["token", "API_KEY"]);
  });

  it("rejects catalog slugs, reserved words, bad slugs, no fields and bad field names", () => {
    const cases: [string, string[], string][] = [
      ["github", ["token"], "app"],
      ["org", ["token"], "app"],
      ["Acme", ["token"], "app"],
      ["acme", [], "fields"],
      ["acme", ["ok", "bad-name"], "fields"],
    ];
    for (const [slug, fields, field] of cases) {
      const err = caught(() => customApp(slug, fields));
      expect(err, `${slug} ${fields.join(",")}`).toBeInstanceOf(AppError);
      expect((err as AppError).code).toBe("invalid_request");
      expect((err as AppError).details).toEqual({ field });
    }
    expect((caught(() => customApp("acme", ["ok", "bad-name"])) as AppError).message).toContain("bad-name");
  });
});

describe("provider overrides", () => {
  it("builds the sandbox endpoints, tolerating a trailing slash", () => {
    const expected = {
      authorizeUrl: "http://localhost:8787/_sandbox/oauth/github/authorize",
      tokenUrl: "http://localhost:8787/_sandbox/oauth/github/token",
      revokeUrl: "http://localhost:8787/_sandbox/oauth/github/revoke",
      userinfoUrl: "http://localhost:8787/_sandbox/oauth/github/userinfo",
    };
    expect(sandboxOverrides("http://localhost:8787", "github")).toEqual(expected);
    expect(sandboxOverrides("http://localhost:8787/", "github")).toEqual(expected);
  });

  it("returns a copy and leaves the catalog entry untouched", () => {
    const google = oauth("google");
    const before = structuredClone(google);
    const local = withProviderOverrides(google, sandboxOverrides("http://localhost:8787", "google"));
    expect(local).not.toBe(google);
    expect(local.provider).toMatchObject({
      authorizeUrl: "http://localhost:8787/_sandbox/oauth/google/authorize",
      tokenUrl: "http://localhost:8787/_sandbox/oauth/google/token",
      revokeUrl: "http://localhost:8787/_sandbox/oauth/google/revoke",
      userinfoUrl: "http://localhost:8787/_sandbox/oauth/google/userinfo",
      scopes: google.provider.scopes,
      pkce: true,
    });
    expect(getApp("google")).toEqual(before);
    // The copy is the caller's to change.
    local.provider.scopes.push("https://www.googleapis.com/auth/drive");
    expect(oauth("google").provider.scopes).toEqual(before.provider.scopes);
  });

  it("does not invent revoke or userinfo endpoints a provider lacks", () => {
    const strava = withProviderOverrides(oauth("strava"), sandboxOverrides("http://localhost:8787", "strava"));
    expect(strava.provider.tokenUrl).toBe("http://localhost:8787/_sandbox/oauth/strava/token");
    expect(strava.provider.revokeUrl).toBeUndefined();
    expect(strava.provider.userinfoUrl).toBeUndefined();
  });

  it("ignores undefined overrides and overrides only what is given", () => {
    const gitlab = withProviderOverrides(oauth("gitlab"), { authorizeUrl: "https://git.example.com/oauth/authorize", tokenUrl: undefined });
    expect(gitlab.provider.authorizeUrl).toBe("https://git.example.com/oauth/authorize");
    expect(gitlab.provider.tokenUrl).toBe("https://gitlab.com/oauth/token");
  });

  it("sends refreshes to an overridden token endpoint unless refreshUrl is overridden too", () => {
    const figma = oauth("figma");
    const local = withProviderOverrides(figma, { tokenUrl: "http://localhost:8787/_sandbox/oauth/figma/token" });
    expect(local.provider.refreshUrl).toBeUndefined();
    const both = withProviderOverrides(figma, { tokenUrl: "http://t.test/token", refreshUrl: "http://t.test/refresh" });
    expect(both.provider.refreshUrl).toBe("http://t.test/refresh");
    expect(oauth("figma").provider.refreshUrl).toBe("https://api.figma.com/v1/oauth/refresh");
  });

  it("rejects an override that is not an http(s) URL", () => {
    const err = caught(() => withProviderOverrides(oauth("github"), { tokenUrl: "not a url" }));
    expect(err).toBeInstanceOf(AppError);
    expect((err as AppError).code).toBe("internal");
  });

  it("returns api_key apps as plain copies", () => {
    const exa = apiKey("exa");
    const copy = withProviderOverrides(exa, { tokenUrl: "http://t.test/token" });
    expect(copy).toEqual(exa);
    expect(copy).not.toBe(exa);
  });
});

describe("customOAuthApp (issue 14: org-local custom OAuth apps)", () => {
  it("builds a custom OAuth app that fails closed until the org's client names endpoints; catalog and reserved slugs are refused", () => {
    const app = customOAuthApp("acme-idp", "Acme IdP", CustomOAuthSpec.parse({ scopes: ["openid"] }));
    expect(app).toMatchObject({ slug: "acme-idp", name: "Acme IdP", kind: "oauth", custom: true, channel: false });
    expect(app.provider).toMatchObject({ scopes: ["openid"], pkce: true, identity: { source: "userinfo", idPath: "sub" } });
    expect(new URL(app.provider.tokenUrl).hostname).toBe("acme-idp.invalid");
    const byToken = customOAuthApp("t", "T", CustomOAuthSpec.parse({ identity: { source: "token_response", idPath: "user.id" } }));
    expect(byToken.provider.userinfoUrl).toBeUndefined();
    expect(() => checkCustomSlug("github")).toThrow(/catalog app/);
    expect(() => checkCustomSlug("org")).toThrow(/reserved/);
    expect(() => checkCustomSlug("Bad Slug")).toThrow(/not a valid app slug/);
    expect(() => checkCustomSlug("acme-idp")).not.toThrow();
  });
});
