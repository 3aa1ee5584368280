import { z } from "zod";
import { constantTimeEqual } from "./tokens";

/**
 * The platform user between orgs (SPEC section 12: one person, several orgs). After "Sign in with
 * GitHub" the api worker holds who the person is in a short-lived signed cookie: their GitHub id
 * and login and the verified emails GitHub answered. It carries no org and no token; it only lets
 * /orgs list the person's orgs (from the Directory), switch into one (a web session there),
 * accept an invitation to one of these emails, and create an org where SIGNUP allows.
 *
 * Signed with HMAC-SHA256 under a key derived from ORG_ID_KEY (a separate label, so a cookie
 * signature is never an org-id tag and the reverse); nothing else is stored. Pure: the clock is passed in.
 */
export const PLATFORM_USER_TTL_MS = 60 * 60 * 1000;

export const PlatformUser = z.object({
  /** GitHub's numeric account id ("" for the dev sign-in's seeded users). */
  github_id: z.string().max(40),
  login: z.string().max(100),
  emails: z.array(z.string().max(254)).min(1).max(20),
  expires_at: z.number().int(),
});
export type PlatformUser = z.infer<typeof PlatformUser>;

const te = new TextEncoder();
const LABEL = "keystroke platform-user cookie v1";
const keys = new Map<string, Promise<CryptoKey>>();

function b64url(bytes: Uint8Array): string {
  return btoa(String.fromCharCode(...bytes)).replaceAll("+", "-").replaceAll("/", "_").replace(/=+$/, "");
}
function fromB64url(s: string): string {
  return atob(s.replaceAll("-", "+").replaceAll("_", "/"));
}

async function key(secret: string): Promise<CryptoKey> {
  let k = keys.get(secret);
  if (!k) {
    k = (async () => {
      const root = await crypto.subtle.importKey("raw", te.encode(secret), { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
      const derived = new Uint8Array(await crypto.subtle.sign("HMAC", root, te.encode(LABEL)));
      return crypto.subtle.importKey("raw", derived, { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
    })();
    keys.set(secret, k);
  }
  return k;
}

async function mac(secret: string, payload: string): Promise<string> {
  return b64url(new Uint8Array(await crypto.subtle.sign("HMAC", await key(secret), te.encode(payload))));
}

/** `<payload b64url>.<mac b64url>`; emails lowercased, expiry `now + PLATFORM_USER_TTL_MS`. */
export async function signPlatformUser(secret: string, user: Omit<PlatformUser, "expires_at">, now: number): Promise<string> {
  const body: PlatformUser = { ...user, emails: [...new Set(user.emails.map((e) => e.toLowerCase()))], expires_at: now + PLATFORM_USER_TTL_MS };
  const payload = b64url(te.encode(JSON.stringify(PlatformUser.parse(body))));
  return `${payload}.${await mac(secret, payload)}`;
}

/** The user a cookie names, or null when it is malformed, forged or expired; never throws. */
export async function verifyPlatformUser(secret: string, raw: string | undefined, now: number): Promise<PlatformUser | null> {
  if (!raw || raw.length > 4096) return null;
  const cut = raw.indexOf(".");
  if (cut <= 0) return null;
  const payload = raw.slice(0, cut);
  if (!constantTimeEqual(raw.slice(cut + 1), await mac(secret, payload))) return null;
  try {
    const user = PlatformUser.parse(JSON.parse(new TextDecoder().decode(Uint8Array.from(fromB64url(payload), (ch) => ch.charCodeAt(0)))));
    return user.expires_at > now ? user : null;
  } catch {
    return null;
  }
}
