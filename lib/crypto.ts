/**
 * Sealing secrets at rest (DESIGN section 4). AES-256-GCM with a per-org key derived by HKDF from
 * a master keyring; the sealed string carries its key id so old keys keep opening during rotation.
 * Web Crypto only, so the same code runs in workerd and in Node.
 */
import { AppError, invalidField } from "./errors";

export type Keyring = { active: string; keys: Map<string, Uint8Array<ArrayBuffer>> };

const KEY_ID = /^[a-z0-9]{1,16}$/;
const KEY_BYTES = 32;
const IV_BYTES = 12;
const TAG_BYTES = 16;
const VERSION = "v1";

const te = new TextEncoder();

/** Never echoes the input: it is the master key material. */
function malformed(detail: string): AppError {
  return new AppError("internal", `VAULT_KEYS is malformed: ${detail}`, {
    fix: 'Set VAULT_KEYS to "id:<base64 of 32 bytes>[,id:<base64>...]"; the first entry is the active key.',
  });
}

/** Parses `"k2:<b64>,k1:<b64>"`; the first entry is the active key. */
export function parseKeyring(raw: string): Keyring {
  const text = typeof raw === "string" ? raw.trim() : "";
  if (text === "") throw malformed("it is empty");
  const keys = new Map<string, Uint8Array<ArrayBuffer>>();
  let active: string | undefined;
  const entries = text.split(",");
  for (const [i, entry] of entries.entries()) {
    const n = i + 1;
    const colon = entry.indexOf(":");
    // A missing colon usually means a bare key was pasted, so the id is not safe to echo either.
    if (colon < 0) throw malformed(`entry ${n} is not of the form id:<base64>`);
    const id = entry.slice(0, colon).trim();
    if (!KEY_ID.test(id)) throw malformed(`entry ${n} has an invalid key id (expected 1-16 of a-z0-9)`);
    if (keys.has(id)) throw malformed(`key id "${id}" appears twice`);
    const bytes = decodeBase64(entry.slice(colon + 1).trim());
    if (bytes === null) throw malformed(`key "${id}" is not valid base64`);
    if (bytes.length !== KEY_BYTES) throw malformed(`key "${id}" is not ${KEY_BYTES} bytes`);
    keys.set(id, bytes);
    active ??= id;
  }
  if (active === undefined) throw malformed("it has no keys");
  return { active, keys };
}

/** A fresh keyring entry for docs and scripts: `"id:<base64 of 32 random bytes>"`. */
export function generateKeyringEntry(id: string): string {
  if (!KEY_ID.test(id)) throw invalidField("id", "A key id is 1-16 characters of a-z and 0-9.");
  return `${id}:${encodeBase64(crypto.getRandomValues(new Uint8Array(KEY_BYTES)))}`;
}

/** AAD for a credential field: a sealed value cannot be moved to another org, credential or field. */
export function credentialAad(orgId: string, credentialId: string, field: string): string {
  return `${orgId}|${credentialId}|${field}`;
}

// ---- derived keys ----------------------------------------------------------------------------

type CachedKey = { master: Uint8Array<ArrayBuffer>; key: Promise<CryptoKey> };
/** Per-isolate cache of derived keys, keyed by (kid, orgId); bounded so many orgs cannot grow it forever. */
const keyCache = new Map<string, CachedKey>();
const MAX_CACHED_KEYS = 1024;

function sameBytes(a: Uint8Array<ArrayBuffer>, b: Uint8Array<ArrayBuffer>): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= (a[i] ?? 0) ^ (b[i] ?? 0);
  return diff === 0;
}

async function deriveOrgKey(kid: string, master: Uint8Array<ArrayBuffer>, orgId: string): Promise<CryptoKey> {
  const ikm = await crypto.subtle.importKey("raw", master, "HKDF", false, ["deriveKey"]);
  return crypto.subtle.deriveKey(
    { name: "HKDF", hash: "SHA-256", salt: te.encode(`keystroke-vault-v1:${kid}`), info: te.encode(`org:${orgId}`) },
    ikm,
    { name: "AES-GCM", length: 256 },
    false,
    ["encrypt", "decrypt"],
  );
}

function orgKey(kid: string, master: Uint8Array<ArrayBuffer>, orgId: string): Promise<CryptoKey> {
  // kid never contains ':', so this cache key is unambiguous whatever orgId holds.
  const cacheKey = `${kid}:${orgId}`;
  const hit = keyCache.get(cacheKey);
  // The master bytes are compared too: a kid reused with different material must not hit a stale key.
  if (hit && sameBytes(hit.master, master)) return hit.key;
  if (keyCache.size >= MAX_CACHED_KEYS) {
    const oldest = keyCache.keys().next();
    if (!oldest.done) keyCache.delete(oldest.value);
  }
  const entry: CachedKey = { master: master.slice(), key: deriveOrgKey(kid, master, orgId) };
  keyCache.set(cacheKey, entry);
  // A failed derivation must not stick in the cache.
  entry.key.catch(() => {
    if (keyCache.get(cacheKey) === entry) keyCache.delete(cacheKey);
  });
  return entry.key;
}

