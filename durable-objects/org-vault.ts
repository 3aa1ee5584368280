import { DurableObject } from "cloudflare:workers";
import { needsReseal, parseKeyring, reseal, credentialAad, type Keyring } from "../lib/crypto";
import { AppError } from "../lib/errors";
import type { TokenKind } from "../lib/schemas/common";
import type { AuditQuery } from "../lib/schemas/audit";
import type { ListCredentialsQuery, RotateCredentialBody, SetCredentialsBody, UpdateCredentialBody } from "../lib/schemas/credentials";
import { hashToken } from "../lib/tokens";
import type { VaultEnv } from "./env";
import type { ConsumerKind, DeleteAssignmentBody, ExplainBody, PutAssignmentBody, RuntimeEvent, RuntimeResolveBody } from "../lib/schemas/resolution";
import type { ConnectChoice, CreateConnectSessionBody } from "../lib/schemas/connect";
import type { CreateCliLoginBody } from "../lib/schemas/cli";
import { createCliLogin, decideCliLogin, pollCliLogin, revokeCliToken, viewCliLogin, type CliLoginDecision, type LoginOrigin } from "./vault/cli-logins";
import type { Account } from "../lib/schemas/credentials";
import type { TokenSet } from "../lib/oauth";
import { deleteCustomApp, listApps, updateCustomApp } from "./vault/apps";
import type { UpdateCustomAppBody } from "../lib/schemas/apps";
import { beginOAuth, completeWithFields, connectOptions, consumedState, consumeState, createSession, failSession, finishSession, getSession, sessionOf } from "./vault/connect";
import { ensureFresh, nextRefreshAt, providerConfigFor, refreshDue, revokeNewGrant, revokeUpstream, storeConnection, type InFlight, type NewGrant } from "./vault/oauth-credentials";
import { bulkLoad, type BulkLoadSpec } from "./vault/bulk";
import { setSandboxUrl } from "./vault/outbound";
import { deleteAssignment, listAssignments, listConsumers, putAssignment, recordEvent, registerAgentTools } from "./vault/assignments";
import { explain, runtimeResolve } from "./vault/resolution";
import { queryAudit } from "./vault/audit";
import { authenticate, requirePrincipal, WEB_SESSION_TOKEN_NAME, WEB_SESSION_TTL_MS } from "./vault/auth";
import type { Actor, VaultContext } from "./vault/context";
import type { VaultResult } from "../lib/rpc";
import { getCredential, listCredentials, revokeCredential, rotateCredential, setCredentials, updateCredential } from "./vault/credentials";
import { createApiKey, listApiKeys, listMembers, listProjects, me, memberByEmail, mintMemberToken, provision, readOrg, revokeApiKey, revokeMyToken, listMyTokens, revokeOwnToken, type ProvisionSpec } from "./vault/identity";
import { isAdmin } from "../lib/permissions";
import { VAULT_MIGRATIONS } from "./vault/schema";
import { hasSchema, migrate } from "./migrations";
import type { BindChannelBody, HandoffAnswer, InstallSlackSpec, SessionsQuery, SlackInstallationView } from "../lib/schemas/slack";
import { availableChannels, bindChannel, listChannels, listSessions, unbindChannel } from "./vault/slack/channels";
import { runDelivery } from "./vault/slack/delivery";
import { parseHandoff, receiveSlackEvent } from "./vault/slack/inbox";
import { installSlack, releaseRoute } from "./vault/slack/install";
import { slackInstallSpec } from "./vault/slack/oauth-install";
import { slackAuthTest } from "../providers/oauth-client";
import { outbound } from "./vault/outbound";
import { DevSlackSeed, needsInstall, seedChannels } from "./vault/slack/dev-seed";
import { routeKeyOf } from "../lib/slack/routing";

const MEMBER: readonly TokenKind[] = ["user", "key"];
const RUNTIME: readonly TokenKind[] = ["rt"];
const RESEAL_BATCH = 200;

