import { AppError, invalidField } from "../../../lib/errors";
import { can, canSeeProject, isAdmin, type Principal } from "../../../lib/permissions";
import type { Scope } from "../../../lib/schemas/common";
import { DM_CHANNEL, type AvailableChannel, type BindChannelBody, type ChannelBinding, type SessionsQuery, type SlackInstallationView, type SlackSession } from "../../../lib/schemas/slack";
import { writeAudit } from "../audit";
import type { Actor, VaultContext } from "../context";
import { openFields } from "../credentials";
import { outbound, type OutboundEnv } from "../outbound";
import { allBindings, allInstallations, bindingOf, channelRow, channelsOf, installationByRoute, toBindingView, toInstallationView, toSessionView, type BindingRow } from "./rows";
import { listConversations, type Conversation } from "./web-api";
import { remedy } from "../../../lib/fixes";

/**
 * The channels API (SPEC section 11). Permissions are those of project credentials: a binding
 * without a project is managed by org owners and admins, one with a project also by that
 * project's admins; anyone who can see the project (or, without one, the org) can read it.
 */

const notConnected = (details = {}) => remedy({ do: "connect", app: "slack" }, details, "Install the bot first: `keystroke connect slack`.");
const scopeOf = (project: string | null): Scope => (project ? { type: "project", project } : { type: "org" });

function requireInstalled(ctx: VaultContext): void {
  if (allInstallations(ctx).length === 0) throw new AppError("not_found", "Slack is not connected to this organization.", notConnected());
}

function bindingView(ctx: VaultContext, b: BindingRow): ChannelBinding {
  const name = b.channel_id === DM_CHANNEL ? "direct messages" : channelRow(ctx, b.route_key, b.channel_id)?.name ?? null;
  return toBindingView(b, name, installationByRoute(ctx, b.route_key));
}

export function listChannels(ctx: VaultContext, p: Principal): { installations: SlackInstallationView[]; channels: ChannelBinding[] } {
  return {
    installations: allInstallations(ctx).map(toInstallationView),
    channels: allBindings(ctx).filter((b) => can(p, "view", scopeOf(b.project))).map((b) => bindingView(ctx, b)),
  };
}

