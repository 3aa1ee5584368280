import { AppError, type ErrorBody } from "../../lib/errors";
import { can, isAdmin, type Principal } from "../../lib/permissions";
import type { VaultResult } from "../../lib/rpc";
import type { AppSummary } from "../../lib/schemas/apps";
import type { AuditPage, AuditQuery } from "../../lib/schemas/audit";
import type { CliLoginView } from "../../lib/schemas/cli";
import type { Scope } from "../../lib/schemas/common";
import type { ConnectOptions, ConnectSession } from "../../lib/schemas/connect";
import type { Credential, ListCredentialsQuery } from "../../lib/schemas/credentials";
import type { ApiKey, Me, Member } from "../../lib/schemas/identity";
import type { AssignmentView, ConsumerKind, ConsumerView, ExplainResult } from "../../lib/schemas/resolution";
import type { AvailableChannel, ChannelBinding, SlackInstallationView } from "../../lib/schemas/slack";
import { listApps } from "./apps";
import { listAssignments, listConsumers } from "./assignments";
import { queryAudit } from "./audit";
import { decideCliLogin, viewCliLogin, type CliLoginDecision } from "./cli-logins";
import { connectOptions, createSession, getSession } from "./connect";
import type { Actor, VaultContext } from "./context";
import { credentialApps, everyCredential, getCredential, listCredentials } from "./credentials";
import { listApiKeys, listMembers } from "./identity";
import { listInvitations } from "./members";
import type { Invitation } from "../../lib/schemas/members";
import type { OutboundEnv } from "./outbound";
import { explain } from "./resolution";
import { listRuntimeTokens } from "./runtime-tokens";
import type { RuntimeToken } from "../../lib/schemas/tokens";
import type { MyToken } from "../../lib/schemas/identity";
import { listMyTokens, listProjects } from "./identity";
import type { Project } from "../../lib/schemas/identity";
import { availableChannels, listChannels } from "./slack/channels";
import { getOAuthClient, oauthAppOf, type ClientEnv } from "./oauth-clients";
import type { OAuthClientSettings } from "../../lib/schemas/oauth-clients";
import type { Webhook, WebhookDelivery } from "../../lib/schemas/webhooks";
import { listWebhooks, recentDeliveries } from "./webhooks/endpoints";

/**
 * The web app's pages, one vault call each (issue 12, build 4): every function here composes
 * the domain functions for one page inside the single authenticated call that OrgVault's
 * `load…Page` methods make, so a page never needs a second round trip. A part the page shows an
 * error for in place (a banner beside the rest) is a Part; anything else that fails fails the call.
 */

/** What every page answer carries: who is signed in (the nav, and what `can` allows). */
export interface PageViewer {
  viewer: Me;
}

/** One part of a page: its value, or the error the page shows in its place. */
export type Part<T> = VaultResult<T>;

export async function part<T>(fn: () => T | Promise<T>): Promise<Part<T>> {
  try {
    return { ok: true, value: await fn() };
  } catch (e) {
    if (e instanceof AppError) return { ok: false, error: e.toBody(), status: e.httpStatus };
    throw e;
  }
}

/** `null` for a part the page leaves out; errors that the page would have shown as empty read as `fallback`. */
async function orElse<T>(fn: () => T | Promise<T>, fallback: T): Promise<T> {
  const r = await part(fn);
  return r.ok ? r.value : fallback;
}

// ---- Apps (apps.tsx) ----

export interface AppsPageQuery {
  /** The filters, when any are set and valid, with the page (`limit`, `cursor`); null: the first page of everything. */
  filter: ListCredentialsQuery | null;
  /** A connect session that just ended (`?connected=`), for the banner. */
  connected: string | null;
}

export interface AppsPage {
  /** The apps the viewer has credentials of (the filter's choices), without reading every row. */
  apps: string[];
  filtered: Part<{ credentials: Credential[]; next_cursor: string | null }>;
  members: Member[];
  session: Part<ConnectSession> | null;
}

export async function appsPage(ctx: VaultContext, p: Principal, q: AppsPageQuery, publicUrl: string): Promise<AppsPage> {
  const filtered = await part(() => listCredentials(ctx, p, q.filter ?? {}));
  const connected = q.connected;
  return {
    apps: credentialApps(ctx, p),
    filtered,
    members: listMembers(ctx),
    session: connected ? await part(() => getSession(ctx, p, connected, publicUrl)) : null,
  };
}

/** One credential's pages (rename, rotate, revoke): the credential, the member emails, and its app's fields. */
export interface CredentialPage {
  credential: Part<Credential>;
  members: Member[];
  app: AppSummary | null;
}

