import { env } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import { newOrgId, newToken } from "../../lib/tokens";
import { seed, vaultOf, vaultSql, type Seed } from "./helpers";

/**
 * Issue 12, build 2: one door per caller. The oauth, slack-events and dev workers bind no Durable
 * Object, only a service with their own entrypoint of the api worker (their wrangler.toml; the
 * config test in test/lib/doors-config.test.ts). Here each door is bound back to this worker
 * (vitest.config.ts) and asked for what it must not have.
 */
let s: Seed;
beforeAll(async () => {
  s = await seed();
});

/** A method the entrypoint does not define: Workers RPC rejects the call itself. */
async function refusedCall(door: object, method: string, ...args: unknown[]): Promise<string> {
  const fn = (door as Record<string, (...a: unknown[]) => Promise<unknown>>)[method]!;
  const e = await fn(...args).then(() => null, (err: unknown) => err);
  expect(e, method).toBeInstanceOf(Error);
  return (e as Error).message;
}

// Member methods (the api's), tokenless ones of other callers, and the dev-only ones.
const MEMBER = ["describeMe", "listCredentials", "getCredential", "createApiKey", "revokeCredential", "listMembers", "putAssignment", "resolveForRuntime", "signOut"];
const TOKENLESS = ["startWebSession", "provision", "createCliLogin", "pollCliLogin"];
const DEV = ["openDevTools", "devSignIn", "devConfigure", "configureSandbox", "seedSlack", "bulkLoad", "ensureOrg", "addUser"];

describe("the slack-events door", () => {
  it("reaches no member, connect, sign-in or dev method, for any org", async () => {
    for (const m of [...MEMBER, ...TOKENLESS, ...DEV, "getConnectOptions", "beginConnect", "finishConnect"]) {
      expect(await refusedCall(env.SLACK_DOOR, m, s.org.id, s.alice)).toMatch(/does not implement|not a function|no such method/i);
    }
  });

  it("answers its own two calls: a route lookup and a hand-off the vault checks against its installations", async () => {
    expect(await env.SLACK_DOOR.findOrgForRoute("team:T0NOTINSTALLED")).toBeNull();
    const r = await env.SLACK_DOOR.receiveSlackEvent(s.org.id, { kind: "message", route: "team:T0NOTINSTALLED" });
    expect(r.ok).toBe(false);
    // An org id nobody minted is refused before any vault, as data (401), not as a thrown error.
    const forged = await env.SLACK_DOOR.receiveSlackEvent("o" + "a".repeat(31), {});
    expect(forged).toMatchObject({ ok: false, status: 401, error: { code: "unauthorized" } });
  });
});

describe("the oauth door", () => {
  it("reaches no member method beyond the connect flow, and no tokenless or dev method", async () => {
    for (const m of [...MEMBER.filter((x) => x !== "describeMe"), ...TOKENLESS, ...DEV, "receiveSlackEvent", "findOrgForRoute"]) {
      expect(await refusedCall(env.OAUTH_DOOR, m, s.org.id, s.alice)).toMatch(/does not implement|not a function|no such method/i);
    }
  });

  it("forwards the connect flow's calls to the org's vault, which checks the member's token", async () => {
    expect(await env.OAUTH_DOOR.describeMe(s.org.id, s.alice)).toMatchObject({ ok: true, value: { member: { email: "alice@acme.test" } } });
    expect(await env.OAUTH_DOOR.describeMe(s.org.id, newToken("user", s.org.id))).toMatchObject({ ok: false, status: 401 });
    expect(await env.OAUTH_DOOR.finishConnect(s.org.id, s.alice, { state: `${s.org.id}.unknown`, code: "c", error: null })).toMatchObject({ ok: false });
    const other = await newOrgId("a-key-nobody-uses-0123456789abcdef012345");
    expect(await env.OAUTH_DOOR.describeMe(other, newToken("user", other))).toMatchObject({ ok: false, status: 401, error: { code: "unauthorized" } });
  });
});

