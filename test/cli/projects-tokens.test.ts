import { describe, expect, it } from "vitest";
import { alice, baseUrl, carol, Machine, tag } from "./helpers";

/** `projects …` and `runtime-tokens …` (SPEC section 12, issue 13): the Done-when CLI path. */
describe("projects and runtime tokens from the CLI", () => {
  it("projects create, members invite into it, runtime-tokens create, resolve with that token, runtime-tokens revoke: the token is refused", async () => {
    const owner = new Machine({ KEYSTROKE_TOKEN: alice });
    const slug = `cli-${tag()}`;
    const app = `svc-${tag()}`;
    const secret = `sk-cli-${tag()}-0123456789abcdef`;

    const created = await owner.json(["projects", "create", slug, "--name", "CLI project"]);
    expect(created).toMatchObject({ slug, name: "CLI project" });
    expect(await owner.json(["projects", "members", "add", slug, "carol@acme.test", "--role", "admin"])).toMatchObject({ project: slug, role: "admin" });
    // The Done-when path starts with an invitation into the new project (members: issue 13 build 2).
    const invited = await owner.run(["members", "invite", `rt-${tag()}@acme.test`, "--role", "builder", "--project-role", slug]);
    expect(invited.code, invited.stderr).toBe(0);
    expect(invited.stdout.trim()).toMatch(/\/invitations\/o[a-z2-7]+\.[A-Za-z0-9_-]+$/);
    const listed = await new Machine({ KEYSTROKE_TOKEN: carol }).json(["projects", "list"]);
    expect(listed.projects.find((p: { slug: string }) => p.slug === slug)).toMatchObject({ role: "admin" });
    const set = await owner.run(["credentials", "set", app, "--set", `apiKey=${secret}`, "--scope", "project", "--project-slug", slug, "--name", "work"]);
    expect(set.code, set.stderr).toBe(0);

    // Shown once on stdout (the note on stderr), and never again by list.
    const made = await owner.run(["runtime-tokens", "create", "--name", "exec plane"]);
    expect(made.code, made.stderr).toBe(0);
    const rt = made.stdout.trim();
    expect(rt).toMatch(/^ks_rt_/);
    expect(made.stderr).toMatch(/Copy it now/);
    const list = await owner.run(["runtime-tokens", "list"]);
    expect(list.stdout).toMatch(/exec plane/);
    expect(list.stdout).not.toContain(rt);
    const { runtime_tokens } = await owner.json(["runtime-tokens", "list"]);
    const id = runtime_tokens.find((t: { name: string }) => t.name === "exec plane").id as string;

    const resolveArgs = ["--project", slug, "credentials", "resolve", app, "--workflow", "wf", "--consumer", "step", "--reveal"];
    const ok = await owner.run(resolveArgs, { env: { KEYSTROKE_TOKEN: rt } });
    expect(ok.code, ok.stderr).toBe(0);
    expect(ok.stdout).toContain(`apiKey: ${secret}`);

    const revoked = await owner.run(["runtime-tokens", "revoke", id]);
    expect(revoked).toMatchObject({ code: 0, stdout: `Revoked runtime token ${id} (exec plane).\n` });
    const refused = await owner.run(resolveArgs, { env: { KEYSTROKE_TOKEN: rt } });
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toMatch(/revoked/);
    expect(refused.stdout).not.toContain(secret);

    // The project holds a credential: delete is refused, --force revokes it with the project.
    const refusedDelete = await owner.run(["projects", "delete", slug]);
    expect(refusedDelete.code).not.toBe(0);
    expect(refusedDelete.stderr).toMatch(/--force/);
    expect(await owner.json(["projects", "delete", slug, "--force"])).toEqual({ slug, revoked_credentials: 1, removed_assignments: 0, removed_channel_bindings: 0 });
  });

  it("a builder is refused, with the error on stderr and a non-zero exit", async () => {
    const r = await new Machine({ KEYSTROKE_TOKEN: carol }).run(["runtime-tokens", "create", "--name", "nope"]);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/owners and admins/);
    expect(r.stdout).toBe("");
  });
});

/** `webhooks …` (SPEC section 14, issue 15): against the dev stack's sandbox receiver, which verifies with standardwebhooks. */
describe("webhooks from the CLI", () => {
  it("create (secret once), test (delivered; exit 1 when the endpoint fails), rotate-secret, list, deliveries, delete", async () => {
    const owner = new Machine({ KEYSTROKE_TOKEN: alice });
    const name = `cli-${tag()}`;
    const receiver = `${baseUrl}/_sandbox/webhooks/${name}`;
    const tellReceiver = (path: string, body: unknown, method = "PUT") =>
      fetch(`${receiver}${path}`, { method, headers: { "content-type": "application/json" }, body: JSON.stringify(body) });

    const made = await owner.run(["webhooks", "create", "--url", receiver, "--event", "credential.created"]);
    expect(made.code, made.stderr).toBe(0);
    const secret = made.stdout.trim();
    expect(secret).toMatch(/^whsec_/);
    expect(made.stderr).toMatch(/not shown again/);
    const { webhooks } = await owner.json(["webhooks", "list"]);
    const id = webhooks.find((w: { url: string }) => w.url === receiver).id as string;
    expect((await owner.run(["webhooks", "list"])).stdout).not.toContain(secret);

    expect((await tellReceiver("/secrets", { secrets: [secret] })).status).toBe(200);
    const tested = await owner.run(["webhooks", "test", id]);
    expect(tested.code, tested.stderr).toBe(0);
    expect(tested.stdout).toMatch(/Delivered: the endpoint answered HTTP 200/);

    // Rotated: the receiver only knows the new secret and still verifies.
    const rotated = await owner.run(["webhooks", "rotate-secret", id]);
    expect(rotated.code, rotated.stderr).toBe(0);
    const fresh = rotated.stdout.trim();
    expect(fresh).toMatch(/^whsec_/);
    expect(fresh).not.toBe(secret);
    expect((await tellReceiver("/secrets", { secrets: [fresh] })).status).toBe(200);
    expect((await owner.run(["webhooks", "test", id])).code).toBe(0);
    const seen = (await (await fetch(receiver)).json()) as { deliveries: { type: string; verified: boolean }[] };
    expect(seen.deliveries.map((d) => [d.type, d.verified])).toEqual([["webhook.test", true], ["webhook.test", true]]);

    // The receiver fails: the command says so and exits 1.
    expect((await tellReceiver("/answers", { statuses: [503] }, "POST")).status).toBe(200);
    const failed = await owner.run(["webhooks", "test", id]);
    expect(failed.code).toBe(1);
    expect(failed.stderr).toMatch(/HTTP 503/);
    // With --json too: the delivery on stdout, exit 1.
    expect((await tellReceiver("/answers", { statuses: [503] }, "POST")).status).toBe(200);
    const failedJson = await owner.run(["--json", "webhooks", "test", id]);
    expect(failedJson.code).toBe(1);
    expect(JSON.parse(failedJson.stdout)).toMatchObject({ status: "failed", last_status: 503 });
    const { deliveries } = await owner.json(["webhooks", "deliveries", id]);
    expect(deliveries.map((d: { status: string }) => d.status)).toEqual(["failed", "failed", "delivered", "delivered"]);

    const deleted = await owner.run(["webhooks", "delete", id]);
    expect(deleted).toMatchObject({ code: 0, stdout: `Deleted webhook ${id} (${receiver}).\n` });
    expect((await new Machine({ KEYSTROKE_TOKEN: carol }).run(["webhooks", "list"])).stderr).toMatch(/owners and admins/);
  });
});
