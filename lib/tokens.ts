/**
 * Platform tokens (DESIGN section 4): `ks_<kind>_<orgId>_<random>`, 32 random bytes, shown once and
 * stored only as SHA-256. The org id sits in the token so a request routes itself to its org.
 * Web Crypto only, so the same code runs in workerd and in Node.
 */
import { AppError, invalidField } from "./errors";
import type { TokenKind } from "./schemas/common";

/**
 * user = member session/CLI token, key = API key, rt = runtime token. The one list: the zod
 * `TokenKind` (lib/schemas/common.ts) is built from it, and it lives here, zod-free, so the oauth
 * worker can read a session token without bundling the schemas.
 */
export const TOKEN_KINDS = ["user", "key", "rt"] as const;
export type { TokenKind };

/** No underscores, so the token splits unambiguously. */
export const ORG_ID_PATTERN = /^[a-z0-9]{1,40}$/;

const B32 = "abcdefghijklmnopqrstuvwxyz234567";
const RANDOM_BYTES = 32;
// 32 bytes = 256 bits = 51 chars of 5 bits + 1 bit in the 52nd, whose 4 padding bits are zero ('a' or 'q').
const TOKEN_SHAPE = /^ks_(user|key|rt)_([a-z0-9]{1,40})_([a-z2-7]{51}[aq])$/;
const MAX_TOKEN_LENGTH = 3 + 5 + 41 + 52;

const te = new TextEncoder();

/** RFC 4648 base32, lowercase, no padding. */
function base32(bytes: Uint8Array): string {
  let out = "";
  let acc = 0;
  let bits = 0;
  for (const byte of bytes) {
    acc = ((acc << 8) | byte) & 0xfff; // at most 12 live bits, so no overflow
    bits += 8;
    while (bits >= 5) {
      bits -= 5;
      out += B32[(acc >> bits) & 31];
    }
  }
  if (bits > 0) out += B32[(acc << (5 - bits)) & 31];
  return out;
}

/** `n` uniform base32 chars: 256 is a multiple of 32, so masking a byte has no bias. */
function randomBase32(n: number): string {
  let out = "";
  for (const byte of crypto.getRandomValues(new Uint8Array(n))) out += B32[byte & 31];
  return out;
}

function isKind(kind: unknown): kind is TokenKind {
  return (TOKEN_KINDS as readonly unknown[]).includes(kind);
}

function checkKindAndOrg(kind: TokenKind, orgId: string): void {
  if (!isKind(kind)) throw invalidField("kind", `Token kind must be one of ${TOKEN_KINDS.join(", ")}.`);
  if (typeof orgId !== "string" || !ORG_ID_PATTERN.test(orgId)) {
    throw invalidField("orgId", "An org id is 1-40 characters of a-z and 0-9.");
  }
}

/** A fresh random token. */
export function newToken(kind: TokenKind, orgId: string): string {
  checkKindAndOrg(kind, orgId);
  return `ks_${kind}_${orgId}_${base32(crypto.getRandomValues(new Uint8Array(RANDOM_BYTES)))}`;
}

