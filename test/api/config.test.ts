import { createExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import app from "../../workers/api/src/index";
import oauthWorker from "../../workers/oauth/src/index";
import { OAuthDoor } from "../../durable-objects/doors/oauth";
import { parseToken } from "../../lib/tokens";
import { seed } from "./helpers";

/**
 * SPEC section 15 (issue 13 build 7): a worker missing or holding a malformed required setting
 * answers 503 naming it, never its value, and GET /health lists the problems.
 */
const BAD_KEYS = "k1:this-is-not-base64-key-material!!";
const apiFetch = (path: string, patch: Record<string, unknown>) =>
  app.fetch(new Request(`http://localhost${path}`, { headers: { accept: "application/json" } }), { ...env, ...patch } as never, createExecutionContext());

describe("api worker configuration", () => {
  it("is healthy as configured", async () => {
    const res = await apiFetch("/health", {});
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ ok: true });
  });

  it.each([
    ["VAULT_KEYS", { VAULT_KEYS: "" }],
    ["VAULT_KEYS", { VAULT_KEYS: BAD_KEYS }],
    ["ORG_ID_KEY", { ORG_ID_KEY: undefined }],
    ["PUBLIC_URL", { PUBLIC_URL: "" }],
    ["PUBLIC_URL", { PUBLIC_URL: "keystroke.example.com" }],
  ])("answers 503 naming %s on every route, and /health lists it", async (setting, patch) => {
    for (const path of ["/v1/me", "/", "/catalog"]) {
      const res = await apiFetch(path, patch);
      const text = await res.text();
      expect(res.status, path).toBe(503);
      const body = JSON.parse(text);
      expect(body.error.code).toBe("internal");
      expect(body.error.message).toContain(setting);
      expect(body.error.details.settings).toEqual([setting]);
      expect(text).not.toContain("this-is-not-base64");
      expect(text).not.toContain("keystroke.example.com");
    }
    const page = await app.fetch(new Request("http://localhost/apps", { headers: { accept: "text/html" } }), { ...env, ...patch } as never, createExecutionContext());
    const html = await page.text();
    expect(page.status).toBe(503);
    expect(html).toContain(setting);
    expect(page.headers.get("content-security-policy")).toBeTruthy();
    expect(html).not.toContain("this-is-not-base64");
    const health = await apiFetch("/health", patch);
    expect(health.status).toBe(503);
    const h = (await health.json()) as { ok: boolean; problems: { setting: string; problem: string }[] };
    expect(h.ok).toBe(false);
    expect(h.problems.map((p) => p.setting)).toEqual([setting]);
    expect(JSON.stringify(h)).not.toContain("this-is-not-base64");
  });
});

describe("oauth worker configuration", () => {
  const oauthFetch = (path: string, patch: Record<string, unknown>) =>
    oauthWorker.fetch(new Request(`http://localhost${path}`, { headers: { accept: "application/json" } }), { ...env, VAULT_DOOR: env.OAUTH_DOOR, ...patch } as never, createExecutionContext());

  it("answers 503 naming PUBLIC_URL outside dev, and /oauth/health lists it; healthy when set", async () => {
    const res = await oauthFetch("/oauth/callback?state=x", { PUBLIC_URL: undefined });
    expect(res.status).toBe(503);
    expect(((await res.json()) as any).error.details.settings).toEqual(["PUBLIC_URL"]);
    const health = await oauthFetch("/oauth/health", { PUBLIC_URL: undefined });
    expect(health.status).toBe(503);
    expect(((await health.json()) as any).problems).toEqual([{ setting: "PUBLIC_URL", problem: "is not set" }]);
    const ok = await oauthFetch("/oauth/health", {});
    expect(ok.status).toBe(200);
    expect(await ok.json()).toMatchObject({ ok: true });
  });
});

describe("the doors", () => {
  it("answer 503 naming a setting the vault needs that the api worker lacks, not a half-run call", async () => {
    const s = await seed();
    const orgId = parseToken(s.alice)!.orgId;
    const door = (patch: Record<string, unknown>) => new OAuthDoor(createExecutionContext(), { ...env, ...patch } as never);
    expect(await door({}).describeMe(orgId, s.alice)).toMatchObject({ ok: true });
    const refused = await door({ VAULT_KEYS: BAD_KEYS }).describeMe(orgId, s.alice);
    expect(refused).toMatchObject({ ok: false, status: 503, error: { code: "internal", details: { settings: ["VAULT_KEYS"] } } });
    expect(JSON.stringify(refused)).not.toContain("this-is-not-base64");
  });
});
