import { describe, expect, it } from "vitest";
import { alice, http, Machine, tag, webSession } from "./helpers";

describe("keystroke connect", () => {
  it("prints the connect URL, waits while the web flow runs, then prints the new credential", async () => {
    const m = new Machine({ KEYSTROKE_TOKEN: alice });
    const name = `cli-${tag()}`;
    const running = m.start(["connect", "exa"]);
    const [, url, id] = await running.waitFor(/Open this page to connect exa:\s+(http:\/\/\S+\/connect\/(cs_\w+))/);
    expect(url).toContain(`/connect/${id}`);

    // What the member does in the browser: the API-key form of the same session.
    const web = await webSession("alice@acme.test");
    expect((await web.request("GET", `/connect/${id}`)).status).toBe(200);
    const saved = await web.request("POST", `/connect/${id}`, { csrf: web.csrf, session: id!, target: "org", name, "field.apiKey": "exa-connect-1234567890abcdef" });
    expect(saved.status).toBe(303);

    const r = await running.done;
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(new RegExp(`^Connected exa\\.\\nREF .*\\nexa/org/${name} +${name} +org`));
    expect(r.stdout + r.stderr).not.toContain("exa-connect-1234567890abcdef");
  });

  it("--scopes asks for extra OAuth scopes: printed with the app's defaults and optional ones, kept on the session", async () => {
    const running = new Machine({ KEYSTROKE_TOKEN: alice }).start(["connect", "github", "--scopes", "workflow,gist"]);
    const [, id] = await running.waitFor(/Open this page to connect github:\s+http:\/\/\S+\/connect\/(cs_\w+)/);
    running.child.kill();
    const r = await running.done;
    expect(r.stderr).toContain("Scopes asked for: repo read:user user:email workflow gist\n");
    expect(r.stderr).toMatch(/Optional scopes .*: workflow read:org gist admin:repo_hook\n/);
    expect((await http("GET", `/v1/connect-sessions/${id}`, undefined, alice)).body).toMatchObject({ app: "github", scopes: ["workflow", "gist"] });
  });

  it("--scopes with a space inside one scope is refused in one line naming it, before any session", async () => {
    const r = await new Machine({ KEYSTROKE_TOKEN: alice }).run(["connect", "github", "--scopes", "repo admin:org"]);
    expect(r.code).not.toBe(0);
    expect(r.stderr.trim().split("\n")[0]).toContain("scopes[0]");
  });

  it("refuses an unknown app before waiting", async () => {
    const r = await new Machine({ KEYSTROKE_TOKEN: alice }).run(["connect", `nope-${tag()}`]);
    expect(r.code).not.toBe(0);
    expect(r.stderr.trim().split("\n")).toHaveLength(1);
  });
});