/**
 * One per organization: the single source of truth for its members, tokens, credentials and
 * audit log. Every public method is an RPC that authenticates the caller's token, does its work
 * in one SQLite transaction and answers a VaultResult. Domain logic lives in ./vault/*.
 */
export class OrgVault extends DurableObject<VaultEnv> {
  #ring: Keyring | null = null;
  /** Token refreshes in flight, one per credential (single-flight; see vault/oauth-credentials.ts). */
  #refreshing: InFlight = new Map();
  /** Whether provision() ever ran here; until then every call is "no such org" and nothing is written. */
  #provisioned = false;

  constructor(ctx: DurableObjectState, env: VaultEnv) {
    super(ctx, env);
    void ctx.blockConcurrencyWhile(async () => {
      // Provisioning creates the schema: an instance for an id that was never provisioned writes nothing.
      if (!hasSchema(ctx.storage.sql)) return;
      migrate(ctx.storage, VAULT_MIGRATIONS);
      this.#provisioned = readOrg(ctx.storage.sql) !== null;
      // Values sealed under an older key are resealed by the alarm (the keyring sweep).
      if (this.#provisioned && this.#staleSealedCount() > 0 && (await ctx.storage.getAlarm()) === null) {
        await ctx.storage.setAlarm(Date.now());
      }
    });
  }