describe("dev methods", () => {
  it("live outside the production class and refuse without DEV_MODE, through the DevDoor and the vault alike", async () => {
    expect(env.DEV_MODE).toBe("");
    const refusal = (p: Promise<unknown>) => p.then(() => "answered", (e: unknown) => (e instanceof Error ? e.message : String(e)));
    expect(await refusal(env.DEV_DOOR.ensureOrg("nope", "Nope"))).toMatch(/dev mode/i);
    expect(await refusal(env.DEV_DOOR.configureSandbox(s.org.id, { sandboxUrl: "http://localhost:1" }))).toMatch(/dev mode/i);
    // Switching the platform's (sandbox) OAuth client off per app (issue 14) is dev only, nothing written.
    expect(await refusal(env.DEV_DOOR.setPlatformClient(s.org.id, "github", false))).toMatch(/dev mode/i);
    expect(await vaultSql(s.org.id, `SELECT key FROM settings WHERE key LIKE 'dev_no_platform_client:%'`)).toEqual([]);
    // The seed's forwards to production operations and its token pin are closed too (nothing written).
    const before = await vaultSql(s.org.id, `SELECT hash FROM tokens WHERE kind = 'rt' ORDER BY id`);
    expect(await refusal(env.DEV_DOOR.pinSeedToken(s.org.id, "tok_x", "h", "p"))).toMatch(/dev mode/i);
    expect(await refusal(env.DEV_DOOR.createProject(s.org.id, s.alice, { slug: "via-door", name: "Via door" }))).toMatch(/dev mode/i);
    expect(await refusal(env.DEV_DOOR.createRuntimeToken(s.org.id, s.alice, "via door"))).toMatch(/dev mode/i);
    // The seed's org creation, invitations, acceptance and sign-in, likewise.
    expect(await refusal(env.DEV_DOOR.createOrg({ slug: "via-door", name: "Via door" }, "x@acme.test", "http://localhost:8787"))).toMatch(/dev mode/i);
    expect(await env.DIRECTORY.getByName("global").orgBySlug("via-door")).toBeNull();
    expect(await refusal(env.DEV_DOOR.inviteMember(s.org.id, s.alice, { email: "via-door@acme.test", role: "builder" }, "http://localhost:8787"))).toMatch(/dev mode/i);
    expect(await vaultSql(s.org.id, `SELECT id FROM invitations WHERE email = 'via-door@acme.test'`)).toEqual([]);
    expect(await refusal(env.DEV_DOOR.acceptInvitation(s.org.id, "secret", ["alice@acme.test"], "Alice"))).toMatch(/dev mode/i);
    const sessions = await vaultSql(s.org.id, `SELECT COUNT(*) AS n FROM tokens`);
    expect(await refusal(env.DEV_DOOR.startWebSession(s.org.id, "alice@acme.test"))).toMatch(/dev mode/i);
    expect(await refusal(env.DEV_DOOR.describeMe(s.org.id, s.alice))).toMatch(/dev mode/i);
    expect(await vaultSql(s.org.id, `SELECT COUNT(*) AS n FROM tokens`)).toEqual(sessions);
    expect(await vaultSql(s.org.id, `SELECT hash FROM tokens WHERE kind = 'rt' ORDER BY id`)).toEqual(before);
    expect(await vaultSql(s.org.id, `SELECT slug FROM projects WHERE slug = 'via-door'`)).toEqual([]);
    expect(await refusal(Promise.resolve().then(() => vaultOf(s.org.id).openDevTools()))).toMatch(/dev mode/i);
    // Nor is there a tokenless Slack install on the vault: it happens only inside the connect flow (and the dev seed).
    for (const m of ["devSignIn", "devConfigure", "devBulkLoad", "devSeedSlack", "installSlack"]) {
      expect(await refusedCall(vaultOf(s.org.id), m, "alice@acme.test")).toMatch(/does not implement|not a function|no such method/i);
    }
  });
});
