import { describe, expect, it } from "vitest";
import { adminToken, alice, baseUrl, Machine, tag } from "./helpers";

/** `orgs list|create` (SPEC section 12). The CLI tests' stack has a PLATFORM_ADMIN_TOKEN (test/cli/global-setup.ts). */
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

  it("orgs create with the operator token creates the org and prints the owner invitation link alone on stdout", async () => {
    const slug = `newco-${tag()}`;
    const m = new Machine({ KEYSTROKE_PLATFORM_ADMIN_TOKEN: adminToken });
    const r = await m.run(["orgs", "create", slug, "--name", "New Co", "--owner-email", "Owner@NewCo.test"]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toBe(`Created org ${slug} (New Co). The owner invitation for owner@newco.test is shown once:\n`);
    expect(r.stdout).toMatch(new RegExp(`^${baseUrl}/invitations/[a-z0-9]+\\.[A-Za-z0-9_-]{43}\n$`));
    // The link is live: its page sends a visitor to sign in first, and back.
    const link = new URL(r.stdout.trim());
    const page = await fetch(link, { redirect: "manual" });
    expect(page.status).toBe(303);
    expect(page.headers.get("location")).toBe(`/signin?next=${encodeURIComponent(link.pathname)}`);
    // The slug is taken now: the server's conflict, naming the field (--json: the envelope on stderr).
    const again = await m.run(["--json", "orgs", "create", slug, "--name", "Again", "--owner-email", "x@newco.test"]);
    expect(again.code).toBe(1);
    expect(JSON.parse(again.stderr)).toMatchObject({ error: { code: "conflict", details: { field: "slug" } } });
    const json = await m.json(["orgs", "create", `${slug}-2`, "--name", "New Co 2", "--owner-email", "owner@newco.test"]);
    expect(json).toMatchObject({ org: { slug: `${slug}-2`, name: "New Co 2" }, invitation: { email: "owner@newco.test", role: "owner", url: expect.stringContaining("/invitations/") } });
  });
});
