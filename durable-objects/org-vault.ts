import { DurableObject } from "cloudflare:workers";
import { needsReseal, parseKeyring, reseal, credentialAad, type Keyring } from "../lib/crypto";
import { AppError } from "../lib/errors";
import type { TokenKind } from "../lib/schemas/common";
import type { AuditQuery } from "../lib/schemas/audit";
import type { ListCredentialsQuery, RotateCredentialBody, SetCredentialsBody, UpdateCredentialBody } from "../lib/schemas/credentials";
import { hashToken } from "../lib/tokens";
import type { Env } from "../workers/api/src/env";
import type { ConsumerKind, DeleteAssignmentBody, ExplainBody, PutAssignmentBody, RuntimeEvent, RuntimeResolveBody } from "../lib/schemas/resolution";
import { listApps } from "./vault/apps";
import { bulkLoad, type BulkLoadSpec } from "./vault/bulk";
import { setSandboxUrl } from "./vault/outbound";
import { deleteAssignment, listAssignments, listConsumers, putAssignment, recordEvent, registerAgentTools } from "./vault/assignments";
import { explain, runtimeResolve } from "./vault/resolution";
import { queryAudit } from "./vault/audit";
import { authenticate, requirePrincipal } from "./vault/auth";
import type { Actor, VaultContext, VaultResult } from "./vault/context";
import { getCredential, listCredentials, revokeCredential, rotateCredential, setCredentials, updateCredential } from "./vault/credentials";
import { createApiKey, listApiKeys, listMembers, listProjects, me, provision, readOrg, revokeApiKey, type ProvisionSpec } from "./vault/identity";
import { isAdmin } from "../lib/permissions";
import { VAULT_MIGRATIONS, migrate } from "./vault/schema";

const MEMBER: readonly TokenKind[] = ["user", "key"];
const RUNTIME: readonly TokenKind[] = ["rt"];
const RESEAL_BATCH = 200;

/**
 * One per organization: the single source of truth for its members, tokens, credentials and
 * audit log. Every public method is an RPC that authenticates the caller's token, does its work
 * in one SQLite transaction and answers a VaultResult. Domain logic lives in ./vault/*.
 */
