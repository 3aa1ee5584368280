import { env, exports } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import oauthWorker from "../../workers/oauth/src/index";
import { sessionCsrf } from "../../workers/shared/session";
import { call, seed, uid, vaultOf, type Seed } from "./helpers";

/**
 * What the web pages say (issue 11, item 16): the connect form's defaults and kept values,
 * /oauth/start errors as product pages, fixes in the language of where they are shown (never a
 * CLI command in a page or an MCP answer), the 404 page, no spec references, and an audit log
 * that names people and credentials.
 */
let s: Seed;

/** The form value of a signed-in page: bound to the session (workers/shared/session.ts). */
const csrfOf = (token: string) => sessionCsrf(token);

async function page(method: string, path: string, token: string, form?: Record<string, string | string[]>) {
  const csrf = await csrfOf(token);
  const headers: Record<string, string> = { cookie: `ks_session=${token}; ks_csrf=${csrf}`, accept: "text/html" };
  let body: string | undefined;
  if (method === "POST") {
    const f = new URLSearchParams();
    for (const [k, v] of Object.entries({ csrf, ...form })) for (const one of ([] as string[]).concat(v)) f.append(k, one);
    body = f.toString();
    headers["content-type"] = "application/x-www-form-urlencoded";
  }
  const res = await exports.default.fetch(new Request(`http://localhost${path}`, { method, headers, body, redirect: "manual" }));
  return { status: res.status, html: await res.text(), type: res.headers.get("content-type") ?? "" };
}

const oauth = async (path: string, token: string, init: { body?: string; contentType?: string; method?: string } = {}) => {
  const res = await oauthWorker.fetch(
    new Request(`http://localhost:8787${path}`, {
      method: init.method ?? "POST",
      headers: { cookie: `ks_session=${token}; ks_csrf=${await csrfOf(token)}`, accept: "text/html", "content-type": init.contentType ?? "application/x-www-form-urlencoded" },
      body: init.body,
      redirect: "manual",
    }),
    { ...env, VAULT_DOOR: env.OAUTH_DOOR },
  );
  return { status: res.status, html: await res.text(), type: res.headers.get("content-type") ?? "" };
};

const session = async (token: string, app: string) => {
  const r = await call("POST", "/v1/connect-sessions", { token, body: { app } });
  expect(r.status, r.text).toBe(201);
  return r.body.id as string;
};

/** The checked target boxes of a rendered connect form. */
const checked = (html: string) => [...html.matchAll(/<input type="checkbox" name="target" value="([^"]+)" checked=""/g)].map((m) => m[1]);

beforeAll(async () => {
  s = await seed();
});

describe("the connect form", () => {
  it("preselects the widest scope the member may use, or the project they came from", async () => {
    expect(checked((await page("GET", `/connect/${await session(s.alice, "exa")}`, s.alice)).html)).toEqual(["org"]);
    expect(checked((await page("GET", `/connect/${await session(s.carol, "exa")}`, s.carol)).html)).toEqual(["user"]);
    expect(checked((await page("GET", `/connect/${await session(s.alice, "exa")}?project=support`, s.alice)).html)).toEqual(["project:support"]);
    // A project the member may not connect to is no default.
    expect(checked((await page("GET", `/connect/${await session(s.carol, "exa")}?project=growth`, s.carol)).html)).toEqual(["user"]);
  });

  it("keeps the name and the chosen places after an error, never the secret", async () => {
    const id = await session(s.alice, "exa");
    const secret = `exa-${uid(24)}`;
    const none = await page("POST", `/connect/${id}`, s.alice, { name: "Kept name", "field.apiKey": secret });
    expect(none.status).toBe(400);
    expect(none.html).toContain("Choose where it will be available.");
    expect(none.html).toContain('value="Kept name"');
    expect(none.html).not.toContain(secret);
    const bad = await page("POST", `/connect/${id}`, s.alice, { name: "Kept name", target: ["project:support", "user"], "field.apiKey": "" });
    expect(bad.status).toBe(400);
    expect(checked(bad.html)).toEqual(["user", "project:support"]);
    expect(bad.html).toContain('value="Kept name"');
  });
});

describe("/oauth/start errors are product pages", () => {
  it("shows the form again, in the layout, with the typed name, when no place is chosen", async () => {
    const id = await session(s.alice, "github");
    const r = await oauth("/oauth/start", s.alice, { body: new URLSearchParams({ csrf: await csrfOf(s.alice), session: id, name: "Typed" }).toString() });
    expect(r.status).toBe(400);
    expect(r.type).toContain("text/html");
    expect(r.html).toContain('<nav aria-label="Main">');
    expect(r.html).toContain("alice@acme.test");
    expect(r.html).toContain("Choose where the connection will be available.");
    expect(r.html).toContain('action="/oauth/start"');
    expect(r.html).toContain('value="Typed"');
  });

  it("answers an expired form, an unreadable body and an unknown path with a 4xx page and a way back", async () => {
    const id = await session(s.alice, "github");
    const expired = await oauth("/oauth/start", s.alice, { body: new URLSearchParams({ csrf: "f".repeat(32), session: id, target: "org" }).toString() });
    expect(expired.status).toBe(403);
    expect(expired.html).toContain('<nav aria-label="Main">');
    expect(expired.html).toContain(`href="/connect/${id}"`);
    const unreadable = await oauth("/oauth/start", s.alice, { body: "--x\r\ngarbage", contentType: "multipart/form-data; boundary=nothing-here" });
    expect(unreadable.status).toBe(400);
    expect(unreadable.type).toContain("text/html");
    expect(unreadable.html).toContain('role="alert"');
    // The same unreadable body on the API worker's form posts: a 4xx page too.
    for (const path of [`/connect/${id}`, "/signout", "/signin"]) {
      const res = await exports.default.fetch(new Request(`http://localhost${path}`, { method: "POST", headers: { cookie: `ks_session=${s.alice}`, "content-type": "multipart/form-data; boundary=nothing-here", accept: "text/html" }, body: "--x\r\ngarbage" }));
      expect(res.status, path).toBeGreaterThanOrEqual(400);
      expect(res.status, path).toBeLessThan(500);
      expect(res.headers.get("content-type"), path).toContain("text/html");
    }
    const missing = await oauth("/oauth/nowhere", s.alice, { method: "GET" });
    expect(missing.status).toBe(404);
    expect(missing.type).toContain("text/html");
    expect(missing.html).toContain('href="/apps"');
  });
});

