import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { routeKvKey } from "../../lib/slack/routing";
import { seed } from "./helpers";

/** The Directory owns Slack routes and is the only writer of their KV cache (README, Slack gateway). */
describe("the Slack route cache", () => {
  it("is written by the Directory on claim, on release and on a lookup after a KV miss", async () => {
    const s = await seed();
    const directory = env.DIRECTORY.getByName("global");
    const route = "team:T0CACHE0001";
    const kv = () => env.ROUTES.get(routeKvKey(route));

    expect(await directory.claimSlackRoute(route, s.org.id)).toEqual({ ok: true });
    expect(await kv()).toBe(s.org.id);

    // A miss (KV lost the key) asks the Directory, which re-fills KV itself.
    await env.ROUTES.delete(routeKvKey(route));
    expect(await directory.slackRoute(route)).toBe(s.org.id);
    expect(await kv()).toBe(s.org.id);

    // Another org's stale release neither drops the route nor its cache.
    await env.ROUTES.delete(routeKvKey(route));
    expect(await directory.releaseSlackRoute(route, "someotherorg")).toBe(false);
    expect(await kv()).toBe(s.org.id);

    expect(await directory.releaseSlackRoute(route, s.org.id)).toBe(true);
    expect(await kv()).toBeNull();
    expect(await directory.slackRoute(route)).toBeNull();
  });
});
