import { Hono } from "hono";
import { getApp } from "../../../../lib/catalog";
import type { Probe } from "../../../../lib/catalog/schema";

/**
 * `/_sandbox/probe/<app>/<the probe's path>` (dev only): answers every API-key app's probe
 * (lib/catalog/probes.ts) the way that provider would, so a dev stack never calls a real one
 * (SPEC section 14). It reads the key where the app's probe sends it. A key containing `invalid`
 * is refused in the app's own style (401, or 200 with an error body for apps that answer so);
 * one containing `unavailable` gets a 503 (an outage: only last_error); anything else works.
 */
export const sandboxProbe = new Hono();

/** `{ a: { b: v } }` for the path "a.b". */
function nested(path: string, value: unknown): Record<string, unknown> {
  return path.split(".").reduceRight<Record<string, unknown>>((inner, key, i, all) => (i === all.length - 1 ? { [key]: value } : { [key]: inner }), {});
}

/** The values the probe put into the request from the credential's fields (headers, basic auth). */
function presented(probe: Probe, headers: Headers): string[] | null {
  const out: string[] = [];
  for (const [name, template] of Object.entries(probe.headers)) {
    if (!template.includes("{")) continue;
    const v = headers.get(name);
    if (!v) return null;
    out.push(v);
  }
  if (probe.basic) {
    const m = /^Basic (.+)$/.exec(headers.get("authorization") ?? "");
    if (!m) return null;
    out.push(atob(m[1]!));
  }
  return out;
}

sandboxProbe.all("/:slug/*", (c) => {
  const app = getApp(c.req.param("slug"));
  if (!app || app.kind !== "api_key" || !app.probe) return c.json({ error: "This app has no probe in the sandbox." }, 404);
  const probe = app.probe;
  const keys = presented(probe, c.req.raw.headers);
  if (keys === null) return c.json({ error: "Missing credentials." }, 401);
  if (keys.some((k) => k.toLowerCase().includes("unavailable"))) return c.json({ error: "Service unavailable (sandbox)." }, 503);
  if (keys.some((k) => k.toLowerCase().includes("invalid"))) {
    // Apps known to answer 200 with an error body do so here too, so that rule is exercised.
    if (probe.refusedAt) return c.json(nested(probe.refusedAt, "Invalid API key (sandbox)."), 200);
    if (probe.okWhen) return c.json(nested(probe.okWhen.path, typeof probe.okWhen.equals === "boolean" ? !probe.okWhen.equals : "invalid"), 200);
    return c.json({ error: "Invalid API key (sandbox)." }, 401);
  }
  return c.json(probe.okWhen ? nested(probe.okWhen.path, probe.okWhen.equals) : { ok: true, sandbox: app.slug }, 200);
});