/** Where a channel reference points: (installation route, channel id). Names resolve through known channels. */
function resolveChannel(ctx: VaultContext, ref: string, field: string, pool: "channels" | "bindings"): { route: string; channel: string } {
  const installs = allInstallations(ctx);
  if (ref === DM_CHANNEL) {
    const routes = pool === "bindings" ? allBindings(ctx).filter((b) => b.channel_id === DM_CHANNEL).map((b) => b.route_key) : installs.map((i) => i.route_key);
    return { route: onlyOne(routes, ref, field, pool), channel: DM_CHANNEL };
  }
  const byId = /^[A-Z][A-Z0-9]+$/.test(ref);
  const name = ref.replace(/^#/, "");
  const rows = byId
    ? ctx.sql.exec(`SELECT route_key, channel_id FROM slack_channels WHERE channel_id = ? UNION SELECT route_key, channel_id FROM slack_bindings WHERE channel_id = ?`, ref, ref).toArray()
    : ctx.sql.exec(`SELECT route_key, channel_id FROM slack_channels WHERE name = ?`, name).toArray();
  const hits = rows
    .map((r) => ({ route: String(r.route_key), channel: String(r.channel_id) }))
    .filter((h) => (pool === "bindings" ? bindingOf(ctx, h.route, h.channel) !== null : installs.some((i) => i.route_key === h.route)));
  if (hits.length === 1) return hits[0]!;
  if (hits.length === 0) {
    if (pool === "bindings") throw new AppError("not_found", `No channel binding matches \`${ref}\`.`, { fix: "List bindings with GET /v1/channels.", details: { field } });
    throw invalidField(field, `The bot does not know the channel \`${ref}\`.`, "Invite the bot to the channel (/invite @bot in Slack), then see GET /v1/channels/available.");
  }
  throw new AppError("conflict", `\`${ref}\` names a channel in several Slack workspaces.`, { fix: "Use the channel id instead of its name.", details: { field } });
}

function onlyOne(routes: string[], ref: string, field: string, pool: "channels" | "bindings"): string {
  const unique = [...new Set(routes)];
  if (unique.length === 1) return unique[0]!;
  if (unique.length === 0) {
    if (pool === "bindings") throw new AppError("not_found", `No channel binding matches \`${ref}\`.`, { fix: "List bindings with GET /v1/channels.", details: { field } });
    throw new AppError("not_found", "Slack is not connected to this organization.", notConnected({ field }));
  }
  throw new AppError("conflict", "Several Slack workspaces are connected; `dm` is ambiguous.", { fix: "Unbind or bind DMs per workspace by removing the others first.", details: { field } });
}

function deny(ctx: VaultContext, actor: Actor, p: Principal, action: string, channel: string, scope: Scope): never {
  writeAudit(ctx, actor, { action, outcome: "denied", target: `channel:${channel}`, detail: { scope: scope.type === "project" ? `project:${scope.project}` : "org" } });
  // A binding of a project the caller is not in is refused without naming the project.
  if (scope.type === "project" && !canSeeProject(p, scope.project)) {
    throw new AppError("forbidden", "This channel is bound for a project you are not in.", { fix: "Ask an org admin." });
  }
  throw new AppError("forbidden", scope.type === "project" ? `You may not manage channel bindings of project ${scope.project}.` : "You may not manage org channel bindings.", {
    fix: scope.type === "project" ? `Ask an org admin or an admin of project ${scope.project}.` : "Ask an org owner or admin, or bind the channel for a project you administer.",
  });
}

export function bindChannel(ctx: VaultContext, actor: Actor, p: Principal, body: BindChannelBody): ChannelBinding {
  const project = body.project ?? null;
  const scope = scopeOf(project);
  // Permission before existence: a builder naming a project they are not in learns nothing about it.
  if (!can(p, "manage", scope)) deny(ctx, actor, p, "channel.bind", body.channel, scope);
  if (project && ctx.sql.exec(`SELECT 1 FROM projects WHERE slug = ?`, project).toArray().length === 0) {
    throw invalidField("project", `There is no project \`${project}\`.`, "See GET /v1/projects.");
  }
  requireInstalled(ctx);
  const { route, channel } = resolveChannel(ctx, body.channel, "channel", "channels");
  if (channel !== DM_CHANNEL) {
    const known = channelRow(ctx, route, channel);
    if (!known?.is_member) throw invalidField("channel", `The bot is not in \`${body.channel}\`.`, "Invite the bot to the channel (/invite @bot in Slack) and try again.");
    if (known.is_archived) throw invalidField("channel", `\`${body.channel}\` is archived.`, "Unarchive it in Slack first.");
  }
  const existing = bindingOf(ctx, route, channel);
  // Moving a binding between owners needs the right to manage both.
  if (existing && !can(p, "manage", scopeOf(existing.project))) deny(ctx, actor, p, "channel.bind", channel, scopeOf(existing.project));
  const inst = installationByRoute(ctx, route)!;
  const mode = body.mode ?? "mentions";
  ctx.storage.transactionSync(() => {
    ctx.sql.exec(
      `INSERT INTO slack_bindings (route_key, channel_id, agent, mode, project, status, paused_reason, created_by, created_at, updated_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT(route_key, channel_id) DO UPDATE SET agent = excluded.agent, mode = excluded.mode, project = excluded.project, updated_at = excluded.updated_at`,
      route, channel, body.agent, mode, project, inst.status === "active" ? "active" : "paused", inst.status === "active" ? null : "installation_disabled",
      p.member, ctx.now, ctx.now,
    );
    writeAudit(ctx, actor, {
      action: existing ? "channel.rebind" : "channel.bind",
      target: `channel:${channel}`,
      detail: { route, agent: body.agent, mode, project, ...(existing ? { previous_agent: existing.agent, previous_mode: existing.mode } : {}) },
    });
  });
  return bindingView(ctx, bindingOf(ctx, route, channel)!);
}

export function unbindChannel(ctx: VaultContext, actor: Actor, p: Principal, ref: string): { deleted: ChannelBinding } {
  const { route, channel } = resolveChannel(ctx, ref, "path.channel", "bindings");
  const binding = bindingOf(ctx, route, channel)!;
  const scope = scopeOf(binding.project);
  // A binding the caller cannot see is "not found", so its existence does not leak.
  if (!can(p, "view", scope)) throw new AppError("not_found", `No channel binding matches \`${ref}\`.`, { details: { field: "path.channel" } });
  if (!can(p, "manage", scope)) deny(ctx, actor, p, "channel.unbind", channel, scope);
  const view = bindingView(ctx, binding);
  ctx.storage.transactionSync(() => {
    ctx.sql.exec(`DELETE FROM slack_bindings WHERE route_key = ? AND channel_id = ?`, route, channel);
    writeAudit(ctx, actor, { action: "channel.unbind", target: `channel:${channel}`, detail: { route, agent: binding.agent, mode: binding.mode, project: binding.project } });
  });
  return { deleted: view };
}

export function listSessions(ctx: VaultContext, p: Principal, q: SessionsQuery): { sessions: SlackSession[] } {
  const where: string[] = [];
  const args: (string | number)[] = [];
  if (q.agent) { where.push("agent = ?"); args.push(q.agent); }
  if (q.channel === DM_CHANNEL) {
    // A DM's session is stored under its own conversation id; Slack's DM ids start with D.
    where.push("substr(channel_id, 1, 1) = 'D'");
  } else if (q.channel) {
    const { channel } = resolveChannel(ctx, q.channel, "query.channel", "bindings");
    where.push("channel_id = ?");
    args.push(channel);
  }
  if (!isAdmin(p)) {
    const visible = Object.keys(p.projects).filter((proj) => canSeeProject(p, proj));
    // One bound value (a JSON list): a statement takes at most 100, and a member may be in more projects.
    where.push(`(project IS NULL${visible.length ? ` OR project IN (SELECT value FROM json_each(?))` : ""})`);
    if (visible.length) args.push(JSON.stringify(visible));
  }
  const rows = ctx.sql
    .exec(`SELECT * FROM slack_sessions ${where.length ? "WHERE " + where.join(" AND ") : ""} ORDER BY last_message_at DESC, id LIMIT ?`, ...args, q.limit ?? 50)
    .toArray();
  return { sessions: rows.map((r) => toSessionView(r)) };
}


/**
 * Channels a binding can target: what `conversations.list` answers now (with the bot's token),
 * plus channels the bot was seen joining. Slack's answer is written back only as fresh data
 * (names, membership), never merged with values read before the call.
 */
export async function availableChannels(context: () => VaultContext, env: OutboundEnv, p: Principal): Promise<{ channels: AvailableChannel[] }> {
  let ctx = context();
  requireInstalled(ctx);
  const installs = allInstallations(ctx).filter((i) => i.status === "active");
  const out = outbound(ctx, env);
  const listed: { route: string; credentialId: string; channels: Conversation[] }[] = [];
  for (const inst of installs) {
    const token = (await openFields(ctx, inst.credential_id)).accessToken;
    if (!token) continue;
    const r = await listConversations(out.slackApiUrl, token, out.timeouts.slack);
    if (r.kind === "ok") { listed.push({ route: inst.route_key, credentialId: inst.credential_id, channels: r.value }); continue; }
    if (r.kind === "retry" && r.rateLimited) {
      throw new AppError("rate_limited", "Slack is rate limiting channel listing right now.", { fix: "Try again in a minute.", details: r.retryAfter ? { retry_after_seconds: Math.ceil(r.retryAfter / 1000) } : undefined });
    }
    const reason = r.kind === "slack_error" ? r.error : r.reason;
    throw new AppError("upstream_error", `Slack did not list the channels (${reason}).`, {
      ...(r.kind === "slack_error" && ["invalid_auth", "token_revoked", "account_inactive"].includes(reason)
        ? remedy({ do: "connect", app: "slack" }, { slack_error: reason }, "Reconnect Slack: `keystroke connect slack`.")
        : { fix: "Try again later.", details: { slack_error: reason } }),
    });
  }
  ctx = context();
  ctx.storage.transactionSync(() => {
    for (const l of listed) {
      // The installation may have been removed while Slack answered: then its channels are not written.
      if (installationByRoute(ctx, l.route)?.credential_id !== l.credentialId) continue;
      for (const c of l.channels) {
        ctx.sql.exec(
          `INSERT INTO slack_channels (route_key, channel_id, name, is_private, is_member, is_archived, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)
           ON CONFLICT(route_key, channel_id) DO UPDATE SET name = COALESCE(excluded.name, name), is_private = excluded.is_private,
             is_member = excluded.is_member, is_archived = excluded.is_archived, updated_at = excluded.updated_at`,
          l.route, c.id, c.name ?? null, c.is_private ? 1 : 0, c.is_member ? 1 : 0, c.is_archived ? 1 : 0, ctx.now,
        );
      }
    }
  });
  // A binding owned by a project the caller cannot see is masked: the channel is listed as taken
  // (not bindable, `bound_elsewhere`) without its agent, mode or project.
  const shown = (b: BindingRow | null) => {
    if (!b) return { binding: null, bound_elsewhere: false };
    if (!can(p, "view", scopeOf(b.project))) return { binding: null, bound_elsewhere: true };
    return { binding: { agent: b.agent, mode: b.mode, status: b.status }, bound_elsewhere: false };
  };
  const channels: AvailableChannel[] = [];
  for (const inst of installs) {
    const dm = shown(bindingOf(ctx, inst.route_key, DM_CHANNEL));
    channels.push({ id: DM_CHANNEL, name: "direct messages", is_private: true, is_member: true, is_archived: false, bindable: !dm.bound_elsewhere, ...dm });
    for (const c of channelsOf(ctx, inst.route_key)) {
      const b = shown(bindingOf(ctx, inst.route_key, c.channel_id));
      channels.push({
        id: c.channel_id,
        name: c.name,
        is_private: c.is_private === 1,
        is_member: c.is_member === 1,
        is_archived: c.is_archived === 1,
        bindable: c.is_member === 1 && c.is_archived === 0 && !b.bound_elsewhere,
        ...b,
      });
    }
  }
  return { channels };
}
