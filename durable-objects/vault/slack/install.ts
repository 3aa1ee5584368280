import { credentialAad, seal } from "../../../lib/crypto";
import { AppError, fromZodError } from "../../../lib/errors";
import { InstallSlackSpec, type RouteKey, type SlackInstallationView } from "../../../lib/schemas/slack";
import { routeKeyOf } from "../../../lib/slack/routing";
import { newId } from "../../../lib/tokens";
import type { VaultEnv } from "../../env";
import { writeAudit } from "../audit";
import type { VaultContext } from "../context";
import { selectCredentials } from "../credential-rows";
import { applyHealth } from "../health";
import { installationByRoute, toInstallationView } from "./rows";

/** The Directory only: it owns routes and their KV cache, so the vault never writes KV. */
export type RouteEnv = Pick<VaultEnv, "DIRECTORY">;

/** Pause reasons that an install (or reinstall) clears: they were about the installation, not the channel. */
const INSTALL_PAUSES = ["uninstalled", "tokens_revoked", "installation_disabled"];

function parseSpec(input: unknown) {
  const parsed = InstallSlackSpec.safeParse(input);
  if (parsed.success) return parsed.data;
  throw fromZodError(parsed.error, { input, fallback: "spec" });
}

/** A free slug for the Slack credential: the wanted one, else with a numeric suffix. */
function freeSlug(ctx: VaultContext, wanted: string, keepId: string | null): string {
  for (let i = 1; ; i++) {
    const slug = i === 1 ? wanted : `${wanted.slice(0, 58)}-${i}`;
    const taken = selectCredentials(ctx, "app = 'slack' AND scope_type = 'org' AND slug = ? AND status != 'revoked'", slug).find((r) => r.id !== keepId);
    if (!taken) return slug;
  }
}

/**
 * Records a Slack installation: the bot token sealed as an org credential of app `slack`, the
 * installation row (bot user id and bot id for loop guards), and the route team/enterprise -> org
 * in the Directory (which also writes its KV cache). A reinstall of the same workspace replaces the
 * token in the same credential and resumes bindings that were paused because of the installation.
 */
export async function installSlack(context: () => VaultContext, env: RouteEnv, input: unknown): Promise<SlackInstallationView> {
  const spec = parseSpec(input);
  const route = routeKeyOf(spec);
  const orgId = context().orgId;
  // The route is claimed first: a workspace belongs to one org, and the Directory decides.
  const claim = await env.DIRECTORY.getByName("global").claimSlackRoute(route, orgId);
  if (!claim.ok) {
    throw new AppError("conflict", "This Slack workspace is already connected to another Keystroke organization.", {
      fix: "Uninstall the Keystroke app from the workspace in that organization first, or install into another workspace.",
      details: { field: spec.isEnterpriseInstall ? "enterpriseId" : "teamId" },
    });
  }

  let ctx = context();
  const before = installationByRoute(ctx, route);
  const live = before ? selectCredentials(ctx, "id = ? AND status != 'revoked'", before.credential_id)[0] : undefined;
  const credentialId = live?.id ?? newId("cred");
  const fields: [string, string][] = [["accessToken", spec.botToken]];
  if (spec.botRefreshToken) fields.push(["refreshToken", spec.botRefreshToken]);
  const sealed = await Promise.all(fields.map(async ([f, v]) => [f, await seal(ctx.ring, ctx.orgId, v, credentialAad(ctx.orgId, credentialId, f))] as const));

  ctx = context();
  const routeId = route.split(":")[1]!;
  const name = spec.name ?? spec.teamName ?? spec.enterpriseName ?? routeId;
  const account = JSON.stringify({ id: routeId, name: spec.teamName ?? spec.enterpriseName ?? undefined });
  const installedBy = spec.installedBy ?? null;
  ctx.storage.transactionSync(() => {
    // Sealing awaited; if another install of this workspace landed meanwhile, start over rather than guess.
    if ((installationByRoute(ctx, route)?.credential_id ?? null) !== (before?.credential_id ?? null)) {
      throw new AppError("conflict", "The Slack installation changed while it was being written.", { fix: "Install again." });
    }
    const slug = freeSlug(ctx, spec.slug ?? routeId.toLowerCase(), live?.id ?? null);
    if (live) {
      ctx.sql.exec(
        `UPDATE credentials SET name = ?, account = ?, scopes = ?, status = 'active', expires_at = ?, updated_at = ?, rotated_at = ?, token_generation = token_generation + 1 WHERE id = ?`,
        name, account, JSON.stringify(spec.scopes), spec.botTokenExpiresAt ?? null, ctx.now, ctx.now, credentialId,
      );
      ctx.sql.exec(`DELETE FROM secret_fields WHERE credential_id = ?`, credentialId);
    } else {
      ctx.sql.exec(
        `INSERT INTO credentials (id, app, slug, name, scope_type, scope_id, kind, status, preview, account, scopes, expires_at, created_by, created_at, updated_at)
         VALUES (?, 'slack', ?, ?, 'org', '', 'oauth', 'active', NULL, ?, ?, ?, ?, ?, ?)`,
        credentialId, slug, name, account, JSON.stringify(spec.scopes), spec.botTokenExpiresAt ?? null, installedBy ?? "system", ctx.now, ctx.now,
      );
    }
    for (const [field, value] of sealed) {
      ctx.sql.exec(`INSERT INTO secret_fields (credential_id, field, sealed) VALUES (?, ?, ?)`, credentialId, field, value);
    }
    ctx.sql.exec(
      `INSERT INTO slack_installations (id, route_key, app_id, team_id, team_name, enterprise_id, enterprise_name, is_enterprise_install,
         bot_user_id, bot_id, credential_id, scopes, installer_user_id, installed_by, status, disabled_reason, created_at, updated_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'active', NULL, ?, ?)
       ON CONFLICT(route_key) DO UPDATE SET app_id = excluded.app_id, team_id = excluded.team_id, team_name = excluded.team_name,
         enterprise_id = excluded.enterprise_id, enterprise_name = excluded.enterprise_name, is_enterprise_install = excluded.is_enterprise_install,
         bot_user_id = excluded.bot_user_id, bot_id = excluded.bot_id, credential_id = excluded.credential_id, scopes = excluded.scopes,
         installer_user_id = excluded.installer_user_id, installed_by = excluded.installed_by, status = 'active', disabled_reason = NULL,
         updated_at = excluded.updated_at`,
      newId("slk"), route, spec.appId, spec.teamId, spec.teamName ?? null, spec.enterpriseId, spec.enterpriseName ?? null, spec.isEnterpriseInstall ? 1 : 0,
      spec.botUserId, spec.botId, credentialId, JSON.stringify(spec.scopes), spec.installerUserId ?? null, installedBy, ctx.now, ctx.now,
    );
    const resumedChannels = ctx.sql.exec(
      `UPDATE slack_bindings SET status = 'active', paused_reason = NULL, updated_at = ? WHERE route_key = ? AND status = 'paused' AND paused_reason IN (?, ?, ?) RETURNING channel_id`,
      ctx.now, route, ...INSTALL_PAUSES,
    ).toArray().map((r) => String(r.channel_id));
    const resumed = resumedChannels.length;
    bindingsChanged(ctx, "channel.resume", route, resumedChannels, "reinstalled");
    writeAudit(ctx, null, {
      action: before ? "slack.reinstall" : "slack.install",
      credentialId,
      target: route,
      detail: { app_id: spec.appId, team_id: spec.teamId, enterprise_id: spec.enterpriseId, bot_user_id: spec.botUserId, installed_by: installedBy, bindings_resumed: resumed },
    });
  });
  return toInstallationView(installationByRoute(ctx, route)!);
}

