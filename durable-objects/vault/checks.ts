/**
 * `POST /v1/credentials/{ref}/check` and `keystroke credentials check <ref>` (SPEC section 14):
 * probe one credential now and record the verdict (vault/health.ts).
 */
import { AppError, invalidField } from "../../lib/errors";
import { canSeePreview, type Principal } from "../../lib/permissions";
import type { CheckAnswer } from "../../lib/schemas/credentials";
import { writeAudit } from "./audit";
import type { Actor, VaultContext } from "./context";
import { rowScope, scopeLabel, selectCredentials, statusOf, toCredential } from "./credential-rows";
import { findByRef, openFields } from "./credentials";
import { applyHealth, canCheck, checkResult, probeOf, recordVerdict, runProbe, type HealthEnv } from "./health";
import { handedOut, type Verdict } from "../../lib/health";
import { isTimeout, timeoutFor } from "../../providers/outbound-fetch";
import { userinfoStatus } from "../../providers/userinfo-probe";
import { credentialProviderConfig, type OAuthEnv } from "./oauth-credentials";
import type { CredentialRow } from "./credential-rows";

export interface CheckDeps {
  /** OAuth: refresh the token if it is due (single-flight; outcomes are recorded by the refresh). */
  fresh: (credentialId: string) => Promise<void>;
}

export async function checkCredential(ctx: VaultContext, env: HealthEnv & OAuthEnv, actor: Actor, p: Principal, ref: string, deps: CheckDeps): Promise<CheckAnswer> {
  const row = findByRef(ctx, p, ref);
  const scope = rowScope(row);
  if (!canCheck(p, row)) {
    writeAudit(ctx, actor, { action: "credential.check", outcome: "denied", credentialId: row.id, target: scopeLabel(scope) });
    throw new AppError("forbidden", `You may not check ${row.app}/${row.slug}: it is another member's own credential.`, { fix: "Only the member it belongs to can.", details: { field: "ref" } });
  }
  if (row.status === "revoked") {
    throw new AppError("conflict", `The credential ${row.app}/${row.slug} is revoked; there is nothing to check.`, { fix: "Set a new credential instead.", details: { field: "ref" } });
  }
  const show = (id: string) => toCredential(selectCredentials(ctx, "id = ?", id)[0]!, { showPreview: canSeePreview(p, scope) });
  if (row.kind === "oauth") {
    const verdict = await checkOAuth(ctx, env, actor, row, deps);
    writeAudit({ ...ctx, now: Date.now() }, actor, { action: "credential.check", credentialId: row.id, target: scopeLabel(scope), detail: { app: row.app, slug: row.slug, result: verdict.result } });
    return { credential: show(row.id), check: checkResult(row, verdict) };
  }
  if (probeOf(row.app) === null) {
    throw invalidField("ref", `${row.app} is a custom app without a probe, so ${row.app}/${row.slug} cannot be checked.`, "Custom apps are stored unchecked; use the key to see whether it works.");
  }
  const verdict = await runProbe(ctx, env, row.app, await openFields(ctx, row.id));
  const recorded = recordVerdict({ ...ctx, now: Date.now() }, actor, row, verdict, "credential.check");
  if (!recorded) throw new AppError("conflict", `${row.app}/${row.slug} changed while it was being checked.`, { fix: "Check it again.", details: { field: "ref" } });
  return { credential: show(row.id), check: checkResult(row, verdict) };
}

/**
 * An OAuth connection: its refresh when due (whose outcome the refresh records), then, where the
 * provider has one, its userinfo endpoint with the access token (the "optional userinfo probe"):
 * 401/403 -> needs_reauth (probe_unauthorized); a timeout or 5xx only last_error.
 */
async function checkOAuth(ctx: VaultContext, env: HealthEnv & OAuthEnv, actor: Actor, row: CredentialRow, deps: CheckDeps): Promise<Verdict> {
  try {
    await deps.fresh(row.id);
  } catch (e) {
    return { result: "unknown", code: isTimeout(e) ? "timeout" : "server_error", message: "The provider's token endpoint failed; the refresh is tried again." };
  }
  const current = selectCredentials(ctx, "id = ?", row.id)[0]!;
  const generation = generationOf(ctx, row.id);
  if (!handedOut(statusOf(current))) return { result: "refused", code: current.last_error_code ?? "refresh_failed", message: current.last_error_message ?? "It needs to be reconnected." };
  const live: Verdict = { result: "works" };
  if (env.PROBES === "off") return live;
  let cfg;
  try {
    cfg = await credentialProviderConfig(ctx, env, current);
  } catch {
    return live; // no client to ask with: the next refresh says what is wrong
  }
  const token = (await openFields(ctx, row.id)).accessToken;
  if (!cfg.userinfoUrl || cfg.slack || !token) return live;
  let verdict: Verdict;
  try {
    const status = await userinfoStatus(cfg, token, timeoutFor(env, "provider"));
    verdict = status === 401 || status === 403
      ? { result: "refused", code: "unauthorized", message: `The provider refused the access token (HTTP ${status}).` }
      : status >= 200 && status < 300
        ? { result: "works" }
        : { result: "unknown", code: status >= 500 ? "server_error" : "unexpected_status", message: `The provider's userinfo endpoint answered HTTP ${status}; the connection was not judged.` };
  } catch (e) {
    verdict = { result: "unknown", code: isTimeout(e) ? "timeout" : "unreachable", message: "The provider's userinfo endpoint did not answer; the connection was not judged." };
  }
  const at = { ...ctx, now: Date.now() };
  ctx.storage.transactionSync(() => {
    const now = selectCredentials(ctx, "id = ?", row.id)[0];
    // Reconnected or refreshed meanwhile: those tokens are not the ones just asked about.
    if (!now || now.status === "revoked" || generationOf(ctx, row.id) !== generation) return;
    const change = verdict.result === "refused"
      ? { to: "needs_reauth" as const, reason: "probe_unauthorized" as const, error: { code: verdict.code, message: verdict.message }, checked: true }
      : verdict.result === "works"
        ? { to: statusOf(now) as "active" | "expiring", reason: now.status_reason, error: null, checked: true }
        : { to: statusOf(now) as "active" | "expiring", reason: now.status_reason, error: verdict.result === "unknown" ? { code: verdict.code, message: verdict.message } : undefined, checked: true };
    applyHealth(at, actor, now, change);
  });
  return verdict;
}

const generationOf = (ctx: VaultContext, id: string): number => Number(ctx.sql.exec(`SELECT token_generation FROM credentials WHERE id = ?`, id).one().token_generation);
