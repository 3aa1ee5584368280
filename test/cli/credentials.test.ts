import { writeFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { Credential } from "../../lib/schemas/credentials";
import { alice, Machine, runtime, tag } from "./helpers";

/** Signed in as alice (owner) through KEYSTROKE_TOKEN; each test uses its own custom app. */
const signedIn = () => new Machine({ KEYSTROKE_TOKEN: alice });

/** The secret the runtime would get: the only way to see a value, and only with the runtime token. */
async function reveal(m: Machine, app: string): Promise<string> {
  const r = await m.run(["credentials", "resolve", app, "--workflow", "wf", "--consumer", "step", "--reveal"], { env: { KEYSTROKE_TOKEN: runtime } });
  expect(r.code, r.stderr).toBe(0);
  return /^ {2}apiKey: (.+)$/m.exec(r.stdout)![1]!;
}

describe("credentials set", () => {
  it("fans out over the org and two projects, each project scope taking the next --project-slug", async () => {
    const m = signedIn();
    const app = `svc-${tag()}`;
    const secret = `sk-fanout-${tag()}-0123456789abcdef`;
    const r = await m.run(["credentials", "set", app, "--set", `apiKey=${secret}`, "--scope", "org", "--scope", "project", "--project-slug", "support", "--scope", "project", "--project-slug", "growth", "--name", "work"]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^REF +NAME +SCOPE +DEFAULT +STATUS +ACCOUNT +PREVIEW +LAST USED\n/);
    expect(r.stdout).not.toContain(secret);
    const { credentials } = await m.json(["credentials", "list", "--app", app]);
    expect(credentials.map((c: Credential) => c.ref)).toEqual([`${app}/org/work`, `${app}/project/growth/work`, `${app}/project/support/work`]);
    for (const c of credentials) expect(Credential.parse(c).preview).toMatch(/…/);
    expect(JSON.stringify(credentials)).not.toContain(secret);

    // Idempotent: the same set again replaces the values in place, ids unchanged.
    const again = await m.json(["credentials", "set", app, "--set", `apiKey=${secret}-v2`, "--scope", "project", "--project-slug", "growth", "--name", "work"]);
    expect(again.credentials[0].id).toBe(credentials.find((c: Credential) => c.ref === `${app}/project/growth/work`).id);
  });

  it("refuses a --scope project / --project-slug count mismatch as a usage error that says so", async () => {
    const m = signedIn();
    for (const args of [
      ["--scope", "project", "--scope", "project", "--project-slug", "support"],
      ["--project-slug", "support"],
      ["--scope", "project"],
    ]) {
      const r = await m.run(["credentials", "set", "svc-x", "--set", "apiKey=x1234567890", ...args]);
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(/`--scope project` but \d `--project-slug`: each project scope takes the next --project-slug, in order, so the counts must match/);
    }
    expect(await m.run(["credentials", "set", "svc-x", "--set", "apiKey=x", "--scope", "galaxy"])).toMatchObject({ code: 2, stderr: expect.stringMatching(/Allowed: org, user, project/) });
  });

  it("reads @env: from the project's .env, and the shell first", async () => {
    const m = signedIn();
    const app = `svc-${tag()}`;
    writeFileSync(path.join(m.project, ".env"), "# the project's secrets\nSVC_TOKEN=from-dotenv-abcdef1234567890\nOTHER=1\n");
    const set = await m.run(["credentials", "set", app, "--set", "apiKey=@env:SVC_TOKEN"]);
    expect(set.code, set.stderr).toBe(0);
    expect(set.stdout).toContain(`${app}/org/default`);
    expect(await reveal(m, app)).toBe("from-dotenv-abcdef1234567890");

    expect((await m.run(["credentials", "set", app, "--set", "apiKey=@env:SVC_TOKEN"], { env: { SVC_TOKEN: "from-shell-abcdef1234567890" } })).code).toBe(0);
    expect(await reveal(m, app)).toBe("from-shell-abcdef1234567890");

    const missing = await m.run(["credentials", "set", app, "--set", "apiKey=@env:NOT_THERE"]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toBe(`keystroke: \`--set apiKey=@env:NOT_THERE\`: NOT_THERE is set neither in the environment nor in ${path.join(m.project, ".env")}.\n`);
  });

  it("checks fields the way the API does, without echoing values", async () => {
    const m = signedIn();
    const noEq = await m.run(["credentials", "set", "exa", "--set", "sk-oops-pasted-a-secret-here"]);
    expect(noEq.code).toBe(2);
    expect(noEq.stderr).not.toContain("sk-oops");
    const unknownField = await m.run(["credentials", "set", "exa", "--set", "token=sk-abcdef1234567890"]);
    expect(unknownField).toMatchObject({ code: 2, stderr: expect.stringMatching(/Exa has no field `token`\. Fix: Its fields are: apiKey/) });
    expect(unknownField.stderr).not.toContain("sk-abcdef");
    const oauth = await m.run(["credentials", "set", "github", "--set", "token=abc"]);
    expect(oauth).toMatchObject({ code: 2, stderr: expect.stringMatching(/GitHub is an OAuth app.*keystroke connect github/) });
  });

  it("turns --name into the slug and keeps it as the display name", async () => {
    const m = signedIn();
    const app = `svc-${tag()}`;
    const { credentials } = await m.json(["credentials", "set", app, "--set", "apiKey=k-1234567890abcdef", "--name", "Work Account"]);
    expect(credentials[0]).toMatchObject({ ref: `${app}/org/work-account`, name: "Work Account" });

    // Without --name the slug is `default`, and setting it again keeps a display name given since.
    await m.json(["credentials", "set", app, "--set", "apiKey=k-1234567890abcdef"]);
    await m.json(["credentials", "rename", `${app}/org/default`, "Shown name"]);
    const again = await m.json(["credentials", "set", app, "--set", "apiKey=k-2234567890abcdef"]);
    expect(again.credentials[0]).toMatchObject({ ref: `${app}/org/default`, name: "Shown name" });
  });
});

describe("credentials list, get, rename, update, rotate-key, revoke", () => {
  it("manages one credential end to end", async () => {
    const m = signedIn();
    const app = `svc-${tag()}`;
    await m.json(["credentials", "set", app, "--set", "apiKey=first-1234567890abcdef", "--name", "main"]);
    await m.json(["credentials", "set", app, "--set", "apiKey=second-1234567890abcdef", "--name", "backup"]);

    const renamed = await m.run(["credentials", "rename", `${app}/org/main`, "Main key", "--slug", "primary"]);
    expect(renamed).toMatchObject({ code: 0, stdout: `Renamed: ${app}/org/primary is now "Main key".\n` });
    expect(await m.run(["credentials", "update", `${app}/primary`])).toMatchObject({ code: 2, stderr: "keystroke: Nothing to update: pass --default.\n" });
    expect(await m.run(["credentials", "update", `${app}/primary`, "--default"])).toMatchObject({ code: 0, stdout: `${app}/org/primary is now the default ${app} credential at org.\n` });

    const rotated = await m.json(["credentials", "rotate-key", `${app}/org/primary`, "--set", "apiKey=rotated-1234567890abcdef"]);
    expect(rotated).toMatchObject({ ref: `${app}/org/primary`, default: true, rotated_at: expect.any(String), preview: "rot…cdef" });
    expect(await reveal(m, app)).toBe("rotated-1234567890abcdef");

    const get = await m.json(["credentials", "get", `${app}/org/backup`]);
    expect(get).toMatchObject({ slug: "backup", default: false, status: "active" });

    const noYes = await m.run(["credentials", "revoke", `${app}/org/backup`]);
    expect(noYes).toMatchObject({ code: 2, stderr: `keystroke: Revoking ${app}/org/backup needs confirmation and stdin is not a terminal. Fix: Pass --yes.\n` });
    expect(await m.run(["credentials", "revoke", `${app}/org/backup`, "--yes"])).toMatchObject({ code: 0, stdout: `Revoked ${app}/org/backup.\n` });
    const list = await m.run(["credentials", "list", "--app", app]);
    expect(list.stdout).toMatch(new RegExp(`${app}/org/backup +backup +org +revoked +- +-`));
    expect(list.stdout).toMatch(new RegExp(`${app}/org/primary +Main key +org +yes +active`));
  });

  it("lists by scope, with --project naming the project", async () => {
    const m = signedIn();
    const app = `svc-${tag()}`;
    await m.json(["credentials", "set", app, "--set", "apiKey=k-1234567890abcdef", "--scope", "org", "--scope", "project", "--project-slug", "support", "--scope", "project", "--project-slug", "growth"]);
    const refs = async (args: string[]) => (await m.json(["credentials", "list", "--app", app, ...args])).credentials.map((c: Credential) => c.ref);
    expect(await refs(["--scope", "org"])).toEqual([`${app}/org/default`]);
    expect(await refs(["--scope", "project"])).toHaveLength(2);
    expect(await refs(["--project", "growth", "--scope", "project"])).toEqual([`${app}/project/growth/default`]);
  });

  it("refuses an ambiguous reference, listing the candidates and a qualified form", async () => {
    const m = signedIn();
    const app = `svc-${tag()}`;
    const slug = `dup-${tag()}`;
    await m.json(["credentials", "set", app, "--set", "apiKey=k-1234567890abcdef", "--scope", "org", "--scope", "project", "--project-slug", "support", "--name", slug]);
    const r = await m.run(["credentials", "rename", slug, "Renamed"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(`keystroke: \`${slug}\` matches 2 credentials: ${app}/org/${slug}, ${app}/project/support/${slug} Fix: use a qualified reference such as ${app}/org/${slug}\n`);
    const json = await m.run(["--json", "credentials", "update", slug, "--default"]);
    expect(JSON.parse(json.stderr).error).toMatchObject({ code: "invalid_request", details: { candidates: [`${app}/org/${slug}`, `${app}/project/support/${slug}`] } });
    expect((await m.run(["credentials", "update", `project/support/${slug}`, "--default"])).code).toBe(0);
    expect(await m.run(["credentials", "get", `nothing-${tag()}`])).toMatchObject({ code: 1, stderr: expect.stringMatching(/No credential matches .* Fix: Run `keystroke credentials list`/) });
  });
});

describe("apps and api-keys", () => {
  it("lists the catalog and marks what is connected", async () => {
    const m = signedIn();
    const app = `svc-${tag()}`;
    await m.json(["credentials", "set", app, "--set", "apiKey=k-1234567890abcdef"]);
    const human = await m.run(["apps", "list", "--search", "exa"]);
    expect(human.stdout).toMatch(/^APP +NAME +KIND +CATEGORY +CONNECTED\nexa +Exa +api_key/);
    const { apps } = await m.json(["apps", "list"]);
    expect(apps.find((a: { slug: string }) => a.slug === app)).toMatchObject({ custom: true, connected: 1 });
    expect(apps.length).toBeGreaterThan(50);
  });

  it("prints an API key once, at creation, and only previews afterwards", async () => {
    const m = signedIn();
    const name = `ci-${tag()}`;
    const created = await m.run(["api-keys", "create", "--name", name]);
    expect(created.code).toBe(0);
    expect(created.stdout).toMatch(/^ks_key_\w+\n$/);
    expect(created.stderr).toMatch(/Copy it now: it is not shown again/);
    const key = created.stdout.trim();
    const list = await m.run(["api-keys", "list"]);
    expect(list.stdout).toContain(name);
    expect(list.stdout).not.toContain(key);
    const id = new RegExp(`^(key_\\w+) +${name}`, "m").exec(list.stdout)![1]!;
    // The key works as a member credential, then stops working once revoked.
    expect((await new Machine({ KEYSTROKE_TOKEN: key }).run(["credentials", "list"])).code).toBe(0);
    expect(await m.run(["api-keys", "revoke", id])).toMatchObject({ code: 0, stdout: `Revoked API key ${id} (${name}).\n` });
    expect((await new Machine({ KEYSTROKE_TOKEN: key }).run(["credentials", "list"])).stderr).toMatch(/revoked/);
  });
});

describe("credential health (issue 15)", () => {
  it("set says whether the key works; check asks again (exit 1 when refused); --no-verify skips the probe", async () => {
    const m = signedIn();
    const name = `health-${tag()}`;
    const bad = await m.run(["credentials", "set", "exa", "--set", `apiKey=exa-invalid-${tag()}-0123456789`, "--name", name]);
    expect(bad.code, bad.stderr).toBe(0);
    expect(bad.stdout).toMatch(new RegExp(`exa/org/${name} +\\S+ +org +invalid \\(probe_unauthorized\\)`));
    expect(bad.stdout).toContain(`exa/org/${name}: refused by the provider`);
    expect(bad.stdout).toContain(`exa/org/${name} last error (`);

    const checked = await m.run(["credentials", "check", `exa/org/${name}`]);
    expect(checked.code).toBe(1);
    expect(checked.stdout).toContain(`exa/org/${name}: refused: The provider refused the key (HTTP 401).`);
    const json = await m.run(["--json", "credentials", "check", `exa/org/${name}`]);
    expect(json.code).toBe(1);
    expect(JSON.parse(json.stdout)).toMatchObject({ credential: { status: "invalid", status_reason: "probe_unauthorized" }, check: { result: "refused" } });

    const attention = await m.run(["credentials", "list", "--app", "exa", "--attention"]);
    expect(attention.stdout).toContain(`exa/org/${name}`);

    const rotated = await m.run(["credentials", "rotate-key", `exa/org/${name}`, "--set", `apiKey=exa-good-${tag()}-0123456789`]);
    expect(rotated.code, rotated.stderr).toBe(0);
    expect(rotated.stdout).toContain(`exa/org/${name}: works.`);
    expect((await m.run(["credentials", "check", `exa/org/${name}`])).code).toBe(0);
    // Rotated without the probe: not checked, although an earlier check set checked_at; --json carries the API's check.
    const blind = await m.run(["credentials", "rotate-key", `exa/org/${name}`, "--set", `apiKey=exa-invalid-${tag()}-0123456789`, "--no-verify"]);
    expect(blind.stdout).toContain(`exa/org/${name}: not checked.`);
    const blindJson = await m.run(["--json", "credentials", "rotate-key", `exa/org/${name}`, "--set", `apiKey=exa-good-${tag()}-0123456789`, "--no-verify"]);
    expect(JSON.parse(blindJson.stdout)).toMatchObject({ ref: `exa/org/${name}`, check: { result: "skipped" } });

    const unchecked = await m.run(["credentials", "set", "exa", "--set", `apiKey=exa-invalid-${tag()}-0123456789`, "--name", `${name}-nv`, "--no-verify"]);
    expect(unchecked.stdout).toContain(`exa/org/${name}-nv: not checked.`);
    const setJson = await m.run(["--json", "credentials", "set", "exa", "--set", `apiKey=exa-good-${tag()}-0123456789`, "--name", `${name}-js`]);
    expect(JSON.parse(setJson.stdout)).toMatchObject({ credentials: [{ ref: `exa/org/${name}-js` }], checks: [{ ref: `exa/org/${name}-js`, result: "works" }] });
    expect(unchecked.stdout).toMatch(new RegExp(`exa/org/${name}-nv +\\S+ +org +active`));
  });
});
