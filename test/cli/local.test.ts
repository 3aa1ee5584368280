import { mkdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { Machine } from "./helpers";

/** A machine whose config says `target use local`, with no token and no server in the way. */
async function localMachine() {
  const m = new Machine({ KEYSTROKE_API_URL: "http://127.0.0.1:9" });
  expect((await m.run(["target", "use", "local"])).code).toBe(0);
  return m;
}

const storeFile = (m: Machine) => path.join(m.project, ".keystroke", "credentials.json");

describe("the local target", () => {
  it("stores credentials in .keystroke/credentials.json (0600) and git-ignores it", async () => {
    const m = await localMachine();
    writeFileSync(path.join(m.project, ".gitignore"), "node_modules");
    const secret = "exa-local-1234567890abcdef";
    const set = await m.run(["credentials", "set", "exa", "--set", `apiKey=${secret}`, "--scope", "org", "--scope", "project", "--project-slug", "support", "--scope", "project", "--project-slug", "growth", "--name", "work"]);
    expect(set.code, set.stderr).toBe(0);
    expect(set.stdout).not.toContain(secret);
    expect(statSync(storeFile(m)).mode & 0o777).toBe(0o600);
    expect(statSync(path.dirname(storeFile(m))).mode & 0o777).toBe(0o700);
    expect(readFileSync(path.join(m.project, ".gitignore"), "utf8")).toBe("node_modules\n.keystroke/\n");
    const { credentials } = await m.json(["credentials", "list"]);
    expect(credentials.map((c: { ref: string }) => c.ref)).toEqual(["exa/org/work", "exa/project/growth/work", "exa/project/support/work"]);
    expect(credentials[0]).toMatchObject({ preview: "exa-…cdef", kind: "api_key", created_by: "local" });

    // A second set does not add .keystroke/ to .gitignore again; a subfolder finds the same store.
    await m.run(["credentials", "set", "exa", "--set", `apiKey=${secret}`, "--name", "work"]);
    expect(readFileSync(path.join(m.project, ".gitignore"), "utf8").match(/\.keystroke/g)).toHaveLength(1);
    mkdirSync(path.join(m.project, "src", "deep"), { recursive: true });
    expect((await m.json(["credentials", "list"], { cwd: path.join(m.project, "src", "deep") })).credentials).toHaveLength(3);
    // Local keys never need attention (no expiry, no probe, no last error); a bad filter is a usage error, as on the cloud.
    expect((await m.json(["credentials", "list", "--attention"])).credentials).toEqual([]);
    expect((await m.run(["credentials", "list", "--app", "Bad App"])).code).toBe(2);
  });

  it("reads .env by the <APP>_<FIELD> convention and resolves with the same resolver", async () => {
    const m = await localMachine();
    writeFileSync(path.join(m.project, ".env"), "EXA_API_KEY=exa-from-env-1234567890ab\nOPENAI_API_KEY=sk-env-1234567890abcdef\nOPENAI_ORGANIZATION=org-42\nUNRELATED=1\n");
    const { credentials } = await m.json(["credentials", "list"]);
    expect(credentials.map((c: { ref: string; name: string }) => [c.ref, c.name])).toEqual([["exa/org/env", ".env"], ["openai/org/env", ".env"]]);
    const one = await m.run(["credentials", "resolve", "exa"]);
    expect(one).toMatchObject({ code: 0, stdout: expect.stringMatching(/^exa -> exa\/org\/env\n {2}rule: {5}org \(step 5, the org\)/) });

    // A stored org credential next to .env: ambiguous, never picked by recency.
    await m.run(["credentials", "set", "exa", "--set", "apiKey=exa-stored-1234567890ab"]);
    const two = await m.run(["credentials", "resolve", "exa"]);
    expect(two.code).toBe(1);
    expect(two.stdout).toContain("exa: ambiguous_credentials");
    expect((await m.run(["credentials", "update", "exa/org/env", "--default"])).code).toBe(0);
    expect((await m.json(["credentials", "resolve", "exa"])).results[0]).toMatchObject({ rule: "org", credential: { ref: "exa/org/env", default: true } });
    expect((await m.run(["credentials", "update", "exa/org/default", "--default"])).code).toBe(0);
    expect((await m.json(["credentials", "resolve", "exa"])).results[0]).toMatchObject({ credential: { ref: "exa/org/default" } });

    // .env credentials are edited in .env, not through the CLI.
    const revoke = await m.run(["credentials", "revoke", "exa/org/env", "--yes"]);
    expect(revoke).toMatchObject({ code: 2, stderr: expect.stringMatching(/exa\/org\/env comes from \.env \(EXA_API_KEY\); it cannot be revoked here\. Fix: Edit .*\.env instead\./) });

    const missing = await m.run(["credentials", "resolve", "anthropic"]);
    expect(missing.stdout).toContain("fix:      Set one: `keystroke credentials set anthropic --set apiKey=@env:ANTHROPIC_API_KEY`, or add ANTHROPIC_API_KEY to .env.");
  });

  it("assigns and resolves for a consumer, with and without --consumer", async () => {
    const m = await localMachine();
    await m.json(["credentials", "set", "linear-key", "--set", "token=lin-a-1234567890", "--name", "a"]);
    await m.json(["credentials", "set", "linear-key", "--set", "token=lin-b-1234567890", "--name", "b"]);
    expect((await m.run(["credentials", "assign", "--agent", "helper", "--credential", "linear-key/org/a"])).stdout).toBe("Assigned linear-key/org/a to agent helper, every consumer (*).\n");
    expect((await m.run(["credentials", "assign", "--agent", "helper", "--consumer", "search", "--credential", "b"])).code).toBe(0);
    const r = async (consumer: string) => (await m.json(["credentials", "resolve", "linear-key", "--agent", "helper", "--consumer", consumer])).results[0];
    expect(await r("search")).toMatchObject({ rule: "assignment", credential: { ref: "linear-key/org/b" } });
    expect(await r("write")).toMatchObject({ rule: "assignment_wildcard", credential: { ref: "linear-key/org/a" } });
    expect((await m.json(["credentials", "consumers", "--agent", "helper"])).consumers.map((c: { id: string }) => c.id)).toEqual(["search"]);
    expect((await m.json(["credentials", "assignments"])).assignments).toHaveLength(2);
    // Keystroke step ids carry `#` (SPEC section 4); the local target takes them like the cloud.
    expect((await m.run(["credentials", "assign", "--workflow", "signup", "--consumer", "step:send#0", "--credential", "b"])).code).toBe(0);
    expect((await m.json(["credentials", "resolve", "linear-key", "--workflow", "signup", "--consumer", "step:send#0"])).results[0]).toMatchObject({ rule: "assignment", credential: { ref: "linear-key/org/b" } });
    expect((await m.run(["credentials", "unassign", "--workflow", "signup", "--consumer", "step:send#0", "--app", "linear-key"])).code).toBe(0);
    expect((await m.run(["credentials", "unassign", "--agent", "helper", "--app", "linear-key"])).code).toBe(0);
    const after = await m.run(["--json", "credentials", "resolve", "linear-key", "--agent", "helper", "--consumer", "write"]);
    expect(after.code).toBe(1);
    expect(JSON.parse(after.stdout).results[0]).toMatchObject({ ok: false, error: { code: "ambiguous_credentials" } });
    expect((await m.json(["apps", "list", "--search", "linear-key"])).apps).toEqual([expect.objectContaining({ slug: "linear-key", custom: true, connected: 2 })]);
  });

  it("refuses rotate-key and connect with a clear message, before reading any secret", async () => {
    const m = await localMachine();
    await m.json(["credentials", "set", "exa", "--set", "apiKey=exa-stored-1234567890ab"]);
    const rotate = await m.run(["credentials", "rotate-key", "exa/org/default", "--set", "apiKey=@env:NOT_SET_ANYWHERE"]);
    expect(rotate.code).toBe(2);
    expect(rotate.stderr).toBe(
      "keystroke: rotate-key works only on the cloud target: the local store keeps plain values; run `keystroke credentials set` again with the same --name and --scope to replace one. Fix: Run `keystroke target use cloud` or pass `--target cloud`.\n",
    );
    const connect = await m.run(["connect", "github"]);
    expect(connect).toMatchObject({ code: 2, stderr: expect.stringMatching(/^keystroke: connect works only on the cloud target: the connect flow runs in the web app/) });
    for (const args of [["api-keys", "list"], ["channels", "list"]]) expect((await m.run(args)).code).toBe(2);
    // --target cloud overrides the config for one command (and then needs the server).
    expect(await m.run(["--target", "cloud", "credentials", "list"])).toMatchObject({ code: 1, stderr: expect.stringMatching(/Not signed in/) });
  });
});

describe("untrusted text on the terminal", () => {
  it("never writes raw control or bidi characters from stored names; --json still decodes to the stored value", async () => {
    const m = await localMachine();
    // The rule refuses such a name now...
    const refused = await m.run(["credentials", "set", "exa", "--set", "apiKey=exa-local-1234567890abcdef", "--name", "evil\u001b[2J"]);
    expect(refused).toMatchObject({ code: 2, stderr: expect.stringContaining("`name` must not contain control characters") });
    // ...but a store written before it (or by hand) may hold one.
    expect((await m.run(["credentials", "set", "exa", "--set", "apiKey=exa-local-1234567890abcdef", "--name", "work"])).code).toBe(0);
    const store = JSON.parse(readFileSync(storeFile(m), "utf8"));
    const name = "evil\u001b]0;pwned\u0007\u001b[2J\r\u202egnp.exe\u009b";
    store.credentials[0].name = name;
    writeFileSync(storeFile(m), JSON.stringify(store));

    const list = await m.run(["credentials", "list"]);
    expect(list.code).toBe(0);
    expect(list.stdout).toContain("evil\\u001b]0;pwned\\u0007\\u001b[2J\\u000d\\u202egnp.exe\\u009b");
    const json = await m.run(["credentials", "list", "--json"]);
    for (const out of [list.stdout, list.stderr, json.stdout]) expect(out).not.toMatch(/[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/);
    expect(JSON.parse(json.stdout).credentials[0].name).toBe(name);
  });
});
