import { listDurableObjectIds, runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import { AppError } from "../../lib/errors";
import { isOrgId, newOrgId, newToken } from "../../lib/tokens";
import { vaultStub } from "../../durable-objects/vault-stub";
import { call, expectError, seed, vaultOf, type Seed } from "./helpers";

/**
 * Issue 11, item 4: a made-up org id must write nothing anywhere. Org ids carry an HMAC tag
 * (lib/tokens.ts), vaultStub checks it before any Durable Object is addressed, and a vault that
 * was never provisioned creates no schema.
 */
let s: Seed;
beforeAll(async () => {
  s = await seed();
});

/** Well formed as tokens and CLI-login ids go, but naming orgs nobody minted. */
function forgedOrgIds(n: number): string[] {
  const b32 = "abcdefghijklmnopqrstuvwxyz234567";
  return Array.from({ length: n }, () => "o" + Array.from(crypto.getRandomValues(new Uint8Array(31)), (b) => b32[b & 31]).join(""));
}

describe("forged org ids", () => {
  it("vaultStub refuses a forged id without addressing the namespace, and forwards a minted one", async () => {
    const touched: string[] = [];
    const fake = {
      ORG_ID_KEY: env.ORG_ID_KEY,
      VAULT: {
        idFromName: (name: string) => (touched.push(`idFromName:${name}`), env.VAULT.idFromName(name)),
        get: (id: DurableObjectId) => (touched.push("get"), env.VAULT.get(id)),
      } as unknown as typeof env.VAULT,
    };
    const [forged] = forgedOrgIds(1);
    const stub = vaultStub(fake, forged!);
    const refused = await stub.describeMe(newToken("user", forged!)).then(() => null, (e: unknown) => e);
    expect(refused).toBeInstanceOf(AppError);
    expect((refused as AppError).code).toBe("unauthorized");
    expect(touched).toEqual([]);

    const me = await vaultStub(fake, s.org.id).describeMe(s.alice);
    expect(me.ok).toBe(true);
    expect(touched).toEqual([`idFromName:${s.org.id}`, "get"]);
  });

  it("20 forged tokens and 20 forged CLI-login ids get the envelope and create no Durable Object", async () => {
    expect(await isOrgId(env.ORG_ID_KEY, s.org.id)).toBe(true);
    const before = (await listDurableObjectIds(env.VAULT)).length;
    for (const org of forgedOrgIds(20)) {
      expectError(await call("GET", "/v1/me", { token: newToken("user", org) }), 401, "unauthorized");
      const login = `cli_${org}_${"a".repeat(20)}`;
      expectError(await call("GET", `/v1/cli-logins/${login}`, { token: "A".repeat(43) }), 404, "not_found");
    }
    // A forged session cookie is simply no session: the same sign-in answer as without a cookie.
    const page = await call("GET", "/apps", { headers: { cookie: `ks_session=${newToken("user", forgedOrgIds(1)[0]!)}`, accept: "text/html" } });
    const anonymous = await call("GET", "/apps", { headers: { accept: "text/html" } });
    expect([page.status, page.text]).toEqual([anonymous.status, anonymous.text]);
    expect((await listDurableObjectIds(env.VAULT)).length).toBe(before);
  });

  it("a vault that was never provisioned writes nothing, even when its tag is genuine", async () => {
    const org = await newOrgId(env.ORG_ID_KEY);
    expectError(await call("GET", "/v1/me", { token: newToken("user", org) }), 401, "unauthorized");
    const tables = await runInDurableObject(vaultOf(org), (_i, state) => state.storage.sql.exec(`SELECT name FROM sqlite_master`).toArray());
    expect(tables).toEqual([]);
  });
});
