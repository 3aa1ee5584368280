import { DurableObject } from "cloudflare:workers";
import { needsReseal, parseKeyring, reseal, credentialAad, type Keyring } from "../lib/crypto";
import { AppError } from "../lib/errors";
import type { TokenKind } from "../lib/schemas/common";
import type { AuditQuery } from "../lib/schemas/audit";
import type { ListCredentialsQuery, RotateCredentialBody, SetCredentialsBody, UpdateCredentialBody } from "../lib/schemas/credentials";
import { hashToken } from "../lib/tokens";
import type { VaultEnv } from "./env";
import type { ConsumerKind, DeleteAssignmentBody, ExplainBody, PutAssignmentBody, RuntimeEvent, RuntimeResolveBody } from "../lib/schemas/resolution";
import { connectChoiceOf, type ConnectChoice, type ConnectOptions, type CreateConnectSessionBody } from "../lib/schemas/connect";
import type { CreateCliLoginBody } from "../lib/schemas/cli";
import { createCliLogin, decideCliLogin, pollCliLogin, revokeCliToken, viewCliLogin, type CliLoginDecision, type LoginOrigin } from "./vault/cli-logins";
import { createCustomOAuthApp, deleteCustomApp, listApps, updateCustomApp } from "./vault/apps";
import { deleteOAuthClient, getOAuthClient, putOAuthClient, resealClientSecrets, staleClientSecrets } from "./vault/oauth-clients";
import type { CreateCustomAppBody, PutOAuthClientBody } from "../lib/schemas/oauth-clients";
import type { UpdateCustomAppBody } from "../lib/schemas/apps";
import { completeWithFields, connectOptions, createSession, getSession, settleExpiredSessions } from "./vault/connect";
import { beginConnect, finishConnect, type ConnectBegun, type ConnectCallback } from "./vault/oauth-connect";
import { ensureFresh, nextRefreshAt, refreshDue, revokeUpstream, type InFlight } from "./vault/oauth-credentials";
import { DevTools } from "./vault/dev-tools";
import { listAssignmentsPage } from "./vault/assignments";
import { pageOf, type PageKey, type PageQuery } from "../lib/paging";
import { deleteAssignment, listConsumers, putAssignment, recordEvent, registerAgentTools } from "./vault/assignments";
import { explain, runtimeResolve } from "./vault/resolution";
import { apiKeysPage, membersPage, appsPage, assignmentsPage, auditPage, catalogPage, channelsPage, cliLoginPage, connectPage, decideCliLoginOnPage, credentialPage, part, reconnectCredential, type AppsPageQuery, type AssignmentsView, type PageViewer } from "./vault/pages";
import { queryAudit } from "./vault/audit";
import { authenticate, requirePrincipal, TokenCache, WEB_SESSION_TOKEN_NAME, WEB_SESSION_TTL_MS } from "./vault/auth";
import type { Actor, VaultContext } from "./vault/context";
import { GroupCommit } from "./vault/group-commit";
import { ResolutionCache } from "./vault/resolution-cache";
import type { ConnectAnswer, VaultResult } from "../lib/rpc";
import type { Me } from "../lib/schemas/identity";
import { getCredential, listCredentials, revokeCredential, rotateCredential, setCredentialsChecked, updateCredential, openFields, type Prober } from "./vault/credentials";
import { nextProbeAt, probeDue, runProbe } from "./vault/health";
import { checkCredential } from "./vault/checks";
import { listMembersPage } from "./vault/identity";
import { createApiKey, listApiKeys, listProjects, me, memberByEmail, mintMemberToken, provision, readOrg, revokeApiKey, revokeMyToken, listMyTokens, revokeOwnToken, type ProvisionSpec } from "./vault/identity";
import { isAdmin } from "../lib/permissions";
import { VAULT_MIGRATIONS } from "./vault/schema";
import { hasSchema, migrate } from "./migrations";
import type { BindChannelBody, HandoffAnswer, SessionsQuery } from "../lib/schemas/slack";
import { availableChannels, bindChannel, listChannels, listSessions, unbindChannel } from "./vault/slack/channels";
import { runDelivery } from "./vault/slack/delivery";
import { parseHandoff, receiveSlackEvent } from "./vault/slack/inbox";
import { releaseRouteOrLater, retryRouteReleases, slackWorkQueued } from "./vault/slack/install";
import { acceptInvitation, changeMemberRole, invitationEmail, inviteMember, listInvitations, liveMember, memberDisplayName, removeMember, revokeInvitation } from "./vault/members";
import type { CreateInvitationBody } from "../lib/schemas/members";
import type { Role } from "../lib/schemas/common";
import { createRuntimeToken, listMemberTokens, listRuntimeTokens, revokeMemberToken, revokeRuntimeToken } from "./vault/runtime-tokens";
import { createProject, deleteProject, putProjectMember, removeProjectMember, renameProject } from "./vault/projects";
import type { CreateProjectBody } from "../lib/schemas/projects";
import { myTokensPage, oauthClientPage, projectsPage, runtimeTokensPage, webhooksPage } from "./vault/pages";
import type { ProjectRole } from "../lib/schemas/common";
import { writeInvitation } from "./vault/invitations";
import { writeAudit } from "./vault/audit";
import type { CreatedInvitation } from "../lib/schemas/orgs";
import type { CreateWebhookBody, DeliveriesQuery, UpdateWebhookBody } from "../lib/schemas/webhooks";
import { createWebhook, deleteWebhook, listDeliveries, listWebhooks, resealWebhookSecrets, rotateWebhookSecret, staleWebhookSecrets, updateWebhook } from "./vault/webhooks/endpoints";
import { deliveriesQueued, runWebhookDelivery, testWebhook } from "./vault/webhooks/delivery";

