import { execFileSync } from "node:child_process";
import { existsSync, readFileSync, statSync, writeFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { CliConfig } from "../../lib/schemas/cli";
import { alice, baseUrl, bin, Machine, tempDir } from "./helpers";

/** Every command of SPEC section 5, as `keystroke <path> --help` reaches it. */
const COMMANDS = [
  "auth login", "auth status", "auth logout",
  "target", "target use",
  "apps list",
  "connect",
  "credentials set", "credentials list", "credentials get", "credentials rename", "credentials update", "credentials rotate-key", "credentials revoke",
  "credentials consumers", "credentials assign", "credentials unassign", "credentials assignments", "credentials resolve",
  "channels list", "channels available", "channels bind", "channels unbind", "channels sessions",
  "api-keys create", "api-keys list", "api-keys revoke",
  "runtime-tokens create", "runtime-tokens list", "runtime-tokens revoke",
  "projects list", "projects create", "projects rename", "projects delete", "projects members add", "projects members remove",
  "orgs list", "orgs create",
];

const mode = (file: string) => statSync(file).mode & 0o777;

describe("the keystroke binary", () => {
  it("answers --help on every command, and --version", async () => {
    const m = new Machine();
    for (const cmd of COMMANDS) {
      const r = await m.run([...cmd.split(" "), "--help"]);
      expect(r.code, cmd).toBe(0);
      expect(r.stdout, cmd).toMatch(new RegExp(`^Usage: keystroke ${cmd}`));
      expect(r.stdout, cmd).toContain("--help");
    }
    const top = await m.run(["--help"]);
    for (const flag of ["--json", "--org <slug>", "--project <slug>", "--target <target>"]) expect(top.stdout).toContain(flag);
    const version = await m.run(["--version"]);
    expect(version).toMatchObject({ code: 0, stdout: expect.stringMatching(/^\d+\.\d+\.\d+\n$/) });
  });

  it("is the package's bin, built by `prepare` into one file", () => {
    const pkg = JSON.parse(readFileSync(path.resolve(import.meta.dirname, "../../package.json"), "utf8"));
    expect(pkg.bin).toEqual({ keystroke: "dist/keystroke.mjs" });
    expect(pkg.scripts.prepare).toBe("node cli/build.mjs");
    expect(readFileSync(path.resolve(import.meta.dirname, "../../dist/keystroke.mjs"), "utf8")).toMatch(/^#!\/usr\/bin\/env node\n/);
  });

  it("runs on the machine's own node too (the bundle targets Node 20)", () => {
    // `npm run` puts the pinned Node 22 first on PATH; the system's node is what `npx keystroke` may get.
    const dirs = (process.env.PATH ?? "").split(path.delimiter).filter((d) => !d.includes("node_modules"));
    const system = dirs.map((d) => path.join(d, "node")).find((f) => existsSync(f));
    if (system === undefined) return; // no node outside node_modules: nothing else to run on
    const project = tempDir("ks-cli-node-");
    const env = { PATH: process.env.PATH, XDG_CONFIG_HOME: project, KEYSTROKE_API_URL: "http://127.0.0.1:59999" };
    const run = (...args: string[]) => execFileSync(system, [bin, ...args], { cwd: project, env, encoding: "utf8" });
    expect(Number(/^v(\d+)/.exec(execFileSync(system, ["--version"], { encoding: "utf8" }))![1])).toBeGreaterThanOrEqual(20);
    expect(run("--help")).toMatch(/^Usage: keystroke/);
    expect(run("--target", "local", "credentials", "set", "exa", "--set", "apiKey=exa-node20-1234567890ab")).toContain("exa/org/default");
    expect(run("--target", "local", "credentials", "resolve", "exa")).toMatch(/^exa -> exa\/org\/default/);
  });

  it("exits 2 with one line on stderr for usage errors, 0 on success", async () => {
    const m = new Machine();
    const unknown = await m.run(["credentails", "list"]);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr.trim().split("\n")).toHaveLength(1);
    expect(unknown.stderr).toMatch(/^keystroke: unknown command 'credentails'/);

    const badOption = await m.run(["credentials", "list", "--nope"]);
    expect(badOption).toMatchObject({ code: 2, stderr: expect.stringMatching(/^keystroke: unknown option '--nope'.*\n$/) });

    const badTarget = await m.run(["--target", "moon", "target"]);
    expect(badTarget.code).toBe(2);
    expect(badTarget.stderr).toMatch(/--target/);

    const noSub = await m.run(["credentials"]);
    expect(noSub.code).toBe(2);
    expect(noSub.stderr).toContain("Usage: keystroke credentials");

    const badOrg = await m.run(["--org", "Not A Slug", "target"]);
    expect(badOrg).toMatchObject({ code: 2, stderr: expect.stringMatching(/^keystroke: --org must be/) });
  });

  it("writes errors as one JSON line on stderr with --json", async () => {
    const m = new Machine();
    const r = await m.run(["--json", "credentials", "list"]);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe("");
    const lines = r.stderr.trim().split("\n");
    expect(lines).toHaveLength(1);
    expect(JSON.parse(lines[0]!)).toEqual({ error: { code: "unauthorized", message: `Not signed in at ${baseUrl}.`, fix: expect.stringContaining("keystroke auth login") } });
  });

  it("keeps its config in $XDG_CONFIG_HOME/keystroke with mode 0600, parsed on every read", async () => {
    const m = new Machine();
    expect((await m.run(["auth", "login", "--token", alice])).code).toBe(0);
    const file = path.join(m.config, "keystroke", "config.json");
    expect(mode(file)).toBe(0o600);
    expect(mode(path.dirname(file))).toBe(0o700);
    const config = CliConfig.parse(JSON.parse(readFileSync(file, "utf8")));
    expect(config).toMatchObject({ org: "acme", target: "cloud", logins: [{ org: "acme", api_url: baseUrl, token_kind: "user", member: "alice@acme.test", via: "token" }] });

    writeFileSync(file, JSON.stringify({ version: 1, target: "sideways" }));
    const broken = await m.run(["target"]);
    expect(broken.code).toBe(1);
    expect(broken.stderr).toMatch(/config\.json is invalid at target\. Fix:/);
    writeFileSync(file, "{not json");
    expect((await m.run(["target"])).stderr).toMatch(/is not valid JSON/);
  });

  it("never echoes a malformed KEYSTROKE_TOKEN", async () => {
    const m = new Machine({ KEYSTROKE_TOKEN: "sk-live-not-a-keystroke-token-123" });
    const r = await m.run(["credentials", "list"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/KEYSTROKE_TOKEN does not look like a Keystroke token/);
    expect(r.stderr).not.toContain("sk-live");
  });
});

describe("targets", () => {
  it("shows and switches the active target; --target overrides it for one command", async () => {
    const m = new Machine();
    expect(await m.json(["target"])).toMatchObject({ target: "cloud", source: "config", api_url: baseUrl, api_url_source: "KEYSTROKE_API_URL" });

    const local = await m.run(["target", "use", "local"]);
    expect(local.code).toBe(0);
    expect(local.stdout).toContain("Target:  local");
    expect(await m.json(["target"])).toMatchObject({ target: "local", project_dir: m.project, store: path.join(m.project, ".keystroke", "credentials.json") });
    expect(await m.json(["--target", "cloud", "target"])).toMatchObject({ target: "cloud", source: "--target" });

    const noEnv = new Machine({ KEYSTROKE_API_URL: undefined });
    expect((await noEnv.run(["target", "use", "cloud", "--url", "http://keystroke.example.com:9000/"])).code).toBe(0);
    expect(await noEnv.json(["target"])).toMatchObject({ target: "cloud", api_url: "http://keystroke.example.com:9000", api_url_source: "config" });
  });

  it("refuses a wrong target or --url on the local target", async () => {
    const m = new Machine();
    expect(await m.run(["target", "use", "moon"])).toMatchObject({ code: 2, stderr: expect.stringMatching(/Unknown target `moon`/) });
    expect(await m.run(["target", "use", "local", "--url", "http://x"])).toMatchObject({ code: 2, stderr: expect.stringMatching(/--url is for the cloud target/) });
    expect(await m.run(["target", "use", "cloud", "--url", "ftp://x"])).toMatchObject({ code: 2, stderr: expect.stringMatching(/http\(s\) URL/) });
  });

  it("says where the API is when it cannot be reached", async () => {
    const m = new Machine({ KEYSTROKE_API_URL: "http://127.0.0.1:59999", KEYSTROKE_TOKEN: alice });
    const r = await m.run(["credentials", "list"]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^keystroke: Cannot reach the Keystroke API at http:\/\/127\.0\.0\.1:59999 \(ECONNREFUSED\)\. Fix: Start it with `npm run dev`/);
  });
});
