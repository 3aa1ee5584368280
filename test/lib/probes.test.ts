import { describe, expect, it } from "vitest";
import { CATALOG, getApp } from "../../lib/catalog";
import type { ApiKeyApp } from "../../lib/catalog/schema";
import { afterVerdict, healthEvent, judgeProbe, probeDueAt, probeRequest, PROBE_EVERY_MS, shownStatus, storedStatus } from "../../lib/health";
import { probeUrl } from "../../durable-objects/vault/outbound";
import { sandboxProbe } from "../../workers/dev/src/sandbox/probe";

/** Credential health, pure (lib/health.ts) and the catalog's probes (lib/catalog/probes.ts), SPEC section 14. */
const apiKeyApps = CATALOG.filter((a): a is ApiKeyApp => a.kind === "api_key" && !a.custom);
const probeOf = (slug: string) => {
  const app = getApp(slug);
  if (!app || app.kind !== "api_key" || !app.probe) throw new Error(`no probe for ${slug}`);
  return app.probe;
};
/** Field values for an app: secrets carry `key`, plain fields a valid value (twilio's SID, supabase's URL). */
function fieldsFor(app: ApiKeyApp, key: string): Record<string, string> {
  const plain: Record<string, string> = { url: "https://abcdefgh.supabase.co", accountSid: "AC0123456789abcdef" };
  return Object.fromEntries(app.fields.filter((f) => !f.optional).map((f) => [f.name, f.secret ? `${key}-${f.name}-0123456789` : plain[f.name] ?? "x"]));
}

