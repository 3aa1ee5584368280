import { z } from "zod";
import { Slug } from "../../../lib/schemas/common";
import { InstallSlackSpec, ListenMode, SlackId } from "../../../lib/schemas/slack";
import type { VaultContext } from "../context";
import { installationByRoute } from "./rows";

/** Dev seed (DEV_MODE only): the sandbox workspace's install, known channels and bindings. */
export const DevSlackSeed = z.strictObject({
  install: InstallSlackSpec,
  channels: z.array(z.strictObject({ id: SlackId, name: z.string().max(80), is_member: z.boolean() })).max(50),
  bindings: z.array(z.strictObject({ channel: SlackId, agent: Slug, mode: ListenMode })).max(50),
});
export type DevSlackSeed = z.input<typeof DevSlackSeed>;

/** Whether the seed must (re)install: only when the workspace is not installed and active already. */
export function needsInstall(ctx: VaultContext, route: string): boolean {
  return installationByRoute(ctx, route)?.status !== "active";
}

/**
 * Channels and bindings the demo starts with. INSERT OR IGNORE: a later seed call never undoes
 * what someone changed (a rebind, an unbind is re-created though, as the demo expects the binding).
 */
export function seedChannels(ctx: VaultContext, route: string, seed: z.infer<typeof DevSlackSeed>): void {
  ctx.storage.transactionSync(() => {
    for (const ch of seed.channels) {
      ctx.sql.exec(
        `INSERT OR IGNORE INTO slack_channels (route_key, channel_id, name, is_private, is_member, is_archived, updated_at) VALUES (?, ?, ?, 0, ?, 0, ?)`,
        route, ch.id, ch.name, ch.is_member ? 1 : 0, ctx.now,
      );
    }
    for (const b of seed.bindings) {
      ctx.sql.exec(
        `INSERT OR IGNORE INTO slack_bindings (route_key, channel_id, agent, mode, project, status, paused_reason, created_by, created_at, updated_at)
         VALUES (?, ?, ?, ?, NULL, 'active', NULL, 'dev-seed', ?, ?)`,
        route, b.channel, b.agent, b.mode, ctx.now, ctx.now,
      );
    }
  });
}
