/**
 * Credential references (SPEC section 3): how people name one credential in the CLI (`--credential`),
 * the API (`credential` fields, `{ref}` path segments) and requirements. Pure: parsing is strict,
 * and matching works on rows the caller already loaded.
 *
 * Forms: `work`, `org/work`, `user/work`, `project/<p>/work`, `linear/work`, `linear/org/work`,
 * `linear/user/work`, `linear/project/<p>/work`, or a credential id (`cred_` + 20 base32 chars).
 * A first segment that is a scope word is a scope; otherwise it is an app.
 */
import { AppError, invalidField } from "./errors";
import type { CandidateCredential } from "./resolve";
import type { Scope } from "./schemas/common";
import { SLUG_PATTERN } from "./slug";

export type RefScope = "org" | "user" | { project: string };
export type CredentialRef = { id: string } | { app?: string; scope?: RefScope; slug: string };

/** Credential, app and project slugs in a reference: the one slug rule of schemas/common. */
const REF_SLUG_PATTERN = SLUG_PATTERN;

/** A scope as one word (`org`, `user:<id>`, `project:<slug>`): audit targets, messages, the resolver's levels. */
export const scopeLabel = (s: Scope): string => (s.type === "org" ? "org" : s.type === "user" ? `user:${s.user}` : `project:${s.project}`);
/** What `newId("cred")` produces (lib/tokens.ts). */
export const CREDENTIAL_ID_PATTERN = /^cred_[a-z2-7]{20}$/;

const SCOPE_WORDS = new Set(["org", "user", "project"]);

export const REF_FORMS_FIX =
  "Use a slug (`work`), a qualified reference (`org/work`, `user/work`, `project/<project>/work`, `linear/org/work`, `linear/project/<project>/work`) or a credential id";
export const NOT_FOUND_FIX = "Run `keystroke credentials list` to see the credentials and their references";
export const qualifyRefFix = (example: string): string => `use a qualified reference such as ${example}`;

/**
 * Parses a reference; throws `invalidField(field, ...)` for anything malformed. Error messages
 * never echo the raw input: a secret pasted into the wrong flag must not end up in logs.
 */
export function parseRef(raw: string, field = "credential"): CredentialRef {
  const bad = (why: string) => invalidField(field, `${field} ${why}`, REF_FORMS_FIX);
  if (typeof raw !== "string" || raw.length === 0) throw bad("is empty");
  // An id wins over a slug of the same shape: ids are what machines pass around.
  if (CREDENTIAL_ID_PATTERN.test(raw)) return { id: raw };

  const parts = raw.split("/");
  if (parts.length > 4) throw bad(`has ${parts.length} segments; a reference has at most 4 (app/project/<project>/slug)`);
  if (parts.some((p) => p.length === 0)) throw bad("has an empty segment");

  const first = parts[0] as string;
  const hasApp = parts.length >= 2 && !SCOPE_WORDS.has(first);
  const rest = hasApp ? parts.slice(1) : parts;
  const app = hasApp ? first : undefined;

  let scope: RefScope | undefined;
  let slug: string;
  const head = rest[0] as string;
  if (rest.length === 1) {
    // A lone word is always a slug, even `org` or `project`: there is nothing else it could be.
    slug = head;
  } else if (head === "org" || head === "user") {
    if (rest.length !== 2) throw bad(`has too many segments after \`${head}\`: expected ${head}/<slug>`);
    scope = head;
    slug = rest[1] as string;
  } else if (head === "project") {
    if (rest.length !== 3) {
      throw rest.length === 2
        ? bad("names scope `project` without a project: expected project/<project>/<slug>")
        : bad("has too many segments after `project`: expected project/<project>/<slug>");
    }
    const project = rest[1] as string;
    if (!REF_SLUG_PATTERN.test(project)) throw bad("has a project that is not a valid slug");
    scope = { project };
    slug = rest[2] as string;
  } else {
    throw bad("has a second segment that is not a scope: expected org, user or project after the app");
  }

  if (app !== undefined && !REF_SLUG_PATTERN.test(app)) throw bad("has an app that is not a valid slug");
  if (!REF_SLUG_PATTERN.test(slug)) {
    throw bad("has a slug that is not valid: 1-63 characters of a-z, 0-9, '_' or '-', starting with a letter or digit");
  }
  const ref: { app?: string; scope?: RefScope; slug: string } = { slug };
  if (app !== undefined) ref.app = app;
  if (scope !== undefined) ref.scope = scope;
  return ref;
}

