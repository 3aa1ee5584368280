import { describe, expect, it } from "vitest";
import { call, seed } from "./helpers";

describe("smoke", () => {
  it("seeds and answers /v1/me", async () => {
    const s = await seed();
    const me = await call("GET", "/v1/me", { token: s.alice });
    expect(me.status).toBe(200);
    expect(me.body.member.email).toBe("alice@acme.test");
    const set = await call("POST", "/v1/credentials", { token: s.alice, body: { app: "exa", fields: { apiKey: "exa-secret-value-1234567890" }, targets: [{ type: "org" }, { type: "project", project: "support" }] } });
    expect(set.status, set.text).toBe(200);
    expect(set.body.credentials).toHaveLength(2);
  });
});
