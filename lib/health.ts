/**
 * Credential health (SPEC section 14), pure: how a probe request is built from a catalog probe and
 * a credential's fields, how its answer is judged, and which status and audit event a verdict
 * leads to. The vault (durable-objects/vault/health.ts) does the I/O and the writes.
 */
import type { Probe } from "./catalog/schema";
import { encodeBase64 } from "./crypto";
import type { CredentialStatus, HealthErrorCode, StatusReason } from "./schemas/credentials";

/** A probe's answer, as the vault records it. The message is ours, never the provider's body. */
export type Verdict =
  | { result: "works" }
  | { result: "refused"; code: HealthErrorCode; message: string }
  | { result: "unknown"; code: HealthErrorCode; message: string }
  | { result: "skipped"; message: string };

export type ProbeRequest = { ok: true; url: string; init: { method: string; headers: Record<string, string>; body?: string } } | { ok: false; message: string };

const TEMPLATE = /\{([A-Za-z][A-Za-z0-9_]{0,62})(?:\|([^}]*))?\}/g;

/** `{field}` / `{field|default}` filled from the fields; null when a field without a default is missing. */
function fill(template: string, fields: Record<string, string>): string | null {
  let missing = false;
  const out = template.replace(TEMPLATE, (_m, name: string, fallback: string | undefined) => {
    const v = fields[name];
    if (v !== undefined && v !== "") return v;
    if (fallback !== undefined) return fallback;
    missing = true;
    return "";
  });
  return missing ? null : out;
}

/**
 * The request for one probe. A templated host must match `probe.host` first, so a field can
 * never point the vault's request at another server. Where it is sent in dev is the vault's
 * business (durable-objects/vault/outbound.ts `probeUrl`).
 */
export function probeRequest(probe: Probe, fields: Record<string, string>): ProbeRequest {
  const raw = fill(probe.url, fields);
  if (raw === null) return { ok: false, message: "A field the probe needs is empty." };
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return { ok: false, message: "The probe's address is not a valid URL." };
  }
  const templatedHost = /^https:\/\/[^/]*\{/.test(probe.url) || probe.url.startsWith("{");
  if (url.protocol !== "https:" || url.username || url.password) return { ok: false, message: "The probe's address must be https." };
  if (probe.host !== undefined ? !new RegExp(probe.host).test(url.hostname) : templatedHost) {
    return { ok: false, message: `Not checked: ${url.hostname} is not a host this app's probe may call.` };
  }
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(probe.headers)) {
    const filled = fill(v, fields);
    if (filled === null) return { ok: false, message: "A field the probe needs is empty." };
    headers[k] = filled;
  }
  if (probe.basic) {
    const user = fill(probe.basic.user, fields);
    const password = fill(probe.basic.password, fields);
    if (user === null || password === null) return { ok: false, message: "A field the probe needs is empty." };
    // UTF-8, as RFC 7617 says: btoa alone throws on any character past U+00FF, and fields may hold any.
    headers.authorization = `Basic ${encodeBase64(new TextEncoder().encode(`${user}:${password}`))}`;
  }
  if (probe.body !== undefined) headers["content-type"] = "application/json";
  return { ok: true, url: url.toString(), init: { method: probe.method, headers, ...(probe.body !== undefined ? { body: probe.body } : {}) } };
}

function at(body: unknown, path: string): unknown {
  let cur: unknown = body;
  for (const part of path.split(".")) {
    if (cur === null || typeof cur !== "object") return undefined;
    cur = (cur as Record<string, unknown>)[part];
  }
  return cur;
}

