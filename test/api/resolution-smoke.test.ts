import { describe, expect, it } from "vitest";
import { call, seed } from "./helpers";

describe("resolution smoke", () => {
  it("resolves an org credential with its secret and explains it", async () => {
    const s = await seed();
    await call("POST", "/v1/credentials", { token: s.alice, body: { app: "exa", slug: "work", fields: { apiKey: "exa-secret-value-1234567890" } } });
    const r = await call("POST", "/v1/runtime/resolve", { token: s.runtime, body: { consumer: { kind: "workflow", target: "wf", id: "step1" }, requirements: [{ app: "exa" }] } });
    expect(r.status, r.text).toBe(200);
    expect(r.body.results[0]).toMatchObject({ ok: true, rule: "org", fields: { apiKey: "exa-secret-value-1234567890" } });
    const e = await call("POST", "/v1/resolve/explain", { token: s.alice, body: { requirements: [{ app: "exa" }, { app: "openai" }] } });
    expect(e.status, e.text).toBe(200);
    expect(e.text).not.toContain("exa-secret-value");
    expect(e.body.results[1].error.code).toBe("missing_credentials");
    const m = await call("POST", "/v1/runtime/resolve", { token: s.alice, body: { consumer: { kind: "workflow", target: "wf", id: "step1" }, requirements: [{ app: "exa" }] } });
    expect(m.status).toBe(403);
  });
});