describe("the catalog's probes", () => {
  it("every API-key catalog app has one; a templated host always has a host rule", () => {
    expect(apiKeyApps.length).toBeGreaterThanOrEqual(15);
    for (const app of apiKeyApps) {
      expect(app.probe, app.slug).toBeDefined();
      const templatedHost = /^\{|^https:\/\/[^/]*\{/.test(app.probe!.url);
      if (templatedHost) expect(app.probe!.host, app.slug).toBeDefined();
    }
  });

  it("a probe request never carries a secret in its URL, and sends the key where the provider reads it", () => {
    for (const app of apiKeyApps) {
      const req = probeRequest(app.probe!, fieldsFor(app, "sk-test"));
      expect(req.ok, app.slug).toBe(true);
      if (!req.ok) continue;
      expect(req.url, app.slug).toMatch(/^https:\/\//);
      expect(req.url, app.slug).not.toContain("sk-test");
      expect(JSON.stringify(req.init.headers), app.slug).toMatch(/sk-test|Basic /);
    }
    const twilio = probeRequest(probeOf("twilio"), { accountSid: "AC1", authToken: "tok" });
    expect(twilio).toMatchObject({ ok: true, url: "https://api.twilio.com/2010-04-01/Accounts/AC1.json", init: { headers: { authorization: `Basic ${btoa("AC1:tok")}` } } });
    // An optional field's default, and the region when given.
    expect(probeRequest(probeOf("datadog"), { apiKey: "k", appKey: "a" })).toMatchObject({ ok: true, url: "https://api.datadoghq.com/api/v1/validate" });
    expect(probeRequest(probeOf("datadog"), { apiKey: "k", appKey: "a", site: "datadoghq.eu" })).toMatchObject({ ok: true, url: "https://api.datadoghq.eu/api/v1/validate" });
  });

  it("a field can never point the probe at another host; a missing field means no probe", () => {
    expect(probeRequest(probeOf("datadog"), { apiKey: "k", appKey: "a", site: "evil.example/x?" }).ok).toBe(false);
    expect(probeRequest(probeOf("supabase"), { url: "https://169.254.169.254", serviceRoleKey: "k" }).ok).toBe(false);
    expect(probeRequest(probeOf("supabase"), { url: "http://abc.supabase.co", serviceRoleKey: "k" }).ok).toBe(false);
    expect(probeRequest(probeOf("supabase"), { url: "https://abc.supabase.co", serviceRoleKey: "k" })).toMatchObject({ ok: true, url: "https://abc.supabase.co/rest/v1/" });
    expect(probeRequest(probeOf("openai"), {}).ok).toBe(false);
  });

  it("in dev the probe goes to the sandbox, keeping the path", () => {
    const req = probeRequest(probeOf("openai"), { apiKey: "sk-1" });
    expect(req.ok && probeUrl("http://localhost:8787", "openai", req.url)).toBe("http://localhost:8787/_sandbox/probe/openai/v1/models");
    expect(req.ok && probeUrl(null, "openai", req.url)).toBe("https://api.openai.com/v1/models");
  });
});

describe("a probe's success rule", () => {
  it("401/403 refuse the key; 5xx and other statuses judge nothing; a plain 200 works", () => {
    const p = probeOf("openai");
    expect(judgeProbe(p, 401, "")).toMatchObject({ result: "refused", code: "unauthorized" });
    expect(judgeProbe(p, 403, "")).toMatchObject({ result: "refused", code: "unauthorized" });
    expect(judgeProbe(p, 503, "down")).toMatchObject({ result: "unknown", code: "server_error" });
    expect(judgeProbe(p, 429, "")).toMatchObject({ result: "unknown", code: "unexpected_status" });
    expect(judgeProbe(p, 404, "")).toMatchObject({ result: "unknown", code: "unexpected_status" });
    expect(judgeProbe(p, 200, "not json at all")).toEqual({ result: "works" });
  });

  it("200 with an error body refuses the key (refusedAt, okWhen); the provider's text is never repeated", () => {
    const serp = probeOf("serpapi");
    const refused = judgeProbe(serp, 200, JSON.stringify({ error: "Invalid API key. sk-secret-echo" }));
    expect(refused).toMatchObject({ result: "refused", code: "refused" });
    expect(JSON.stringify(refused)).not.toContain("sk-secret-echo");
    expect(judgeProbe(serp, 200, JSON.stringify({ account_email: "a@b.c" }))).toEqual({ result: "works" });
    const cohere = probeOf("cohere");
    expect(judgeProbe(cohere, 200, JSON.stringify({ valid: false }))).toMatchObject({ result: "refused" });
    expect(judgeProbe(cohere, 200, JSON.stringify({ valid: true }))).toEqual({ result: "works" });
    expect(judgeProbe(cohere, 200, "<html>")).toMatchObject({ result: "unknown" });
    expect(judgeProbe(probeOf("cloudflare"), 200, JSON.stringify({ success: false, errors: [] }))).toMatchObject({ result: "refused" });
  });
});

describe("status transitions and their one event", () => {
  it("the shown status round-trips through the stored columns", () => {
    for (const s of ["active", "expiring", "needs_reauth", "invalid"] as const) {
      const st = storedStatus(s);
      expect(shownStatus(st.status, st.health)).toBe(s);
    }
    expect(shownStatus("revoked", "invalid")).toBe("revoked");
    // A stale refinement never wins over the stored status (another writer set it active).
    expect(shownStatus("active", "invalid")).toBe("active");
  });

  it("one event per change of state, none while it holds", () => {
    expect(healthEvent("active", "invalid")).toBe("credential.invalid");
    expect(healthEvent("invalid", "invalid")).toBeNull();
    expect(healthEvent("active", "needs_reauth")).toBe("credential.needs_reauth");
    expect(healthEvent("needs_reauth", "needs_reauth")).toBeNull();
    expect(healthEvent("needs_reauth", "active")).toBe("credential.recovered");
    expect(healthEvent("invalid", "active")).toBe("credential.recovered");
    expect(healthEvent("active", "expiring")).toBe("credential.expiring");
    expect(healthEvent("expiring", "active")).toBeNull();
    expect(healthEvent("active", "active")).toBeNull();
    expect(healthEvent("revoked", "active")).toBeNull();
  });

  it("a verdict's new state: refused -> invalid, works -> active, unknown keeps what is known unless the value is new", () => {
    const unknown = { result: "unknown", code: "server_error", message: "x" } as const;
    expect(afterVerdict("active", null, { result: "refused", code: "unauthorized", message: "x" }, false)).toEqual({ to: "invalid", reason: "probe_unauthorized" });
    expect(afterVerdict("invalid", "probe_unauthorized", { result: "works" }, false)).toEqual({ to: "active", reason: null });
    expect(afterVerdict("invalid", "probe_unauthorized", unknown, false)).toEqual({ to: "invalid", reason: "probe_unauthorized" });
    expect(afterVerdict("invalid", "probe_unauthorized", unknown, true)).toEqual({ to: "active", reason: null });
    expect(afterVerdict("invalid", "probe_unauthorized", { result: "skipped", message: "x" }, true)).toEqual({ to: "active", reason: null });
  });

  it("daily probes are spread by credential id, within two hours after the day", () => {
    const due = ["cred_a", "cred_b", "cred_c", "cred_d"].map((id) => probeDueAt(id, 0, 0) - PROBE_EVERY_MS);
    for (const d of due) expect(d).toBeGreaterThanOrEqual(0), expect(d).toBeLessThan(2 * 3600_000);
    expect(new Set(due).size).toBeGreaterThan(1);
    expect(probeDueAt("cred_a", null, 1000)).toBe(probeDueAt("cred_a", 1000, 0));
  });
});

describe("the sandbox answers every probe", () => {
  const ask = async (app: ApiKeyApp, key: string) => {
    const req = probeRequest(app.probe!, fieldsFor(app, key));
    if (!req.ok) throw new Error(req.message);
    const res = await sandboxProbe.fetch(new Request(probeUrl("http://sandbox.test", app.slug, req.url).replace("/_sandbox/probe", ""), req.init));
    return judgeProbe(app.probe!, res.status, await res.text());
  };

  it("works for a good key, refuses one containing `invalid` (in the app's own style), 503 for `unavailable`", async () => {
    for (const app of apiKeyApps) {
      expect(await ask(app, "good"), app.slug).toEqual({ result: "works" });
      expect((await ask(app, "invalid")).result, app.slug).toBe("refused");
      expect((await ask(app, "unavailable")).result, app.slug).toBe("unknown");
    }
  });
});

describe("the fix of an invalid key", () => {
  it("is recognised on every surface: rotate the key", async () => {
    const { fixForMcp, fixForWeb, remedyOf } = await import("../../lib/fixes");
    const { invalidFix } = await import("../../lib/resolve");
    const e = { fix: invalidFix("exa/org/work"), details: { app: "exa", credential: "exa/org/work", status: "invalid" } };
    expect(remedyOf(e)).toEqual({ do: "rotate", ref: "exa/org/work" });
    expect(fixForWeb(e)).toMatchObject({ href: "/apps?attention=true" });
    expect(fixForMcp(e)).toContain("rotate exa/org/work");
  });
});
