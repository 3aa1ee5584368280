import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { alice, apiLogin, bin, bob, carol, http, Machine, runtime, seed } from "./helpers";

const configText = (m: Machine) => readFileSync(path.join(m.config, "keystroke", "config.json"), "utf8");

describe("auth login in the browser (approved over the API, as the page does)", () => {
  it("prints the URL and code, waits, and stores the approver's new token", async () => {
    const m = new Machine();
    const login = m.start(["auth", "login", "--org", "acme"]);
    const [, url, code] = await login.waitFor(/(http:\/\/\S+\/cli-login\/(?:\S+))\s+Code: (\S+)/);
    const id = url!.split("/").pop()!;
    const approved = await http("POST", `/v1/cli-logins/${id}/approve`, { code }, bob);
    expect(approved).toMatchObject({ status: 200, body: { status: "approved" } });
    // The approval view never carries the code: the member has to type it from the terminal.
    expect(approved.body).not.toHaveProperty("code");

    const r = await login.done;
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(`Signed in to acme at ${seed.api_url} as bob@acme.test (admin).\n`);
    // stderr is a pipe here, not a terminal: the URL and code, and no spinner frames.
    expect(r.stderr).toBe(`To sign in to acme, open this page and type the code there:\n\n  ${url}\n\n  Code: ${code}\n\n`);
    const status = await m.json(["auth", "status"]);
    expect(status).toMatchObject({ org: { slug: "acme" }, member: { email: "bob@acme.test" }, token: { kind: "user", source: "config", expires_at: expect.any(String) } });
    // The token is stored, never printed.
    const token = JSON.parse(configText(m)).logins[0].token as string;
    expect(token).toMatch(/^ks_user_/);
    expect(r.stdout + r.stderr).not.toContain(token);
    expect(JSON.stringify(status)).not.toContain(token);
  });

  it("waits with a spinner when stderr is a terminal", async () => {
    // util-linux `script` gives the CLI a pseudo-terminal; everything it draws comes back on stdout.
    const m = new Machine();
    const quote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;
    const child = spawn("script", ["-qec", [process.execPath, bin, "auth", "login", "--org", "acme"].map(quote).join(" "), "/dev/null"], { cwd: m.project, env: m.env as NodeJS.ProcessEnv });
    let screen = "";
    child.stdout.on("data", (d) => (screen += String(d)));
    const closed = new Promise<number | null>((resolve) => child.on("close", resolve));
    for (let i = 0; i < 100 && !/Waiting for approval/.test(screen); i++) await new Promise((r) => setTimeout(r, 100));
    expect(screen).toMatch(/[⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏] Waiting for approval in the browser/);
    const [, id, code] = /\/cli-login\/(\S+)\s+Code: (\S+)/.exec(screen)!;
    await http("POST", `/v1/cli-logins/${id}/approve`, { code }, alice);
    expect(await closed).toBe(0);
    expect(screen).toContain("\r\x1b[2K");
    expect(screen).toContain("Signed in to acme");
  });

  it("stops when the member denies it", async () => {
    const m = new Machine();
    const login = m.start(["auth", "login", "--org", "acme"]);
    const [, id, code] = await login.waitFor(/\/cli-login\/(\S+)\s+Code: (\S+)/);
    expect((await http("POST", `/v1/cli-logins/${id}/deny`, { code }, carol)).status).toBe(200);
    const r = await login.done;
    expect(r).toMatchObject({ code: 1, stderr: expect.stringContaining("keystroke: The login was denied in the browser.") });
  });

  it("needs the org, and the org must exist", async () => {
    const m = new Machine();
    expect(await m.run(["auth", "login"])).toMatchObject({ code: 2, stderr: expect.stringMatching(/Which org\? Pass --org <slug>/) });
    expect(await m.run(["auth", "login", "--org", "nowhere"])).toMatchObject({ code: 1, stderr: expect.stringMatching(/There is no org `nowhere`/) });
  });
});

describe("the /v1/cli-logins handoff", () => {
  it("answers the token exactly once, only to the holder of the secret", async () => {
    const { created, poll } = await apiLogin(alice);
    expect(created.body).toMatchObject({ id: expect.stringMatching(/^cli_/), url: expect.stringContaining("/cli-login/cli_"), code: expect.stringMatching(/^[A-Z2-9]{4}-[A-Z2-9]{4}$/) });
    const wrong = await http("GET", `/v1/cli-logins/${created.body.id}`, undefined, "A".repeat(43));
    expect(wrong.status).toBe(404);
    // A platform token is not a login secret.
    expect((await http("GET", `/v1/cli-logins/${created.body.id}`, undefined, alice)).status).toBe(401);
    expect((await http("POST", "/v1/cli-logins", { org: "acme" })).body.error).toMatchObject({ code: "unauthorized", fix: "Run `keystroke auth login`." });
    const first = await poll();
    expect(first).toMatchObject({ status: 200, body: { status: "approved", token: expect.stringMatching(/^ks_user_/) } });
    expect((await poll()).status).toBe(404);
    const me = await http("GET", "/v1/me", undefined, first.body.token);
    expect(me.body.member.email).toBe("alice@acme.test");
  });

  it("keeps a login pending until approved, and checks the code", async () => {
    const secret = "B".repeat(43);
    const created = await http("POST", "/v1/cli-logins", { org: "acme" }, secret);
    expect((await http("GET", `/v1/cli-logins/${created.body.id}`, undefined, secret)).body).toMatchObject({ status: "pending" });
    const badCode = await http("POST", `/v1/cli-logins/${created.body.id}/approve`, { code: "AAAA-AAAA" }, alice);
    expect(badCode).toMatchObject({ status: 400, body: { error: { code: "invalid_request", details: { field: "code" } } } });
    // Only member tokens approve: not an API key, not the runtime token.
    expect((await http("POST", `/v1/cli-logins/${created.body.id}/approve`, { code: created.body.code }, runtime)).status).toBe(403);
    expect((await http("GET", `/v1/cli-logins/${created.body.id}`, undefined, secret)).body).toMatchObject({ status: "pending" });
  });
});