export class OrgVault extends DurableObject<Env> {
  #ring: Keyring | null = null;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    void ctx.blockConcurrencyWhile(async () => {
      migrate(ctx.storage, VAULT_MIGRATIONS);
      // Values sealed under an older key are resealed by the alarm (the keyring sweep).
      if (readOrg(ctx.storage.sql) && this.#staleSealedCount() > 0 && (await ctx.storage.getAlarm()) === null) {
        await ctx.storage.setAlarm(Date.now());
      }
    });
  }

  get #keyring(): Keyring {
    this.#ring ??= parseKeyring(this.env.VAULT_KEYS);
    return this.#ring;
  }

  #context(): VaultContext {
    const org = readOrg(this.ctx.storage.sql);
    if (!org) throw new AppError("unauthorized", "This organization does not exist.");
    return { storage: this.ctx.storage, sql: this.ctx.storage.sql, orgId: org.id, ring: this.#keyring, now: Date.now() };
  }

  /** Authenticates, runs, and turns every AppError into data for the worker to render. */
  async #run<T>(token: string, kinds: readonly TokenKind[], fn: (ctx: VaultContext, actor: Actor) => T | Promise<T>): Promise<VaultResult<T>> {
    try {
      const hash = await hashToken(token);
      const ctx = this.#context();
      const actor = authenticate(ctx, hash, kinds);
      return { ok: true, value: await fn(ctx, actor) };
    } catch (e) {
      if (e instanceof AppError) return { ok: false, error: e.toBody(), status: e.httpStatus };
      // Internal reasons stay in the log; the wire gets the code only.
      console.error("vault error", e instanceof Error ? e.name : typeof e);
      return { ok: false, error: { code: "internal", message: "Something went wrong inside the vault." }, status: 500 };
    }
  }

  #member<T>(token: string, fn: (ctx: VaultContext, actor: Actor, p: NonNullable<Actor["principal"]>) => T | Promise<T>) {
    return this.#run(token, MEMBER, (ctx, actor) => fn(ctx, actor, requirePrincipal(actor)));
  }

  // ---- provisioning (called by bound workers only: sign-up and the dev seed) ----

  async provision(spec: ProvisionSpec): Promise<void> {
    const now = Date.now();
    provision({ storage: this.ctx.storage, sql: this.ctx.storage.sql, orgId: spec.org.id, ring: this.#keyring, now }, spec);
  }

  /** Dev only (DEV_MODE): point this org's providers, Slack and agent runtime at the local sandbox. */
  async devConfigure(settings: { sandboxUrl: string }) {
    if (this.env.DEV_MODE !== "true") throw new Error("devConfigure is only available in dev mode");
    setSandboxUrl(this.#context(), settings.sandboxUrl);
  }

  /** Dev and bench only (DEV_MODE): bulk rows for the 10,000-credential benchmark. */
  async devBulkLoad(spec: BulkLoadSpec) {
    if (this.env.DEV_MODE !== "true") throw new Error("devBulkLoad is only available in dev mode");
    return bulkLoad(this.#context(), spec);
  }

  // ---- identity ----

  /** One authenticated round trip and nothing else: the benchmark's baseline. */
  ping(token: string) {
    return this.#run(token, ["user", "key", "rt"], () => ({ ok: true }));
  }

  me(token: string) {
    return this.#run(token, ["user", "key", "rt"], (ctx, actor) => me(ctx, actor));
  }
  members(token: string) {
    return this.#member(token, (ctx) => ({ members: listMembers(ctx) }));
  }
  projects(token: string) {
    return this.#member(token, (ctx, _a, p) => ({ projects: listProjects(ctx, p) }));
  }
  createApiKey(token: string, name: string) {
    return this.#member(token, (ctx, actor, p) => createApiKey(ctx, actor, p, name, hashToken));
  }
  listApiKeys(token: string) {
    return this.#member(token, (ctx, _a, p) => ({ api_keys: listApiKeys(ctx, p) }));
  }
  revokeApiKey(token: string, id: string) {
    return this.#member(token, (ctx, actor, p) => revokeApiKey(ctx, actor, p, id));
  }

  // ---- catalog ----

  apps(token: string, search?: string) {
    return this.#member(token, (ctx, _a, p) => ({ apps: listApps(ctx, p, search) }));
  }

  // ---- credentials ----

  setCredentials(token: string, body: SetCredentialsBody) {
    return this.#member(token, async (ctx, actor, p) => ({ credentials: await setCredentials(ctx, actor, p, body) }));
  }
  listCredentials(token: string, q: ListCredentialsQuery) {
    return this.#member(token, (ctx, _a, p) => ({ credentials: listCredentials(ctx, p, q) }));
  }
  getCredential(token: string, ref: string) {
    return this.#member(token, (ctx, _a, p) => getCredential(ctx, p, ref));
  }
  updateCredential(token: string, ref: string, body: UpdateCredentialBody) {
    return this.#member(token, (ctx, actor, p) => updateCredential(ctx, actor, p, ref, body));
  }
  rotateCredential(token: string, ref: string, body: RotateCredentialBody) {
    return this.#member(token, (ctx, actor, p) => rotateCredential(ctx, actor, p, ref, body));
  }
  revokeCredential(token: string, ref: string) {
    return this.#member(token, (ctx, actor, p) => revokeCredential(ctx, actor, p, ref));
  }

  // ---- resolution, assignments, consumers ----

  /** `publicUrl` is the platform's origin, for the connect links in missing_credentials. */
  runtimeResolve(token: string, body: RuntimeResolveBody, publicUrl: string) {
    return this.#run(token, RUNTIME, (ctx, actor) => runtimeResolve(ctx, actor, body, publicUrl));
  }
  runtimeEvent(token: string, event: RuntimeEvent) {
    return this.#run(token, RUNTIME, (ctx) => recordEvent(ctx, event));
  }
  registerAgentTools(token: string, agent: string, tools: string[]) {
    return this.#run(token, RUNTIME, (ctx) => registerAgentTools(ctx, agent, tools));
  }
  explain(token: string, body: ExplainBody, publicUrl: string) {
    return this.#member(token, (ctx, _a, p) => explain(ctx, p, body, publicUrl));
  }
  consumers(token: string, kind: ConsumerKind, target: string) {
    return this.#member(token, (ctx) => ({ consumers: listConsumers(ctx, kind, target) }));
  }
  assignments(token: string, q: { kind?: ConsumerKind; target?: string }) {
    return this.#member(token, (ctx) => ({ assignments: listAssignments(ctx, q) }));
  }
  putAssignment(token: string, body: PutAssignmentBody) {
    return this.#member(token, (ctx, actor, p) => putAssignment(ctx, actor, p, body));
  }
  deleteAssignment(token: string, body: DeleteAssignmentBody) {
    return this.#member(token, (ctx, actor) => deleteAssignment(ctx, actor, body));
  }

  // ---- audit ----

  audit(token: string, q: AuditQuery) {
    return this.#member(token, (ctx, _a, p) => queryAudit(ctx, q, isAdmin(p) ? null : p.member));
  }

  // ---- keyring sweep ----

  #staleSealedCount(): number {
    const active = this.#keyring.active;
    return Number(this.ctx.storage.sql.exec(`SELECT COUNT(*) AS n FROM secret_fields WHERE sealed NOT LIKE ?`, `v1.${active}.%`).one().n);
  }

  /** Reseals up to one batch of values sealed under an older key; answers how many are left. */
  async resealBatch(): Promise<number> {
    const ctx = this.#context();
    const rows = ctx.sql
      .exec(`SELECT credential_id, field, sealed FROM secret_fields WHERE sealed NOT LIKE ? LIMIT ?`, `v1.${ctx.ring.active}.%`, RESEAL_BATCH)
      .toArray();
    for (const r of rows) {
      const sealed = String(r.sealed);
      if (!needsReseal(ctx.ring, sealed)) continue;
      const id = String(r.credential_id);
      const field = String(r.field);
      const fresh = await reseal(ctx.ring, ctx.orgId, sealed, credentialAad(ctx.orgId, id, field));
      // Compare-and-set: a rotate that landed meanwhile wins.
      ctx.sql.exec(`UPDATE secret_fields SET sealed = ? WHERE credential_id = ? AND field = ? AND sealed = ?`, fresh, id, field, sealed);
    }
    return this.#staleSealedCount();
  }

  override async alarm(): Promise<void> {
    if (!readOrg(this.ctx.storage.sql)) return;
    const left = await this.resealBatch();
    if (left > 0) await this.ctx.storage.setAlarm(Date.now() + 1_000);
  }
}