const MEMBER: readonly TokenKind[] = ["user", "key"];

/** A small list (members' tokens, projects, ...) loaded whole, answered as one page under `key`. */
function paged<K extends string, T>(key: K, rows: readonly T[], keyOf: (row: T) => PageKey, shape: string, q: PageQuery): Record<K, T[]> & { next_cursor: string | null } {
  const page = pageOf(key, rows, keyOf, shape, q);
  return { [key]: page.items, next_cursor: page.next_cursor } as Record<K, T[]> & { next_cursor: string | null };
}
/** Newest first, then by id: the order of the token and invitation lists. */
const newestFirst = (x: { created_at: string; id: string }): PageKey => [x.created_at, x.id];
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
  /** The org's id, read once: the org row is written once and never changes. */
  #orgId: string | null = null;
  /** Authenticated token lookups, checked against the auth epoch on every call (vault/auth.ts). */
  #tokens = new TokenCache();
  readonly #writes: GroupCommit;
  #resolutions = new ResolutionCache();
  /** Set when a write queued webhook deliveries (vault/webhooks/outbox.ts); the call wakes the alarm before answering. */
  #outboxWritten = false;

  constructor(ctx: DurableObjectState, env: VaultEnv) {
    super(ctx, env);
    this.#writes = new GroupCommit(ctx.storage);
    void ctx.blockConcurrencyWhile(async () => {
      // Provisioning creates the schema: an instance for an id that was never provisioned writes nothing.
      if (!hasSchema(ctx.storage.sql)) return;
      migrate(ctx.storage, VAULT_MIGRATIONS);
      this.#provisioned = readOrg(ctx.storage.sql) !== null;
      // Values sealed under an older key are resealed by the alarm (the keyring sweep).
      if (this.#provisioned && this.#staleSealedCount() > 0 && (await ctx.storage.getAlarm()) === null) {
        await ctx.storage.setAlarm(Date.now());
      }
      // Webhook deliveries and Slack work (replies, owed route releases) committed but never woken
      // for (a crash in between) go out now.
      if (this.#provisioned && (deliveriesQueued(ctx.storage) || slackWorkQueued(ctx.storage)) && (await ctx.storage.getAlarm()) === null) {
        await ctx.storage.setAlarm(Date.now());
      }
    });
  }

  get #keyring(): Keyring {
    this.#ring ??= parseKeyring(this.env.VAULT_KEYS);
    return this.#ring;
  }

  #context(): VaultContext {
    this.#orgId ??= (this.#provisioned ? readOrg(this.ctx.storage.sql)?.id : null) ?? null;
    if (!this.#orgId) throw new AppError("unauthorized", "This organization does not exist.");
    return { storage: this.ctx.storage, sql: this.ctx.storage.sql, orgId: this.#orgId, ring: this.#keyring, now: Date.now(), onOutbox: () => { this.#outboxWritten = true; }, writes: this.#writes, resolutions: this.#resolutions };
  }

  /** Runs `fn` and turns every AppError into data for the worker to render; internal reasons stay in the log. */
  async #asResult<T>(fn: () => T | Promise<T>): Promise<VaultResult<T>> {
    try {
      const value = await fn();
      await this.#wakeForOutbox();
      return { ok: true, value };
    } catch (e) {
      // A call that failed after a committed write (a denied attempt's audit row, say) may still have queued events.
      await this.#wakeForOutbox().catch(() => undefined);
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
      return fn(ctx, authenticate(ctx, hash, kinds, this.#tokens));
    });
  }

  /** No token: bound workers (Slack hand-off, installs) and the CLI login before it has a token. */
  #unauthenticated<T>(fn: (ctx: VaultContext) => T | Promise<T>): Promise<VaultResult<T>> {
    return this.#asResult(() => fn(this.#context()));
  }

  #member<T>(token: string, fn: (ctx: VaultContext, actor: Actor, p: NonNullable<Actor["principal"]>) => T | Promise<T>) {
    return this.#run(token, MEMBER, (ctx, actor) => fn(ctx, actor, requirePrincipal(actor)));
  }

  /** A web page: the session's token (member tokens only) and the page's data, with who is signed in, in one call. */
  #page<T extends object>(token: string, fn: (ctx: VaultContext, actor: Actor, p: NonNullable<Actor["principal"]>) => T | Promise<T>): Promise<VaultResult<T & PageViewer>> {
    return this.#run(token, ["user"], async (ctx, actor) => {
      const viewer = me(ctx, actor);
      return { ...(await fn(ctx, actor, requirePrincipal(actor))), viewer };
    });
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

  /**
   * A new org of `POST /v1/orgs` (the operator) or `/orgs/new` (a signed-in user, `owner` given):
   * provisioned through provision() with no pre-made token, then either its owner as its first
   * member or an owner invitation. Refused once the vault has any member, so it never adds an owner
   * to a running org.
   */
  async provisionNewOrg(org: ProvisionSpec["org"], owner: { email: string; name: string } | null, inviteEmail: string | null, publicUrl: string): Promise<VaultResult<{ invitation: CreatedInvitation | null }>> {
    if (this.#provisioned && Number(this.ctx.storage.sql.exec(`SELECT COUNT(*) AS n FROM members`).one().n) > 0) {
      return { ok: false, error: { code: "conflict", message: "This organization already exists.", details: { field: "slug" } }, status: 409 };
    }
    // The owner is named as an accepting member is: their GitHub login, or their email if it is unusable.
    await this.provision({ org, members: owner ? [{ email: owner.email, name: memberDisplayName(owner.name, owner.email), role: "owner" }] : [], projects: [], tokens: [] });
    return this.#unauthenticated(async (ctx) => {
      writeAudit(ctx, null, { action: "org.created", target: org.slug, detail: { by: owner ? "signup" : "operator" } });
      const invitation = inviteEmail ? await writeInvitation(ctx, null, { email: inviteEmail, role: "owner", projects: [] }, publicUrl) : null;
      if (invitation) await this.#indexInvitation(ctx, invitation);
      return { invitation };
    });
  }

  /**
   * Dev only: the dev worker's and the dev sign-in's tools for this org (vault/dev-tools.ts), kept
   * out of this class. Refused without DEV_MODE, so production has no way to them.
   */
  openDevTools(): DevTools {
    if (this.env.DEV_MODE !== "true") throw new AppError("forbidden", "Dev tools are only available in dev mode (DEV_MODE).");
    return new DevTools({ context: () => this.#context(), env: this.env, asResult: (fn) => this.#asResult(fn) });
  }

  // ---- identity ----

  signOut(token: string) {
    return this.#run(token, ["user"], (ctx, actor) => revokeOwnToken(ctx, actor));
  }

  /** One authenticated round trip and nothing else: the benchmark's baseline. */
  ping(token: string) {
    return this.#run(token, ["user", "key", "rt"], () => ({ ok: true }));
  }

  describeMe(token: string) {
    return this.#run(token, ["user", "key", "rt"], (ctx, actor) => me(ctx, actor));
  }
  // Every management list answers one page (lib/paging.ts; README, "Paging").
  listMembers(token: string, q: PageQuery = {}) {
    return this.#member(token, (ctx) => listMembersPage(ctx, q));
  }
  listProjects(token: string, q: PageQuery = {}) {
    return this.#member(token, (ctx, _a, p) => paged("projects", listProjects(ctx, p), (x) => [x.slug], "s", q));
  }

  // ---- invitations and members (vault/members.ts) ----

  inviteMember(token: string, body: CreateInvitationBody, publicUrl: string) {
    return this.#member(token, async (ctx, actor, p) => this.#indexInvitation(ctx, await inviteMember(ctx, actor, p, body, publicUrl)));
  }
  /**
   * The Directory's index of pending invitations (what /orgs lists), written after the vault's row.
   * Best effort: the emailed link works without it. Answers the invitation unchanged.
   */
  async #indexInvitation(ctx: VaultContext, inv: CreatedInvitation): Promise<CreatedInvitation> {
    await this.env.DIRECTORY.getByName("global")
      .indexInvitation({ id: inv.id, orgId: ctx.orgId, email: inv.email, role: inv.role, expiresAt: Date.parse(inv.expires_at) })
      .catch(() => undefined);
    return inv;
  }
  listInvitations(token: string, q: PageQuery = {}) {
    return this.#member(token, (ctx, actor, p) => paged("invitations", listInvitations(ctx, actor, p), newestFirst, "Ss", q));
  }
  revokeInvitation(token: string, id: string) {
    return this.#member(token, async (ctx, actor, p) => {
      const revoked = revokeInvitation(ctx, actor, p, id);
      await this.env.DIRECTORY.getByName("global").dropInvitations(ctx.orgId, { id }).catch(() => undefined);
      return revoked;
    });
  }
  /**
   * Bound workers only (no token): the web app, for a signed-in platform user, with the verified
   * emails and the display name it read from their GitHub account (the login). Then the Directory
   * links the person to this org, and the answer carries the new member's web session, so the page
   * is one vault call.
   */
  acceptInvitation(secret: string, emails: string[], name: string | null = null) {
    return this.#accept({ secret }, emails, name);
  }
  /** /orgs's Accept: the pending invitation by id, for one of the person's verified emails. */
  acceptInvitationById(id: string, emails: string[], name: string | null = null) {
    return this.#accept({ id }, emails, name);
  }
  #accept(by: { secret: string } | { id: string }, emails: string[], name: string | null) {
    return this.#unauthenticated(async (ctx) => {
      const directory = this.env.DIRECTORY.getByName("global");
      // Linked in the Directory (how sign-in finds the org) before the invitation is spent: if the
      // Directory fails, nothing here is written and the same link works again. An acceptance that
      // fails after the link takes it back, unless the person is a member anyway.
      const email = await invitationEmail(ctx, by, emails);
      await directory.addUser(email, ctx.orgId);
      const accepted = await acceptInvitation(ctx, by, emails, name).catch(async (e: unknown) => {
        if (!liveMember(ctx, "email", email)) await directory.removeUser(email, ctx.orgId).catch(() => undefined);
        throw e;
      });
      await directory.dropInvitations(ctx.orgId, { email: accepted.member.email }).catch(() => undefined);
      const session = await mintMemberToken({ ...ctx, now: Date.now() }, accepted.member.id, `${WEB_SESSION_TOKEN_NAME} (github)`, WEB_SESSION_TTL_MS);
      return { ...accepted, session };
    });
  }
  changeMemberRole(token: string, id: string, role: Role) {
    return this.#member(token, (ctx, actor, p) => changeMemberRole(ctx, actor, p, id, role));
  }
  /** Offboarding: one transaction here, then upstream revokes and the Directory link, best effort. */
  removeMember(token: string, id: string) {
    return this.#member(token, async (ctx, actor, p) => {
      const removed = await removeMember(ctx, actor, p, id, (app, tokens, id) => revokeUpstream(ctx, this.env, app, tokens, id));
      await this.env.DIRECTORY.getByName("global").removeUser(removed.member.email, ctx.orgId).catch(() => undefined);
      return removed;
    });
  }
  createApiKey(token: string, name: string) {
    return this.#member(token, (ctx, actor, p) => createApiKey(ctx, actor, p, name, hashToken));
  }
  listApiKeys(token: string, q: PageQuery = {}) {
    return this.#member(token, (ctx, _a, p) => paged("api_keys", listApiKeys(ctx, p), newestFirst, "Ss", q));
  }
  revokeApiKey(token: string, id: string) {
    return this.#member(token, (ctx, actor, p) => revokeApiKey(ctx, actor, p, id));
  }
  listMyTokens(token: string, q: PageQuery = {}) {
    return this.#member(token, (ctx, actor, p) => paged("tokens", listMyTokens(ctx, actor, p), newestFirst, "Ss", q));
  }
  revokeMyToken(token: string, id: string) {
    return this.#member(token, (ctx, actor, p) => revokeMyToken(ctx, actor, p, id));
  }

  // ---- runtime tokens and every member's tokens (SPEC section 12, vault/runtime-tokens.ts) ----

  createRuntimeToken(token: string, name: string) {
    return this.#member(token, (ctx, actor, p) => createRuntimeToken(ctx, actor, p, name));
  }
  listRuntimeTokens(token: string, q: PageQuery = {}) {
    return this.#member(token, (ctx, actor, p) => paged("runtime_tokens", listRuntimeTokens(ctx, actor, p), newestFirst, "Ss", q));
  }
  revokeRuntimeToken(token: string, id: string) {
    return this.#member(token, (ctx, actor, p) => revokeRuntimeToken(ctx, actor, p, id));
  }
  listMemberTokens(token: string, memberId: string, q: PageQuery = {}) {
    return this.#member(token, (ctx, actor, p) => paged("tokens", listMemberTokens(ctx, actor, p, memberId), newestFirst, "Ss", q));
  }
  revokeMemberToken(token: string, memberId: string, id: string) {
    return this.#member(token, (ctx, actor, p) => revokeMemberToken(ctx, actor, p, memberId, id));
  }

  // ---- projects and project members (vault/projects.ts) ----

  createProject(token: string, body: CreateProjectBody) {
    return this.#member(token, (ctx, actor, p) => createProject(ctx, actor, p, body));
  }
  renameProject(token: string, slug: string, name: string) {
    return this.#member(token, (ctx, actor, p) => renameProject(ctx, actor, p, slug, name));
  }
  deleteProject(token: string, slug: string, force: boolean) {
    return this.#member(token, (ctx, actor, p) => deleteProject(ctx, actor, p, slug, force, (app, tokens, id) => revokeUpstream(ctx, this.env, app, tokens, id)));
  }
  putProjectMember(token: string, slug: string, member: string, role: ProjectRole) {
    return this.#member(token, (ctx, actor, p) => putProjectMember(ctx, actor, p, slug, member, role));
  }
  removeProjectMember(token: string, slug: string, member: string) {
    return this.#member(token, (ctx, actor, p) => removeProjectMember(ctx, actor, p, slug, member));
  }

  // ---- catalog ----

  listApps(token: string, search?: string) {
    return this.#member(token, (ctx, _a, p) => ({ apps: listApps(ctx, p, search) }));
  }
  updateCustomApp(token: string, slug: string, body: UpdateCustomAppBody) {
    return this.#member(token, (ctx, actor, p) => updateCustomApp(ctx, actor, p, slug, body));
  }
  deleteCustomApp(token: string, slug: string) {
    return this.#member(token, (ctx, actor, p) => deleteCustomApp(ctx, actor, p, slug));
  }
  /** POST /v1/apps: an org-local custom OAuth app (org owners and admins). */
  createCustomApp(token: string, body: CreateCustomAppBody) {
    return this.#member(token, (ctx, actor, p) => createCustomOAuthApp(ctx, actor, p, body));
  }
  /** The org's own OAuth client of an app (SPEC 13): org owners and admins; never the secret. */
  getOAuthClient(token: string, slug: string, publicUrl: string) {
    return this.#member(token, (ctx, actor, p) => getOAuthClient(ctx, this.env, actor, p, slug, publicUrl));
  }
  putOAuthClient(token: string, slug: string, body: PutOAuthClientBody, publicUrl: string) {
    return this.#member(token, (ctx, actor, p) => putOAuthClient(ctx, this.env, actor, p, slug, body, publicUrl));
  }
  deleteOAuthClient(token: string, slug: string, publicUrl: string) {
    return this.#member(token, (ctx, actor, p) => deleteOAuthClient(ctx, this.env, actor, p, slug, publicUrl));
  }
  /** An app's OAuth client settings page (admins). */
  loadOAuthClientPage(token: string, slug: string, publicUrl: string) {
    return this.#page(token, (ctx, actor, p) => oauthClientPage(ctx, this.env, actor, p, slug, publicUrl));
  }

  // ---- credentials ----

  /** Set and rotate run the app's probe first (SPEC section 14); the daily probe is the alarm's. */
  setCredentials(token: string, body: SetCredentialsBody) {
    return this.#member(token, async (ctx, actor, p) => {
      const answer = await setCredentialsChecked(ctx, actor, p, body, this.#prober(ctx));
      await this.#wakeAt(nextProbeAt(ctx, this.env));
      return answer;
    });
  }
  #prober(ctx: VaultContext): Prober {
    return (app, fields) => runProbe(ctx, this.env, app, fields);
  }
  checkCredential(token: string, ref: string) {
    return this.#member(token, (ctx, actor, p) => checkCredential(ctx, this.env, actor, p, ref, { fresh: (id) => ensureFresh(this.#context(), this.env, id, this.#refreshing) }));
  }
  listCredentials(token: string, q: ListCredentialsQuery) {
    return this.#member(token, (ctx, _a, p) => listCredentials(ctx, p, q));
  }
  getCredential(token: string, ref: string) {
    return this.#member(token, (ctx, _a, p) => getCredential(ctx, p, ref));
  }
  updateCredential(token: string, ref: string, body: UpdateCredentialBody) {
    return this.#member(token, (ctx, actor, p) => updateCredential(ctx, actor, p, ref, body));
  }
  rotateCredential(token: string, ref: string, body: RotateCredentialBody) {
    return this.#member(token, (ctx, actor, p) => rotateCredential(ctx, actor, p, ref, body, this.#prober(ctx)));
  }
  revokeCredential(token: string, ref: string) {
    return this.#member(token, (ctx, actor, p) => revokeCredential(ctx, actor, p, ref, (app, tokens, id) => revokeUpstream(ctx, this.env, app, tokens, id)));
  }

  // ---- connect (SPEC section 6) ----

  createConnectSession(token: string, body: CreateConnectSessionBody, publicUrl: string) {
    return this.#member(token, async (ctx, actor, p) => {
      const session = createSession(ctx, actor, p, body, publicUrl);
      // Woken at its expiry, so a session nobody finishes still ends with its connect_session.failed event.
      await this.#wakeAt(Date.parse(session.expires_at));
      return session;
    });
  }
  getConnectSession(token: string, id: string, publicUrl: string) {
    return this.#member(token, (ctx, _a, p) => getSession(ctx, p, id, publicUrl));
  }
  getConnectOptions(token: string, id: string, publicUrl: string) {
    return this.#member(token, (ctx, _a, p) => connectOptions(ctx, p, id, publicUrl));
  }
  completeConnectWithFields(token: string, id: string, choice: ConnectChoice, fields: Record<string, string>) {
    return this.#member(token, async (ctx, actor, p) => {
      const credentials = await completeWithFields(ctx, actor, p, id, choice, fields, this.#prober(ctx));
      await this.#wakeAt(nextProbeAt(ctx, this.env));
      return { credentials };
    });
  }
  /**
   * The oauth worker's /oauth/start: records the state (hashed) and the PKCE verifier (sealed) and
   * answers only the provider's authorization URL (vault/oauth-connect.ts). The posted choice is
   * checked here, not in the worker (which then bundles no zod); a refused choice also answers the
   * form's options, so the page shows the form again from this one call.
   */
  async beginConnect(token: string, id: string, choice: ConnectChoice, redirectUri: string): Promise<ConnectAnswer<ConnectBegun>> {
    let form: VaultResult<ConnectOptions> | undefined;
    const r = await this.#connectStep(token, async (ctx, actor, p) => {
      let checked: ConnectChoice;
      try {
        checked = connectChoiceOf(choice);
      } catch (e) {
        form = await part(() => connectOptions(ctx, p, id, new URL(redirectUri).origin));
        throw e;
      }
      return beginConnect(ctx, this.env, actor, p, id, checked, redirectUri);
    });
    return r.ok || !form ? r : { ...r, form };
  }
  /**
   * The oauth worker's /oauth/callback: consumes the state (single use: it authenticates the
   * callback with the session), exchanges the code, stores the connection or the Slack install
   * and ends the session; answers where the browser goes next.
   */
  finishConnect(token: string, callback: ConnectCallback): Promise<ConnectAnswer<{ redirect: string }>> {
    return this.#connectStep(token, async (_c, actor, p) => {
      const { session } = await finishConnect(() => this.#context(), this.env, actor, p, callback);
      // New tokens (and a rotating Slack bot token) are refreshed by the alarm.
      await this.#wakeAt(nextRefreshAt(this.#context()));
      // A token that cannot be refreshed is marked `expiring` by the alarm before it runs out.
      await this.#wakeAt(nextProbeAt(this.#context(), this.env));
      return { redirect: `/apps?connected=${session}` };
    });
  }
  /** A member call whose failure also names the viewer (the error page's header), so a connect step is one call. */
  async #connectStep<T>(token: string, fn: (ctx: VaultContext, actor: Actor, p: NonNullable<Actor["principal"]>) => Promise<T>): Promise<ConnectAnswer<T>> {
    const seen: { viewer: Me | null } = { viewer: null };
    const r = await this.#member(token, (ctx, actor, p) => {
      seen.viewer = me(ctx, actor);
      return fn(ctx, actor, p);
    });
    return r.ok ? r : { ...r, viewer: seen.viewer };
  }

  // ---- resolution, assignments, consumers ----

  /** `publicUrl` is the platform's origin, for the connect links in missing_credentials. */
  resolveForRuntime(token: string, body: RuntimeResolveBody, publicUrl: string) {
    return this.#run(token, RUNTIME, (ctx, actor) => runtimeResolve(ctx, actor, body, publicUrl, (id) => ensureFresh(ctx, this.env, id, this.#refreshing)));
  }
  recordRuntimeEvent(token: string, event: RuntimeEvent) {
    return this.#run(token, RUNTIME, (ctx) => recordEvent(ctx, event));
  }
  registerAgentTools(token: string, agent: string, tools: string[]) {
    return this.#run(token, RUNTIME, (ctx) => registerAgentTools(ctx, agent, tools));
  }
  explain(token: string, body: ExplainBody, publicUrl: string) {
    return this.#member(token, (ctx, _a, p) => explain(ctx, p, body, publicUrl));
  }
  listConsumers(token: string, kind: ConsumerKind, target: string, q: PageQuery = {}) {
    return this.#member(token, (ctx, _a, p) => paged("consumers", listConsumers(ctx, p, kind, target), (x) => [x.id], "s", q));
  }
  listAssignments(token: string, q: { kind?: ConsumerKind; target?: string } & PageQuery) {
    return this.#member(token, (ctx, _a, p) => listAssignmentsPage(ctx, p, q));
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
  getCliLogin(token: string, id: string) {
    return this.#run(token, ["user"], (ctx) => viewCliLogin(ctx, id));
  }
  decideCliLogin(token: string, id: string, decision: CliLoginDecision) {
    return this.#run(token, ["user"], (ctx, actor) => decideCliLogin(ctx, actor, requirePrincipal(actor), id, decision));
  }
  logOutCli(token: string) {
    return this.#run(token, ["user"], (ctx, actor) => revokeCliToken(ctx, actor));
  }

  // ---- audit ----

  queryAudit(token: string, q: AuditQuery) {
    return this.#member(token, (ctx, _a, p) => queryAudit(ctx, q, isAdmin(p) ? null : p.member));
  }

  // ---- slack ----

  /**
   * The slack-events worker's hand-off, one call per verified event: claims it (event id, then
   * installation + channel + ts), queues a message or applies a lifecycle change, wakes the alarm.
   * Answers only once the rows are written, so the worker's 200 means "durably ours".
   */
  receiveSlackEvent(input: unknown): Promise<VaultResult<HandoffAnswer>> {
    return this.#unauthenticated(async (ctx) => {
      const handoff = parseHandoff(input);
      const r = receiveSlackEvent(ctx, handoff);
      if (r.wake) await this.#wakeAt(ctx.now);
      if (r.released) await this.#wakeAt(await releaseRouteOrLater(ctx, this.env, handoff.route));
      return r.answer;
    });
  }

  listChannels(token: string) {
    return this.#member(token, (ctx, _a, p) => listChannels(ctx, p));
  }
  listAvailableChannels(token: string) {
    return this.#member(token, (_c, _a, p) => availableChannels(() => this.#context(), this.env, p));
  }
  bindChannel(token: string, body: BindChannelBody) {
    return this.#member(token, (ctx, actor, p) => bindChannel(ctx, actor, p, body));
  }
  unbindChannel(token: string, channel: string) {
    return this.#member(token, (ctx, actor, p) => unbindChannel(ctx, actor, p, channel));
  }
  listSlackSessions(token: string, q: SessionsQuery) {
    return this.#member(token, (ctx, _a, p) => listSessions(ctx, p, q));
  }

  /** The alarm's Slack part: deliver due inbox messages; answers when it needs the alarm again. */
  async #slackAlarmWork(): Promise<number | null> {
    try {
      const releaseAt = await retryRouteReleases(this.#context(), this.env);
      const deliverAt = await runDelivery({ context: () => this.#context(), env: this.env, fresh: (id) => ensureFresh(this.#context(), this.env, id, this.#refreshing) });
      return releaseAt === null ? deliverAt : Math.min(releaseAt, deliverAt ?? releaseAt);
    } catch (e) {
      // Never let delivery use up the shared alarm's retries; try again shortly.
      console.error("slack alarm work failed", e instanceof Error ? e.name : typeof e);
      return Date.now() + 30_000;
    }
  }

  // ---- signed webhooks (SPEC section 14, vault/webhooks/) ----

  get #dev(): boolean {
    return this.env.DEV_MODE === "true";
  }
  createWebhook(token: string, body: CreateWebhookBody) {
    return this.#member(token, (ctx, actor, p) => createWebhook(ctx, actor, p, body, this.#dev));
  }
  listWebhooks(token: string) {
    return this.#member(token, (ctx, actor, p) => ({ webhooks: listWebhooks(ctx, actor, p) }));
  }
  updateWebhook(token: string, id: string, body: UpdateWebhookBody) {
    return this.#member(token, (ctx, actor, p) => updateWebhook(ctx, actor, p, id, body, this.#dev));
  }
  deleteWebhook(token: string, id: string) {
    return this.#member(token, (ctx, actor, p) => deleteWebhook(ctx, actor, p, id));
  }
  rotateWebhookSecret(token: string, id: string) {
    return this.#member(token, (ctx, actor, p) => rotateWebhookSecret(ctx, actor, p, id));
  }
  testWebhook(token: string, id: string) {
    return this.#member(token, (_c, actor, p) => testWebhook(this.#webhookDeps(), actor, p, id));
  }
  listWebhookDeliveries(token: string, id: string, q: DeliveriesQuery) {
    return this.#member(token, (ctx, actor, p) => listDeliveries(ctx, actor, p, id, q));
  }
  #webhookDeps() {
    return { context: () => this.#context(), env: this.env, dev: this.#dev };
  }
  /** The alarm's webhook part: due deliveries; answers when it needs the alarm again. */
  async #webhookAlarmWork(): Promise<number | null> {
    try {
      return await runWebhookDelivery(this.#webhookDeps());
    } catch (e) {
      console.error("webhook alarm work failed", e instanceof Error ? e.name : typeof e);
      return Date.now() + 30_000;
    }
  }

  // ---- web pages: one call per page, with who is signed in (vault/pages.ts) ----

  loadAppsPage(token: string, q: AppsPageQuery, publicUrl: string) {
    return this.#page(token, (ctx, _a, p) => appsPage(ctx, p, q, publicUrl));
  }
  /** A credential's rename, rotate and revoke pages. */
  loadCredentialPage(token: string, id: string) {
    return this.#page(token, (ctx, _a, p) => credentialPage(ctx, p, id));
  }
  /** The Reconnect button of the Apps page (OAuth): reads the credential's app and starts the session, one call. */
  reconnectCredential(token: string, id: string, publicUrl: string) {
    return this.#member(token, (ctx, actor, p) => reconnectCredential(ctx, actor, p, id, publicUrl));
  }
  /** The catalog and the "Connect <app>" page. */
  loadCatalogPage(token: string, search?: string) {
    return this.#page(token, (ctx, _a, p) => catalogPage(ctx, p, search));
  }
  loadConnectPage(token: string, id: string, publicUrl: string) {
    return this.#page(token, (ctx, _a, p) => connectPage(ctx, p, id, publicUrl));
  }
  loadAssignmentsPage(token: string, view: AssignmentsView, publicUrl: string) {
    return this.#page(token, (ctx, _a, p) => assignmentsPage(ctx, p, view, publicUrl));
  }
  loadChannelsPage(token: string, agent: string) {
    return this.#page(token, (ctx, actor, p) => channelsPage(() => this.#context(), this.env, p, agent, me(ctx, actor).projects.map((x) => x.slug)));
  }
  loadApiKeysPage(token: string) {
    return this.#page(token, (ctx, _a, p) => apiKeysPage(ctx, p));
  }
  /** The create form: the new key (shown once) and the page that shows it, in one call. */
  createApiKeyOnPage(token: string, name: string) {
    return this.#page(token, async (ctx, actor, p) => {
      const created = await part(() => createApiKey(ctx, actor, p, name, hashToken));
      return { created, ...(await apiKeysPage(ctx, p)) };
    });
  }
  loadMembersPage(token: string) {
    return this.#page(token, (ctx, _a, p) => membersPage(ctx, p));
  }
  /** The invite form: the new link (shown once) and the page that shows it, in one call. */
  inviteMemberOnPage(token: string, body: CreateInvitationBody, publicUrl: string) {
    return this.#page(token, async (ctx, actor, p) => {
      const created = await part(async () => this.#indexInvitation(ctx, await inviteMember(ctx, actor, p, body, publicUrl)));
      return { created, ...(await membersPage(ctx, p)) };
    });
  }
  loadRuntimeTokensPage(token: string) {
    return this.#page(token, (ctx, actor, p) => runtimeTokensPage(ctx, actor, p));
  }
  /** The create form: the new runtime token (shown once) and the page that shows it, in one call. */
  createRuntimeTokenOnPage(token: string, name: string) {
    return this.#page(token, async (ctx, actor, p) => {
      const created = await part(() => createRuntimeToken(ctx, actor, p, name));
      return { created, ...(await runtimeTokensPage(ctx, actor, p)) };
    });
  }
  /** The Webhooks page; its create, rotate and test forms answer their result and the page in one call. */
  loadWebhooksPage(token: string) {
    return this.#page(token, (ctx, actor, p) => webhooksPage(ctx, actor, p));
  }
  createWebhookOnPage(token: string, body: CreateWebhookBody) {
    return this.#page(token, async (ctx, actor, p) => {
      const created = await part(() => createWebhook(ctx, actor, p, body, this.#dev));
      return { created, ...(await webhooksPage(ctx, actor, p)) };
    });
  }
  rotateWebhookSecretOnPage(token: string, id: string) {
    return this.#page(token, async (ctx, actor, p) => {
      const created = await part(() => rotateWebhookSecret(ctx, actor, p, id));
      return { created, ...(await webhooksPage(ctx, actor, p)) };
    });
  }
  testWebhookOnPage(token: string, id: string) {
    return this.#page(token, async (_c, actor, p) => {
      const tested = await part(() => testWebhook(this.#webhookDeps(), actor, p, id));
      return { tested, ...(await webhooksPage(this.#context(), actor, p)) };
    });
  }
  loadProjectsPage(token: string) {
    return this.#page(token, (ctx, _a, p) => projectsPage(ctx, p));
  }
  loadMyTokensPage(token: string) {
    return this.#page(token, (ctx, actor, p) => myTokensPage(ctx, actor, p));
  }
  loadAuditPage(token: string, q: AuditQuery | null) {
    return this.#page(token, (ctx, _a, p) => auditPage(ctx, p, q));
  }
  loadCliLoginPage(token: string, id: string | null) {
    return this.#page(token, (ctx) => cliLoginPage(ctx, id));
  }
  decideCliLoginOnPage(token: string, id: string, decision: CliLoginDecision) {
    return this.#page(token, (ctx, actor, p) => decideCliLoginOnPage(ctx, actor, p, id, decision));
  }

  // ---- web ----

  /**
   * "Sign in with GitHub" (bound workers only, no token): after the api worker checked the OAuth
   * state and read the GitHub account's verified emails, a web session for the member with one of
   * them. Sliding like the dev sign-in's (vault/auth.ts renews tokens named "web session").
   */
  startWebSession(email: string, via: "github") {
    return this.#unauthenticated(async (ctx) => {
      const member = memberByEmail(ctx, email);
      if (!member) throw new AppError("not_found", "No member of this organization has that email.");
      return mintMemberToken(ctx, member.id, `${WEB_SESSION_TOKEN_NAME} (${via})`, WEB_SESSION_TTL_MS);
    });
  }

  // ---- keyring sweep ----

  #staleSealedCount(): number {
    const active = this.#keyring.active;
    return Number(this.ctx.storage.sql.exec(`SELECT COUNT(*) AS n FROM secret_fields WHERE sealed NOT LIKE ?`, `v1.${active}.%`).one().n) + staleClientSecrets({ sql: this.ctx.storage.sql }, active) + staleWebhookSecrets({ sql: this.ctx.storage.sql, ring: this.#keyring });
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
    // The org's OAuth client secrets are sealed under the same keys (vault/oauth-clients.ts).
    if (moved < RESEAL_BATCH) moved += await resealClientSecrets(ctx, RESEAL_BATCH - moved);
    // And the webhook signing secrets (vault/webhooks/endpoints.ts).
    if (moved < RESEAL_BATCH) moved += await resealWebhookSecrets(ctx, RESEAL_BATCH - moved);
    return { moved, left: this.#staleSealedCount() };
  }

  // ---- the alarm, shared by every part of the vault ----

  /** Deliveries were queued during this call: the alarm delivers them now. */
  async #wakeForOutbox(): Promise<void> {
    if (!this.#outboxWritten) return;
    this.#outboxWritten = false;
    await this.#wakeAt(Date.now());
  }

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
    // Daily probes of API keys (vault/health.ts): jittered per credential, a few at a time, bounded.
    const probeAt = probeDue(() => this.#context(), this.env, openFields).catch((e) => {
      console.error("credential probe sweep failed", e instanceof Error ? e.name : typeof e);
      return Date.now() + 5 * 60_000;
    });
    next.push(settleExpiredSessions(this.#context()));
    next.push(...(await Promise.all([refreshAt, this.#slackAlarmWork(), this.#webhookAlarmWork(), probeAt])));
    // Events written by this run (a refresh refused, a disabled endpoint) are delivered next.
    if (this.#outboxWritten) {
      this.#outboxWritten = false;
      next.push(Date.now());
    }
    const due = next.filter((t): t is number => t !== null);
    if (due.length) await this.#wakeAt(Math.min(...due));
  }
}
