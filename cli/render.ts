/**
 * How API answers look in a terminal. With --json the commands print the API's own shapes instead,
 * so these are the only place human formatting lives. Nothing here ever sees a secret except the
 * `--reveal` fields, which only `printDecision` prints, and only when asked.
 */
import { scopeLabel } from "../lib/refs";
import type { CheckResult, Credential } from "../lib/schemas/credentials";
import type { AssignmentView, ConsumerView, ExplainResult, RuntimeResult } from "../lib/schemas/resolution";
import { printTable, when, type Io } from "./output";

const accountText = (a: Credential["account"]): string => (a ? (a.email ?? a.name ?? a.id) : "-");

/** The status with its reason, e.g. `invalid (probe_unauthorized)`. */
export const statusText = (c: Pick<Credential, "status" | "status_reason">): string =>
  // Only the states that ask for action carry the reason in the table; `--json` always has it.
  c.status_reason && (c.status === "expiring" || c.status === "needs_reauth" || c.status === "invalid") ? `${c.status} (${c.status_reason})` : c.status;

const VERDICT: Record<CheckResult["result"], string> = { works: "works", refused: "refused", unknown: "not judged", skipped: "not checked" };

/** One probe's verdict: whether the key works (set, rotate-key, check). */
export function printCheck(io: Io, check: CheckResult): void {
  io.stdout.write(`${check.ref}: ${VERDICT[check.result]}: ${check.message}\n`);
}

export function printCredentials(io: Io, creds: readonly Credential[]): void {
  printTable(
    io,
    ["REF", "NAME", "SCOPE", "DEFAULT", "STATUS", "ACCOUNT", "PREVIEW", "LAST USED"],
    creds.map((c) => [c.ref, c.name, scopeLabel(c.scope), c.default ? "yes" : "", statusText(c), accountText(c.account), c.preview ?? "-", when(c.last_used_at)]),
    "No credentials.",
  );
  // Health (SPEC section 14): the last failed check or refresh, in our words, under the table.
  for (const c of creds) {
    if (c.last_error) io.stdout.write(`${c.ref} last error (${when(c.last_error.at)}): ${c.last_error.message}\n`);
  }
  // Scopes and connection data (SPEC section 13) under the table: too wide for a column.
  for (const c of creds) {
    if (c.kind === "oauth" && c.scopes.length) io.stdout.write(`${c.ref} scopes: ${c.scopes.join(" ")}\n`);
    const conn = Object.entries(c.connection ?? {});
    if (conn.length) io.stdout.write(`${c.ref} connection: ${conn.map(([k, v]) => `${k}=${v}`).join(" ")}\n`);
  }
}

export const consumerText = (consumer: string): string => (consumer === "*" ? "* (every consumer)" : consumer);

export function printAssignments(io: Io, rows: readonly AssignmentView[]): void {
  printTable(
    io,
    ["KIND", "TARGET", "CONSUMER", "APP", "CREDENTIAL", "STATUS"],
    rows.map((a) => [a.kind, a.target, consumerText(a.consumer), a.app, a.credential?.ref ?? "(hidden)", a.credential?.status ?? "-"]),
    "No assignments.",
  );
}

export function printConsumers(io: Io, rows: readonly ConsumerView[]): void {
  printTable(
    io,
    ["CONSUMER", "SOURCES", "LAST SEEN", "ASSIGNED"],
    rows.map((c) => [c.id, c.sources.join(","), when(c.last_seen_at), c.assignments.map((a) => `${a.app}=${a.credential ?? "(hidden)"}${a.wildcard ? " (*)" : ""}`).join(", ") || "-"]),
    "No consumers yet (workflow steps appear after a run; agents after their tools are registered; or assign one by name).",
  );
}

const RULE_STEP: Record<string, string> = {
  explicit: "step 1, explicit credential",
  assignment: "step 2, assignment for this consumer",
  assignment_wildcard: "step 2, wildcard (*) assignment",
  pinned_scope: "step 3, pinned scope",
  project: "step 4, the project",
  org: "step 5, the org",
};

/** One requirement's decision: the credential and the rule, or the error with its fix. */
export function printDecision(io: Io, r: ExplainResult | RuntimeResult): void {
  const out: string[] = [];
  if (r.ok) {
    out.push(`${r.app} -> ${r.credential.ref}`);
    out.push(`  rule:     ${r.rule} (${RULE_STEP[r.rule] ?? r.rule})`);
    out.push(`  why:      ${r.explanation}`);
    out.push(`  status:   ${r.credential.status}${r.credential.default ? ", default" : ""}`);
    const conn = Object.entries(r.connection ?? {});
    if (conn.length) out.push(`  connection: ${conn.map(([k, v]) => `${k}=${v}`).join(" ")}`);
    for (const s of r.skipped) out.push(`  skipped:  ${s.credential}: ${s.reason}`);
    if ("fields" in r) for (const [k, v] of Object.entries(r.fields)) out.push(`  ${k}: ${v}`);
  } else {
    const d = r.error.details;
    out.push(`${r.app}: ${r.error.code}`);
    out.push(`  why:      ${r.error.message}`);
    if (d.tried?.length) out.push(`  tried:    ${d.tried.join(", ")}`);
    for (const c of d.candidates ?? []) out.push(`  candidate: ${c.credential} (${c.id})`);
    if (d.credential) out.push(`  credential: ${d.credential}${d.status ? ` (${d.status})` : ""}`);
    out.push(`  fix:      ${r.error.fix}`);
    if (d.connect_url) out.push(`  connect:  ${d.connect_url}`);
  }
  io.stdout.write(out.join("\n") + "\n");
}
