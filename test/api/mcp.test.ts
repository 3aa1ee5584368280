import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { exports } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import { call, seed, setCred, uid, vaultSql, type Seed } from "./helpers";

/** The official MCP client, talking to the api worker in-process. */
async function connectClient(token: string) {
  const transport = new StreamableHTTPClientTransport(new URL("http://localhost/mcp"), {
    requestInit: { headers: { authorization: `Bearer ${token}` } },
    fetch: (input, init) => exports.default.fetch(new Request(input as string, init)),
  });
  const client = new Client({ name: "test", version: "1.0.0" });
  await client.connect(transport);
  return client;
}

const text = (r: object) => (((r as { content?: { text?: string }[] }).content) ?? []).map((c) => c.text ?? "").join("\n");

let s: Seed;
beforeAll(async () => {
  s = await seed();
});

describe("MCP over streamable HTTP", () => {
  it("refuses unauthenticated, non-POST, foreign-origin and runtime-token requests", async () => {
    const init = { jsonrpc: "2.0", id: 1, method: "initialize", params: { protocolVersion: "2025-06-18", capabilities: {}, clientInfo: { name: "x", version: "1" } } };
    const accept = { accept: "application/json, text/event-stream" };
    expect((await call("POST", "/mcp", { body: init, headers: accept })).status).toBe(401);
    expect((await call("POST", "/mcp", { token: "ks_user_nope", body: init, headers: accept })).status).toBe(401);
    expect((await call("GET", "/mcp", { token: s.alice })).status).toBe(405);
    const foreign = await call("POST", "/mcp", { token: s.alice, body: init, headers: { ...accept, origin: "https://evil.example" } });
    expect(foreign.status).toBe(403);
    expect(foreign.body.error.code).toBe("forbidden");
    expect((await call("POST", "/mcp", { token: s.runtime, body: init, headers: accept })).status).toBe(403);
    const same = await call("POST", "/mcp", { token: s.alice, body: init, headers: { ...accept, origin: "http://localhost:8787" } });
    expect(same.status).toBe(200);
  });

  it("DNS rebinding: an Origin equal to the request's own Host is refused unless it is the configured PUBLIC_URL", async () => {
    const init = { jsonrpc: "2.0", id: 1, method: "initialize", params: { protocolVersion: "2025-06-18", capabilities: {}, clientInfo: { name: "x", version: "1" } } };
    // PUBLIC_URL is http://localhost:8787 in the tests, and dev mode is off: loopback on another port is foreign too.
    for (const site of ["http://rebind.attacker.example", "http://rebind.attacker.example:8787", "http://localhost:9999", "http://127.0.0.1:8787"]) {
      const res = await exports.default.fetch(new Request(`${site}/mcp`, {
        method: "POST",
        body: JSON.stringify(init),
        headers: { authorization: `Bearer ${s.alice}`, "content-type": "application/json", accept: "application/json, text/event-stream", origin: site },
      }));
      expect([site, res.status]).toEqual([site, 403]);
      expect(await res.json()).toMatchObject({ error: { code: "forbidden", details: { field: "origin" } } });
    }
  });

  it("lists the four tools with input schemas and answers ping", async () => {
    const client = await connectClient(s.alice);
    const { tools } = await client.listTools();
    expect(tools.map((t) => t.name).sort()).toEqual(["connect_app", "connect_status", "list_apps", "list_credentials"]);
    const connect = tools.find((t) => t.name === "connect_app")!;
    expect(connect.inputSchema.required).toEqual(["app"]);
    expect(connect.outputSchema).toBeDefined();
    await expect(client.ping()).resolves.toBeDefined();
    await client.close();
  });

  it("connect_app gives a link to the web flow and connect_status follows it to completion", async () => {
    const client = await connectClient(s.alice);
    const r = await client.callTool({ name: "connect_app", arguments: { app: "exa", name: "From MCP" } });
    expect(r.isError).toBeFalsy();
    const out = r.structuredContent as { url: string; session_id: string; expires_at: string };
    expect(out.url).toBe(`http://localhost:8787/connect/${out.session_id}`);
    expect(Date.parse(out.expires_at) - Date.now()).toBeGreaterThan(29 * 60_000);

    const pending = await client.callTool({ name: "connect_status", arguments: { session_id: out.session_id } });
    expect(pending.structuredContent).toMatchObject({ status: "pending", app: "exa", credentials: [] });

    // The person opens the link (signed in) and submits the API-key form.
    const cookie = `ks_session=${s.alice}`;
    const page = await exports.default.fetch(new Request(`http://localhost/connect/${out.session_id}`, { headers: { cookie } }));
    expect(page.status).toBe(200);
    const csrf = /ks_csrf=([a-f0-9]+)/.exec(page.headers.get("set-cookie") ?? "")![1]!;
    const form = new URLSearchParams({ csrf, session: out.session_id, target: "org", name: "From MCP", "field.apiKey": "exa-mcp-secret-0123456789abcdef" });
    const posted = await exports.default.fetch(new Request(`http://localhost/connect/${out.session_id}`, { method: "POST", body: form, headers: { cookie: `${cookie}; ks_csrf=${csrf}`, "content-type": "application/x-www-form-urlencoded" }, redirect: "manual" }));
    expect(posted.status).toBe(303);

    const done = await client.callTool({ name: "connect_status", arguments: { session_id: out.session_id } });
    expect(done.structuredContent).toMatchObject({ status: "completed", credentials: [{ ref: "exa/org/from-mcp", app: "exa", status: "active" }] });
    expect(JSON.stringify(done)).not.toContain("exa-mcp-secret");
    const creds = await client.callTool({ name: "list_credentials", arguments: { app: "exa" } });
    expect((creds.structuredContent as { credentials: { ref: string; preview: string | null }[] }).credentials.map((c) => c.ref)).toContain("exa/org/from-mcp");
    expect(JSON.stringify(creds)).not.toContain("exa-mcp-secret");
    await client.close();
  });

  it("list_credentials shows the status with its reason and the last error (issue 15)", async () => {
    const slug = `mcp-${uid(6)}`;
    const cred = (await setCred(s.alice, { slug })).body.credentials[0];
    await vaultSql(s.org.id, `UPDATE credentials SET status = 'needs_reauth', health = 'invalid', status_reason = 'probe_unauthorized', last_error_at = ?, last_error_code = 'unauthorized', last_error_message = 'The provider refused the key (HTTP 401).' WHERE id = ?`, Date.now(), cred.id);
    const client = await connectClient(s.carol);
    const listed = await client.callTool({ name: "list_credentials", arguments: { app: "exa" } });
    const row = (listed.structuredContent as { credentials: { ref: string }[] }).credentials.find((c) => c.ref === cred.ref);
    expect(row).toMatchObject({ status: "invalid", status_reason: "probe_unauthorized", last_error: "The provider refused the key (HTTP 401)." });
    expect(text(listed)).toContain(`${cred.ref} [invalid: probe_unauthorized]`);
    await client.close();
  });

  it("list_credentials answers pages: next_cursor, then the rest with cursor; a forged cursor is a tool error (issue 16)", async () => {
    const app = `pg${uid(6)}`;
    for (let i = 0; i < 105; i++) {
      await vaultSql(s.org.id, `INSERT INTO credentials (id, app, slug, name, scope_type, scope_id, kind, status, created_by, created_at, updated_at) VALUES (?, ?, ?, 'x', 'org', '', 'api_key', 'active', 'test', 0, 0)`, `cred_${uid(20)}`, app, `s${String(i).padStart(3, "0")}`);
    }
    const client = await connectClient(s.alice);
    const first = await client.callTool({ name: "list_credentials", arguments: { app } });
    const page1 = first.structuredContent as { credentials: { ref: string }[]; next_cursor: string | null };
    expect(page1.credentials).toHaveLength(100);
    expect(page1.next_cursor).toEqual(expect.any(String));
    expect(text(first)).toContain(page1.next_cursor!);
    const second = await client.callTool({ name: "list_credentials", arguments: { app, cursor: page1.next_cursor } });
    const page2 = second.structuredContent as { credentials: { ref: string }[]; next_cursor: string | null };
    expect(page2.next_cursor).toBeNull();
    expect([...page1.credentials, ...page2.credentials].map((c) => c.ref)).toEqual(Array.from({ length: 105 }, (_, i) => `${app}/org/s${String(i).padStart(3, "0")}`));
    const forged = await client.callTool({ name: "list_credentials", arguments: { app, cursor: "bm9wZQ" } });
    expect(forged.isError).toBe(true);
    await client.close();
  });

  it("unknown apps and bad arguments come back as tool errors with the fix", async () => {
    const client = await connectClient(s.carol);
    const unknown = await client.callTool({ name: "connect_app", arguments: { app: "no-such-app" } });
    expect(unknown.isError).toBe(true);
    expect(text(unknown)).toContain("There is no app `no-such-app`");
    // The SPEC section 10 envelope: its code leads the text, and the whole of it is in _meta.
    expect(text(unknown)).toMatch(/^invalid_request \(field `app`\): There is no app/);
    expect(unknown._meta).toMatchObject({ error: { code: "invalid_request", details: { field: "app" }, message: expect.stringContaining("no-such-app"), fix: expect.stringContaining("list_apps") } });
    // An MCP caller is told the tool to call, never a CLI command.
    expect(text(unknown)).toContain("Call list_apps");
    expect(text(unknown)).not.toContain("keystroke ");
    const bad = await client.callTool({ name: "connect_app", arguments: { app: "Not A Slug!" } });
    expect(bad.isError).toBe(true);
    const status = await client.callTool({ name: "connect_status", arguments: { session_id: "cs_aaaaaaaaaaaaaaaaaaaa" } });
    expect(status.isError).toBe(true);
    expect(text(status)).toContain("no such connect session");
    expect(text(status)).toContain("Call connect_app again");
    expect(text(status)).not.toContain("keystroke ");
    await client.close();
  });

  it("list_apps searches the catalog; an API key works like its member", async () => {
    const key = await call("POST", "/v1/api-keys", { token: s.bob, body: { name: "mcp" } });
    const client = await connectClient(key.body.key);
    const r = await client.callTool({ name: "list_apps", arguments: { search: "linear" } });
    const apps = (r.structuredContent as { apps: { slug: string; kind: string }[] }).apps;
    expect(apps[0]).toMatchObject({ slug: "linear", kind: "oauth" });
    await client.close();
  });
});
