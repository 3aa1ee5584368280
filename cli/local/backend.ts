/**
 * The local target: the same operations as the API, on `.keystroke/credentials.json` plus the
 * project's `.env` (SPEC section 5), decided by the same pure code the vault runs: lib/resolve.ts
 * for resolution, lib/refs.ts for references, lib/catalog for apps and fields. Answers have the
 * API's shapes, so the commands render both targets the same way.
 *
 * There is one local person, `local`: user-scope credentials belong to them. Credentials read
 * from .env are org-scope, slug `env`, and read-only (edit .env to change them).
 */
import { appSummary, checkFields, previewOf } from "../../lib/fields";
import { z } from "zod";
import { CATALOG, customApp, getApp, searchApps, type App, type ApiKeyApp } from "../../lib/catalog";
import { AppError, fromZodError, invalidField } from "../../lib/errors";
import { findRefMatches, formatRef, matchRef, parseRef, scopeLabel } from "../../lib/refs";
import { missingFix, resolve, type CandidateCredential } from "../../lib/resolve";
import type { AppSummary } from "../../lib/schemas/apps";
import type { Scope } from "../../lib/schemas/common";
import {
  ListCredentialsQuery,
  SetCredentialsBody,
  UpdateCredentialBody,
  type CheckAnswer,
  type Credential,
  type RotateAnswer,
  type SetAnswer,
} from "../../lib/schemas/credentials";
import {
  DeleteAssignmentBody,
  ExplainBody,
  PutAssignmentBody,
  type AssignmentView,
  type ConsumerKind,
  type ConsumerView,
  type ExplainResult,
} from "../../lib/schemas/resolution";
import { newId } from "../../lib/tokens";
import type { Backend } from "../backend";
import { cloudOnly } from "../errors";
import { envVarName, readDotenv, readStore, storePath, writeStore, type LocalStore, type StoredCredential } from "./files";

export const LOCAL_USER = "local";
export const LOCAL_CHECK_WHY = "the local store never calls providers; its keys are checked when they are set on the cloud target";
export const LOCAL_ROTATE_WHY = "the local store keeps plain values; run `keystroke credentials set` again with the same --name and --scope to replace one";
export const ENV_SLUG = "env";

/** A credential as the local target sees it: a stored row, or one assembled from .env. */
interface Row extends StoredCredential {
  source: "store" | "env";
}

/** zod failures of a local "request" read like the API's: the first field, never the value. */
function parseBody<S extends z.ZodType>(schema: S, value: unknown): z.infer<S> {
  const r = schema.safeParse(value);
  if (r.success) return r.data;
  throw fromZodError(r.error, { input: value });
}

const sameScope = (a: Scope, b: Scope): boolean => scopeLabel(a) === scopeLabel(b);
const candidate = (r: Row): CandidateCredential => ({ id: r.id, app: r.app, slug: r.slug, name: r.name, scope: r.scope, default: r.default, status: r.status });

/** Same rule as the vault: the app's first secret field gives the preview. */
export class LocalBackend implements Backend {
  readonly target = "local" as const;
  readonly dir: string;

  constructor(dir: string) {
    this.dir = dir;
  }

  get storePath(): string {
    return storePath(this.dir);
  }

