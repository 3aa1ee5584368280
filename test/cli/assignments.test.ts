import { describe, expect, it } from "vitest";
import { alice, carol, http, Machine, runtime, tag } from "./helpers";

const signedIn = () => new Machine({ KEYSTROKE_TOKEN: alice });

/** Two org credentials of a fresh app and no default: ambiguous until something decides. */
async function twoOrgCredentials(m: Machine) {
  const app = `svc-${tag()}`;
  await m.json(["credentials", "set", app, "--set", "apiKey=alpha-1234567890abcdef", "--name", "alpha"]);
  await m.json(["credentials", "set", app, "--set", "apiKey=beta-1234567890abcdef", "--name", "beta"]);
  return app;
}

describe("credentials resolve", () => {
  it("explains an ambiguity with its candidates and the fix, then the rule once a default is set", async () => {
    const m = signedIn();
    const app = await twoOrgCredentials(m);
    const r = await m.run(["credentials", "resolve", app]);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(new RegExp(`^${app}: ambiguous_credentials\n  why: +2 ${app} credentials at org and none is the default`));
    expect(r.stdout).toMatch(new RegExp(`  candidate: ${app}/org/alpha \\(cred_\\w+\\)\n  candidate: ${app}/org/beta \\(cred_\\w+\\)\n`));
    expect(r.stdout).toMatch(/ {2}fix: +Set a default \(`keystroke credentials update <ref> --default`\) or assign one/);
    expect(r.stderr).toMatch(new RegExp(`^keystroke: ${app}: 2 ${app} credentials at org and none is the default: .* Fix: Set a default`));

    expect((await m.run(["credentials", "update", `${app}/org/beta`, "--default"])).code).toBe(0);
    const ok = await m.run(["credentials", "resolve", app]);
    expect(ok.code).toBe(0);
    expect(ok.stdout).toBe(
      `${app} -> ${app}/org/beta\n` +
        "  rule:     org (step 5, the org)\n" +
        `  why:      Used ${app}/org/beta, the default ${app} credential at org.\n` +
        "  status:   active, default\n" +
        `  skipped:  ${app}/org/alpha: not the default\n`,
    );
    const json = await m.json(["credentials", "resolve", app, "--project", "support"]);
    expect(json).toMatchObject({ ok: true, results: [{ ok: true, app, rule: "org", credential: { ref: `${app}/org/beta` } }] });
    expect(JSON.stringify(json)).not.toContain("beta-1234567890abcdef");
  });

  it("says what is missing and how to connect it", async () => {
    const app = `svc-${tag()}`;
    const r = await signedIn().run(["credentials", "resolve", app, "--project", "support"]);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain(`${app}: missing_credentials`);
    expect(r.stdout).toContain("  tried:    project:support, org");
    expect(r.stdout).toMatch(new RegExp(`fix: +Connect ${app}: open http://\\S+/connect\\?app=${app} or run \`keystroke connect ${app}\``));
  });

  it("uses the pinned scope, an explicit credential and --user", async () => {
    const m = signedIn();
    const app = await twoOrgCredentials(m);
    await m.json(["credentials", "set", app, "--set", "apiKey=mine-1234567890abcdef", "--scope", "user", "--name", "mine"]);
    const explicit = await m.json(["credentials", "resolve", app, "--credential", "alpha"]);
    expect(explicit.results[0]).toMatchObject({ ok: true, rule: "explicit", credential: { ref: `${app}/org/alpha` } });
    const pinned = await m.json(["credentials", "resolve", app, "--scope", "user", "--user"]);
    expect(pinned.results[0]).toMatchObject({ ok: true, rule: "pinned_scope", credential: { slug: "mine", scope: { type: "user" } } });
    const noUser = await m.run(["credentials", "resolve", app, "--scope", "user"]);
    expect(noUser).toMatchObject({ code: 1, stdout: expect.stringContaining("missing_credentials") });
  });

  it("refuses --reveal without a runtime token, and wrong consumer flags", async () => {
    const m = signedIn();
    expect(await m.run(["credentials", "resolve", "exa", "--workflow", "w", "--consumer", "c", "--reveal"])).toMatchObject({ code: 2, stderr: expect.stringMatching(/--reveal needs a runtime token/) });
    expect(await m.run(["credentials", "resolve", "exa", "--workflow", "w"])).toMatchObject({ code: 2, stderr: expect.stringMatching(/--workflow needs --consumer <id>/) });
    expect(await m.run(["credentials", "resolve", "exa", "--consumer", "c"])).toMatchObject({ code: 2, stderr: expect.stringMatching(/--consumer needs --workflow, --agent or --poll/) });
    expect(await m.run(["credentials", "resolve", "exa", "--agent", "a", "--poll", "p", "--consumer", "c"])).toMatchObject({ code: 2, stderr: expect.stringMatching(/not --agent and --poll/) });
    const rt = new Machine({ KEYSTROKE_TOKEN: runtime });
    expect(await rt.run(["credentials", "resolve", "exa", "--reveal"])).toMatchObject({ code: 2, stderr: expect.stringMatching(/--reveal needs --workflow, --agent or --poll with --consumer/) });
  });
});

