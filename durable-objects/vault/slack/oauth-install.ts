import { z } from "zod";
import { AppError } from "../../../lib/errors";
import type { InstallSlackSpec } from "../../../lib/schemas/slack";
import { outsideText } from "../../../lib/schemas/common";
import { grantedScopes } from "../../../lib/oauth";

/** What `oauth.v2.access` answers for a bot install (checked `ok` already by the provider client). */
const OAuthV2Access = z.object({
  app_id: z.string(),
  access_token: z.string(),
  token_type: z.literal("bot"),
  bot_user_id: z.string(),
  scope: z.string(),
  team: z.object({ id: z.string(), name: z.string().optional() }).nullable().optional(),
  enterprise: z.object({ id: z.string(), name: z.string().optional() }).nullable().optional(),
  is_enterprise_install: z.boolean().optional(),
  authed_user: z.object({ id: z.string() }).optional(),
  refresh_token: z.string().optional(),
  expires_in: z.number().optional(),
});

/** The installation to record, from Slack's answer; the bot id comes later from auth.test. */
export function slackInstallSpec(data: unknown, member: string): InstallSlackSpec & { botId: string; botToken: string } {
  const parsed = OAuthV2Access.safeParse(data);
  if (!parsed.success) throw new AppError("upstream_error", "Slack's install answer had no bot token.");
  const d = parsed.data;
  return {
    appId: d.app_id,
    teamId: d.team?.id ?? null,
    // Names the workspace's admin chose: the credential's name and account, shown on pages.
    teamName: d.team?.name ? outsideText(d.team.name, 200) : null,
    enterpriseId: d.enterprise?.id ?? null,
    enterpriseName: d.enterprise?.name ? outsideText(d.enterprise.name, 200) : null,
    isEnterpriseInstall: d.is_enterprise_install ?? false,
    botUserId: d.bot_user_id,
    botId: "",
    botToken: d.access_token,
    botRefreshToken: d.refresh_token ?? null,
    botTokenExpiresAt: d.expires_in ? Date.now() + d.expires_in * 1000 : null,
    // Slack separates scopes with commas.
    scopes: grantedScopes(d.scope.split(",")),
    installerUserId: d.authed_user?.id ?? null,
    installedBy: member,
  };
}
