import type { Context, MiddlewareHandler } from "hono";
import { configError, settingProblems, type ConfigProblem, type DeployedWorker, type Setting } from "../../lib/config-rules";
import { errorPage, wantsHtml } from "./error-page";

/**
 * A worker missing or holding a malformed required setting answers 503 naming it (never its
 * value) instead of running half-configured (SPEC section 15); its health route lists the
 * problems. Checked per env object: the env does not change within an isolate. Each worker passes
 * its own list (lib/config-check.ts SETTINGS for the api worker, lib/config-rules.ts for the small
 * ones), so the small workers do not bundle the api's checks.
 */
const seen = new WeakMap<object, ConfigProblem[]>();

function problemsOf(settings: readonly Setting[], env: unknown): ConfigProblem[] {
  const e = (env ?? {}) as Record<string, unknown>;
  let found = seen.get(e);
  if (!found) seen.set(e, (found = settingProblems(settings, e)));
  return found;
}

/** `{ok:true}` when configured, else 503 `{ok:false, problems:[{setting, problem}]}`. */
export const healthRoute = (worker: DeployedWorker, settings: readonly Setting[]) => (c: Context) => {
  const problems = problemsOf(settings, c.env);
  return problems.length === 0
    ? c.json({ ok: true, worker }, 200, { "cache-control": "no-store" })
    : c.json({ ok: false, worker, problems }, 503, { "cache-control": "no-store" });
};

/**
 * Every route but the health routes (`paths`) and the static assets answers 503 while a problem
 * remains: the envelope, or for a browser the product's error page (so the stylesheet stays up).
 */
export function requireConfig(settings: readonly Setting[], healthPaths: string[]): MiddlewareHandler {
  return async (c, next) => {
    const problems = problemsOf(settings, c.env);
    if (problems.length === 0 || healthPaths.includes(c.req.path) || c.req.path.startsWith("/static/")) return next();
    const e = configError(problems);
    if (wantsHtml(c)) return errorPage(c, e.toBody(), { status: 503, heading: "This deployment is not configured", title: "Not configured", actions: "" });
    return c.json({ error: e.toBody() }, 503, { "cache-control": "no-store" });
  };
}