describe("each message speaks the language of where it is shown", () => {
  it("no page tells a browser user to run a CLI command or cites the spec", async () => {
    const workflow = `wf-${uid(6)}`;
    const ev = await call("POST", "/v1/runtime/events", { token: s.runtime, body: { type: "step_completed", workflow, step: "fetch", run_id: "r1" } });
    expect(ev.status, ev.text).toBe(200);
    const pages = await Promise.all([
      page("GET", "/apps", s.alice),
      page("GET", "/catalog?search=zz-nothing-matches", s.alice),
      page("GET", `/assignments?kind=workflow&target=${workflow}&app=nothing-${uid(4)}`, s.alice),
      page("GET", "/channels?agent=helper", s.alice),
      page("GET", "/api-keys", s.alice),
      page("GET", "/audit", s.alice),
      page("GET", "/connect/cs_aaaaaaaaaaaaaaaaaaaa", s.alice),
      page("POST", "/api-keys/key_nothing/revoke", s.alice),
      page("GET", "/nope", s.alice),
    ]);
    for (const p of pages) {
      expect(p.html).not.toMatch(/keystroke [a-z]/);
      expect(p.html).not.toContain("SPEC");
    }
    // The fixes are web steps with a link to the page that does them.
    expect(pages[2]!.html).toMatch(/Connect nothing-[a-z0-9]{4} from the catalog\. <a href="\/catalog\?search=nothing-/);
    expect(pages[6]!.html).toContain("Start a new connection from the catalog.");
    expect(pages[7]!.html).toContain('href="/api-keys"');
  });

  it("the 404 page offers the link it mentions", async () => {
    const r = await page("GET", "/nope", s.alice);
    expect(r.status).toBe(404);
    expect(r.html).not.toContain("links at the top");
    expect(r.html).toContain("Check the address, or go back to the Apps page.");
    expect(r.html).toContain('href="/apps"');
  });

  it("an MCP client without a token is told what to send, not a CLI command", async () => {
    const res = await exports.default.fetch(new Request("http://localhost/mcp", { method: "POST", headers: { "content-type": "application/json", accept: "application/json, text/event-stream" }, body: "{}" }));
    expect(res.status).toBe(401);
    const body = (await res.json()) as { error: { fix: string } };
    expect(body.error.fix).toBe("Send a current API key or member token as the bearer token.");
    // The API keeps the CLI's wording, with the next step as data for other clients.
    const api = await call("GET", "/v1/me");
    expect(api.body.error.fix).toContain("keystroke auth login");
    expect(api.body.error.details.remedy).toEqual({ do: "sign_in" });
  });
});

describe("the audit log names people and credentials", () => {
  it("shows emails for actors and targets, references for credentials, and the member who signed in", async () => {
    const signedIn = await vaultOf(s.org.id).startWebSession("carol@acme.test", "github");
    expect(signedIn.ok).toBe(true);
    const slug = `au-${uid(5)}`;
    const set = await call("POST", "/v1/credentials", { token: s.bob, body: { app: "exa", fields: { apiKey: `exa-${uid(24)}` }, slug, targets: [{ type: "org" }] } });
    expect(set.status, set.text).toBe(200);
    const admin = await page("GET", "/audit", s.alice);
    const signIn = /<tr data-action="auth\.sign_in"[^>]*>(.*?)<\/tr>/s.exec(admin.html)![1]!;
    expect(signIn).toMatch(/data-label="Actor">\s*carol@acme\.test/);
    expect(signIn).toContain('data-label="Target">carol@acme.test<');
    const created = new RegExp(`<tr data-action="credential\\.create"[^>]*>((?:(?!</tr>).)*exa/org/${slug}(?:(?!</tr>).)*)</tr>`, "s").exec(admin.html)![1]!;
    expect(created).toMatch(/data-label="Actor">\s*bob@acme\.test/);
    expect(created).toContain('<code class="action">credential.create</code>');
    // A builder's own page names her too (her sign-in is hers, no longer "system").
    const builder = await page("GET", "/audit?action=auth.sign_in", s.carol);
    expect(builder.html).toMatch(/data-label="Actor">\s*carol@acme\.test/);
    const api = await call("GET", "/v1/audit?action=auth.sign_in&limit=1", { token: s.alice });
    expect(api.body.entries[0]).toMatchObject({ actor_kind: "user", actor_email: "carol@acme.test", target_email: "carol@acme.test" });
  });
});