  get #keyring(): Keyring {
    this.#ring ??= parseKeyring(this.env.VAULT_KEYS);
    return this.#ring;
  }

  #context(): VaultContext {
    const org = this.#provisioned ? readOrg(this.ctx.storage.sql) : null;
    if (!org) throw new AppError("unauthorized", "This organization does not exist.");
    return { storage: this.ctx.storage, sql: this.ctx.storage.sql, orgId: org.id, ring: this.#keyring, now: Date.now() };
  }

  /** Runs `fn` and turns every AppError into data for the worker to render; internal reasons stay in the log. */
  async #asResult<T>(fn: () => T | Promise<T>): Promise<VaultResult<T>> {
    try {
      return { ok: true, value: await fn() };
    } catch (e) {
      if (e instanceof AppError) return { ok: false, error: e.toBody(), status: e.httpStatus };
      console.error("vault error", e instanceof Error ? e.name : typeof e);
      return { ok: false, error: { code: "internal", message: "Something went wrong inside the vault." }, status: 500 };
    }
  }

  /** Authenticates the token inside the same call, then runs. */
  #run<T>(token: string, kinds: readonly TokenKind[], fn: (ctx: VaultContext, actor: Actor) => T | Promise<T>): Promise<VaultResult<T>> {
    return this.#asResult(async () => {
      const hash = await hashToken(token);
      const ctx = this.#context();
      return fn(ctx, authenticate(ctx, hash, kinds));
    });
  }

  /** No token: bound workers (Slack hand-off, installs) and the CLI login before it has a token. */
  #unauthenticated<T>(fn: (ctx: VaultContext) => T | Promise<T>): Promise<VaultResult<T>> {
    return this.#asResult(() => fn(this.#context()));
  }

  #member<T>(token: string, fn: (ctx: VaultContext, actor: Actor, p: NonNullable<Actor["principal"]>) => T | Promise<T>) {
    return this.#run(token, MEMBER, (ctx, actor) => fn(ctx, actor, requirePrincipal(actor)));
  }

  // ---- provisioning (called by bound workers only: sign-up and the dev seed) ----

  async provision(spec: ProvisionSpec): Promise<void> {
    // Pre-made tokens (given as hashes, never expiring unless told) are the dev seed's and the
    // benchmark's; sign-up never sends any. Refused outside dev mode, before anything is written.
    if (spec.tokens.length > 0 && this.env.DEV_MODE !== "true") {
      throw new AppError("forbidden", "Pre-made tokens are provisioned only in dev mode (DEV_MODE).", { details: { field: "tokens" } });
    }
    const now = Date.now();
    migrate(this.ctx.storage, VAULT_MIGRATIONS);
    provision({ storage: this.ctx.storage, sql: this.ctx.storage.sql, orgId: spec.org.id, ring: this.#keyring, now }, spec);
    this.#provisioned = true;
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

  /** Dev only (DEV_MODE): the sign-in page's "pick a seeded user". */
  async devSignIn(email: string) {
    if (this.env.DEV_MODE !== "true") return { ok: false as const, error: { code: "forbidden" as const, message: "Dev sign-in is off." }, status: 403 };
    const ctx = this.#context();
    const member = memberByEmail(ctx, email);
    if (!member) return { ok: false as const, error: { code: "not_found" as const, message: "No such member." }, status: 404 };
    return { ok: true as const, value: await mintMemberToken(ctx, member.id, `${WEB_SESSION_TOKEN_NAME} (dev)`, WEB_SESSION_TTL_MS) };
  }
  signOut(token: string) {
    return this.#run(token, ["user"], (ctx, actor) => revokeOwnToken(ctx, actor));
  }

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
  myTokens(token: string) {
    return this.#member(token, (ctx, actor, p) => ({ tokens: listMyTokens(ctx, actor, p) }));
  }
  revokeMyToken(token: string, id: string) {
    return this.#member(token, (ctx, actor, p) => revokeMyToken(ctx, actor, p, id));
  }

  // ---- catalog ----

  apps(token: string, search?: string) {
    return this.#member(token, (ctx, _a, p) => ({ apps: listApps(ctx, p, search) }));
  }
  updateCustomApp(token: string, slug: string, body: UpdateCustomAppBody) {
    return this.#member(token, (ctx, actor, p) => updateCustomApp(ctx, actor, p, slug, body));
  }
  deleteCustomApp(token: string, slug: string) {
    return this.#member(token, (ctx, actor, p) => deleteCustomApp(ctx, actor, p, slug));
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
    return this.#member(token, (ctx, actor, p) => revokeCredential(ctx, actor, p, ref, (app, tokens) => revokeUpstream(ctx, this.env, app, tokens)));
  }

  // ---- connect (SPEC section 6) ----

  createConnectSession(token: string, body: CreateConnectSessionBody, publicUrl: string) {
    return this.#member(token, (ctx, actor, p) => createSession(ctx, actor, p, body, publicUrl));
  }
  getConnectSession(token: string, id: string, publicUrl: string) {
    return this.#member(token, (ctx, _a, p) => getSession(ctx, p, id, publicUrl));
  }
  connectOptions(token: string, id: string, publicUrl: string) {
    return this.#member(token, (ctx, _a, p) => connectOptions(ctx, p, id, publicUrl));
  }
  completeConnectWithFields(token: string, id: string, choice: ConnectChoice, fields: Record<string, string>) {
    return this.#member(token, async (ctx, actor, p) => ({ credentials: await completeWithFields(ctx, actor, p, id, choice, fields) }));
  }
  /** The oauth worker, before redirecting to the provider: records the state and answers the provider. */
  beginOAuth(token: string, id: string, choice: ConnectChoice, state: { hash: string; verifier: string | null; redirectUri: string }) {
    return this.#member(token, async (ctx, actor, p) => {
      const row = await beginOAuth(ctx, actor, p, id, choice, state);
      return { config: providerConfigFor(ctx, this.env, row.app) };
    });
  }
  /** The oauth worker, on the callback: consumes the state (single use). */
  consumeOAuthState(token: string, stateHash: string) {
    return this.#member(token, async (ctx, _a, p) => {
      const st = await consumeState(ctx, p, stateHash);
      return { session: st.session.id, app: st.session.app, verifier: st.verifier, redirectUri: st.redirectUri, config: providerConfigFor(ctx, this.env, st.session.app) };
    });
  }
  /** The oauth worker, after the code exchange: stores the connection at the chosen targets. */
  completeOAuth(token: string, stateHash: string, tokens: TokenSet, account: Account) {
    return this.#member(token, async (ctx, actor, p) => {
      const credentials = await storeConnection(ctx, actor, p, consumedState(ctx, p, stateHash), tokens, account);
      await this.#wakeAt(nextRefreshAt(ctx));
      return { credentials };
    });
  }
  /**
   * The oauth worker, after a Slack bot install's code exchange: reads the bot id (auth.test),
   * records the installation and its route, and completes the session with its credential.
   */
  completeSlackInstall(token: string, stateHash: string, data: Record<string, string | number | boolean | null | Record<string, string | number | boolean | null>>) {
    return this.#member(token, async (ctx, actor, p) => {
      const st = consumedState(ctx, p, stateHash);
      const spec = slackInstallSpec(data, p.member);
      const out = outbound(ctx, this.env);
      spec.botId = (await slackAuthTest(out.slackApiUrl, spec.botToken, out.timeouts.slack)).botId;
      const r = await installSlack(() => this.#context(), this.env, spec);
      ctx.storage.transactionSync(() => finishSession({ ...ctx, now: Date.now() }, actor, st.session, { ids: [r.credential] }));
      // A rotating bot token (Slack token rotation) is refreshed by the alarm like any OAuth token.
      await this.#wakeAt(nextRefreshAt(ctx));
      return { installation: r.id, credentials: [r.credential] };
    });
  }

  /** The oauth worker, when the provider or the exchange failed: the session ends failed, nothing stored. */
  failOAuth(token: string, stateHash: string, reason: string, grant?: NewGrant) {
    return this.#member(token, async (ctx, actor, p) => {
      const raw = ctx.sql.exec(`SELECT session_id FROM oauth_states WHERE state_hash = ?`, stateHash).toArray()[0];
      if (raw) {
        const session = sessionOf(ctx, p, String(raw.session_id));
        failSession(ctx, actor, session.id, reason);
      }
      // Tokens the provider issued for this failed connect (even when the vault already failed the session).
      const revoked = grant ? await revokeNewGrant(ctx, this.env, actor, { ...grant, session: sessionOf(ctx, p, grant.session).id }) : null;
      return { failed: raw !== undefined, revoked_upstream: revoked };
    });
  }

  // ---- resolution, assignments, consumers ----

  /** `publicUrl` is the platform's origin, for the connect links in missing_credentials. */
  runtimeResolve(token: string, body: RuntimeResolveBody, publicUrl: string) {
    return this.#run(token, RUNTIME, (ctx, actor) => runtimeResolve(ctx, actor, body, publicUrl, (id) => ensureFresh(ctx, this.env, id, this.#refreshing)));
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
    return this.#member(token, (ctx, _a, p) => ({ consumers: listConsumers(ctx, p, kind, target) }));
  }
  assignments(token: string, q: { kind?: ConsumerKind; target?: string }) {
    return this.#member(token, (ctx, _a, p) => ({ assignments: listAssignments(ctx, p, q) }));
  }
  putAssignment(token: string, body: PutAssignmentBody) {
    return this.#member(token, (ctx, actor, p) => putAssignment(ctx, actor, p, body));
  }
  deleteAssignment(token: string, body: DeleteAssignmentBody) {
    return this.#member(token, (ctx, actor, p) => deleteAssignment(ctx, actor, p, body));
  }

  // ---- cli logins ----

  createCliLogin(body: CreateCliLoginBody, verifier: string, publicUrl: string, origin: LoginOrigin) {
    return this.#unauthenticated((ctx) => createCliLogin(ctx, body, verifier, publicUrl, origin));
  }
  /** Authenticated by the login secret, not a token: answers the new token exactly once. */
  pollCliLogin(id: string, secret: string) {
    return this.#unauthenticated((ctx) => pollCliLogin(ctx, id, secret));
  }
  /** The approval page and API: member tokens only (a web session is one), never API keys. */
  cliLogin(token: string, id: string) {
    return this.#run(token, ["user"], (ctx) => viewCliLogin(ctx, id));
  }
  decideCliLogin(token: string, id: string, decision: CliLoginDecision) {
    return this.#run(token, ["user"], (ctx, actor) => decideCliLogin(ctx, actor, requirePrincipal(actor), id, decision));
  }
  cliLogout(token: string) {
    return this.#run(token, ["user"], (ctx, actor) => revokeCliToken(ctx, actor));
  }

  // ---- audit ----

  audit(token: string, q: AuditQuery) {
    return this.#member(token, (ctx, _a, p) => queryAudit(ctx, q, isAdmin(p) ? null : p.member));
  }

  // ---- slack ----

  /**
   * Records a Slack installation (OAuth callback, dev seed): the bot token sealed as an org
   * credential of app `slack`, the installation row, and the route team/enterprise -> org in the
   * Directory and KV. Idempotent per workspace; a reinstall replaces the token. See InstallSlackSpec.
   */
  installSlack(spec: InstallSlackSpec): Promise<VaultResult<SlackInstallationView>> {
    return this.#unauthenticated(() => installSlack(() => this.#context(), this.env, spec));
  }

  /**
   * The slack-events worker's hand-off, one call per verified event: claims it (event id, then
   * installation + channel + ts), queues a message or applies a lifecycle change, wakes the alarm.
   * Answers only once the rows are written, so the worker's 200 means "durably ours".
   */
  slackEvent(input: unknown): Promise<VaultResult<HandoffAnswer>> {
    return this.#unauthenticated(async (ctx) => {
      const handoff = parseHandoff(input);
      const r = receiveSlackEvent(ctx, handoff);
      if (r.wake) await this.#wakeAt(ctx.now);
      if (r.released) await releaseRoute(this.env, handoff.route, ctx.orgId);
      return r.answer;
    });
  }

  /** Dev only (DEV_MODE): the seed's sandbox workspace: installs it unless active, then channels and bindings. */
  async devSeedSlack(seed: DevSlackSeed): Promise<VaultResult<{ installed: boolean }>> {
    if (this.env.DEV_MODE !== "true") throw new Error("devSeedSlack is only available in dev mode");
    return this.#unauthenticated(async (ctx) => {
      const parsed = DevSlackSeed.parse(seed);
      const route = routeKeyOf(parsed.install);
      const installed = needsInstall(ctx, route);
      if (installed) {
        const r = await installSlack(() => this.#context(), this.env, parsed.install);
        if (r.status !== "active") throw new Error("the sandbox install did not take");
      }
      seedChannels(this.#context(), route, parsed);
      return { installed };
    });
  }

  channels(token: string) {
    return this.#member(token, (ctx, _a, p) => listChannels(ctx, p));
  }
  availableChannels(token: string) {
    return this.#member(token, (_c, _a, p) => availableChannels(() => this.#context(), this.env, p));
  }
  bindChannel(token: string, body: BindChannelBody) {
    return this.#member(token, (ctx, actor, p) => bindChannel(ctx, actor, p, body));
  }
  unbindChannel(token: string, channel: string) {
    return this.#member(token, (ctx, actor, p) => unbindChannel(ctx, actor, p, channel));
  }
  slackSessions(token: string, q: SessionsQuery) {
    return this.#member(token, (ctx, _a, p) => listSessions(ctx, p, q));
  }

  /** The alarm's Slack part: deliver due inbox messages; answers when it needs the alarm again. */
  async #slackAlarmWork(): Promise<number | null> {
    try {
      return await runDelivery({ context: () => this.#context(), env: this.env, fresh: (id) => ensureFresh(this.#context(), this.env, id, this.#refreshing) });
    } catch (e) {
      // Never let delivery use up the shared alarm's retries; try again shortly.
      console.error("slack alarm work failed", e instanceof Error ? e.name : typeof e);
      return Date.now() + 30_000;
    }
  }

  // ---- web ----

  /**
   * "Sign in with GitHub" (bound workers only, no token): after the api worker checked the OAuth
   * state and read the GitHub account's verified emails, a web session for the member with one of
   * them. Sliding like the dev sign-in's (vault/auth.ts renews tokens named "web session").
   */
  webSignIn(email: string, via: "github") {
    return this.#unauthenticated(async (ctx) => {
      const member = memberByEmail(ctx, email);
      if (!member) throw new AppError("not_found", "No member of this organization has that email.");
      return mintMemberToken(ctx, member.id, `${WEB_SESSION_TOKEN_NAME} (${via})`, WEB_SESSION_TTL_MS);
    });
  }

  // ---- keyring sweep ----

  #staleSealedCount(): number {
    const active = this.#keyring.active;
    return Number(this.ctx.storage.sql.exec(`SELECT COUNT(*) AS n FROM secret_fields WHERE sealed NOT LIKE ?`, `v1.${active}.%`).one().n);
  }

  /**
   * Reseals up to one batch of values sealed under an older key. Answers how many it moved and how
   * many are left; a value that cannot be opened (unknown key id, corrupt) is skipped, not retried
   * forever.
   */
  async resealBatch(): Promise<{ moved: number; left: number }> {
    const ctx = this.#context();
    const rows = ctx.sql
      .exec(`SELECT credential_id, field, sealed FROM secret_fields WHERE sealed NOT LIKE ? LIMIT ?`, `v1.${ctx.ring.active}.%`, RESEAL_BATCH)
      .toArray();
    let moved = 0;
    for (const r of rows) {
      const sealed = String(r.sealed);
      const id = String(r.credential_id);
      const field = String(r.field);
      let fresh: string;
      try {
        if (!needsReseal(ctx.ring, sealed)) continue;
        fresh = await reseal(ctx.ring, ctx.orgId, sealed, credentialAad(ctx.orgId, id, field));
      } catch {
        console.error("reseal: a sealed value could not be opened", id);
        continue;
      }
      // Compare-and-set: a rotate that landed meanwhile wins.
      ctx.sql.exec(`UPDATE secret_fields SET sealed = ? WHERE credential_id = ? AND field = ? AND sealed = ?`, fresh, id, field, sealed);
      moved++;
    }
    return { moved, left: this.#staleSealedCount() };
  }

  // ---- the alarm, shared by every part of the vault ----

  /** Wakes the vault at `at` unless it is already due earlier. */
  async #wakeAt(at: number | null): Promise<void> {
    if (at === null) return;
    const current = await this.ctx.storage.getAlarm();
    if (current === null || at < current) await this.ctx.storage.setAlarm(at);
  }

  override async alarm(): Promise<void> {
    if (!this.#provisioned) return;
    const next: (number | null)[] = [];
    // Keyring sweep: values sealed under an older key.
    const sweep = await this.resealBatch();
    if (sweep.moved > 0 && sweep.left > 0) next.push(Date.now() + 1_000);
    // Token refreshes and Slack delivery side by side: a provider that hangs never holds up replies
    // (each refresh is bounded by the provider timeout, the whole batch by a budget; refreshDue).
    const refreshAt = refreshDue(this.#context(), this.env, this.#refreshing).catch((e) => {
      console.error("token refresh sweep failed", e instanceof Error ? e.name : typeof e);
      return Date.now() + 30_000;
    });
    next.push(...(await Promise.all([refreshAt, this.#slackAlarmWork()])));
    const due = next.filter((t): t is number => t !== null);
    if (due.length) await this.#wakeAt(Math.min(...due));
  }
}