// ---- sealing ---------------------------------------------------------------------------------

type Parsed = { kid: string; iv: Uint8Array<ArrayBuffer>; ct: Uint8Array<ArrayBuffer> };

function cannotOpen(): AppError {
  return new AppError("internal", "sealed value could not be opened");
}

function parseSealed(sealed: string): Parsed | null {
  if (typeof sealed !== "string") return null;
  const parts = sealed.split(".");
  if (parts.length !== 4) return null;
  const [version, kid, ivText, ctText] = parts as [string, string, string, string];
  if (version !== VERSION || !KEY_ID.test(kid)) return null;
  const iv = decodeBase64Url(ivText);
  const ct = decodeBase64Url(ctText);
  if (iv === null || ct === null || iv.length !== IV_BYTES || ct.length < TAG_BYTES) return null;
  return { kid, iv, ct };
}

/** Seals `plaintext` under the ring's active key: `v1.<kid>.<iv b64url>.<ct+tag b64url>`. */
export async function seal(ring: Keyring, orgId: string, plaintext: string, aad: string): Promise<string> {
  const kid = ring.active;
  const master = ring.keys.get(kid);
  if (master === undefined) throw new AppError("internal", "the active vault key is missing from the keyring");
  const key = await orgKey(kid, master, orgId);
  const iv = crypto.getRandomValues(new Uint8Array(IV_BYTES));
  const ct = await crypto.subtle.encrypt({ name: "AES-GCM", iv, additionalData: te.encode(aad) }, key, te.encode(plaintext));
  return `${VERSION}.${kid}.${encodeBase64Url(iv)}.${encodeBase64Url(new Uint8Array(ct))}`;
}

/** Opens a sealed value; every failure (unknown kid, malformed, wrong org/aad, tamper) is the same error. */
export async function open(ring: Keyring, orgId: string, sealed: string, aad: string): Promise<string> {
  const parsed = parseSealed(sealed);
  if (parsed === null) throw cannotOpen();
  const master = ring.keys.get(parsed.kid);
  if (master === undefined) throw cannotOpen();
  try {
    const key = await orgKey(parsed.kid, master, orgId);
    const pt = await crypto.subtle.decrypt(
      { name: "AES-GCM", iv: parsed.iv, additionalData: te.encode(aad) },
      key,
      parsed.ct,
    );
    // ignoreBOM keeps a leading U+FEFF that was part of the plaintext.
    return new TextDecoder("utf-8", { fatal: true, ignoreBOM: true }).decode(pt);
  } catch {
    throw cannotOpen();
  }
}

/** The key id a sealed value was sealed with. */
export function sealedKeyId(sealed: string): string {
  const parsed = parseSealed(sealed);
  if (parsed === null) throw cannotOpen();
  return parsed.kid;
}

/** True when the value was sealed with a key other than the ring's active one. */
export function needsReseal(ring: Keyring, sealed: string): boolean {
  return sealedKeyId(sealed) !== ring.active;
}

/** Moves a value to the active key; the same string comes back when it is already there. */
export async function reseal(ring: Keyring, orgId: string, sealed: string, aad: string): Promise<string> {
  if (!needsReseal(ring, sealed)) return sealed;
  return seal(ring, orgId, await open(ring, orgId, sealed, aad), aad);
}

// ---- base64 ----------------------------------------------------------------------------------

export function encodeBase64(bytes: Uint8Array): string {
  let bin = "";
  // Chunked: spreading a large array into fromCharCode overflows the stack.
  for (let i = 0; i < bytes.length; i += 0x8000) bin += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(bin);
}

function binToBytes(bin: string): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

/** Strict standard base64 with padding; atob alone accepts whitespace and missing padding. */
function decodeBase64(text: string): Uint8Array<ArrayBuffer> | null {
  if (text.length === 0 || text.length % 4 !== 0 || !/^[A-Za-z0-9+/]*={0,2}$/.test(text)) return null;
  try {
    const bytes = binToBytes(atob(text));
    // Canonical only: non-zero trailing bits would let two strings name the same key.
    return encodeBase64(bytes) === text ? bytes : null;
  } catch {
    return null;
  }
}

function encodeBase64Url(bytes: Uint8Array<ArrayBuffer>): string {
  return encodeBase64(bytes).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

function decodeBase64Url(text: string): Uint8Array<ArrayBuffer> | null {
  if (text.length === 0 || text.length % 4 === 1 || !/^[A-Za-z0-9_-]+$/.test(text)) return null;
  try {
    const bytes = binToBytes(atob(text.replace(/-/g, "+").replace(/_/g, "/") + "=".repeat((4 - (text.length % 4)) % 4)));
    return encodeBase64Url(bytes) === text ? bytes : null;
  } catch {
    return null;
  }
}
