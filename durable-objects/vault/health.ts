/**
 * Credential health (SPEC section 14): probes of API keys on set, rotate, check and daily from
 * the alarm, and the one place a status change is written with its reason, last error and audit
 * row. Every transition writes exactly one audit row (`credential.needs_reauth|invalid|recovered|
 * expiring`, lib/health healthEvent) in the transaction of the change, never one while a state
 * holds: the webhook outbox derives its events from those rows. Nothing here touches the resolve
 * path: resolve reads the same columns it always read.
 */
import { runClaimed } from "./claim-loop";
import { CATALOG, getApp } from "../../lib/catalog";
import type { Probe } from "../../lib/catalog/schema";
import { AppError, invalidField } from "../../lib/errors";
import { afterVerdict, healthEvent, judgeProbe, PROBE_EVERY_MS, PROBE_JITTER_MS, probeDueAt, probeRequest, storedStatus, type Verdict } from "../../lib/health";
import { can, type Principal } from "../../lib/permissions";
import type { CheckResult, CredentialStatus, HealthErrorCode, StatusReason } from "../../lib/schemas/credentials";
import { formatRef } from "../../lib/refs";
import { isTimeout, outboundFetch, timeoutFor } from "../../providers/outbound-fetch";
import { writeAudit } from "./audit";
import type { Actor, VaultContext } from "./context";
import { rowScope, scopeLabel, selectCredentials, statusOf, toCandidate, type CredentialRow } from "./credential-rows";
import { outbound, probeUrl, type OutboundEnv } from "./outbound";

export interface HealthEnv extends OutboundEnv {
  /** `off`: no probe ever leaves the vault (an egress-restricted deployment; the api test project). */
  PROBES?: string;
}

/** The catalog probe of an app; null for OAuth apps and custom apps. */
export function probeOf(app: string): Probe | null {
  const a = getApp(app);
  return a && a.kind === "api_key" && a.probe ? a.probe : null;
}

const MAX_BODY = 64 * 1024;

/** Runs the app's probe with these fields. Never throws: a timeout or a network failure is an "unknown" verdict. */
export async function runProbe(ctx: Pick<VaultContext, "sql">, env: HealthEnv, app: string, fields: Record<string, string>): Promise<Verdict> {
  if (env.PROBES === "off") return { result: "skipped", message: "Not checked: probes are switched off on this deployment." };
  const probe = probeOf(app);
  if (!probe) return { result: "skipped", message: `Not checked: ${app} has no probe.` };
  const req = probeRequest(probe, fields);
  if (!req.ok) return { result: "skipped", message: req.message };
  try {
    // No redirects: a probe answers where it was asked, and the key is never sent on elsewhere.
    const res = await outboundFetch(probeUrl(outbound(ctx, env).sandboxUrl, app, req.url), { ...req.init, redirect: "manual" }, timeoutFor(env, "provider"), `${app} API`);
    const text = (await res.text()).slice(0, MAX_BODY);
    return judgeProbe(probe, res.status, text);
  } catch (e) {
    if (isTimeout(e)) return { result: "unknown", code: "timeout", message: `The ${app} API did not answer in time; the key was not judged.` };
    // A refused connection, or an answer cut off while its body was read (a TypeError, not an AppError): unreachable, never a 500.
    if (!(e instanceof AppError)) console.error("credential probe failed", e instanceof Error ? e.name : typeof e);
    return { result: "unknown", code: "unreachable", message: `The ${app} API could not be reached; the key was not judged.` };
  }
}

/** The new health of a credential: shown status and reason, and the last error (undefined: keep it). */
export interface HealthChange {
  to: Exclude<CredentialStatus, "revoked">;
  reason: StatusReason | null;
  error: { code: HealthErrorCode; message: string } | null | undefined;
  /** Stamp checked_at (a verdict, or at least an attempt). */
  checked: boolean;
}

type HealthRow = Pick<CredentialRow, "id" | "app" | "slug" | "status" | "health" | "status_reason" | "scope_type" | "scope_id">;

/**
 * Writes a credential's health and, when the shown status changes, its one audit row. Call it
 * inside the transaction of the change; `before` is the row as it was in that transaction.
 */