export async function credentialPage(ctx: VaultContext, p: Principal, id: string): Promise<CredentialPage> {
  const credential = await part(() => getCredential(ctx, p, id));
  const slug = credential.ok ? credential.value.app : null;
  const app = slug ? await orElse(() => listApps(ctx, p, slug).find((a) => a.slug === slug) ?? null, null) : null;
  return { credential, members: listMembers(ctx), app };
}

/** The Reconnect button: a connect session that puts new tokens into this credential (its app read here, not in a second call). */
export function reconnectCredential(ctx: VaultContext, actor: Actor, p: Principal, id: string, publicUrl: string): ConnectSession {
  const x = getCredential(ctx, p, id);
  return createSession(ctx, actor, p, { app: x.app, reconnect: x.id }, publicUrl);
}

// ---- catalog and connect (catalog.tsx, connect.tsx) ----

export async function catalogPage(ctx: VaultContext, p: Principal, search: string | undefined): Promise<{ apps: Part<{ apps: AppSummary[] }> }> {
  return { apps: await part(() => ({ apps: listApps(ctx, p, search) })) };
}

export async function connectPage(ctx: VaultContext, p: Principal, id: string, publicUrl: string): Promise<{ options: Part<ConnectOptions> }> {
  return { options: await part(() => connectOptions(ctx, p, id, publicUrl)) };
}

// ---- assignments (assignments.tsx) ----

export interface AssignmentsView {
  kind: ConsumerKind | null;
  target: string;
  project: string;
  app: string;
}

export interface AssignmentsPage {
  /** Every pin the member can see (the target list), when no target is chosen. */
  all: Part<{ assignments: AssignmentView[] }> | null;
  /** The chosen target: its consumers, pins, apps and what each consumer resolves to. */
  target: {
    consumers: Part<{ consumers: ConsumerView[] }>;
    assignments: Part<{ assignments: AssignmentView[] }>;
    apps: string[];
    /** Per consumer id: its resolution for each app (the vault's explain), or why it could not be explained. */
    explained: Map<string, ExplainResult[] | ErrorBody>;
  } | null;
  credentials: Credential[];
}

export async function assignmentsPage(ctx: VaultContext, p: Principal, v: AssignmentsView, publicUrl: string): Promise<AssignmentsPage> {
  const credentials = await orElse(() => everyCredential(ctx, p), []);
  const kind = v.kind;
  if (!kind || !v.target) return { all: await part(() => ({ assignments: listAssignments(ctx, p, {}) })), target: null, credentials };
  const consumers = await part(() => ({ consumers: listConsumers(ctx, p, kind, v.target) }));
  const assignments = await part(() => ({ assignments: listAssignments(ctx, p, { kind, target: v.target }) }));
  const list = assignments.ok ? assignments.value.assignments : [];
  const apps = [...new Set([...list.map((a) => a.app), ...(v.app ? [v.app] : [])])].sort();
  const explained = new Map<string, ExplainResult[] | ErrorBody>();
  if (apps.length && consumers.ok) {
    // Every consumer in this same call (was one RPC per consumer).
    for (const consumer of consumers.value.consumers) {
      const body = { ...(v.project ? { project: v.project } : {}), consumer: { kind, target: v.target, id: consumer.id }, requirements: apps.map((app) => ({ app })) };
      const r = await part(() => explain(ctx, p, body, publicUrl));
      explained.set(consumer.id, r.ok ? r.value.results : r.error);
    }
  }
  return { all: null, target: { consumers, assignments, apps, explained }, credentials };
}

// ---- channels (channels.tsx) ----

export interface ChannelsPage {
  list: Part<{ installations: SlackInstallationView[]; channels: ChannelBinding[] }>;
  /** The channels the bot can bind, only when an agent is chosen and the member can bind somewhere. */
  available: Part<{ channels: AvailableChannel[] }> | null;
}

const scopeOf = (project: string): Scope => (project ? { type: "project", project } : { type: "org" });

export async function channelsPage(context: () => VaultContext, env: OutboundEnv, p: Principal, agent: string, projects: string[]): Promise<ChannelsPage> {
  const ctx = context();
  const list = await part(() => listChannels(ctx, p));
  const installed = list.ok && list.value.installations.length > 0;
  // The scopes the page offers (channels.tsx bindScopes): the org, or a project the member administers.
  const canBind = ["", ...projects].some((s) => can(p, "manage", scopeOf(s)));
  const available = agent && installed && canBind ? await part(() => availableChannels(context, env, p)) : null;
  return { list, available };
}

// ---- projects and their members (SPEC section 12) ----

