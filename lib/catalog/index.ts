/**
 * The apps catalog (SPEC section 2): pure data plus lookups, no I/O. Entries are parsed with the
 * zod schemas when this module loads, so a malformed entry fails every test that imports it
 * rather than surfacing at connect time.
 */
import { AppError, invalidField } from "../errors";
import { API_KEY_APPS } from "./api-key-apps";
import { OAUTH_APPS_CORE } from "./oauth-apps";
import { OAUTH_APPS_MORE } from "./oauth-apps-more";
import { OAUTH_APPS_HOSTED } from "./oauth-apps-hosted";
import { App, ApiKeyApp, CUSTOM_FIELD_NAME_RE, OAuthProvider, Slug } from "./schema";
import type { AppInput, OAuthApp } from "./schema";

export { App, ApiKeyApp, ConnectionSpec, FieldSpec, Identity, OAuthApp, OAuthProvider, Slug, CUSTOM_FIELD_NAME_RE, FIELD_NAME_RE } from "./schema";
export type { AppInput } from "./schema";

/**
 * First segments of a credential reference that mean a scope, not an app (SPEC section 3), so
 * no app may be called that.
 */
export const RESERVED_SLUGS: ReadonlySet<string> = new Set(["org", "user", "project"]);

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === "object" && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value)) deepFreeze(v);
  }
  return value;
}

function loadCatalog(entries: readonly AppInput[]): readonly App[] {
  const seen = new Set<string>();
  const apps = entries.map((entry) => {
    const parsed = App.safeParse(entry);
    if (!parsed.success) throw new Error(`catalog entry "${entry.slug}" is invalid: ${parsed.error.message}`);
    const app = parsed.data;
    if (seen.has(app.slug)) throw new Error(`catalog slug "${app.slug}" is used twice`);
    if (RESERVED_SLUGS.has(app.slug)) throw new Error(`catalog slug "${app.slug}" is a reserved scope word`);
    seen.add(app.slug);
    // Frozen so no caller can mutate shared module state; copies come from withProviderOverrides.
    return deepFreeze(app);
  });
  return Object.freeze(apps);
}

export const CATALOG: readonly App[] = loadCatalog([...OAUTH_APPS_CORE, ...OAUTH_APPS_MORE, ...OAUTH_APPS_HOSTED, ...API_KEY_APPS]);

const BY_SLUG: ReadonlyMap<string, App> = new Map(CATALOG.map((app) => [app.slug, app]));

/** The catalog app with exactly this slug (slugs are lowercase; no case folding). */
export function getApp(slug: string): App | undefined {
  return BY_SLUG.get(slug);
}

const bySlug = (a: App, b: App): number => (a.slug < b.slug ? -1 : a.slug > b.slug ? 1 : 0);

/** Lower is better; undefined = no match. */
function matchRank(app: App, q: string): number | undefined {
  if (app.slug === q) return 0;
  if (app.slug.startsWith(q)) return 1;
  if (app.name.toLowerCase().includes(q)) return 2;
  const rest = `${app.slug}\n${app.category}\n${app.description}`.toLowerCase();
  return rest.includes(q) ? 3 : undefined;
}

/**
 * Case-insensitive substring search over slug, name, category and description. Order: exact
 * slug, slug prefix, name match, then the rest; alphabetical by slug within each group. An
 * empty query lists everything alphabetically. `apps` lets callers include an org's custom apps.
 */
export function searchApps(query?: string, apps: readonly App[] = CATALOG): App[] {
  const q = (query ?? "").trim().toLowerCase();
  if (q === "") return [...apps].sort(bySlug);
  const hits: { app: App; rank: number }[] = [];
  for (const app of apps) {
    const rank = matchRank(app, q);
    if (rank !== undefined) hits.push({ app, rank });
  }
  return hits.sort((a, b) => a.rank - b.rank || bySlug(a.app, b.app)).map((h) => h.app);
}

