import { env } from "cloudflare:workers";
import { expect, it } from "vitest";
import { seed } from "./helpers";

/**
 * Issue 12, build 2, through this worker's own binding: VAULT_DOOR (the SlackDoor) has the route
 * lookup and the hand-off, and nothing a member, the connect flow or dev mode would use, although
 * DEV_MODE is on in this project. The full matrix per door is test/api/doors.test.ts.
 */
it("the slack-events worker's VAULT_DOOR cannot call a member, sign-in or dev method", async () => {
  const s = await seed();
  const door = env.VAULT_DOOR as unknown as Record<string, (...a: unknown[]) => Promise<unknown>>;
  for (const m of ["describeMe", "listCredentials", "createApiKey", "startWebSession", "finishConnect", "provision", "openDevTools", "ensureOrg"]) {
    const e = await door[m]!(s.org.id, s.alice).then(() => null, (err: unknown) => err);
    expect([m, e instanceof Error ? e.message : e]).toEqual([m, expect.stringMatching(/does not implement/)]);
  }
  expect(await env.VAULT_DOOR.findOrgForRoute("team:T0AB1CD2EF")).toBe(s.org.id);
});