  #customApps(store: LocalStore): ApiKeyApp[] {
    return store.custom_apps.map((a) => customApp(a.slug, a.fields));
  }

  #app(store: LocalStore, slug: string): App | undefined {
    return getApp(slug) ?? this.#customApps(store).find((a) => a.slug === slug);
  }

  /** Stored rows plus one org credential per API-key app whose required fields are all in .env. */
  #rows(store: LocalStore): Row[] {
    const env = readDotenv(this.dir);
    const rows: Row[] = store.credentials.map((c) => ({ ...c, source: "store" }));
    const apps = [...CATALOG, ...this.#customApps(store)].filter((a): a is ApiKeyApp => a.kind === "api_key");
    for (const app of apps) {
      const fields: Record<string, string> = {};
      for (const f of app.fields) {
        const value = env.vars[envVarName(app.slug, f.name)];
        if (value !== undefined && value !== "") fields[f.name] = value;
      }
      if (Object.keys(fields).length === 0 || app.fields.some((f) => !f.optional && fields[f.name] === undefined)) continue;
      const at = env.modified ?? new Date(0).toISOString();
      rows.push({
        id: `env_${app.slug}`,
        app: app.slug,
        slug: ENV_SLUG,
        name: ".env",
        scope: { type: "org" },
        default: store.env_defaults.includes(app.slug),
        status: "active",
        fields,
        created_at: at,
        updated_at: at,
        rotated_at: null,
        revoked_at: null,
        source: "env",
      });
    }
    return rows;
  }

  #view(store: LocalStore, r: Row): Credential {
    return {
      id: r.id,
      ref: formatRef(r),
      app: r.app,
      slug: r.slug,
      name: r.name,
      scope: r.scope,
      default: r.default,
      kind: "api_key",
      status: r.status,
      // The local target never probes (no network calls from a dev's file store): no health to show.
      status_reason: null,
      last_error: null,
      checked_at: null,
      preview: r.status === "revoked" ? null : previewOf(this.#app(store, r.app), r.fields),
      // Local credentials are API keys: no OAuth scopes, no connection data.
      requested_scopes: [],
      connection: {},
      account: null,
      scopes: [],
      expires_at: null,
      created_by: r.source === "env" ? ".env" : LOCAL_USER,
      created_at: r.created_at,
      updated_at: r.updated_at,
      rotated_at: r.rotated_at,
      last_used_at: null,
    };
  }

  /** As the vault's findByRef: an id names one row; otherwise a live credential wins over a revoked one. */
  #find(rows: Row[], raw: string, field = "ref"): Row {
    const ref = parseRef(raw, field);
    const live = rows.filter((r) => r.status !== "revoked");
    const pool = findRefMatches(ref, live.map(candidate), { user: LOCAL_USER }).length > 0 ? live : rows;
    const match = matchRef(ref, pool.map(candidate), { user: LOCAL_USER, field });
    return pool.find((r) => r.id === match.id)!;
  }

  #stored(store: LocalStore, row: Row, what: string): StoredCredential {
    if (row.source === "env") {
      const vars = Object.keys(row.fields).map((f) => envVarName(row.app, f)).join(", ");
      throw new AppError("invalid_request", `${formatRef(row)} comes from .env (${vars}); it cannot be ${what} here.`, { fix: `Edit ${readDotenv(this.dir).path} instead.`, details: { field: "ref" } });
    }
    return store.credentials.find((c) => c.id === row.id)!;
  }

  async apps(search?: string): Promise<AppSummary[]> {
    const store = readStore(this.dir);
    const counts = new Map<string, number>();
    for (const r of this.#rows(store)) if (r.status !== "revoked") counts.set(r.app, (counts.get(r.app) ?? 0) + 1);
    const custom = this.#customApps(store);
    return [...searchApps(search), ...searchApps(search, custom)].map((app) => appSummary(app, counts.get(app.slug) ?? 0));
  }

  async listCredentials(input: ListCredentialsQuery): Promise<Credential[]> {
    // Checked like the API's query (a bad app or scope is a usage error, not an empty list).
    const q = parseBody(ListCredentialsQuery, input);
    const store = readStore(this.dir);
    const [type, id] = (q.scope ?? "").split(":");
    return this.#rows(store)
      // Needs attention: local keys never expire, are never probed and have no last error, so none does.
      .filter(() => q.attention !== "true")
      .filter((r) => (q.app === undefined || r.app === q.app) && (q.status === undefined || r.status === q.status))
      .filter((r) => q.scope === undefined || (r.scope.type === type && (id === undefined || scopeLabel(r.scope) === `${type}:${id}`)))
      .sort((a, b) => (formatRef(a) < formatRef(b) ? -1 : formatRef(a) > formatRef(b) ? 1 : 0))
      .map((r) => this.#view(store, r));
  }

  async getCredential(ref: string): Promise<Credential> {
    const store = readStore(this.dir);
    return this.#view(store, this.#find(this.#rows(store), ref));
  }

  async setCredentials(input: z.infer<typeof SetCredentialsBody>): Promise<SetAnswer> {
    const body = parseBody(SetCredentialsBody, input);
    const store = readStore(this.dir);
    const known = this.#app(store, body.app);
    const app = known ?? customApp(body.app, Object.keys(body.fields));
    checkFields(app, body.fields, { partial: false, oauthFix: `Connect it on the cloud target: \`keystroke connect ${app.slug} --target cloud\`.` });
    const slug = body.slug ?? "default";
    const scopes: Scope[] = (body.targets ?? [{ type: "org" as const }]).map((t) => (t.type === "user" ? { type: "user", user: LOCAL_USER } : t));
    scopes.forEach((s, i) => {
      if (scopes.findIndex((o) => sameScope(o, s)) !== i) throw invalidField(`targets[${i}]`, `The target ${scopeLabel(s)} is named twice.`);
      if (s.type === "org" && slug === ENV_SLUG) throw invalidField("slug", "The slug `env` is reserved for the credentials read from .env.", "Pick another --name.");
    });
    if (!known) store.custom_apps.push({ slug: app.slug, fields: Object.keys(body.fields) });
    const now = new Date().toISOString();
    const ids = scopes.map((scope) => {
      const existing = store.credentials.find((c) => c.app === app.slug && c.slug === slug && c.status !== "revoked" && sameScope(c.scope, scope));
      if (existing) {
        // Idempotent like the API: the same app + slug + target replaces the value; id and default stay.
        Object.assign(existing, { fields: { ...body.fields }, name: body.name ?? existing.name, updated_at: now, rotated_at: now });
        return existing.id;
      }
      const id = newId("cred");
      store.credentials.push({ id, app: app.slug, slug, name: body.name ?? slug, scope, default: false, status: "active", fields: { ...body.fields }, created_at: now, updated_at: now, rotated_at: null, revoked_at: null });
      return id;
    });
    writeStore(this.dir, store);
    const rows = this.#rows(store);
    const credentials = ids.map((id) => this.#view(store, rows.find((r) => r.id === id)!));
    // The local store calls no provider: nothing is ever checked.
    return { credentials, checks: credentials.map((c) => ({ id: c.id, ref: c.ref, result: "skipped" as const, message: "Not checked: the local target calls no provider." })) };
  }

  async updateCredential(ref: string, input: z.infer<typeof UpdateCredentialBody>): Promise<Credential> {
    const body = parseBody(UpdateCredentialBody, input);
    const store = readStore(this.dir);
    const rows = this.#rows(store);
    const row = this.#find(rows, ref);
    if (row.status === "revoked") throw new AppError("conflict", `The credential ${formatRef(row)} is revoked; its row is kept only for the record.`, { fix: "Set a new credential instead." });
    const now = new Date().toISOString();
    if (body.name !== undefined || body.slug !== undefined) {
      const stored = this.#stored(store, row, "renamed");
      const slug = body.slug ?? stored.slug;
      const clash = rows.find((r) => r.id !== row.id && r.app === row.app && r.slug === slug && r.status !== "revoked" && sameScope(r.scope, row.scope));
      if (clash) throw invalidField("slug", `Another ${row.app} credential at ${scopeLabel(row.scope)} is already called \`${slug}\`.`, "Pick another slug.");
      Object.assign(stored, { name: body.name ?? stored.name, slug, updated_at: now });
    }
    if (body.default === true) {
      // Clear the old default of this app + scope first: there is never a moment with two.
      for (const c of store.credentials) if (c.app === row.app && sameScope(c.scope, row.scope)) c.default = c.id === row.id;
      store.env_defaults = store.env_defaults.filter((a) => a !== row.app);
      if (row.source === "env") store.env_defaults.push(row.app);
    } else if (body.default === false) {
      if (row.source === "env") store.env_defaults = store.env_defaults.filter((a) => a !== row.app);
      else this.#stored(store, row, "changed").default = false;
    }
    writeStore(this.dir, store);
    return this.#view(store, this.#rows(store).find((r) => r.id === row.id)!);
  }

  async rotateCredential(): Promise<RotateAnswer> {
    throw cloudOnly("rotate-key", LOCAL_ROTATE_WHY);
  }

  async checkCredential(): Promise<CheckAnswer> {
    throw cloudOnly("credentials check", LOCAL_CHECK_WHY);
  }

  async revokeCredential(ref: string): Promise<Credential> {
    const store = readStore(this.dir);
    const row = this.#find(this.#rows(store), ref);
    const stored = this.#stored(store, row, "revoked");
    if (stored.status !== "revoked") {
      // As in the vault: the secret is destroyed, the row stays so assignments can report it.
      const now = new Date().toISOString();
      Object.assign(stored, { status: "revoked", default: false, fields: {}, revoked_at: now, updated_at: now });
      writeStore(this.dir, store);
    }
    return this.#view(store, { ...stored, source: "store" });
  }

  #assignmentView(store: LocalStore, rows: Row[], a: LocalStore["assignments"][number]): AssignmentView {
    const cred = rows.find((r) => r.id === a.credential_id);
    return {
      kind: a.kind,
      target: a.target,
      consumer: a.consumer,
      app: a.app,
      credential: cred ? { id: cred.id, ref: formatRef(cred), status: cred.status } : { id: a.credential_id, ref: a.credential_id, status: "deleted" },
      created_by: LOCAL_USER,
      created_at: a.created_at,
    };
  }

  async assignments(q: { kind?: ConsumerKind; target?: string }): Promise<AssignmentView[]> {
    const store = readStore(this.dir);
    const rows = this.#rows(store);
    const key = (a: { kind: string; target: string; consumer: string; app: string }) => `${a.kind}\0${a.target}\0${a.consumer}\0${a.app}`;
    return store.assignments
      .filter((a) => (q.kind === undefined || a.kind === q.kind) && (q.target === undefined || a.target === q.target))
      .sort((a, b) => (key(a) < key(b) ? -1 : 1))
      .map((a) => this.#assignmentView(store, rows, a));
  }

  /** Locally, consumers are only those named in assignments (there is no execution plane to report runs). */
  async consumers(kind: ConsumerKind, target: string): Promise<ConsumerView[]> {
    const all = await this.assignments({ kind, target });
    const ids = [...new Set(all.filter((a) => a.consumer !== "*").map((a) => a.consumer))].sort();
    return ids.map((id) => ({
      kind,
      target,
      id,
      sources: ["assignment" as const],
      last_seen_at: null,
      assignments: all.filter((a) => a.consumer === id || a.consumer === "*").map((a) => ({ app: a.app, credential: a.credential?.ref ?? null, wildcard: a.consumer === "*" })),
    }));
  }

  async putAssignment(input: z.infer<typeof PutAssignmentBody>): Promise<AssignmentView> {
    const body = parseBody(PutAssignmentBody, input);
    const store = readStore(this.dir);
    const rows = this.#rows(store);
    const match = this.#find(rows, body.credential, "credential");
    if (match.status === "revoked") throw invalidField("credential", `${formatRef(match)} is revoked and cannot be assigned.`, "Assign a live credential.");
    const consumer = body.consumer ?? "*";
    const next = { kind: body.kind, target: body.target, consumer, app: match.app, credential_id: match.id, created_at: new Date().toISOString() };
    store.assignments = [...store.assignments.filter((a) => !(a.kind === next.kind && a.target === next.target && a.consumer === consumer && a.app === next.app)), next];
    writeStore(this.dir, store);
    return this.#assignmentView(store, rows, next);
  }

  async deleteAssignment(input: z.infer<typeof DeleteAssignmentBody>): Promise<AssignmentView> {
    const body = parseBody(DeleteAssignmentBody, input);
    const store = readStore(this.dir);
    const consumer = body.consumer ?? "*";
    const hit = store.assignments.find((a) => a.kind === body.kind && a.target === body.target && a.consumer === consumer && a.app === body.app);
    if (!hit) throw new AppError("not_found", `No ${body.app} assignment for ${body.kind}:${body.target}/${consumer}.`, { fix: "List them with `keystroke credentials assignments`." });
    store.assignments = store.assignments.filter((a) => a !== hit);
    writeStore(this.dir, store);
    return this.#assignmentView(store, this.#rows(store), hit);
  }

  async explain(input: z.infer<typeof ExplainBody>): Promise<{ ok: boolean; results: ExplainResult[] }> {
    const body = parseBody(ExplainBody, input);
    if (body.user !== undefined && body.user !== LOCAL_USER) throw invalidField("user", `The local target has one user, \`${LOCAL_USER}\`.`);
    const store = readStore(this.dir);
    const rows = this.#rows(store);
    const assignments = store.assignments.map((a) => ({ kind: a.kind, target: a.target, consumer: a.consumer, app: a.app, credentialId: a.credential_id }));
    const context = { project: body.project, user: body.user, consumer: body.consumer };
    const results = body.requirements.map((requirement, i): ExplainResult => {
      if (requirement.scopes !== undefined) throw invalidField(`requirements[${i}].scopes`, "Local credentials are API keys: they have no OAuth scopes.", "Leave scopes out on the local target.");
      const result = resolve({ credentials: rows.map(candidate), assignments, context, requirement });
      if (result.ok) {
        const row = rows.find((r) => r.id === result.credential.id)!;
        return { ok: true, app: requirement.app, credential: this.#view(store, row), connection: {}, rule: result.rule, explanation: result.explanation, skipped: result.skipped };
      }
      // There is no connect flow locally: where the resolver says "connect it", say how to add one here.
      const fix = result.error.fix === missingFix(requirement.app) ? localMissingFix(this.#app(store, requirement.app), requirement.app) : result.error.fix;
      return { ok: false, app: requirement.app, error: { ...result.error, fix } };
    });
    return { ok: results.every((r) => r.ok), results };
  }
}

function localMissingFix(app: App | undefined, slug: string): string {
  if (app?.kind === "oauth") return `${app.name} is an OAuth app: connect it on the cloud target (\`keystroke connect ${slug} --target cloud\`).`;
  const field = app?.kind === "api_key" ? app.fields[0]!.name : "apiKey";
  return `Set one: \`keystroke credentials set ${slug} --set ${field}=@env:${envVarName(slug, field)}\`, or add ${envVarName(slug, field)} to .env.`;
}
