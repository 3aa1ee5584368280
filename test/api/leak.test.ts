import { beforeAll, describe, expect, it } from "vitest";
import { hashToken } from "../../lib/tokens";
import { call, dumpVault, seed, uid, type CallOptions, type CallResult, type Seed } from "./helpers";

/**
 * The leak test: a scripted session with distinctive secrets, then a search of every HTTP answer,
 * every audit row and every stored row for the secrets or any 12-character piece of them.
 */
let s: Seed;
const secrets: string[] = [];
const responses: { label: string; text: string }[] = [];
let apiKey = "";
let apiKeyId = "";
let apiKeyResponse = "";
/** The key's random part: the `ks_key_<org id>_` prefix is public. */
let keySecret = "";

const leak = () => {
  const v = `sk-LEAK-${uid(32)}`;
  secrets.push(v);
  return v;
};

async function step(label: string, method: string, path: string, opts: CallOptions = {}): Promise<CallResult> {
  const res = await call(method, path, opts);
  responses.push({ label, text: res.text });
  return res;
}

/** Every 12-character window of a secret: any longer substring contains one of these. */
function pieces(secret: string): string[] {
  const out: string[] = [];
  for (let i = 0; i + 12 <= secret.length; i++) out.push(secret.slice(i, i + 12));
  return out;
}

function findLeak(haystack: string, needles: string[]): string | null {
  for (const n of needles) for (const p of pieces(n)) if (haystack.includes(p)) return p;
  return null;
}

beforeAll(async () => {
  s = await seed();
  const a = s.alice;
  const setAt = (targets: unknown[], slug: string, app = "exa", fields?: Record<string, string>, token = a) =>
    step(`set ${slug}`, "POST", "/v1/credentials", { token, body: { app, fields: fields ?? { apiKey: leak() }, targets, slug } });

  const org = (await setAt([{ type: "org" }], "work")).body.credentials[0];
  const proj = (await setAt([{ type: "project", project: "support" }], "work")).body.credentials[0];
  const user = (await setAt([{ type: "user" }], "mine")).body.credentials[0];
  const carolUser = (await setAt([{ type: "user" }], "carols", "exa", undefined, s.carol)).body.credentials[0];
  await setAt([{ type: "org" }, { type: "project", project: "growth" }], "multi", "twilio", { accountSid: leak(), authToken: leak() });
  await setAt([{ type: "org" }], "custom", "leaky-internal", { token: leak(), password: leak() });
  // Re-set with new values (idempotent replace).
  await setAt([{ type: "org" }], "work");
  await setAt([{ type: "project", project: "support" }], "work");
  await setAt([{ type: "org" }], "custom", "leaky-internal", { token: leak(), password: leak() });
  // Rotate, rename, set default.
  await step("rotate org", "POST", `/v1/credentials/${org.id}/rotate`, { token: a, body: { fields: { apiKey: leak() } } });
  await step("rotate custom partial", "POST", "/v1/credentials/leaky-internal%2Forg%2Fcustom/rotate", { token: a, body: { fields: { password: leak() } } });
  await step("rename", "PATCH", `/v1/credentials/${proj.id}`, { token: a, body: { name: "Support key", slug: "support-key" } });
  await step("default", "PATCH", `/v1/credentials/${org.id}`, { token: a, body: { default: true } });
  // Refused and invalid attempts that carry secrets.
  await step("carol rotate org (403)", "POST", `/v1/credentials/${org.id}/rotate`, { token: s.carol, body: { fields: { apiKey: leak() } } });
  await step("bad field (400)", "POST", "/v1/credentials", { token: a, body: { app: "exa", fields: { apiKey: leak(), nope: leak() } } });
  await step("oauth app (400)", "POST", "/v1/credentials", { token: a, body: { app: "github", fields: { accessToken: leak() } } });
  await step("unknown project (400)", "POST", "/v1/credentials", { token: a, body: { app: "exa", fields: { apiKey: leak() }, targets: [{ type: "org" }, { type: "project", project: "nope" }] } });
  await step("carol set org (403)", "POST", "/v1/credentials", { token: s.carol, body: { app: "exa", fields: { apiKey: leak() }, slug: "carol-org" } });
  await step("rotate unknown field (400)", "POST", `/v1/credentials/${org.id}/rotate`, { token: a, body: { fields: { bogus: leak() } } });
  // API key lifecycle.
  const created = await call("POST", "/v1/api-keys", { token: a, body: { name: "ci deploy" } });
  expect(created.status, created.text).toBe(201);
  apiKey = created.body.key;
  apiKeyId = created.body.id;
  apiKeyResponse = created.text;
  keySecret = apiKey.split("_").pop()!;
  expect(keySecret).toHaveLength(52);
  await step("api key sets", "POST", "/v1/credentials", { token: apiKey, body: { app: "exa", fields: { apiKey: leak() }, slug: "via-key" } });
  await step("list api keys", "GET", "/v1/api-keys", { token: a });
  // Revoke a credential, then the key.
  await step("revoke user", "POST", `/v1/credentials/${user.id}/revoke`, { token: a });
  await step("admin revokes carol's", "POST", `/v1/credentials/${carolUser.id}/revoke`, { token: s.bob });
  await step("revoke key", "DELETE", `/v1/api-keys/${apiKeyId}`, { token: a });
  await step("use revoked key", "GET", "/v1/credentials", { token: apiKey });
  // Everything a client can read back.
  for (const t of [s.alice, s.bob, s.carol]) {
    const list = await step("list", "GET", "/v1/credentials", { token: t });
    for (const c of list.body.credentials) await step(`get ${c.ref}`, "GET", `/v1/credentials/${c.id}`, { token: t });
    await step("apps", "GET", "/v1/apps", { token: t });
    await step("me", "GET", "/v1/me", { token: t });
    await step("audit", "GET", "/v1/audit?limit=200", { token: t });
  }
  await step("me runtime", "GET", "/v1/me", { token: s.runtime });
});