/**
 * app_uninstalled / tokens_revoked: the installation goes, its token is destroyed (the credential
 * stays as `revoked` for the audit trail), its bindings pause and queued replies are dropped. No
 * Slack call: the token is already dead. Answers whether anything was removed. Runs inside the
 * caller's transaction (the hand-off's), so the event claim and the removal commit together.
 */
export function removeInstallation(ctx: VaultContext, route: string, reason: "uninstalled" | "tokens_revoked"): boolean {
  const inst = installationByRoute(ctx, route);
  if (!inst) return false;
  ctx.sql.exec(`DELETE FROM slack_installations WHERE id = ?`, inst.id);
  ctx.sql.exec(`DELETE FROM secret_fields WHERE credential_id = ?`, inst.credential_id);
  ctx.sql.exec(
    `UPDATE credentials SET status = 'revoked', health = NULL, status_reason = 'installation_removed', is_default = 0, preview = NULL, revoked_at = ?, updated_at = ? WHERE id = ? AND status != 'revoked'`,
    ctx.now, ctx.now, inst.credential_id,
  );
  const pausedChannels = ctx.sql.exec(
    `UPDATE slack_bindings SET status = 'paused', paused_reason = ?, updated_at = ? WHERE route_key = ? AND status = 'active' RETURNING channel_id`,
    reason, ctx.now, route,
  ).toArray().map((r) => String(r.channel_id));
  const paused = pausedChannels.length;
  bindingsChanged(ctx, "channel.pause", route, pausedChannels, reason);
  ctx.sql.exec(`UPDATE slack_channels SET is_member = 0, updated_at = ? WHERE route_key = ?`, ctx.now, route);
  const dropped = ctx.sql.exec(
    `UPDATE slack_inbox SET status = 'dropped', last_error = ?, lease_until = NULL, updated_at = ? WHERE route_key = ? AND status IN ('pending', 'running') RETURNING id`,
    reason, ctx.now, route,
  ).toArray().length;
  writeAudit(ctx, null, { action: "slack.uninstall", credentialId: inst.credential_id, target: route, detail: { reason, bindings_paused: paused, messages_dropped: dropped } });
  return true;
}