/** Same inputs, same token: only for the dev seed, which must answer the same tokens on every run. */
export async function deterministicToken(kind: TokenKind, orgId: string, secret: string, label: string): Promise<string> {
  checkKindAndOrg(kind, orgId);
  // Web Crypto refuses a zero-length HMAC key; say so plainly instead.
  if (typeof secret !== "string" || secret.length === 0) throw invalidField("secret", "The seed secret must not be empty.");
  const key = await crypto.subtle.importKey("raw", te.encode(secret), { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
  const mac = await crypto.subtle.sign("HMAC", key, te.encode(`${kind}:${orgId}:${label}`));
  return `ks_${kind}_${orgId}_${base32(new Uint8Array(mac))}`;
}

/** Kind and org of a well-formed token, or null; never throws. */
export function parseToken(raw: string): { kind: TokenKind; orgId: string } | null {
  if (typeof raw !== "string" || raw.length > MAX_TOKEN_LENGTH) return null;
  const m = TOKEN_SHAPE.exec(raw);
  if (m === null) return null;
  const [, kind, orgId] = m;
  if (!isKind(kind) || orgId === undefined) return null;
  return { kind, orgId };
}

/** Lowercase hex SHA-256: what is stored and looked up, never the token itself. */
export async function hashToken(raw: string): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", te.encode(raw)));
  let hex = "";
  for (const b of digest) hex += b.toString(16).padStart(2, "0");
  return hex;
}

/** `ks_<kind>_…<last 4>`; something that is not a token shows nothing of itself. */
export function tokenPreview(raw: string): string {
  const parsed = parseToken(raw);
  if (parsed === null) return "…";
  return `ks_${parsed.kind}_…${raw.slice(-4)}`;
}

/** Compares without an early exit on content, for hex hashes and signatures. */
export function constantTimeEqual(a: string, b: string): boolean {
  const n = Math.max(a.length, b.length);
  let diff = a.length ^ b.length;
  // charCodeAt past the end is NaN; `| 0` turns it into 0 so the loop runs the same way throughout.
  for (let i = 0; i < n; i++) diff |= (a.charCodeAt(i) | 0) ^ (b.charCodeAt(i) | 0);
  return diff === 0;
}

const ID_PREFIX = /^[a-z][a-z0-9]{0,15}$/;

/** `<prefix>_<20 base32 chars>` (100 random bits), e.g. `cred_…`. */
export function newId(prefix: string): string {
  if (!ID_PREFIX.test(prefix)) throw new AppError("internal", "an id prefix is 1-16 characters of a-z0-9, starting with a letter");
  return `${prefix}_${randomBase32(20)}`;
}

// ---- org ids: verifiable at the edge (README, "Org ids") ----

/**
 * `o` + 15 random base32 chars (75 bits) + a 16-char tag (80 bits of HMAC-SHA256 under the
 * platform's ORG_ID_KEY). Every worker checks the tag before it touches a Durable Object, so a
 * made-up org id in a token, a CLI-login id or an OAuth state reaches no vault.
 */
const ORG_ID_SHAPE = /^o([a-z2-7]{15})([a-z2-7]{16})$/;
const ORG_TAG_CHARS = 16;
const MIN_ORG_ID_KEY_LENGTH = 32;
/** HMAC keys by secret: importKey once per isolate, not once per request. */
const orgKeys = new Map<string, Promise<CryptoKey>>();

function orgIdKey(secret: string | undefined): Promise<CryptoKey> {
  if (typeof secret !== "string" || secret.length < MIN_ORG_ID_KEY_LENGTH) {
    throw new AppError("internal", "ORG_ID_KEY is not set (or shorter than 32 characters).", {
      fix: "Set the ORG_ID_KEY secret (32+ random bytes, e.g. base64) on the api, oauth and slack-events workers; the same value everywhere, never changed.",
    });
  }
  let key = orgKeys.get(secret);
  if (!key) {
    key = crypto.subtle.importKey("raw", te.encode(secret), { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
    orgKeys.set(secret, key);
  }
  return key;
}

async function orgTag(secret: string | undefined, random: string): Promise<string> {
  const mac = await crypto.subtle.sign("HMAC", await orgIdKey(secret), te.encode(`keystroke org id v1:${random}`));
  return base32(new Uint8Array(mac)).slice(0, ORG_TAG_CHARS);
}

/** A fresh org id tagged under `secret` (ORG_ID_KEY); no underscore, so it fits in a token. */
export async function newOrgId(secret: string | undefined): Promise<string> {
  const random = randomBase32(15);
  return `o${random}${await orgTag(secret, random)}`;
}

/**
 * True only for an org id this platform minted under `secret`. No I/O; throws only when the secret
 * is missing (a misconfiguration, not bad input).
 */
export async function isOrgId(secret: string | undefined, orgId: unknown): Promise<boolean> {
  // A missing secret fails loudly even for garbage input, so a misconfigured worker is noticed at once.
  await orgIdKey(secret);
  const m = typeof orgId === "string" ? ORG_ID_SHAPE.exec(orgId) : null;
  return m !== null && constantTimeEqual(await orgTag(secret, m[1]!), m[2]!);
}