/**
 * The org-local app created by `credentials set <key>` when <key> is not in the catalog (the
 * defineCredential case): every given field is secret, since nothing says otherwise. Throws
 * invalid_request for a catalog or reserved slug, no fields, or a malformed field name.
 */
export function customApp(slug: string, fieldNames: string[]): ApiKeyApp {
  if (!Slug.safeParse(slug).success) {
    throw invalidField("app", `"${slug}" is not a valid app slug`, "use 1-63 characters of a-z, 0-9, '_' or '-'");
  }
  if (RESERVED_SLUGS.has(slug)) {
    throw invalidField("app", `"${slug}" is reserved and cannot name an app`, "pick another name for the custom app");
  }
  if (BY_SLUG.has(slug)) {
    throw invalidField("app", `"${slug}" is a catalog app, not a custom one`, `use the catalog app's fields`);
  }
  // Repeating a field adds nothing; keep the first occurrence's order.
  const names = [...new Set(fieldNames)];
  if (names.length === 0) {
    throw invalidField("fields", `custom app "${slug}" needs at least one field`, "pass one or more --set field=value");
  }
  const parsed = ApiKeyApp.safeParse({
    slug,
    name: slug,
    kind: "api_key",
    category: "custom",
    description: `Custom app with fields ${names.join(", ")}.`,
    fields: names.map((name) => ({ name, label: name, secret: true, optional: false })),
    custom: true,
  });
  if (!parsed.success) {
    const bad = names.filter((n) => !CUSTOM_FIELD_NAME_RE.test(n));
    throw invalidField("fields", `invalid field name(s): ${bad.join(", ")}`, "field names are 1-63 letters, digits or '_', starting with a letter");
  }
  return parsed.data;
}

/** Endpoints that configuration may replace (a local fake provider, self-managed GitLab, Salesforce My Domain, oauth2). */
export type ProviderOverrides = Partial<Pick<OAuthProvider, "authorizeUrl" | "tokenUrl" | "refreshUrl" | "revokeUrl" | "userinfoUrl">>;

/**
 * A copy of `app` with its provider endpoints replaced; the catalog entry is never touched.
 * Undefined overrides are ignored. revokeUrl and userinfoUrl only replace endpoints the provider
 * has, so pointing a provider at a local fake does not change what it supports. Overriding
 * tokenUrl without refreshUrl drops a separate refreshUrl, so refreshes follow the new token
 * endpoint. api_key apps come back as plain copies.
 */
export function withProviderOverrides(app: OAuthApp, overrides: ProviderOverrides): OAuthApp;
export function withProviderOverrides(app: App, overrides: ProviderOverrides): App;
export function withProviderOverrides(app: App, overrides: ProviderOverrides): App {
  const copy = structuredClone(app);
  if (copy.kind !== "oauth") return copy;
  const p = copy.provider;
  if (overrides.authorizeUrl !== undefined) p.authorizeUrl = overrides.authorizeUrl;
  if (overrides.tokenUrl !== undefined) {
    p.tokenUrl = overrides.tokenUrl;
    if (overrides.refreshUrl === undefined) delete p.refreshUrl;
  }
  if (overrides.refreshUrl !== undefined) p.refreshUrl = overrides.refreshUrl;
  if (overrides.revokeUrl !== undefined && p.revokeUrl !== undefined) p.revokeUrl = overrides.revokeUrl;
  if (overrides.userinfoUrl !== undefined && p.userinfoUrl !== undefined) p.userinfoUrl = overrides.userinfoUrl;
  const parsed = OAuthProvider.safeParse(p);
  if (!parsed.success) {
    // Overrides come from deployment configuration, so a bad one is our fault, not the caller's.
    throw new AppError("internal", `invalid endpoint override for app "${app.slug}": ${parsed.error.issues[0]?.message ?? "invalid"}`);
  }
  return { ...copy, provider: parsed.data };
}

