import type { Context } from "hono";
import { deleteCookie, getCookie, setCookie } from "hono/cookie";
import { PLATFORM_USER_TTL_MS, signPlatformUser, verifyPlatformUser, type PlatformUser } from "../../../../lib/platform-user";
import type { ApiEnv } from "../http/vault";

/**
 * The platform user's cookie (lib/platform-user.ts): who the person is between orgs, after
 * GitHub sign-in (or, in dev, the seeded-user sign-in). `__Host-` over https like the session's.
 */
const COOKIE = "ks_user";
const secure = (c: Context) => new URL(c.req.url).protocol === "https:";
const options = (c: Context) => ({ httpOnly: true, sameSite: "Lax" as const, secure: secure(c), path: "/", prefix: secure(c) ? ("host" as const) : undefined });

export async function setPlatformUser(c: Context<ApiEnv>, user: Omit<PlatformUser, "expires_at">): Promise<void> {
  setCookie(c, COOKIE, await signPlatformUser(c.env.ORG_ID_KEY, user, Date.now()), { ...options(c), maxAge: PLATFORM_USER_TTL_MS / 1000 });
}

/** The signed-in platform user, or null (no cookie, forged, or expired). */
export function platformUser(c: Context<ApiEnv>): Promise<PlatformUser | null> {
  return verifyPlatformUser(c.env.ORG_ID_KEY, getCookie(c, COOKIE, secure(c) ? "host" : undefined), Date.now());
}

export function clearPlatformUser(c: Context<ApiEnv>): void {
  deleteCookie(c, COOKIE, { path: "/", secure: secure(c), prefix: secure(c) ? "host" : undefined });
}
