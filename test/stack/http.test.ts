import { describe, expect, inject, it } from "vitest";

/** The walk-through over real HTTP against `npm run dev`: seed, then every credential operation as alice. */
const { baseUrl, seed } = inject("stack");
const alice = seed.users.find((u) => u.email === "alice@acme.test")!.token;

async function http(method: string, path: string, body?: unknown, token = alice) {
  const res = await fetch(baseUrl + path, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { "content-type": "application/json" }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as any };
}

describe("the local stack", () => {
  it("routes /oauth and /slack to their workers and the rest to the api", async () => {
    expect(await (await fetch(`${baseUrl}/oauth/health`)).json()).toEqual({ ok: true, worker: "oauth" });
    expect(await (await fetch(`${baseUrl}/slack/health`)).json()).toEqual({ ok: true, worker: "slack-events" });
    expect(await (await fetch(`${baseUrl}/health`)).json()).toEqual({ ok: true, worker: "api" });
  });

  it("seeds idempotently: the same answer on every call", async () => {
    const again = await (await fetch(`${baseUrl}/dev/seed`, { method: "POST" })).json();
    expect(again).toEqual(seed);
    expect(seed.users.map((u) => [u.email, u.role])).toEqual([
      ["alice@acme.test", "owner"],
      ["bob@acme.test", "admin"],
      ["carol@acme.test", "builder"],
    ]);
    expect(seed.projects.map((p) => p.slug)).toEqual(["support", "growth"]);
  });

  it("builds the demo org through the production operations (org creation, invitations accepted, alice's projects and runtime token), once", async () => {
    await fetch(`${baseUrl}/dev/seed`, { method: "POST" });
    const me = (await http("GET", "/v1/me")).body.member.id;
    const rts = (await http("GET", "/v1/runtime-tokens")).body.runtime_tokens.filter((t: { name: string }) => t.name === "dev runtime");
    expect(rts).toEqual([expect.objectContaining({ created_by: me })]);
    expect((await http("GET", "/v1/me", undefined, seed.runtime_token)).status).toBe(200);
    const audited = async (action: string) =>
      (await http("GET", `/v1/audit?action=${action}&limit=200`)).body.entries.filter((e: { action: string }) => e.action === action).map((e: { target: string; actor: string; outcome: string }) => [e.target, e.actor, e.outcome]);
    expect((await audited("project.create")).sort()).toEqual([["project:growth", me, "ok"], ["project:support", me, "ok"]]);
    const carol = (await http("GET", "/v1/members")).body.members.find((m: { email: string }) => m.email === "carol@acme.test").id;
    const support = (await http("GET", "/v1/projects")).body.projects.find((p: { slug: string }) => p.slug === "support");
    expect(support.members).toEqual([{ member: carol, role: "builder" }]);
    // The operator's owner invitation for alice, then alice's for bob and carol (carol's with her
    // role in support, so no separate project.member.put), each accepted once, through the DevDoor.
    expect(await audited("project.member.put")).toEqual([]);
    const ids = Object.fromEntries((await http("GET", "/v1/members")).body.members.map((m: { email: string; id: string }) => [m.email, m.id]));
    const demo = new Set(["alice@acme.test", "bob@acme.test", "carol@acme.test"]);
    const invitations = (await http("GET", "/v1/audit?action=invitation.&limit=200")).body.entries
      .filter((e: { detail: { email?: string } }) => demo.has(e.detail.email ?? ""))
      .map((e: { action: string; actor: string | null; detail: { email: string; role: string } }) => [e.action, e.actor, e.detail.email, e.detail.role])
      .reverse();
    expect(invitations).toEqual([
      ["invitation.created", null, "alice@acme.test", "owner"], ["invitation.accept", me, "alice@acme.test", "owner"],
      ["invitation.created", me, "bob@acme.test", "admin"], ["invitation.accept", ids["bob@acme.test"], "bob@acme.test", "admin"],
      ["invitation.created", me, "carol@acme.test", "builder"], ["invitation.accept", carol, "carol@acme.test", "builder"],
    ]);
    expect(await audited("runtime_token.create")).toEqual([[rts[0].id, me, "ok"]]);
  });

  it("sets, lists, renames, defaults, rotates and revokes over HTTP", async () => {
    const secret = "exa-live-9f8e7d6c5b4a39281706";
    const set = await http("POST", "/v1/credentials", {
      app: "exa",
      slug: "work",
      fields: { apiKey: secret },
      targets: [{ type: "org" }, { type: "project", project: "support" }, { type: "project", project: "growth" }],
    });
    expect(set.status).toBe(200);
    expect(set.body.credentials.map((c: any) => c.ref)).toEqual(["exa/org/work", "exa/project/support/work", "exa/project/growth/work"]);

    const list = await http("GET", "/v1/credentials?app=exa");
    expect(list.body.credentials).toHaveLength(3);
    expect(JSON.stringify(list.body)).not.toContain(secret);
    expect(list.body.credentials[0].preview).toMatch(/…/);

    const renamed = await http("PATCH", `/v1/credentials/${encodeURIComponent("exa/org/work")}`, { name: "Work (org)", slug: "main" });
    expect(renamed.body).toMatchObject({ slug: "main", name: "Work (org)", ref: "exa/org/main" });

    await http("POST", "/v1/credentials", { app: "exa", slug: "backup", fields: { apiKey: "exa-backup-1234567890abcdef" } });
    const def = await http("PATCH", `/v1/credentials/${encodeURIComponent("exa/org/backup")}`, { default: true });
    expect(def.body.default).toBe(true);

    const rotated = await http("POST", `/v1/credentials/${encodeURIComponent("exa/org/backup")}/rotate`, { fields: { apiKey: "exa-rotated-abcdef1234567890" } });
    expect(rotated.status).toBe(200);
    expect(rotated.body).toMatchObject({ id: def.body.id, default: true });
    expect(rotated.body.rotated_at).not.toBeNull();

    const revoked = await http("POST", `/v1/credentials/${encodeURIComponent("exa/org/backup")}/revoke`);
    expect(revoked.body).toMatchObject({ status: "revoked", default: false, preview: null });

    const audit = await http("GET", "/v1/audit?action=credential.");
    expect(audit.body.entries.map((e: any) => e.action)).toEqual(
      expect.arrayContaining(["credential.create", "credential.rename", "credential.set_default", "credential.rotate", "credential.revoke"]),
    );
  });
});
