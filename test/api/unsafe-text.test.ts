import { beforeAll, describe, expect, it } from "vitest";
import { call, expectError, seed, uid, vaultSql, type Seed } from "./helpers";

/**
 * Names and labels refuse control characters, bidi controls and lone surrogates at the edge: a 400
 * naming the field and nothing written (they would reach an admin's terminal as escape codes).
 */
let s: Seed;
beforeAll(async () => {
  s = await seed();
});

const BAD = ["evil\u001b]0;pwned\u0007", "bell\u0007", "nul\u0000", "invoice\u202egnp.exe", "iso\u2066late", "del\u007f", "c1\u009b2J", "half\ud800"];
const count = async (table: string) => Number((await vaultSql(s.org.id, `SELECT count(*) AS n FROM ${table}`))[0]!.n);

describe("unsafe characters in names", () => {
  it("credential set and rename: 400 naming `name`, nothing stored or changed", async () => {
    const before = await count("credentials");
    for (const name of BAD) {
      const r = await call("POST", "/v1/credentials", { token: s.alice, body: { app: "exa", fields: { apiKey: `exa-${uid(24)}` }, name, slug: `u${uid(6)}`, targets: [{ type: "org" }] } });
      expectError(r, 400, "invalid_request", "name");
      expect(r.body.error.message).toMatch(/control characters, bidi controls or lone surrogates \(found U\+[0-9A-F]{4}\)/);
    }
    expect(await count("credentials")).toBe(before);

    const slug = `u${uid(6)}`;
    const made = await call("POST", "/v1/credentials", { token: s.alice, body: { app: "exa", fields: { apiKey: `exa-${uid(24)}` }, name: "Work (EU) 工作 🚀", slug, targets: [{ type: "org" }] } });
    expect(made.status, made.text).toBe(200);
    for (const name of BAD) expectError(await call("PATCH", `/v1/credentials/${encodeURIComponent(`exa/org/${slug}`)}`, { token: s.alice, body: { name } }), 400, "invalid_request", "name");
    expect(await vaultSql(s.org.id, `SELECT name FROM credentials WHERE id = ?`, made.body.credentials[0].id)).toEqual([{ name: "Work (EU) 工作 🚀" }]);
  });

  it("API key and connect session names: 400 naming `name`, no row", async () => {
    const [keys, sessions] = [await count("tokens"), await count("connect_sessions")];
    for (const name of BAD) {
      expectError(await call("POST", "/v1/api-keys", { token: s.alice, body: { name } }), 400, "invalid_request", "name");
      expectError(await call("POST", "/v1/connect-sessions", { token: s.alice, body: { app: "github", name } }), 400, "invalid_request", "name");
    }
    expect([await count("tokens"), await count("connect_sessions")]).toEqual([keys, sessions]);
  });

  it("the run's user in explain: 400 naming `user`", async () => {
    const r = await call("POST", "/v1/resolve/explain", { token: s.alice, body: { user: "alice\u001b[8m@acme.test", requirements: [{ app: "exa" }] } });
    expectError(r, 400, "invalid_request", "user");
    // Refused by the rule, before any member lookup could echo the text back.
    expect(r.body.error.message).toContain("(found U+001B)");
  });
});
