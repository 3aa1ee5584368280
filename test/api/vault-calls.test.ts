import { env } from "cloudflare:workers";
import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { beforeAll, describe, expect, it } from "vitest";
import app from "../../workers/api/src/index";
import { sessionCsrf } from "../../workers/shared/session";
import { call, seed, setCred, uid, type Seed } from "./helpers";

/**
 * Issue 12, build 4: every page of the web app and every API route makes at most one vault RPC
 * (pages about a person's orgs may add one Directory read). The api worker runs on an env whose
 * VAULT and DIRECTORY bindings count the RPCs made through the stubs they hand out.
 */
let s: Seed;
const counts = { vault: [] as string[], directory: [] as string[] };

/** A namespace whose stubs record every method called on them. */
function counting<N extends object>(ns: N, log: string[]): N {
  const wrapStub = (stub: object) =>
    new Proxy(stub, {
      get(target, key) {
        const v = Reflect.get(target, key);
        if (typeof key !== "string" || typeof v !== "function" || key === "then") return v;
        // Called as a method of the stub itself (an RPC method has no `apply`).
        return (...args: unknown[]) => {
          log.push(key);
          return (target as Record<string, (...a: unknown[]) => unknown>)[key]!(...args);
        };
      },
    });
  return new Proxy(ns, {
    get(target, key) {
      const v = Reflect.get(target, key);
      if (typeof v !== "function") return v;
      if (key === "get" || key === "getByName") return (...args: unknown[]) => wrapStub((v as (...a: unknown[]) => object).apply(target, args));
      return (v as (...a: unknown[]) => unknown).bind(target);
    },
  });
}

const countingEnv = new Proxy(env, {
  get(target, key) {
    if (key === "VAULT") return counting(target.VAULT, counts.vault);
    if (key === "DIRECTORY") return counting(target.DIRECTORY, counts.directory);
    return Reflect.get(target, key);
  },
});

/** One request through the api worker on the counting env: its status and the RPCs it made. */
async function request(method: string, path: string, opts: { session?: string; bearer?: string; form?: Record<string, string>; json?: unknown } = {}) {
  counts.vault = [];
  counts.directory = [];
  const headers: Record<string, string> = { accept: opts.session ? "text/html" : "application/json" };
  if (opts.session) headers.cookie = `ks_session=${opts.session}`;
  if (opts.bearer) headers.authorization = `Bearer ${opts.bearer}`;
  let body: string | undefined;
  if (opts.form) {
    body = new URLSearchParams({ ...opts.form, csrf: await sessionCsrf(opts.session!) }).toString();
    headers["content-type"] = "application/x-www-form-urlencoded";
  } else if (opts.json !== undefined) {
    body = JSON.stringify(opts.json);
    headers["content-type"] = "application/json";
  }
  // As over the network: bodyLimit then reads the length instead of wrapping the request.
  if (body !== undefined) headers["content-length"] = String(new TextEncoder().encode(body).length);
  const ctx = createExecutionContext();
  const res = await app.fetch(new Request(`http://localhost${path}`, { method, headers, body, redirect: "manual" }), countingEnv, ctx);
  await waitOnExecutionContext(ctx);
  const text = await res.text();
  return { status: res.status, text, vault: [...counts.vault], directory: [...counts.directory] };
}

const target = `digest-${uid(6)}`;
/** The CLI's login secret: 32 random bytes, base64url. */
const loginSecret = () => btoa(String.fromCharCode(...crypto.getRandomValues(new Uint8Array(32)))).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
let credId = "";
let connectId = "";
let cliLoginId = "";

beforeAll(async () => {
  s = await seed();
  const made = await setCred(s.alice, { slug: `calls-${uid(4)}`, targets: [{ type: "org" }, { type: "project", project: "support" }] });
  expect(made.status, made.text).toBe(200);
  credId = made.body.credentials[0].id;
  // Realistic data for the assignments page: several consumers of one workflow, and pins on it.
  for (const step of ["fetch.issues", "summarize", "send.mail", "archive"]) {
    const ev = await call("POST", "/v1/runtime/events", { token: s.runtime, body: { type: "step_completed", workflow: target, step, run_id: `run_${uid(4)}` } });
    expect(ev.status, ev.text).toBe(200);
  }
  const pin = await call("PUT", "/v1/assignments", { token: s.alice, body: { kind: "workflow", target, credential: credId } });
  expect(pin.status, pin.text).toBe(200);
  const cs = await call("POST", "/v1/connect-sessions", { token: s.alice, body: { app: "exa" } });
  expect(cs.status, cs.text).toBe(201);
  connectId = cs.body.id;
  const login = await call("POST", "/v1/cli-logins", { token: loginSecret(), body: { org: "acme", client: "alice@laptop" }, headers: { "cf-connecting-ip": `10.77.${Math.floor(Math.random() * 250)}.9` } });
  expect(login.status, login.text).toBe(201);
  cliLoginId = login.body.id;
});

