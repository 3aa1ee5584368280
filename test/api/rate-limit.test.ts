import { env, exports } from "cloudflare:workers";
import { expect, it } from "vitest";
import { hashToken, newToken, tokenPreview } from "../../lib/tokens";
import { MANAGEMENT_PERIOD_S } from "../../workers/api/src/http/limits";
import { addMember, call, expectError, provisionWithTokens, uid } from "./helpers";

/**
 * MANAGEMENT_LIMITER (wrangler.toml: 600 GETs under /v1/ per token per 10 s): one member looping
 * over list pages is refused with 429, while another member's reads and the org's runtime
 * resolves go on.
 */
it("answers 429 with the envelope and Retry-After to one token's management reads, while another token and the runtime resolves pass", async () => {
  const o = await env.DIRECTORY.getByName("global").ensureOrg(`rl${uid(6)}`, "Rate limit");
  const owner = newToken("user", o.id);
  const runtime = newToken("rt", o.id);
  await provisionWithTokens({
    org: { id: o.id, slug: o.slug, name: o.name },
    members: [{ email: "owner@rl.test", name: "Owner", role: "owner" }],
    projects: [],
    tokens: [
      { hash: await hashToken(owner), preview: tokenPreview(owner), kind: "user", email: "owner@rl.test", name: "test", expires_at: null },
      { hash: await hashToken(runtime), preview: tokenPreview(runtime), kind: "rt", email: null, name: "runtime", expires_at: null },
    ],
  });
  expect((await call("POST", "/v1/credentials", { token: owner, body: { app: "exa", fields: { apiKey: `exa-${uid(24)}` } } })).status).toBe(200);
  const other = await addMember(o.id, "other@rl.test", "builder");
  const resolve = () => call("POST", "/v1/runtime/resolve", { token: runtime, body: { consumer: { kind: "workflow", target: "wf", id: "s" }, requirements: [{ app: "exa" }] } });

  // The looping member: a few reads pass, then the token's bucket is used up. (Filled through the
  // binding itself, keyed as workers/api/src/http/limits.ts keys it: 600 HTTP calls take the test
  // pool far longer than the limiter's 10 s window.)
  for (let i = 0; i < 3; i++) expect((await call("GET", "/v1/credentials?limit=1", { token: owner })).status).toBe(200);
  // The binding's windows are aligned to the wall clock (10 s): a fill that straddles a window's
  // end is forgotten with it, so the fill and both refused reads are done again (at most twice
  // more) until they fall inside one window; the assertions below are the same either way.
  const key = `mgmt:${await hashToken(owner)}`;
  const windowOf = () => Math.floor(Date.now() / (MANAGEMENT_PERIOD_S * 1000));
  let limited: Awaited<ReturnType<typeof call>> | undefined;
  let raw: Response | undefined;
  for (let attempt = 0; attempt < 3; attempt++) {
    const window = windowOf();
    for (let i = 0; i < 700; i += 50) await Promise.all(Array.from({ length: 50 }, () => env.MANAGEMENT_LIMITER.limit({ key })));
    limited = await call("GET", "/v1/credentials?limit=1", { token: owner });
    raw = await exports.default.fetch(new Request("http://localhost/v1/members", { headers: { authorization: `Bearer ${owner}` } }));
    if (windowOf() === window) break;
  }
  expectError(limited!, 429, "rate_limited");
  expect(raw!.status).toBe(429);
  expect(raw!.headers.get("retry-after")).toBe("10");

  // Meanwhile: another member's reads, the runtime resolves and the bare vault hop all pass.
  expect((await call("GET", "/v1/credentials", { token: other.token })).status).toBe(200);
  for (let i = 0; i < 20; i++) {
    const r = await resolve();
    expect(r.status, r.text).toBe(200);
    expect(r.body.ok).toBe(true);
  }
  expect((await call("GET", "/v1/ping", { token: runtime })).status).toBe(200);
  // Writes are not management reads: the limited member can still revoke or set.
  expect((await call("POST", "/v1/credentials", { token: owner, body: { app: "exa", slug: "second", fields: { apiKey: `exa-${uid(24)}` } } })).status).toBe(200);
}, 60_000);

