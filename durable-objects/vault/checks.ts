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
import { canCheck, checkResult, probeOf, recordVerdict, runProbe, type HealthEnv } from "./health";
import { handedOut, type Verdict } from "../../lib/health";
import { isTimeout } from "../../providers/outbound-fetch";

export interface CheckDeps {
  /** OAuth: refresh the token if it is due (single-flight; outcomes are recorded by the refresh). */
  fresh: (credentialId: string) => Promise<void>;
}

export async function checkCredential(ctx: VaultContext, env: HealthEnv, actor: Actor, p: Principal, ref: string, deps: CheckDeps): Promise<CheckAnswer> {
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
    // An OAuth connection is checked through its refresh (when due): that outcome is what is recorded.
    let verdict: Verdict = { result: "works" };
    try {
      await deps.fresh(row.id);
    } catch (e) {
      verdict = { result: "unknown", code: isTimeout(e) ? "timeout" : "server_error", message: "The provider's token endpoint failed; the refresh is tried again." };
    }
    const after = selectCredentials(ctx, "id = ?", row.id)[0]!;
    if (!handedOut(statusOf(after))) verdict = { result: "refused", code: after.last_error_code ?? "refresh_failed", message: after.last_error_message ?? "It needs to be reconnected." };
    writeAudit({ ...ctx, now: Date.now() }, actor, { action: "credential.check", credentialId: row.id, target: scopeLabel(scope), detail: { app: row.app, slug: row.slug, result: verdict.result } });
    const check = checkResult(after, verdict);
    return { credential: show(row.id), check: verdict.result === "works" ? { ...check, message: "The connection is live; its token is refreshed before it expires." } : check };
  }
  if (probeOf(row.app) === null) {
    throw invalidField("ref", `${row.app} is a custom app without a probe, so ${row.app}/${row.slug} cannot be checked.`, "Custom apps are stored unchecked; use the key to see whether it works.");
  }
  const verdict = await runProbe(ctx, env, row.app, await openFields(ctx, row.id));
  const recorded = recordVerdict({ ...ctx, now: Date.now() }, actor, row, verdict, "credential.check");
  if (!recorded) throw new AppError("conflict", `${row.app}/${row.slug} changed while it was being checked.`, { fix: "Check it again.", details: { field: "ref" } });
  return { credential: show(row.id), check: checkResult(row, verdict) };
}
