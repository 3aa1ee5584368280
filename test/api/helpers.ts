import { runInDurableObject } from "cloudflare:test";
import { env, exports } from "cloudflare:workers";
import { seedDemo, type SeedAnswer, type SeedDoor } from "../../workers/dev/src/seed";
import type { ProvisionSpec } from "../../durable-objects/vault/identity";
import { expect } from "vitest";
import { openFields } from "../../durable-objects/vault/credentials";
import { parseKeyring } from "../../lib/crypto";
import { AppError } from "../../lib/errors";
import type { VaultResult } from "../../lib/rpc";
import { installSlack } from "../../durable-objects/vault/slack/install";
import { pinSeedTokenRow } from "../../durable-objects/vault/dev-tools";
import { createOrg } from "../../durable-objects/org-creation";
import type { SlackInstallationView } from "../../lib/schemas/slack";
import { hashToken, newId, newToken, tokenPreview } from "../../lib/tokens";

export type Seed = SeedAnswer & { alice: string; bob: string; carol: string; runtime: string };

/** The demo org of SPEC section 11 (idempotent), with each user's token at hand. */
export async function seed(): Promise<Seed> {
  const answer = await seedDemo(env, testSeedDoor, "http://localhost:8787");
  const tokenOf = (email: string) => answer.users.find((u) => u.email === email)!.token;
  return { ...answer, alice: tokenOf("alice@acme.test"), bob: tokenOf("bob@acme.test"), carol: tokenOf("carol@acme.test"), runtime: answer.runtime_token };
}

/**
 * The seed's door in the test projects: the Directory and the vault reached directly (their DOs
 * run in the test isolate), through the same production operations the DevDoor forwards; the dev
 * tools only where DEV_MODE is on (the slack project).
 */
const testSeedDoor: SeedDoor = {
  orgBySlug: (slug) => env.DIRECTORY.getByName("global").orgBySlug(slug),
  createOrg: (body, ownerEmail, publicUrl) => createOrg(env, body, null, ownerEmail, publicUrl),
  acceptInvitation: (orgId, secret, emails, name) => vaultOf(orgId).acceptInvitation(secret, emails, name),
  startWebSession: (orgId, email) => vaultOf(orgId).startWebSession(email, "github"),
  describeMe: (orgId, token) => vaultOf(orgId).describeMe(token),
  listMyTokens: (orgId, token) => vaultOf(orgId).listMyTokens(token),
  listMembers: (orgId, token) => vaultOf(orgId).listMembers(token),
  inviteMember: (orgId, token, body, publicUrl) => vaultOf(orgId).inviteMember(token, body, publicUrl),
  listProjects: (orgId, token) => vaultOf(orgId).listProjects(token),
  createProject: (orgId, token, body) => vaultOf(orgId).createProject(token, body),
  putProjectMember: (orgId, token, slug, member, role) => vaultOf(orgId).putProjectMember(token, slug, member, role),
  listRuntimeTokens: (orgId, token) => vaultOf(orgId).listRuntimeTokens(token),
  createRuntimeToken: (orgId, token, name) => vaultOf(orgId).createRuntimeToken(token, name),
  // DEV_MODE is off here, so the dev tools' pin (the same function) runs straight in the vault.
  pinSeedToken: (orgId, id, hash, preview) => runInDurableObject(vaultOf(orgId), (_instance, state) => pinSeedTokenRow(state.storage.sql, id, hash, preview)),
  configureSandbox: async (orgId, settings) => (await vaultOf(orgId).openDevTools()).configureSandbox(settings),
  seedSlack: async (orgId, seed) => (await vaultOf(orgId).openDevTools()).seedSlack(seed),
};

/**
 * Provisions an org with pre-made tokens. The vault of this project runs as in production
 * (DEV_MODE off), where provision() refuses them (issue 11, item 13c), so the org is provisioned
 * without and the same token rows (hashes only) are written straight into the vault.
 */
export async function provisionWithTokens(spec: ProvisionSpec): Promise<void> {
  await vaultOf(spec.org.id).provision({ ...spec, tokens: [] });
  await runInDurableObject(vaultOf(spec.org.id), (_instance, state) => {
    for (const t of spec.tokens) {
      state.storage.sql.exec(
        `INSERT OR IGNORE INTO tokens (id, hash, kind, member_id, name, preview, created_at, expires_at) VALUES (?, ?, ?, (SELECT id FROM members WHERE email = ?), ?, ?, ?, ?)`,
        newId("tok"), t.hash, t.kind, t.email, t.name, t.preview, Date.now(), t.expires_at,
      );
    }
  });
}