describe("no secret leaks", () => {
  it("the script really ran: secrets were accepted and stored", async () => {
    expect(secrets.length).toBeGreaterThanOrEqual(20);
    expect(responses.filter((r) => r.label.startsWith("set ")).length).toBe(9);
    const dump = await dumpVault(s.org.id);
    expect(dump.secret_fields!.length).toBeGreaterThanOrEqual(8);
    expect(dump.audit!.length).toBeGreaterThanOrEqual(20);
    expect(apiKey).toMatch(/^ks_key_/);
    // The search itself finds a 12-character piece when there is one. The padding is outside the
    // secrets' alphabet, so it can never extend an 11-character piece into a 12-character one.
    expect(findLeak(`!${secrets[3]!.slice(10, 22)}#`, secrets)).toBe(secrets[3]!.slice(10, 22));
    expect(findLeak(`!${secrets[3]!.slice(10, 21)}#`, secrets)).toBeNull();
  });

  it("no HTTP answer contains a secret or a 12-character piece of one", () => {
    for (const r of responses) {
      const hit = findLeak(r.text, [...secrets, keySecret]);
      expect(hit, `${r.label}: ${r.text.slice(0, 500)}`).toBeNull();
    }
    // The key appears once, in its create answer, and nothing else of the secrets does.
    expect(apiKeyResponse).toContain(apiKey);
    expect(responses.some((r) => r.text.includes(keySecret.slice(0, 12)))).toBe(false);
    expect(findLeak(apiKeyResponse, secrets)).toBeNull();
  });

  it("no audit row, on any page, contains a secret or the API key", async () => {
    const entries: unknown[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const res = await call("GET", `/v1/audit?limit=5${cursor ? `&cursor=${cursor}` : ""}`, { token: s.alice });
      expect(res.status, res.text).toBe(200);
      entries.push(...res.body.entries);
      cursor = res.body.next_cursor;
      pages++;
    } while (cursor && pages < 500);
    const stored = (await dumpVault(s.org.id)).audit!;
    expect(entries).toHaveLength(stored.length);
    expect(pages).toBe(Math.ceil(stored.length / 5));
    const text = JSON.stringify(entries);
    expect(text).toContain("credential.rotate");
    expect(text).toContain("api_key.create");
    expect(findLeak(text, [...secrets, keySecret])).toBeNull();
  });

  it("no stored row in any table of the vault contains a secret or the API key; the key's hash is stored", async () => {
    const dump = await dumpVault(s.org.id);
    expect(Object.keys(dump)).toEqual(expect.arrayContaining(["credentials", "secret_fields", "audit", "tokens", "custom_apps", "members", "org"]));
    for (const [table, rows] of Object.entries(dump)) {
      const text = JSON.stringify(rows);
      expect(findLeak(text, [...secrets, keySecret]), `table ${table}`).toBeNull();
    }
    const hash = await hashToken(apiKey);
    const tokenRow = dump.tokens!.find((t) => t.id === apiKeyId)!;
    expect(tokenRow.hash).toBe(hash);
    expect(tokenRow.revoked_at).not.toBeNull();
    expect(String(tokenRow.preview)).toBe(`ks_key_…${apiKey.slice(-4)}`);
    // The sealed values are ciphertext in the vault's format.
    for (const r of dump.secret_fields!) expect(String(r.sealed)).toMatch(/^v1\.k2\.[A-Za-z0-9_-]{16}\.[A-Za-z0-9_-]+$/);
  });
});