export function applyHealth(ctx: VaultContext, actor: Actor | null, before: HealthRow, change: HealthChange): void {
  if (before.status === "revoked") return;
  const from = statusOf(before);
  const stored = storedStatus(change.to);
  const keepError = change.error === undefined;
  ctx.sql.exec(
    `UPDATE credentials SET status = ?, health = ?, status_reason = ?,
       last_error_at = CASE WHEN ? THEN last_error_at ELSE ? END,
       last_error_code = CASE WHEN ? THEN last_error_code ELSE ? END,
       last_error_message = CASE WHEN ? THEN last_error_message ELSE ? END,
       checked_at = CASE WHEN ? THEN ? ELSE checked_at END
     WHERE id = ? AND status != 'revoked'`,
    stored.status, stored.health, change.reason,
    keepError ? 1 : 0, change.error ? ctx.now : null,
    keepError ? 1 : 0, change.error ? change.error.code : null,
    keepError ? 1 : 0, change.error ? change.error.message : null,
    change.checked ? 1 : 0, ctx.now,
    before.id,
  );
  const action = healthEvent(from, change.to);
  if (action === null) return;
  const failed = change.to === "needs_reauth" || change.to === "invalid";
  writeAudit(ctx, actor, {
    action,
    outcome: failed ? "failed" : "ok",
    credentialId: before.id,
    target: scopeLabel(rowScope(before)),
    // Never a secret: ids, refs and the reason (for a recovery, the reason it recovered from).
    detail: { app: before.app, slug: before.slug, ref: formatRef(toCandidate(before as CredentialRow)), from, to: change.to, reason: change.reason ?? before.status_reason ?? null },
  });
}

/** What a probe verdict writes (API keys). `replaced`: the value is new, so an old verdict does not carry. */
export function verdictChange(before: HealthRow, v: Verdict, replaced: boolean): HealthChange {
  const next = afterVerdict(statusOf(before), before.status_reason, v, replaced);
  const to = next.to === "revoked" ? "active" : next.to;
  const error = v.result === "works" ? null : v.result === "skipped" ? (replaced ? null : undefined) : { code: v.code, message: v.message };
  return { to, reason: next.reason, error, checked: v.result !== "skipped" };
}

export function checkResult(row: Pick<CredentialRow, "id" | "app" | "slug" | "scope_type" | "scope_id">, v: Verdict): CheckResult {
  const message = v.result === "works" ? "The provider accepted the key." : v.message;
  return { id: row.id, ref: formatRef(toCandidate(row as CredentialRow)), result: v.result, message };
}

/** `verify: true` on an app without a probe is bad input, refused before anything is written. */
export function refuseVerifyWithoutProbe(app: string, verify: boolean | undefined, field = "verify"): void {
  if (verify === true && probeOf(app) === null) {
    throw invalidField(field, `${app} has no probe, so its keys cannot be checked.`, "Leave out `verify` (custom apps are stored unchecked).");
  }
}

/** Who may check a credential: whoever may see it, except another member's own credential (its value is theirs). */
export function canCheck(p: Principal, row: Pick<CredentialRow, "scope_type" | "scope_id">): boolean {
  const scope = rowScope(row);
  return scope.type === "user" ? scope.user === p.member : can(p, "view", scope);
}

/** Records a verdict reached outside a transaction, unless the value changed or was revoked meanwhile. */
export function recordVerdict(ctx: VaultContext, actor: Actor | null, probed: Pick<CredentialRow, "id" | "rotated_at">, v: Verdict, audit?: string): boolean {
  return ctx.storage.transactionSync(() => {
    const current = selectCredentials(ctx, "id = ?", probed.id)[0];
    if (!current || current.status === "revoked" || current.rotated_at !== probed.rotated_at) return false;
    applyHealth(ctx, actor, current, verdictChange(current, v, false));
    if (audit) writeAudit(ctx, actor, { action: audit, credentialId: current.id, target: scopeLabel(rowScope(current)), detail: { app: current.app, slug: current.slug, result: v.result } });
    return true;
  });
}

/** When the alarm should next look: the earliest due daily probe or expiring window (null: none). */
export function nextProbeAt(ctx: Pick<VaultContext, "sql">, env: HealthEnv): number | null {
  let next: number | null = nextExpiringAt(ctx);
  if (env.PROBES !== "off") {
    // One MIN inside SQLite (rows found through credentials_by_app, none parsed in JS), plus the longest jitter: by then the oldest is surely due (and maybe others), so
    // the alarm never wakes to find nothing; a probe is at most the jitter late.
    const oldest = ctx.sql.exec(`SELECT MIN(COALESCE(checked_at, created_at)) AS t FROM credentials WHERE ${PROBED}`, ...PROBED_APPS).one().t as number | null;
    const at = oldest === null ? null : oldest + PROBE_EVERY_MS + PROBE_JITTER_MS;
    if (at !== null && (next === null || at < next)) next = at;
  }
  // Never sooner than a minute: a probe that keeps failing to record cannot spin the alarm.
  return next === null ? null : Math.max(Date.now() + 60_000, next);
}