describe("consumers and assignments", () => {
  it("assigns with and without --consumer; the consumer's own pin beats the wildcard", async () => {
    const m = signedIn();
    const app = await twoOrgCredentials(m);
    const wf = `onboarding-${tag()}`;
    // Workflow consumers are learned from the execution plane's step_completed events.
    expect((await http("POST", "/v1/runtime/events", { type: "step_completed", workflow: wf, step: "fetch", run_id: "r1" }, runtime)).status).toBe(200);
    const consumers = await m.run(["credentials", "consumers", "--workflow", wf]);
    expect(consumers.stdout).toMatch(/^CONSUMER +SOURCES +LAST SEEN +ASSIGNED\nfetch +event +\d{4}-\d\d-\d\d \d\d:\d\d +-\n$/);

    const exact = await m.run(["credentials", "assign", "--workflow", wf, "--consumer", "fetch", "--credential", `${app}/org/alpha`]);
    expect(exact).toMatchObject({ code: 0, stdout: `Assigned ${app}/org/alpha to workflow ${wf}, consumer fetch.\n` });
    const wildcard = await m.run(["credentials", "assign", "--workflow", wf, "--credential", `${app}/org/beta`]);
    expect(wildcard).toMatchObject({ code: 0, stdout: `Assigned ${app}/org/beta to workflow ${wf}, every consumer (*).\n` });

    const resolveFor = async (consumer: string) => (await m.json(["credentials", "resolve", app, "--workflow", wf, "--consumer", consumer])).results[0];
    expect(await resolveFor("fetch")).toMatchObject({ ok: true, rule: "assignment", credential: { ref: `${app}/org/alpha` } });
    expect(await resolveFor("summarize")).toMatchObject({ ok: true, rule: "assignment_wildcard", credential: { ref: `${app}/org/beta` } });

    const list = (await m.run(["credentials", "assignments", "--workflow", wf])).stdout.split("\n");
    expect(list[0]).toMatch(/^KIND +TARGET +CONSUMER +APP +CREDENTIAL +STATUS$/);
    expect(list[1]).toMatch(new RegExp(`^workflow +${wf} +\\* \\(every consumer\\) +${app} +${app}/org/beta +active$`));
    expect(list[2]).toMatch(new RegExp(`^workflow +${wf} +fetch +${app} +${app}/org/alpha +active$`));
    expect((await m.json(["credentials", "consumers", "--workflow", wf])).consumers[0].assignments).toEqual([
      { app, credential: `${app}/org/beta`, wildcard: true },
      { app, credential: `${app}/org/alpha`, wildcard: false },
    ]);

    const un = await m.run(["credentials", "unassign", "--workflow", wf, "--consumer", "fetch", "--app", app]);
    expect(un).toMatchObject({ code: 0, stdout: `Unassigned ${app} from workflow ${wf}, fetch (was ${app}/org/alpha).\n` });
    expect(await resolveFor("fetch")).toMatchObject({ rule: "assignment_wildcard" });
    expect(await m.run(["credentials", "unassign", "--workflow", wf, "--consumer", "fetch", "--app", app])).toMatchObject({ code: 1, stderr: expect.stringMatching(/No .* assignment for workflow:/) });
  });

  it("needs exactly one of --workflow, --agent, --poll", async () => {
    const m = signedIn();
    const two = await m.run(["credentials", "assign", "--workflow", "w", "--agent", "a", "--credential", "x"]);
    expect(two).toMatchObject({ code: 2, stderr: "keystroke: Give exactly one of --workflow, --agent or --poll, not --workflow and --agent.\n" });
    const none = await m.run(["credentials", "assign", "--credential", "x"]);
    expect(none).toMatchObject({ code: 2, stderr: "keystroke: Give exactly one of --workflow <slug>, --agent <slug> or --poll <slug>.\n" });
    expect((await m.run(["credentials", "consumers"])).code).toBe(2);
    expect((await m.run(["credentials", "unassign", "--poll", "p", "--agent", "a", "--app", "exa"])).code).toBe(2);
    expect(await m.run(["credentials", "assign", "--poll", "p"])).toMatchObject({ code: 2, stderr: expect.stringMatching(/required option '--credential <ref>' not specified/) });
  });

  it("pins a poll action by name, and refuses an ambiguous --credential", async () => {
    const m = signedIn();
    const app = await twoOrgCredentials(m);
    const poll = `inbox-${tag()}`;
    await m.json(["credentials", "set", app, "--set", "apiKey=gamma-1234567890abcdef", "--scope", "project", "--project-slug", "support", "--name", "alpha"]);
    const ambiguous = await m.run(["credentials", "assign", "--poll", poll, "--credential", `${app}/alpha`]);
    expect(ambiguous).toMatchObject({ code: 2, stderr: `keystroke: \`${app}/alpha\` matches 2 credentials: ${app}/org/alpha, ${app}/project/support/alpha Fix: use a qualified reference such as ${app}/org/alpha\n` });
    expect((await m.run(["credentials", "assign", "--poll", poll, "--consumer", "check-mail", "--credential", `${app}/org/alpha`])).code).toBe(0);
    expect(await m.json(["credentials", "consumers", "--poll", poll])).toMatchObject({ consumers: [{ id: "check-mail", sources: ["assignment"] }] });
    const builder = new Machine({ KEYSTROKE_TOKEN: carol });
    expect((await builder.json(["credentials", "assignments", "--poll", poll])).assignments).toHaveLength(1);
  });
});

