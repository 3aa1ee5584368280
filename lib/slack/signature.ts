/**
 * Slack request signing (v0), pure: the caller reads the raw body once and passes the clock in.
 * https://api.slack.com/authentication/verifying-requests-from-slack
 *
 * Why bytes and not text: the HMAC covers the exact bytes Slack sent; re-encoding a parsed body
 * (key order, whitespace, escapes) breaks it. Why both directions: a timestamp far in the future is
 * as suspicious as a stale one (python-slack-sdk rejects both; bolt-js only stale ones).
 */

/** Slack's replay window: 5 minutes either way. */
export const MAX_SKEW_SECONDS = 300;

const enc = new TextEncoder();
const SIGNATURE = /^v0=([0-9a-f]{64})$/;
const TIMESTAMP = /^\d{1,12}$/;

export type SignatureFailure = "missing_headers" | "bad_timestamp" | "stale_timestamp" | "bad_format" | "mismatch" | "no_secret";
export type SignatureCheck = { ok: true } | { ok: false; reason: SignatureFailure };

export interface SignedRequest {
  /** The exact bytes of the body, read once. */
  body: Uint8Array;
  /** `X-Slack-Request-Timestamp` */
  timestamp: string | null | undefined;
  /** `X-Slack-Signature` */
  signature: string | null | undefined;
}

// Imported HMAC keys per secret; a handful of secrets at most (current and previous).
const keyCache = new Map<string, Promise<CryptoKey>>();
function hmacKey(secret: string): Promise<CryptoKey> {
  let key = keyCache.get(secret);
  if (!key) {
    key = crypto.subtle.importKey("raw", enc.encode(secret), { name: "HMAC", hash: "SHA-256" }, false, ["sign", "verify"]);
    if (keyCache.size > 8) keyCache.clear();
    keyCache.set(secret, key);
  }
  return key;
}

function hexToBytes(hex: string): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(hex.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(hex.slice(i * 2, i * 2 + 2), 16);
  return out;
}

function baseString(timestamp: string, body: Uint8Array): Uint8Array<ArrayBuffer> {
  const prefix = enc.encode(`v0:${timestamp}:`);
  const out = new Uint8Array(prefix.length + body.length);
  out.set(prefix, 0);
  out.set(body, prefix.length);
  return out;
}

/**
 * Verifies `X-Slack-Signature` against each secret in turn (current, then previous during a
 * rotation). `crypto.subtle.verify` compares in constant time, so no string comparison is made.
 */
export async function verifySlackSignature(req: SignedRequest, secrets: readonly string[], nowSeconds: number): Promise<SignatureCheck> {
  const usable = secrets.filter((s) => s.length > 0);
  if (usable.length === 0) return { ok: false, reason: "no_secret" };
  if (!req.timestamp || !req.signature) return { ok: false, reason: "missing_headers" };
  if (!TIMESTAMP.test(req.timestamp)) return { ok: false, reason: "bad_timestamp" };
  if (Math.abs(nowSeconds - Number(req.timestamp)) > MAX_SKEW_SECONDS) return { ok: false, reason: "stale_timestamp" };
  const m = SIGNATURE.exec(req.signature);
  if (!m) return { ok: false, reason: "bad_format" };
  const mac = hexToBytes(m[1]!);
  const data = baseString(req.timestamp, req.body);
  for (const secret of usable) {
    if (await crypto.subtle.verify("HMAC", await hmacKey(secret), mac, data)) return { ok: true };
  }
  return { ok: false, reason: "mismatch" };
}

/** `v0=<hex>` for a body at a timestamp: for anything that sends signed events: dev tools, the bench, tests. */
export async function signSlackBody(secret: string, timestamp: string, body: Uint8Array | string): Promise<string> {
  const bytes = typeof body === "string" ? enc.encode(body) : body;
  const mac = new Uint8Array(await crypto.subtle.sign("HMAC", await hmacKey(secret), baseString(timestamp, bytes)));
  return `v0=${Array.from(mac, (b) => b.toString(16).padStart(2, "0")).join("")}`;
}