describe("one vault call per page", () => {
  const pages = () => [
    "/apps",
    `/apps?app=exa&status=active&connected=${connectId}`,
    `/apps/${credId}/rename`,
    `/apps/${credId}/rotate`,
    `/apps/${credId}/revoke`,
    "/catalog",
    "/catalog?search=exa",
    "/apps/github/oauth-client",
    "/connect?app=exa",
    `/connect/${connectId}`,
    "/assignments",
    `/assignments?kind=workflow&target=${target}&app=exa`,
    "/channels",
    "/channels?agent=support-bot",
    "/api-keys",
    "/members",
    "/projects",
    "/runtime-tokens",
    "/webhooks",
    "/tokens",
    "/audit",
    "/audit?action=credential.",
    `/cli-login/${cliLoginId}`,
  ];

  it("every signed-in page of the web app answers after at most one vault RPC and no Directory read", async () => {
    for (const path of pages()) {
      const r = await request("GET", path, { session: s.alice });
      expect(r.status, `${path}: ${r.text.slice(0, 300)}`).toBe(200);
      expect(r.vault.length, `${path} made ${r.vault.join(", ")}`).toBeLessThanOrEqual(1);
      expect(r.directory, path).toEqual([]);
    }
  });

  it("the assignments page explains every consumer in that one call", async () => {
    const r = await request("GET", `/assignments?kind=workflow&target=${target}&app=exa`, { session: s.alice });
    expect(r.vault).toEqual(["loadAssignmentsPage"]);
    for (const step of ["fetch.issues", "summarize", "send.mail", "archive"]) expect(r.text).toContain(step);
    expect(r.text).toContain('data-testid="resolves-to"');
  });

  it("form posts: one vault call for the action, and the API-key form's create answers the page in the same call", async () => {
    const created = await request("POST", "/api-keys", { session: s.alice, form: { name: `calls ${uid(4)}` } });
    expect(created.status, created.text.slice(0, 300)).toBe(200);
    expect(created.text).toContain('data-testid="new-key"');
    expect(created.vault).toEqual(["createApiKeyOnPage"]);
    const invited = await request("POST", "/members/invite", { session: s.alice, form: { email: `calls-${uid(4)}@acme.test`, role: "builder" } });
    expect(invited.status, invited.text.slice(0, 300)).toBe(200);
    expect(invited.text).toContain('data-testid="new-invitation"');
    expect(invited.vault).toEqual(["inviteMemberOnPage"]);
    const rt = await request("POST", "/runtime-tokens", { session: s.alice, form: { name: `calls ${uid(4)}` } });
    expect(rt.status, rt.text.slice(0, 300)).toBe(200);
    expect(rt.text).toContain('data-testid="new-runtime-token"');
    expect(rt.vault).toEqual(["createRuntimeTokenOnPage"]);
    const hook = await request("POST", "/webhooks", { session: s.alice, form: { url: `https://hooks.example.com/calls-${uid(4)}`, events: "member.added" } });
    expect(hook.status, hook.text.slice(0, 300)).toBe(200);
    expect(hook.text).toContain('data-testid="new-webhook-secret"');
    expect(hook.vault).toEqual(["createWebhookOnPage"]);
    const project = await request("POST", "/projects", { session: s.alice, form: { slug: `calls-${uid(4)}`, name: "Calls" } });
    expect(project.status, project.text.slice(0, 300)).toBe(303);
    expect(project.vault).toEqual(["createProject"]);
    const assigned = await request("POST", "/assignments/assign", { session: s.alice, form: { kind: "workflow", target, consumer: "summarize", credential: credId } });
    expect(assigned.status).toBe(303);
    expect(assigned.vault).toEqual(["putAssignment"]);
    const made = await request("POST", `/apps/${credId}/default`, { session: s.alice, form: {} });
    expect(made.status).toBe(303);
    expect(made.vault.length).toBeLessThanOrEqual(1);
    const cs = await call("POST", "/v1/connect-sessions", { token: s.alice, body: { app: "exa" } });
    const connected = await request("POST", `/connect/${cs.body.id}`, { session: s.alice, form: { target: "user", name: `Calls ${uid(4)}`, "field.apiKey": `exa-${uid(24)}` } });
    expect(connected.status, connected.text.slice(0, 300)).toBe(303);
    expect(connected.vault).toEqual(["completeConnectWithFields"]);
    // A refused action costs one more call, only then: the page that shows why.
    const refused = await request("POST", `/apps/${credId}/reconnect`, { session: s.alice, form: {} });
    expect(refused.status).toBe(400);
    expect(refused.text).toContain("is not a Exa OAuth connection");
    expect(refused.vault).toEqual(["reconnectCredential", "loadCredentialPage"]);
  });

  it("a signed-out browser goes to sign-in with no vault call; the sign-in page reads the Directory at most once", async () => {
    const out = await request("GET", "/apps");
    expect(out.status).toBe(303);
    expect(out.vault).toEqual([]);
    const signin = await request("GET", "/signin");
    expect(signin.status).toBe(200);
    expect(signin.vault).toEqual([]);
    expect(signin.directory.length).toBeLessThanOrEqual(1);
  });
});