/** Reads a probe's answer: 401/403 and error bodies refuse the key; 5xx and the unexpected only say "unknown". */
export function judgeProbe(probe: Probe, status: number, bodyText: string): Verdict {
  if (status === 401 || status === 403) return { result: "refused", code: "unauthorized", message: `The provider refused the key (HTTP ${status}).` };
  if (status >= 500) return { result: "unknown", code: "server_error", message: `The provider answered HTTP ${status}; the key was not judged.` };
  if (!probe.success.includes(status)) return { result: "unknown", code: "unexpected_status", message: `The provider answered HTTP ${status}, which says nothing about the key.` };
  if (probe.refusedAt === undefined && probe.okWhen === undefined) return { result: "works" };
  let body: unknown;
  try {
    body = JSON.parse(bodyText);
  } catch {
    return { result: "unknown", code: "unexpected_status", message: "The provider's answer was not JSON; the key was not judged." };
  }
  if (probe.refusedAt !== undefined && at(body, probe.refusedAt)) {
    return { result: "refused", code: "refused", message: `The provider answered ${status} with an error (\`${probe.refusedAt}\`): the key was refused.` };
  }
  if (probe.okWhen !== undefined && at(body, probe.okWhen.path) !== probe.okWhen.equals) {
    return { result: "refused", code: "refused", message: `The provider answered ${status} but \`${probe.okWhen.path}\` is not ${String(probe.okWhen.equals)}: the key was refused.` };
  }
  return { result: "works" };
}

// ---- status ----

/** How the shown status is stored: `status` (handed out or not, live or revoked) refined by `health`. */
export type StoredStatus = "active" | "needs_reauth" | "revoked";
export type Health = "expiring" | "invalid" | null;

export function shownStatus(status: StoredStatus, health: Health | string | null): CredentialStatus {
  if (status === "revoked") return "revoked";
  if (status === "needs_reauth") return health === "invalid" ? "invalid" : "needs_reauth";
  return health === "expiring" ? "expiring" : "active";
}

export function storedStatus(shown: Exclude<CredentialStatus, "revoked">): { status: StoredStatus; health: Health } {
  switch (shown) {
    case "active": return { status: "active", health: null };
    case "expiring": return { status: "active", health: "expiring" };
    case "needs_reauth": return { status: "needs_reauth", health: null };
    case "invalid": return { status: "needs_reauth", health: "invalid" };
  }
}

/** Whether a credential in this status may be handed to a run: `invalid` and `needs_reauth` never are. */
export const handedOut = (s: CredentialStatus): boolean => s === "active" || s === "expiring";

export type HealthAction = "credential.needs_reauth" | "credential.invalid" | "credential.recovered" | "credential.expiring";

/**
 * The audit action (and so the webhook event) of a change of shown status, or null: one per
 * transition, none while the state holds. Recovery is from a state that was not handed out.
 */
export function healthEvent(from: CredentialStatus, to: CredentialStatus): HealthAction | null {
  if (from === to || to === "revoked" || from === "revoked") return null;
  if (to === "invalid") return "credential.invalid";
  if (to === "needs_reauth") return "credential.needs_reauth";
  if (to === "expiring") return from === "active" ? "credential.expiring" : "credential.recovered";
  return handedOut(from) ? null : "credential.recovered";
}

/** What a probe verdict makes of a credential (API keys): the new shown status and reason. */
export function afterVerdict(from: CredentialStatus, reason: StatusReason | null, v: Verdict, replaced: boolean): { to: CredentialStatus; reason: StatusReason | null } {
  if (v.result === "works") return { to: "active", reason: null };
  if (v.result === "refused") return { to: "invalid", reason: "probe_unauthorized" };
  // A timeout or an unchecked new value keeps what is known; a verdict about a replaced value does not carry over.
  return replaced ? { to: "active", reason: null } : { to: from, reason };
}

/** Daily probes, spread over two hours by credential id, so an org's keys are not all checked at once. */
export const PROBE_EVERY_MS = 24 * 60 * 60_000;
export const PROBE_JITTER_MS = 2 * 60 * 60_000;

export function probeJitter(id: string): number {
  let h = 2166136261;
  for (let i = 0; i < id.length; i++) h = Math.imul(h ^ id.charCodeAt(i), 16777619) >>> 0;
  return h % PROBE_JITTER_MS;
}

/** When a credential's next daily probe is due: a day after its last check (or its creation), plus its jitter. */
export const probeDueAt = (id: string, checkedAt: number | null, createdAt: number): number => (checkedAt ?? createdAt) + PROBE_EVERY_MS + probeJitter(id);
