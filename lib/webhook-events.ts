/**
 * Lifecycle events (SPEC section 14): the closed list of event types and the pure mapping from
 * the audit actions that already record every change. The vault writes an event exactly where it
 * writes the audit row (vault/audit.ts), so the event is in the change's transaction. Actions not
 * named here (reads, resolves, denials, token refreshes) are not events.
 */

export const WEBHOOK_EVENTS = [
  "credential.created",
  "credential.updated",
  "credential.rotated",
  "credential.revoked",
  "credential.default_changed",
  "credential.needs_reauth",
  "credential.invalid",
  "credential.recovered",
  "credential.expiring",
  "assignment.changed",
  "channel_binding.changed",
  "connect_session.completed",
  "connect_session.failed",
  "member.added",
  "member.removed",
] as const;
export type WebhookEvent = (typeof WEBHOOK_EVENTS)[number];

/** What `POST /v1/webhooks/{id}/test` sends; never subscribed to, never part of the list above. */
export const TEST_EVENT = "webhook.test";

const ACTION_EVENTS: Readonly<Record<string, WebhookEvent>> = {
  "credential.create": "credential.created",
  "credential.replace": "credential.updated",
  "credential.reconnect": "credential.updated",
  "credential.rename": "credential.updated",
  "credential.rotate": "credential.rotated",
  "credential.revoke": "credential.revoked",
  // Slack removed the app (app_uninstalled, tokens_revoked): its credential is revoked with it.
  "slack.uninstall": "credential.revoked",
  "credential.set_default": "credential.default_changed",
  "credential.unset_default": "credential.default_changed",
  "credential.needs_reauth": "credential.needs_reauth",
  "credential.invalid": "credential.invalid",
  "credential.recovered": "credential.recovered",
  "credential.expiring": "credential.expiring",
  "assignment.set": "assignment.changed",
  "assignment.delete": "assignment.changed",
  "channel.bind": "channel_binding.changed",
  "channel.rebind": "channel_binding.changed",
  "channel.unbind": "channel_binding.changed",
  "channel.pause": "channel_binding.changed",
  "channel.resume": "channel_binding.changed",
  "channel.remove": "channel_binding.changed",
  "connect.complete": "connect_session.completed",
  "connect.fail": "connect_session.failed",
  "invitation.accept": "member.added",
  "member.remove": "member.removed",
};

/**
 * The event an audit row stands for, or null. A refused attempt (`denied`) changed nothing, so it
 * is never an event; `failed` rows are (a connect that failed, a refresh refused by the provider).
 */
export function eventForAudit(action: string, outcome: "ok" | "denied" | "failed"): WebhookEvent | null {
  if (outcome === "denied") return null;
  return Object.hasOwn(ACTION_EVENTS, action) ? ACTION_EVENTS[action]! : null;
}

/** Whether an endpoint subscribed to `events` (null: every event) receives `type`. */
export function subscribed(events: readonly string[] | null, type: string): boolean {
  return events === null || events.includes(type);
}

export interface EventFacts {
  action: string;
  outcome: "ok" | "denied" | "failed";
  actor: string | null;
  actorKind: string;
  credential: { id: string; ref: string | null } | null;
  target: string | null;
  /** The audit row's detail: ids, slugs, scopes, reasons; never a secret. */
  detail: Record<string, unknown>;
}

/** The delivered body, `{type, timestamp, data}`: the same facts as the audit row, never a secret. */
export function eventBody(type: string, at: number, f: EventFacts): { type: string; timestamp: string; data: Record<string, unknown> } {
  return {
    type,
    timestamp: new Date(at).toISOString(),
    data: {
      action: f.action,
      outcome: f.outcome,
      actor: f.actor,
      actor_kind: f.actorKind,
      credential: f.credential,
      target: f.target,
      detail: f.detail,
    },
  };
}