describe("one vault call per API route", () => {
  it("runtime resolve and the member routes make exactly one vault RPC", async () => {
    const routes: [string, string, { bearer: string; json?: unknown }][] = [
      ["POST", "/v1/runtime/resolve", { bearer: s.runtime, json: { consumer: { kind: "workflow", target, id: "summarize" }, requirements: [{ app: "exa" }] } }],
      ["GET", "/v1/me", { bearer: s.alice }],
      ["GET", "/v1/credentials", { bearer: s.alice }],
      ["GET", "/v1/apps?search=exa", { bearer: s.alice }],
      ["GET", `/v1/assignments?kind=workflow&target=${target}`, { bearer: s.alice }],
      ["GET", "/v1/audit", { bearer: s.alice }],
      ["POST", "/v1/resolve/explain", { bearer: s.alice, json: { consumer: { kind: "workflow", target, id: "summarize" }, requirements: [{ app: "exa" }] } }],
    ];
    for (const [method, path, opts] of routes) {
      const r = await request(method, path, opts);
      expect(r.status, `${method} ${path}: ${r.text.slice(0, 300)}`).toBe(200);
      expect(r.vault.length, `${method} ${path} made ${r.vault.join(", ")}`).toBe(1);
      expect(r.directory, path).toEqual([]);
    }
    // A page about the person's orgs: the one vault call plus one Directory read.
    const mine = await request("GET", "/v1/me/orgs", { bearer: s.alice });
    expect(mine.status, mine.text.slice(0, 300)).toBe(200);
    expect(mine.vault).toEqual(["describeMe"]);
    expect(mine.directory).toEqual(["orgsOfEmails"]);
  });

  it("a CLI login, which names its org by slug, reads the Directory once and the vault once", async () => {
    const r = await request("POST", "/v1/cli-logins", { bearer: loginSecret(), json: { org: "acme", client: "bob@laptop" } });
    expect(r.status, r.text).toBe(201);
    expect(r.vault.length).toBe(1);
    expect(r.directory.length).toBeLessThanOrEqual(1);
  });
});

describe("the org switcher (issue 13)", () => {
  it("/orgs answers from one Directory read and no vault call", async () => {
    const { signPlatformUser } = await import("../../lib/platform-user");
    counts.vault = [];
    counts.directory = [];
    const user = await signPlatformUser(env.ORG_ID_KEY, { github_id: "1", login: "alice", emails: ["alice@acme.test"] }, Date.now());
    const res = await app.fetch(new Request("http://localhost/orgs", { headers: { accept: "text/html", cookie: `ks_user=${user}` } }), countingEnv, createExecutionContext());
    expect(res.status).toBe(200);
    expect(await res.text()).toContain('data-org="acme"');
    expect(counts.vault).toEqual([]);
    expect(counts.directory).toEqual(["loadOrgsPage"]);
  });
});
