import { describe, expect, it } from "vitest";
import { alice, Machine } from "./helpers";

/** `orgs list|create` (SPEC section 12). The dev stack has no PLATFORM_ADMIN_TOKEN, so create is tested for its refusals. */
describe("orgs from the CLI", () => {
  it("orgs list --json shows acme as the current org", async () => {
    const { orgs } = await new Machine({ KEYSTROKE_TOKEN: alice }).json(["orgs", "list"]);
    expect(orgs.filter((o: { current: boolean }) => o.current)).toEqual([expect.objectContaining({ slug: "acme", current: true })]);
  });

  it("orgs create without the admin token fails with one line and exit 2, before any request", async () => {
    const r = await new Machine({ KEYSTROKE_TOKEN: alice }).run(["orgs", "create", "newco", "--name", "New Co", "--owner-email", "o@newco.test"]);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe("");
    expect(r.stderr).toMatch(/^keystroke: orgs create needs the platform admin token: set KEYSTROKE_PLATFORM_ADMIN_TOKEN or pass --admin-token-stdin\.\n$/);
  });

  it("orgs create with a token the deployment does not accept fails with the server's one line", async () => {
    const r = await new Machine({ KEYSTROKE_PLATFORM_ADMIN_TOKEN: "not-the-operator-token" }).run(["orgs", "create", "newco", "--name", "New Co", "--owner-email", "o@newco.test"]);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe("");
    expect(r.stderr.trim().split("\n")).toHaveLength(1);
    expect(r.stderr).toMatch(/operator API is off|platform admin token/);
  });
});