/** The provider URL of the page /oauth/start answers (its meta refresh), as a browser reads it. */
export function providerLink(html: string): string {
  const m = /<meta http-equiv="refresh" content="0;url=([^"]+)"/.exec(html);
  if (!m) throw new Error(`no provider link in ${html.slice(0, 300)}`);
  return m[1]!.replaceAll("&amp;", "&");
}

export interface CallOptions {
  token?: string;
  body?: unknown;
  rawBody?: string;
  headers?: Record<string, string>;
}

/** One HTTP call into the api worker, as a client would make it. */
export async function call(method: string, path: string, opts: CallOptions = {}): Promise<{ status: number; body: any; text: string }> {
  const headers: Record<string, string> = { ...opts.headers };
  if (opts.token) headers.authorization = `Bearer ${opts.token}`;
  let body: string | undefined = opts.rawBody;
  if (opts.body !== undefined) {
    body = JSON.stringify(opts.body);
    headers["content-type"] ??= "application/json";
  }
  const res = await exports.default.fetch(new Request(`http://localhost${path}`, { method, headers, body }));
  const text = await res.text();
  let parsed: unknown = null;
  try { parsed = text ? JSON.parse(text) : null; } catch { parsed = null; }
  return { status: res.status, body: parsed, text };
}

/**
 * Records a Slack installation straight in the org's vault, answered as the vault answers. No
 * vault method takes one from a caller (a tokenless install would be a door for anyone bound):
 * in production it is the last step of the connect flow, in dev the seed's (dev tools).
 */
export async function installSlackIn(orgId: string, spec: unknown): Promise<VaultResult<SlackInstallationView>> {
  return runInDurableObject(vaultOf(orgId), async (_instance, state) => {
    const ring = parseKeyring(env.VAULT_KEYS);
    const context = () => ({ storage: state.storage, sql: state.storage.sql, orgId, ring, now: Date.now() });
    try {
      return { ok: true as const, value: await installSlack(context, env, spec) };
    } catch (e) {
      if (e instanceof AppError) return { ok: false as const, error: e.toBody(), status: e.httpStatus };
      throw e;
    }
  });
}

export function vaultOf(orgId: string) {
  return env.VAULT.get(env.VAULT.idFromName(orgId));
}

// ---- added for the api test suite (existing exports above are unchanged) ----


export type CallResult = Awaited<ReturnType<typeof call>>;

/** A short random lowercase suffix for slugs and secrets. */
export function uid(n = 8): string {
  const abc = "abcdefghijklmnopqrstuvwxyz0123456789";
  let out = "";
  for (const b of crypto.getRandomValues(new Uint8Array(n))) out += abc[b % abc.length];
  return out;
}

/** Asserts the SPEC section 10 envelope with this status and code (and `details.field` when given). */
export function expectError(res: CallResult, status: number, code: string, field?: string): void {
  expect(res.status, res.text).toBe(status);
  expect(res.body, res.text).toBeTypeOf("object");
  expect(Object.keys(res.body ?? {}), res.text).toEqual(["error"]);
  expect(res.body.error.code, res.text).toBe(code);
  expect(typeof res.body.error.message, res.text).toBe("string");
  expect(res.body.error.message.length, res.text).toBeGreaterThan(0);
  if (field !== undefined) expect(res.body.error.details?.field, res.text).toBe(field);
}

/** Runs one SQL statement inside the org's vault and answers its rows. */
export async function vaultSql(orgId: string, query: string, ...args: (string | number | null)[]): Promise<Record<string, SqlStorageValue>[]> {
  return runInDurableObject(vaultOf(orgId), (_instance, state) => state.storage.sql.exec(query, ...args).toArray());
}

/** Every table of the vault's SQLite, name -> rows (a runtime-internal `_cf_` table is left out only if it cannot be read). */
export async function dumpVault(orgId: string): Promise<Record<string, Record<string, SqlStorageValue>[]>> {
  return runInDurableObject(vaultOf(orgId), (_instance, state) => {
    const sql = state.storage.sql;
    const out: Record<string, Record<string, SqlStorageValue>[]> = {};
    const names = sql.exec(`SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name`).toArray().map((r) => String(r.name));
    for (const name of names) {
      try {
        out[name] = sql.exec(`SELECT * FROM "${name.replace(/"/g, '""')}"`).toArray();
      } catch (e) {
        if (!name.startsWith("_cf_")) throw e;
      }
    }
    return out;
  });
}