/** The fully qualified form, which always matches exactly this credential's app, scope and slug. */
export function formatRef(cred: Pick<CandidateCredential, "app" | "scope" | "slug">): string {
  const s = cred.scope;
  const scope = s.type === "project" ? `project/${s.project}` : s.type;
  return `${cred.app}/${scope}/${cred.slug}`;
}

/** A parsed reference written back as text (for messages). */
export function refToString(ref: CredentialRef): string {
  if ("id" in ref) return ref.id;
  const parts: string[] = [];
  if (ref.app !== undefined) parts.push(ref.app);
  if (ref.scope === "org" || ref.scope === "user") parts.push(ref.scope);
  else if (ref.scope !== undefined) parts.push("project", ref.scope.project);
  parts.push(ref.slug);
  return parts.join("/");
}

export interface MatchContext {
  /** The acting member: user-scope credentials of anyone else are invisible. */
  user?: string;
  /** Restricts matching to one app (a requirement's app, a `--app` filter). */
  app?: string;
  /** The field named in errors; default `credential`. */
  field?: string;
}

/** Deterministic order for lists shown to people: by reference, then id. */
export function compareCredentials(a: CandidateCredential, b: CandidateCredential): number {
  const fa = formatRef(a);
  const fb = formatRef(b);
  if (fa !== fb) return fa < fb ? -1 : 1;
  return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}

function scopeMatches(want: RefScope, have: CandidateCredential["scope"]): boolean {
  if (want === "org" || want === "user") return have.type === want;
  return have.type === "project" && have.project === want.project;
}

/**
 * Every visible credential the reference names, sorted. Non-throwing, for callers (the resolver)
 * that turn "none" and "several" into their own answers. Revoked rows match too: the caller decides.
 */
export function findRefMatches(ref: CredentialRef, creds: readonly CandidateCredential[], ctx: MatchContext): CandidateCredential[] {
  const visible = creds.filter(
    (c) => (ctx.app === undefined || c.app === ctx.app) && (c.scope.type !== "user" || (ctx.user !== undefined && c.scope.user === ctx.user)),
  );
  const hits =
    "id" in ref
      ? visible.filter((c) => c.id === ref.id)
      : visible.filter(
          (c) =>
            c.slug === ref.slug &&
            (ref.app === undefined || c.app === ref.app) &&
            (ref.scope === undefined || scopeMatches(ref.scope, c.scope)),
        );
  return hits.sort(compareCredentials);
}

/** A reference that names exactly `pick` among `among`: its qualified form, or its id if that repeats. */
export function unambiguousRef(pick: CandidateCredential, among: readonly CandidateCredential[]): string {
  const f = formatRef(pick);
  return among.filter((c) => formatRef(c) === f).length > 1 ? pick.id : f;
}

/** The single credential the reference names, or `not_found` / `invalid_request` listing the candidates. */
export function matchRef(ref: CredentialRef, creds: readonly CandidateCredential[], ctx: MatchContext = {}): CandidateCredential {
  const field = ctx.field ?? "credential";
  const hits = findRefMatches(ref, creds, ctx);
  const [only, ...more] = hits;
  const text = refToString(ref);
  if (only === undefined) {
    const where = ctx.app !== undefined ? ` ${ctx.app}` : "";
    throw new AppError("not_found", `No${where} credential matches \`${text}\``, { fix: NOT_FOUND_FIX, details: { field } });
  }
  if (more.length === 0) return only;
  const candidates = hits.map(formatRef);
  throw new AppError("invalid_request", `\`${text}\` matches ${hits.length} credentials: ${candidates.join(", ")}`, {
    fix: qualifyRefFix(unambiguousRef(only, hits)),
    details: { field, candidates },
  });
}
