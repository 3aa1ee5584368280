import { AppError } from "./errors";

/**
 * The platform's public origin, for every link and redirect URI it hands out and for MCP's Origin
 * check. Never the request's Host outside dev: a Host header is whatever the client (or a DNS
 * rebinding page) says it is. Unset or malformed: 503 naming PUBLIC_URL (a deployment fault, SPEC
 * section 15), which the workers' config check (lib/config-check.ts) already answers up front.
 * In dev mode without PUBLIC_URL the request's own origin is used, which the dev gateway has already limited to localhost on its port (workers/dev/src/index.ts).
 */
export interface OriginEnv {
  PUBLIC_URL?: string;
  DEV_MODE?: string;
}

export function platformOrigin(env: OriginEnv, requestUrl: string): string {
  if (env.PUBLIC_URL) {
    try {
      return new URL(env.PUBLIC_URL).origin;
    } catch {
      throw new AppError("internal", "PUBLIC_URL is not a URL.", { fix: "Set PUBLIC_URL to the platform's origin, e.g. https://keystroke.example.com.", details: { settings: ["PUBLIC_URL"] }, status: 503 });
    }
  }
  if (env.DEV_MODE === "true") return new URL(requestUrl).origin;
  throw new AppError("internal", "PUBLIC_URL is not set.", { fix: "Set PUBLIC_URL to the platform's origin (`wrangler deploy --var PUBLIC_URL:https://...`).", details: { settings: ["PUBLIC_URL"] }, status: 503 });
}

const LOOPBACK = new Set(["localhost", "127.0.0.1", "[::1]"]);

/**
 * Whether a browser page of `origin` may drive the server (MCP's DNS-rebinding rule): the
 * configured public origin, and in dev mode any loopback origin. The request's Host plays no part.
 */
export function originAllowed(env: OriginEnv, origin: string): boolean {
  if (env.PUBLIC_URL) {
    try {
      if (new URL(env.PUBLIC_URL).origin === origin) return true;
    } catch {}
  }
  if (env.DEV_MODE !== "true") return false;
  try {
    const u = new URL(origin);
    return (u.protocol === "http:" || u.protocol === "https:") && u.origin === origin && LOOPBACK.has(u.hostname);
  } catch {
    return false;
  }
}