describe("auth tokens", () => {
  it("lists the member's live tokens, marks the CLI's own, and revokes one of them only", async () => {
    const { poll } = await apiLogin(bob);
    const token = (await poll()).body.token as string;
    const m = new Machine();
    expect((await m.run(["auth", "login", "--token", token])).code).toBe(0);
    const { tokens } = await m.json<{ tokens: { id: string; name: string; current: boolean; expires_at: string | null }[] }>(["auth", "tokens"]);
    const own = tokens.find((t) => t.current)!;
    expect(own).toMatchObject({ name: "cli login", expires_at: expect.any(String) });
    expect(JSON.stringify(tokens)).not.toContain(token);
    const table = await m.run(["auth", "tokens"]);
    expect(table.stdout).toMatch(new RegExp(`^${own.id} \\* +member token +cli login `, "m"));
    expect(table.stdout).toContain("* the token this CLI uses");

    const alices = (await http("GET", "/v1/me/tokens", undefined, alice)).body.tokens as { id: string; current: boolean }[];
    const other = await m.run(["auth", "tokens", "--revoke", alices.find((t) => t.current)!.id]);
    expect(other).toMatchObject({ code: 1, stderr: expect.stringMatching(/You have no live token/) });
    expect((await http("GET", "/v1/me", undefined, alice)).status).toBe(200);

    const revoked = await m.run(["auth", "tokens", "--revoke", own.id]);
    expect(revoked).toMatchObject({ code: 0, stdout: `Revoked member token ${own.id} (cli login): it was this CLI's own token, sign in again.\n` });
    expect((await http("GET", "/v1/me", undefined, token)).status).toBe(401);
  });
});

describe("auth with a token (headless), status and logout", () => {
  it("logs in with --token or stdin, checks the org, and signs out without revoking a token it did not mint", async () => {
    const m = new Machine();
    const r = await m.run(["auth", "login", "--token", alice]);
    expect(r).toMatchObject({ code: 0, stdout: `Signed in to acme at ${seed.api_url} as alice@acme.test (owner).\n` });
    const human = await m.run(["auth", "status"]);
    expect(human.stdout).toMatch(/Member:  alice@acme\.test \(owner\)/);
    expect(human.stdout).toMatch(/Token:   ks_user_…\w{4}, member token from .*config\.json; does not expire/);
    expect(human.stdout).not.toContain(alice);

    const wrongOrg = await new Machine().run(["--org", "other", "auth", "login", "--token", alice]);
    // Conflicting flags: a usage error (docs/cli.md: invalid_request exits 2).
    expect(wrongOrg).toMatchObject({ code: 2, stderr: expect.stringMatching(/belongs to org acme, not other/) });

    const viaStdin = new Machine();
    expect((await viaStdin.run(["auth", "login", "--token", "-"], { input: `${carol}\n` })).stdout).toContain("carol@acme.test (builder)");

    const out = await m.run(["auth", "logout"]);
    expect(out).toMatchObject({ code: 0, stdout: `Signed out of acme at ${seed.api_url}.\n` });
    expect((await http("GET", "/v1/me", undefined, alice)).status).toBe(200);
    expect(await m.run(["auth", "status"])).toMatchObject({ code: 1, stderr: expect.stringMatching(/Not signed in/) });
    expect(await m.run(["auth", "logout"])).toMatchObject({ code: 0, stdout: `Not signed in at ${seed.api_url}.\n` });
  });

  it("revokes a browser-login token on logout", async () => {
    const { poll } = await apiLogin(carol);
    const token = (await poll()).body.token as string;
    const m = new Machine();
    expect((await m.run(["auth", "login", "--token", token])).code).toBe(0);
    // The server revokes only tokens a CLI login minted (the seed's survived above), however the CLI stored it.
    expect(await m.json(["auth", "logout"])).toEqual({ signed_out: true, org: "acme", revoked: true });
    expect((await http("GET", "/v1/me", undefined, token)).body.error.message).toMatch(/revoked/);
  });

  it("reports an expired token with the fix, on every command", async () => {
    const { poll } = await apiLogin(alice, { token_ttl_seconds: 1 });
    const token = (await poll()).body.token as string;
    await new Promise((r) => setTimeout(r, 1_200));
    const m = new Machine({ KEYSTROKE_TOKEN: token });
    for (const args of [["credentials", "list"], ["auth", "status"]]) {
      const r = await m.run(args);
      expect(r.code).toBe(1);
      expect(r.stderr).toBe("keystroke: The token has expired. Fix: Sign in again (`keystroke auth login`).\n");
    }
    const json = await m.run(["--json", "apps", "list"]);
    expect(JSON.parse(json.stderr)).toMatchObject({ error: { code: "unauthorized", message: "The token has expired." } });
  });

  it("will not forget a token that comes from the environment", async () => {
    const r = await new Machine({ KEYSTROKE_TOKEN: alice }).run(["auth", "logout"]);
    expect(r).toMatchObject({ code: 1, stderr: expect.stringMatching(/KEYSTROKE_TOKEN is set/) });
  });
});
