import { describe, expect, it } from "vitest";
import { alice, carol, Machine, tag } from "./helpers";

/** `apps oauth-client set|show|remove` (issue 14 item 1): the secret from stdin, never argv and never printed. */
describe("apps oauth-client from the CLI", () => {
  it("an owner sets (secret on stdin), shows and removes the org's client; a builder is refused; argv takes no secret", async () => {
    const m = new Machine({ KEYSTROKE_TOKEN: alice });
    const secret = `cli-secret-${tag()}${tag()}`;
    const set = await m.run(["apps", "oauth-client", "set", "bitbucket", "--client-id", "cli-bb", "--scope", "repository", "--scope", "account"], { input: `${secret}\n` });
    expect(set.code, set.stderr).toBe(0);
    expect(set.stderr).toBe("Saved bitbucket's OAuth client cli-bb.\n");
    expect(set.stdout).toMatch(/Redirect URI: {2}http:\/\/[^ ]+\/oauth\/callback/);
    const shown = await m.json(["apps", "oauth-client", "show", "bitbucket"]);
    expect(shown).toMatchObject({ app: "bitbucket", connects_with: "org", client: { client_id: "cli-bb", has_secret: true, scopes: ["repository", "account"] } });
    expect(set.stdout + set.stderr + JSON.stringify(shown)).not.toContain(secret);

    const refused = await new Machine({ KEYSTROKE_TOKEN: carol }).run(["apps", "oauth-client", "set", "bitbucket", "--client-id", "x"], { input: "s3cret\n" });
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain("Only org owners and admins manage an app's OAuth client.");
    const argv = await m.run(["apps", "oauth-client", "set", "bitbucket", "--client-id", "x", "--client-secret", "nope"]);
    expect(argv.code).toBe(2);

    expect((await m.run(["apps", "oauth-client", "remove", "bitbucket"])).code).toBe(2); // no terminal, no --yes
    const removed = await m.json(["apps", "oauth-client", "remove", "bitbucket", "--yes"]);
    expect(removed).toMatchObject({ client: null });
  });
});