describe("Keystroke consumer ids (SPEC section 4: printable ASCII, `#` in step ids)", () => {
  it("consumers, assign, resolve and unassign with --consumer 'step:send#0', a tool slug and an action slug", async () => {
    const m = signedIn();
    const app = await twoOrgCredentials(m);
    const wf = `signup-${tag()}`;
    for (const step of ["step:send#0", "step:research-signup#12"]) {
      expect((await http("POST", "/v1/runtime/events", { type: "step_completed", workflow: wf, step, run_id: "r1" }, runtime)).status).toBe(200);
    }
    const listed = await m.run(["credentials", "consumers", "--workflow", wf]);
    expect(listed.stdout).toMatch(/\nstep:research-signup#12 +event .*\nstep:send#0 +event /);

    const assigned = await m.run(["credentials", "assign", "--workflow", wf, "--consumer", "step:send#0", "--credential", `${app}/org/alpha`]);
    expect(assigned).toMatchObject({ code: 0, stdout: `Assigned ${app}/org/alpha to workflow ${wf}, consumer step:send#0.\n` });
    const resolved = await m.json(["credentials", "resolve", app, "--workflow", wf, "--consumer", "step:send#0"]);
    expect(resolved.results[0]).toMatchObject({ ok: true, rule: "assignment", credential: { ref: `${app}/org/alpha` } });
    const other = await m.run(["credentials", "resolve", app, "--workflow", wf, "--consumer", "step:research-signup#12"]);
    expect(other.stdout).toContain(`${app}: ambiguous_credentials`);
    expect((await m.json(["credentials", "consumers", "--workflow", wf])).consumers).toEqual([
      expect.objectContaining({ id: "step:research-signup#12", assignments: [] }),
      expect.objectContaining({ id: "step:send#0", assignments: [{ app, credential: `${app}/org/alpha`, wildcard: false }] }),
    ]);

    for (const [kind, target, consumer] of [["--agent", `helper-${tag()}`, "search_web"], ["--poll", `inbox-${tag()}`, "new-issue"]] as const) {
      expect((await m.run(["credentials", "assign", kind, target, "--consumer", consumer, "--credential", `${app}/org/beta`])).code).toBe(0);
      expect((await m.json(["credentials", "resolve", app, kind, target, "--consumer", consumer])).results[0]).toMatchObject({ rule: "assignment", credential: { ref: `${app}/org/beta` } });
      expect((await m.run(["credentials", "assignments", kind, target])).stdout).toMatch(new RegExp(`\\n\\w+ +${target} +${consumer} +${app} `));
    }

    const un = await m.run(["credentials", "unassign", "--workflow", wf, "--consumer", "step:send#0", "--app", app]);
    expect(un).toMatchObject({ code: 0, stdout: `Unassigned ${app} from workflow ${wf}, step:send#0 (was ${app}/org/alpha).\n` });
    expect(await m.json(["credentials", "assignments", "--workflow", wf])).toEqual({ assignments: [] });
  });
});
