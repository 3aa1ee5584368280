import type { MiddlewareHandler } from "hono";

/**
 * Which OAuth client the sandbox providers saw, per app and step (dev only, memory only): the
 * client_id of every authorize page, code exchange and refresh, from the query, the form body or
 * HTTP Basic, whichever the client used. Tests read it at `GET /_sandbox/oauth-clients-seen?app=`
 * to prove an org's own client is the one used (SPEC section 13). Mounted before the sandbox
 * provider's routes (workers/dev/src/index.ts), so it reads requests without changing them.
 */
export interface ClientSeen {
  app: string;
  step: "authorize" | "token" | "refresh";
  client_id: string | null;
  at: number;
}

const seen: ClientSeen[] = [];
const KEEP = 500;

function record(e: ClientSeen): void {
  seen.push(e);
  if (seen.length > KEEP) seen.splice(0, seen.length - KEEP);
}

/** `/_sandbox/oauth/<app>/authorize|token` (also GitLab-shaped `<app>/oauth/...`). */
const STEP = /^\/_sandbox\/oauth\/([^/]+)\/(?:oauth\/)?(authorize|token)$/;

export const recordClientSeen: MiddlewareHandler = async (c, next) => {
  const m = STEP.exec(new URL(c.req.url).pathname);
  if (m) {
    const app = m[1]!;
    if (m[2] === "authorize" && c.req.method === "GET") {
      record({ app, step: "authorize", client_id: c.req.query("client_id") ?? null, at: Date.now() });
    } else if (m[2] === "token" && c.req.method === "POST") {
      const form = new URLSearchParams(await c.req.raw.clone().text());
      const basic = c.req.header("authorization")?.match(/^Basic (.+)$/)?.[1];
      const fromBasic = basic ? decodeURIComponent(atob(basic).split(":")[0] ?? "") : null;
      const step = form.get("grant_type") === "refresh_token" ? "refresh" : "token";
      record({ app, step, client_id: fromBasic ?? form.get("client_id"), at: Date.now() });
    }
  }
  await next();
};

export function clientsSeen(app?: string): ClientSeen[] {
  return app ? seen.filter((e) => e.app === app) : [...seen];
}
