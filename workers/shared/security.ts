import { createMiddleware } from "hono/factory";
import { secureHeaders } from "hono/secure-headers";

/**
 * The response headers every worker that serves the platform's host sends (api, oauth; the dev
 * sandbox's consent pages too). The pages load only their own stylesheet, are never framed and
 * post forms only to this origin. `form-action 'self'` also covers redirects after a form post
 * (Chromium enforces it on the whole chain), which is why /oauth/start answers a page that moves
 * on to the provider instead of a 302 (workers/oauth/src/index.tsx).
 */
export const securityHeaders = secureHeaders({
  contentSecurityPolicy: { defaultSrc: ["'self'"], frameAncestors: ["'none'"], formAction: ["'self'"] },
  referrerPolicy: "same-origin",
  xFrameOptions: "DENY",
});

/**
 * Nothing the platform answers may sit in a shared or browser cache: signed-in pages, error
 * envelopes, secrets from a resolve. A handler that allows caching (the stylesheet) says so itself.
 */
export const noStoreByDefault = createMiddleware(async (c, next) => {
  await next();
  if (!c.res.headers.has("cache-control")) c.res.headers.set("cache-control", "no-store");
});
