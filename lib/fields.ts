import type { ApiKeyApp, App } from "./catalog";
import { invalidField } from "./errors";
import { maskSecret } from "./mask";
import type { AppSummary } from "./schemas/apps";

/**
 * Field rules shared by the vault and the CLI's local target, so both refuse the same input with
 * the same words: API-key apps only, known fields, required fields unless `partial` (rotate).
 */
export function checkFields(app: App, fields: Record<string, string>, opts: { partial: boolean; oauthFix: string }): asserts app is ApiKeyApp {
  if (app.kind !== "api_key") {
    throw invalidField("app", `${app.name} is an OAuth app; its credentials come from connecting it, not from pasted secrets.`, opts.oauthFix);
  }
  const known = new Set(app.fields.map((f) => f.name));
  for (const name of Object.keys(fields)) {
    if (!known.has(name)) throw invalidField(`fields.${name}`, `${app.name} has no field \`${name}\`.`, `Its fields are: ${[...known].join(", ")}.`);
  }
  if (opts.partial) return;
  for (const f of app.fields) {
    if (!f.optional && fields[f.name] === undefined) throw invalidField(`fields.${f.name}`, `${app.name} needs the field \`${f.name}\` (${f.label}).`);
  }
}

/** The preview comes from the app's first secret field: the key people recognise. */
export function previewOf(app: App | undefined, fields: Record<string, string>): string | null {
  if (app?.kind !== "api_key") return null;
  const primary = app.fields.find((f) => f.secret && fields[f.name] !== undefined);
  return primary ? maskSecret(fields[primary.name]!) : null;
}

/** An app as the API lists it. */
export function appSummary(app: App, connected: number): AppSummary {
  return {
    slug: app.slug,
    name: app.name,
    kind: app.kind,
    category: app.category,
    description: app.description,
    fields: app.kind === "api_key" ? app.fields.map((f) => ({ name: f.name, label: f.label, secret: f.secret, optional: f.optional })) : null,
    channel: app.kind === "oauth" ? app.channel : false,
    custom: app.custom,
    scopes: app.kind === "oauth" ? { default: app.provider.scopes, optional: app.provider.optionalScopes } : null,
    connection: (app.kind === "oauth" ? app.provider.connection : app.connection).map((c) => ({ key: c.key, from: c.from })),
    connected,
  };
}

/** Machine slugs from display names (`Work (EU)` -> `work-eu`); null when nothing usable is left. */
export function slugify(name: string): string | null {
  const s = name.toLowerCase().normalize("NFKD").replace(/[\u0300-\u036f]/g, "").replace(/[^a-z0-9_-]+/g, "-").replace(/^[-_]+|[-_]+$/g, "").slice(0, 63).replace(/[-_]+$/, "");
  return s || null;
}
