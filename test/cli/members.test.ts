import { describe, expect, it } from "vitest";
import { alice, carol, Machine, tag } from "./helpers";

/** `members …` and `invitations …` (SPEC section 12, issue 13 build 2) against the dev stack. */
describe("members and invitations from the CLI", () => {
  it("members invite prints the link once; invitations list never shows it; revoke; set-role and remove by email", async () => {
    const owner = new Machine({ KEYSTROKE_TOKEN: alice });
    const email = `cli-${tag()}@acme.test`;
    const made = await owner.run(["members", "invite", email, "--role", "builder", "--project-role", "support"]);
    expect(made.code, made.stderr).toBe(0);
    const url = made.stdout.trim();
    expect(url).toMatch(/\/invitations\/o[a-z2-7]+\.[A-Za-z0-9_-]+$/);
    expect(made.stderr).toMatch(/not shown again/);
    const { invitations } = await owner.json(["invitations", "list"]);
    const inv = invitations.find((i: { email: string }) => i.email === email);
    expect(inv).toMatchObject({ role: "builder", projects: [{ project: "support", role: "builder" }], status: "pending" });
    expect((await owner.run(["invitations", "list"])).stdout).not.toContain(url.split(".").pop()!);
    expect(await owner.run(["invitations", "revoke", inv.id])).toMatchObject({ code: 0, stdout: `Revoked the invitation ${inv.id} (${email}).\n` });

    const bad = await owner.run(["members", "invite", "not-an-email"]);
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toMatch(/email/);

    // carol is a builder: bob (an admin) can be changed by alice and back; a builder may not invite.
    expect(await owner.json(["members", "set-role", "bob@acme.test", "builder"])).toMatchObject({ email: "bob@acme.test", role: "builder" });
    expect(await owner.json(["members", "set-role", "bob@acme.test", "admin"])).toMatchObject({ role: "admin" });
    const refused = await new Machine({ KEYSTROKE_TOKEN: carol }).run(["members", "invite", `x-${tag()}@acme.test`]);
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toMatch(/owners and admins/);
    const list = await owner.json(["members", "list"]);
    expect(list.members.map((m: { email: string }) => m.email)).toContain("carol@acme.test");
    const unknown = await owner.run(["members", "remove", "nobody@acme.test"]);
    expect(unknown.code).not.toBe(0);
    expect(unknown.stderr).toMatch(/No member/);
  });
});
