/**
 * Scopes and connection data (SPEC section 13), pure: which scopes a connect asks for, which a
 * requirement lacks, the connection values read at connect (each checked against its rule, since
 * they are stored unsealed and shown everywhere), and the endpoints built from a subdomain.
 */
import type { ConnectionSpec } from "./catalog";
import { SUBDOMAIN_PLACEHOLDER } from "./catalog/schema";
import { AppError, fromZodError, invalidField } from "./errors";
import { readPath, type ProviderConfig } from "./oauth";
import { CONNECTION_VALUE, type Connection, type ConnectionInput, type ConnectionKey } from "./schemas/connection";

/** The scopes a connect asks for: every list in order, each scope once (a step-up passes the old ones, so none is dropped). */
export function requestedScopes(...lists: readonly (readonly string[])[]): string[] {
  return [...new Set(lists.flat())];
}

/** The scopes of `required` that `granted` lacks, in the requirement's order. */
export function missingScopes(granted: readonly string[], required: readonly string[]): string[] {
  const have = new Set(granted);
  return [...new Set(required)].filter((s) => !have.has(s));
}

const formSpecs = (specs: readonly ConnectionSpec[]) => specs.filter((s): s is Extract<ConnectionSpec, { from: "form" }> => s.from === "form");

/**
 * The values the connect form asks before the redirect (a subdomain, already checked as one DNS
 * label by ConnectionInput). A missing one, or one the app does not take, is bad input naming
 * `connection.<key>`.
 */
export function formConnection(specs: readonly ConnectionSpec[], input: ConnectionInput | undefined, appName: string): Connection {
  const asked = formSpecs(specs);
  const out: Connection = {};
  for (const [key, value] of Object.entries(input ?? {})) {
    if (value === undefined || value === "") continue;
    if (!asked.some((s) => s.key === key)) throw invalidField(`connection.${key}`, `${appName} takes no ${key}.`, "Leave it out.");
    out[key] = value;
  }
  for (const s of asked) {
    if (out[s.key] === undefined) throw invalidField(`connection.${s.key}`, `${appName} needs its ${s.label.toLowerCase()}.`, `Type the part before ${s.suffix}.`);
  }
  return out;
}

/**
 * API-key apps: connection values held in the credential's own non-secret fields (Freshdesk's
 * subdomain), checked by the value's rule; a bad one is bad input naming `fields.<field>`.
 */
export function fieldConnection(specs: readonly ConnectionSpec[], fields: Readonly<Record<string, string>>, appName: string): Connection {
  const out: Connection = {};
  for (const s of specs) {
    if (s.from !== "field" || fields[s.field] === undefined) continue;
    const checked = CONNECTION_VALUE[s.key].safeParse(fields[s.field]!.trim().toLowerCase());
    if (!checked.success) {
      throw fromZodError(checked.error, { fallback: `fields.${s.field}`, say: (_f, problem) => ({ message: `${appName}'s ${s.field} ${problem}.`, fix: "Give the part before the provider's domain, e.g. acme." }) });
    }
    out[s.key] = checked.data;
  }
  return out;
}

/** Whether the app asks anything before the redirect. */
export const asksBeforeRedirect = (specs: readonly ConnectionSpec[]): boolean => formSpecs(specs).length > 0;

/** The lookups to make after the code exchange (GET with the new access token), by URL. */
export const lookupUrls = (specs: readonly ConnectionSpec[]): string[] => [...new Set(specs.flatMap((s) => (s.from === "lookup" ? [s.url] : [])))];

/** Everything a connect can read connection values from. */
export interface ConnectionSources {
  token: Record<string, unknown>;
  /** The callback's query parameters other than code, state and error. */
  callback: Readonly<Record<string, string>>;
  idToken: Record<string, unknown> | null;
  /** Each lookup's answer, by the spec's URL. */
  lookups: Readonly<Record<string, unknown>>;
  /** What the form asked before the redirect (formConnection). */
  form: Connection;
}

const asText = (v: unknown): string | undefined => (typeof v === "string" && v ? v : typeof v === "number" && Number.isFinite(v) ? String(v) : undefined);

const WHERE: Record<ConnectionSpec["from"], string> = {
  token_response: "token answer",
  callback: "redirect back",
  id_token: "id_token",
  lookup: "lookup after sign-in",
  form: "connect form",
  field: "fields",
};

/**
 * The connection values of a new grant, each read where the catalog says and checked against its
 * rule. A declared value that is missing or malformed fails the connect (upstream_error): a
 * credential without it could not be used for a single call.
 */
export function capturedConnection(specs: readonly ConnectionSpec[], src: ConnectionSources, appName: string): Connection {
  const out: Connection = {};
  for (const s of specs) {
    const raw =
      s.from === "token_response" ? asText(readPath(src.token, s.path))
      : s.from === "callback" ? src.callback[s.param]
      : s.from === "id_token" ? asText(src.idToken ? readPath(src.idToken, s.path) : undefined)
      : s.from === "lookup" ? asText(readPath(src.lookups[s.url], s.path))
      : src.form[s.key];
    const checked = raw === undefined ? null : CONNECTION_VALUE[s.key as ConnectionKey].safeParse(raw);
    if (!checked?.success) {
      throw new AppError("upstream_error", `${appName}'s ${WHERE[s.from]} had no valid ${s.key}.`, { fix: "Try connecting again; if it persists, the provider's answer changed." });
    }
    out[s.key] = checked.data;
  }
  return out;
}

/**
 * The provider's endpoints for one credential: `{subdomain}` replaced by its connection's. An
 * endpoint that needs a subdomain the connection lacks is refused rather than called half-built.
 */
export function withConnectionEndpoints(cfg: ProviderConfig, connection: Connection): ProviderConfig {
  const fill = (url: string): string => {
    if (!url.includes(SUBDOMAIN_PLACEHOLDER)) return url;
    const sub = connection.subdomain;
    if (sub === undefined || !CONNECTION_VALUE.subdomain.safeParse(sub).success) {
      throw invalidField("connection.subdomain", `${cfg.app} needs its subdomain to be reached.`, "Connect it again and type the subdomain.");
    }
    return url.replaceAll(SUBDOMAIN_PLACEHOLDER, sub);
  };
  return {
    ...cfg,
    authorizeUrl: fill(cfg.authorizeUrl),
    tokenUrl: fill(cfg.tokenUrl),
    refreshUrl: fill(cfg.refreshUrl),
    revokeUrl: cfg.revokeUrl === null ? null : fill(cfg.revokeUrl),
    userinfoUrl: cfg.userinfoUrl === null ? null : fill(cfg.userinfoUrl),
  };
}