/** What a write must leave untouched when it is refused: credentials, secrets and custom apps. */
export async function credentialState(orgId: string): Promise<string> {
  return runInDurableObject(vaultOf(orgId), (_instance, state) => {
    const all = (t: string) => state.storage.sql.exec(`SELECT * FROM ${t} ORDER BY rowid`).toArray();
    return JSON.stringify({ credentials: all("credentials"), secret_fields: all("secret_fields"), custom_apps: all("custom_apps") });
  });
}

/** POST /v1/credentials with the usual exa body. */
export function setCred(token: string, body: { app?: string; fields?: Record<string, string>; targets?: unknown[]; slug?: string; name?: string }) {
  return call("POST", "/v1/credentials", { token, body: { app: "exa", fields: { apiKey: `exa-${uid(24)}` }, ...body } });
}

/** Member id by email, as GET /v1/members answers it. */
export async function memberIds(token: string): Promise<Record<string, string>> {
  const res = await call("GET", "/v1/members", { token });
  expect(res.status, res.text).toBe(200);
  return Object.fromEntries(res.body.members.map((m: { email: string; id: string }) => [m.email, m.id]));
}

/** The vault's own view of one credential's secret fields, opened with the test keyring. */
export async function openSecret(orgId: string, credentialId: string): Promise<Record<string, string>> {
  return runInDurableObject(vaultOf(orgId), async (_instance, state) => {
    const ring = parseKeyring(env.VAULT_KEYS);
    return openFields({ storage: state.storage, sql: state.storage.sql, orgId, ring, now: Date.now() }, credentialId);
  });
}

/**
 * A member the demo seed lacks (a project admin, a builder of `growth`, ...), written straight into
 * the vault, with a member token. Answers the token and the member id.
 */
export async function addMember(orgId: string, email: string, role: "owner" | "admin" | "builder", projects: Record<string, "admin" | "builder"> = {}): Promise<{ token: string; id: string }> {
  const token = newToken("user", orgId);
  const id = newId("mem");
  await vaultSql(orgId, `INSERT INTO members (id, email, name, role, created_at) VALUES (?, ?, ?, ?, ?)`, id, email, email.split("@")[0]!, role, Date.now());
  for (const [project, projectRole] of Object.entries(projects)) {
    await vaultSql(orgId, `INSERT INTO project_members (project, member_id, role) VALUES (?, ?, ?)`, project, id, projectRole);
  }
  await vaultSql(orgId, `INSERT INTO tokens (id, hash, kind, member_id, name, preview, created_at) VALUES (?, ?, 'user', ?, 'test', ?, ?)`, newId("tok"), await hashToken(token), id, tokenPreview(token), Date.now());
  return { token, id };
}

/** The actors of a roles x scopes table, by role: the seed's owner and admin, growth's admin and builder, and carol (builder of support) with her API key. */
export type TableRole = "owner" | "admin" | "projectAdmin" | "builderIn" | "builderOut" | "key";
export async function tableActors(s: Seed): Promise<Record<TableRole, string>> {
  const key = await call("POST", "/v1/api-keys", { token: s.carol, body: { name: `table ${uid(4)}` } });
  if (key.status !== 201) throw new Error(`no API key for the table: ${key.text}`);
  return {
    owner: s.alice,
    admin: s.bob,
    projectAdmin: (await addMember(s.org.id, `pa-${uid(6)}@acme.test`, "builder", { growth: "admin" })).token,
    builderIn: (await addMember(s.org.id, `bi-${uid(6)}@acme.test`, "builder", { growth: "builder" })).token,
    builderOut: s.carol,
    key: key.body.key,
  };
}

/** One row of a permission table, written as its cells ("ok 403 404") in the order of `columns`. */
export function tableRow<C extends string, O extends string = "ok" | "403" | "404">(columns: readonly C[]): (cells: string) => Record<C, O> {
  return (cells) => Object.fromEntries(cells.split(/\s+/).map((o, i) => [columns[i], o])) as Record<C, O>;
}