export interface ProjectsPage {
  projects: Project[];
  members: Member[];
}

export function projectsPage(ctx: VaultContext, p: Principal): ProjectsPage {
  return { projects: listProjects(ctx, p), members: listMembers(ctx) };
}

// ---- runtime tokens and my tokens (SPEC section 12) ----

/** The Webhooks page (owners and admins; null for others): endpoints with their 5 latest deliveries. */
export interface WebhooksPage {
  webhooks: Part<{ webhooks: (Webhook & { recent: WebhookDelivery[] })[] }> | null;
}

export async function webhooksPage(ctx: VaultContext, actor: Actor, p: Principal): Promise<WebhooksPage> {
  if (!isAdmin(p)) return { webhooks: null };
  return { webhooks: await part(() => ({ webhooks: listWebhooks(ctx, actor, p).map((w) => ({ ...w, recent: recentDeliveries(ctx, w.id, 5) })) })) };
}

export interface RuntimeTokensPage {
  /** null for builders: the page says who manages them, and no denied attempt is logged for a look. */
  tokens: Part<{ runtime_tokens: RuntimeToken[] }> | null;
  members: Member[];
}

export async function runtimeTokensPage(ctx: VaultContext, actor: Actor, p: Principal): Promise<RuntimeTokensPage> {
  if (!isAdmin(p)) return { tokens: null, members: [] };
  return { tokens: await part(() => ({ runtime_tokens: listRuntimeTokens(ctx, actor, p) })), members: listMembers(ctx) };
}

export function myTokensPage(ctx: VaultContext, actor: Actor, p: Principal): { tokens: MyToken[] } {
  return { tokens: listMyTokens(ctx, actor, p) };
}

// ---- API keys, audit, CLI login ----

export interface ApiKeysPage {
  keys: Part<{ api_keys: ApiKey[] }>;
  /** Owners and admins see every member's keys, so the page names them. */
  members: Member[];
}

export async function apiKeysPage(ctx: VaultContext, p: Principal): Promise<ApiKeysPage> {
  return { keys: await part(() => ({ api_keys: listApiKeys(ctx, p) })), members: isAdmin(p) ? listMembers(ctx) : [] };
}

export async function auditPage(ctx: VaultContext, p: Principal, q: AuditQuery | null): Promise<{ entries: Part<AuditPage> | null; members: Member[]; credentials: Credential[] }> {
  return {
    entries: q ? await part(() => queryAudit(ctx, q, isAdmin(p) ? null : p.member)) : null,
    members: listMembers(ctx),
    credentials: await orElse(() => everyCredential(ctx, p), []),
  };
}

/** The approval page; `id` null (not a login id) shows only the frame. */
export async function cliLoginPage(ctx: VaultContext, id: string | null): Promise<{ login: Part<CliLoginView> | null }> {
  return { login: id ? await part(() => viewCliLogin(ctx, id)) : null };
}

/** The approval form: the decision, and after a refusal (a wrong code) the login again to ask once more. */
export async function decideCliLoginOnPage(ctx: VaultContext, actor: Actor, p: Principal, id: string, decision: CliLoginDecision): Promise<{ decided: Part<CliLoginView>; login: Part<CliLoginView> | null }> {
  const decided = await part(() => decideCliLogin(ctx, actor, p, id, decision));
  return { decided, login: decided.ok ? null : await part(() => viewCliLogin({ ...ctx, now: Date.now() }, id)) };
}

/** Members and invitations: every member sees the members; owners and admins also the open invitations. */
export interface MembersPage {
  members: Member[];
  invitations: Part<{ invitations: Invitation[] }> | null;
}
export async function membersPage(ctx: VaultContext, p: Principal): Promise<MembersPage> {
  return { members: listMembers(ctx), invitations: isAdmin(p) ? await part(() => ({ invitations: listInvitations(ctx, null, p) })) : null };
}

// ---- An app's OAuth client settings (oauth-client.tsx) ----

export interface OAuthClientPage {
  app: { slug: string; name: string; custom: boolean } | null;
  /** The org's client and the redirect URI to register; a builder's is the refusal, shown in place. */
  settings: Part<OAuthClientSettings>;
}

export async function oauthClientPage(ctx: VaultContext, env: ClientEnv, actor: Actor, p: Principal, slug: string, publicUrl: string): Promise<OAuthClientPage> {
  const app = await part(() => oauthAppOf(ctx, slug, "path.slug"));
  const settings = await part(() => getOAuthClient(ctx, env, actor, p, slug, publicUrl));
  return { app: app.ok ? { slug: app.value.slug, name: app.value.name, custom: app.value.custom } : null, settings };
}