/**
 * One `channel.pause` or `channel.resume` row per binding a change paused or resumed in bulk (an
 * uninstall, a disabled installation, a reinstall, a reply Slack refused): each is a
 * `channel_binding.changed` event, as a binding paused on its own is.
 */
export function bindingsChanged(ctx: VaultContext, action: "channel.pause" | "channel.resume", route: string, channels: readonly string[], reason: string): void {
  for (const channel of channels) writeAudit(ctx, null, { action, target: `channel:${channel}`, detail: { route, reason } });
}

/** After removal: the route goes from the Directory (only if still ours), which updates its KV cache. */
export async function releaseRoute(env: RouteEnv, route: RouteKey, orgId: string): Promise<void> {
  await env.DIRECTORY.getByName("global").releaseSlackRoute(route, orgId);
}

const PENDING_RELEASE = "slack_route_release:";

/**
 * The release after an uninstall the vault already committed. Slack will not send that event
 * again (its retry is a duplicate now), so a Directory that fails here must not fail the hand-off:
 * the release is kept in `settings` and the alarm tries it again (`retryRouteReleases`). Answers
 * when the alarm should run for it (null: released now).
 */
export async function releaseRouteOrLater(ctx: VaultContext, env: RouteEnv, route: RouteKey): Promise<number | null> {
  try {
    await releaseRoute(env, route, ctx.orgId);
    return null;
  } catch (e) {
    console.error("slack route release failed; the alarm tries again", e instanceof Error ? e.name : typeof e);
    ctx.sql.exec(`INSERT INTO settings (key, value, updated_at) VALUES (?, ?, ?) ON CONFLICT(key) DO UPDATE SET updated_at = excluded.updated_at`, PENDING_RELEASE + route, route, ctx.now);
    return Date.now() + 30_000;
  }
}

/** Whether the alarm owes Slack work: a queued or running reply, or a route release (the vault's start-up check). */
export function slackWorkQueued(ctx: Pick<VaultContext, "sql">): boolean {
  return ctx.sql.exec(
    `SELECT 1 FROM slack_inbox WHERE status IN ('pending', 'running') UNION ALL SELECT 1 FROM settings WHERE substr(key, 1, ?) = ? LIMIT 1`,
    PENDING_RELEASE.length, PENDING_RELEASE,
  ).toArray().length > 0;
}

/** The alarm's share: the route releases still owed; answers when to look again (null: none left). */
export async function retryRouteReleases(ctx: VaultContext, env: RouteEnv): Promise<number | null> {
  const owed = ctx.sql.exec(`SELECT key, value FROM settings WHERE substr(key, 1, ?) = ?`, PENDING_RELEASE.length, PENDING_RELEASE).toArray();
  let again: number | null = null;
  for (const row of owed) {
    const route = String(row.value) as RouteKey;
    // Reinstalled meanwhile: the route is this org's again, nothing to give back.
    if (installationByRoute(ctx, route)) {
      ctx.sql.exec(`DELETE FROM settings WHERE key = ?`, String(row.key));
      continue;
    }
    try {
      await releaseRoute(env, route, ctx.orgId);
      ctx.sql.exec(`DELETE FROM settings WHERE key = ?`, String(row.key));
    } catch {
      again = Date.now() + 60_000;
    }
  }
  return again;
}

/**
 * Slack refused the bot token (invalid_auth, token_revoked, account_inactive): the installation is
 * disabled and its bindings pause until someone reconnects. Conditional updates only, so a
 * reinstall that landed while the failing call was in flight is not undone.
 */
export function disableInstallation(ctx: VaultContext, route: string, credentialId: string, error: string): void {
  ctx.storage.transactionSync(() => {
    const changed = ctx.sql.exec(
      `UPDATE slack_installations SET status = 'disabled', disabled_reason = ?, updated_at = ? WHERE route_key = ? AND credential_id = ? AND status = 'active' RETURNING id`,
      error, ctx.now, route, credentialId,
    ).toArray().length;
    if (changed === 0) return;
    // Through the one health writer: status_reason, last_error, its credential.needs_reauth row and event.
    const before = selectCredentials(ctx, "id = ?", credentialId)[0];
    if (before && before.status === "active") {
      ctx.sql.exec(`UPDATE credentials SET updated_at = ? WHERE id = ?`, ctx.now, credentialId);
      applyHealth(ctx, null, before, { to: "needs_reauth", reason: "token_refused", error: { code: "unauthorized", message: `Slack refused the bot token (${error}); reinstall the app.` }, checked: false });
    }
    const pausedChannels = ctx.sql.exec(
      `UPDATE slack_bindings SET status = 'paused', paused_reason = 'installation_disabled', updated_at = ? WHERE route_key = ? AND status = 'active' RETURNING channel_id`,
      ctx.now, route,
    ).toArray().map((r) => String(r.channel_id));
    const paused = pausedChannels.length;
    bindingsChanged(ctx, "channel.pause", route, pausedChannels, "installation_disabled");
    writeAudit(ctx, null, { action: "slack.installation_disabled", credentialId, target: route, detail: { error, bindings_paused: paused } });
  });
}