/** The catalog apps that have a probe; the SQL that selects their live credentials. */
const PROBED_APPS: string[] = CATALOG.filter((a) => a.kind === "api_key" && a.probe !== undefined).map((a) => a.slug);
const PROBED = `kind = 'api_key' AND status != 'revoked' AND app IN (${PROBED_APPS.map(() => "?").join(", ")})`;

/** Live credentials of probed apps whose daily probe may be due by `now` (exact due time: probeDueAt). */
function probeCandidates(ctx: Pick<VaultContext, "sql">, now: number): { id: string; app: string; checked_at: number | null; created_at: number }[] {
  return ctx.sql
    .exec(`SELECT id, app, checked_at, created_at FROM credentials WHERE ${PROBED} AND COALESCE(checked_at, created_at) <= ?`, ...PROBED_APPS, now - PROBE_EVERY_MS)
    .toArray()
    .map((r) => ({ id: String(r.id), app: String(r.app), checked_at: r.checked_at === null ? null : Number(r.checked_at), created_at: Number(r.created_at) }));
}

/** An OAuth token that cannot be refreshed is `expiring` this long before it expires. */
export const EXPIRING_WITHIN_MS = 3 * 24 * 60 * 60_000;

const NO_REFRESH = `kind = 'oauth' AND status = 'active' AND health IS NULL AND expires_at IS NOT NULL
  AND id NOT IN (SELECT credential_id FROM secret_fields WHERE field = 'refreshToken')`;

/**
 * OAuth credentials whose token expires within 3 days and has no refresh token: `expiring`
 * (`expires_soon`), one event each, so someone reconnects before runs start failing.
 */
export function markExpiring(ctx: VaultContext): number {
  const rows = selectCredentials(ctx, `${NO_REFRESH} AND expires_at <= ?`, ctx.now + EXPIRING_WITHIN_MS);
  ctx.storage.transactionSync(() => {
    for (const row of rows) applyHealth(ctx, null, row, { to: "expiring", reason: "expires_soon", error: undefined, checked: false });
  });
  return rows.length;
}

/** When the next token without a refresh token enters its expiring window (null: none). */
function nextExpiringAt(ctx: Pick<VaultContext, "sql">): number | null {
  const t = ctx.sql.exec(`SELECT MIN(expires_at) AS t FROM credentials WHERE ${NO_REFRESH}`).one().t as number | null;
  return t === null ? null : t - EXPIRING_WITHIN_MS;
}

/** Probes the alarm runs at once, and the time after which it starts no new one (the rest: next alarm). */
const PROBE_CONCURRENCY = 3;
const PROBE_BUDGET_MS = 30_000;

/**
 * The alarm's daily probes: the due ones, oldest first, a few at a time, each bounded by the
 * provider timeout and the whole run by a budget, so they never hold up refreshes or Slack
 * replies for long. Answers when to look again.
 */
export async function probeDue(context: () => VaultContext, env: HealthEnv, openFields: (ctx: VaultContext, id: string) => Promise<Record<string, string>>): Promise<number | null> {
  // Local bookkeeping, no outbound call: runs even with probes off.
  markExpiring({ ...context(), now: Date.now() });
  if (env.PROBES === "off") return nextProbeAt(context(), env);
  const started = Date.now();
  const due = probeCandidates(context(), started)
    .map((r) => ({ ...r, at: probeDueAt(r.id, r.checked_at, r.created_at) }))
    .filter((r) => r.at <= started)
    .sort((a, b) => a.at - b.at);
  let next = 0;
  await runClaimed({
    concurrency: PROBE_CONCURRENCY,
    budgetMs: PROBE_BUDGET_MS,
    claim: () => (next < due.length ? due[next++]! : null),
    run: async ({ id }) => {
      const ctx = context();
      const row = selectCredentials(ctx, "id = ?", id)[0];
      if (!row || row.status === "revoked") return;
      const verdict = await runProbe(ctx, env, row.app, await openFields(ctx, row.id));
      const at = { ...context(), now: Date.now() };
      // Even a skipped probe moves checked_at on, so an unprobeable key is not retried every alarm.
      if (recordVerdict(at, null, row, verdict) && verdict.result === "skipped") at.sql.exec(`UPDATE credentials SET checked_at = ? WHERE id = ?`, at.now, row.id);
    },
    onCrash: ({ id }, e) => {
      console.error("credential probe failed", e instanceof Error ? e.name : typeof e);
      context().sql.exec(`UPDATE credentials SET checked_at = ? WHERE id = ?`, Date.now(), id);
    },
  });
  return next < due.length ? Date.now() + 1_000 : nextProbeAt(context(), env);
}
