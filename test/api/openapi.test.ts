import { beforeAll, describe, expect, it } from "vitest";
import app from "../../workers/api/src/index";
import { ERROR_CODES } from "../../lib/errors";
import { call, seed } from "./helpers";

/** Every method + path of SPEC section 11 (OpenAPI path syntax). */
const SPEC_11: [string, string][] = [
  ["get", "/v1/apps"],
  ["get", "/v1/credentials"], ["post", "/v1/credentials"], ["get", "/v1/credentials/{ref}"], ["patch", "/v1/credentials/{ref}"],
  ["post", "/v1/credentials/{ref}/rotate"], ["post", "/v1/credentials/{ref}/revoke"],
  ["post", "/v1/connect-sessions"], ["get", "/v1/connect-sessions/{id}"],
  ["get", "/v1/consumers"], ["get", "/v1/assignments"], ["put", "/v1/assignments"], ["delete", "/v1/assignments"],
  ["post", "/v1/resolve/explain"], ["post", "/v1/runtime/resolve"], ["post", "/v1/runtime/events"], ["put", "/v1/runtime/agents/{slug}/tools"],
  ["get", "/v1/channels"], ["get", "/v1/channels/available"], ["post", "/v1/channels/bindings"], ["delete", "/v1/channels/bindings/{channel}"], ["get", "/v1/channels/sessions"],
  ["post", "/v1/api-keys"], ["get", "/v1/api-keys"], ["delete", "/v1/api-keys/{id}"],
  ["get", "/v1/audit"], ["get", "/v1/me"], ["get", "/v1/projects"], ["get", "/v1/members"],
  ["post", "/v1/cli-logins"], ["get", "/v1/cli-logins/{id}"],
  ["post", "/mcp"],
];

/** Served under /v1 but not part of the API contract: the benchmarks' authenticated no-op. */
const UNDOCUMENTED = new Set(["get /v1/ping", "post /v1/ping"]);
/** Valid path parameters, so a probe gets past parameter validation to the body. */
const SAMPLE_PARAMS: Record<string, string> = { ref: "linear", slug: "support-bot", id: "cli_acme_aaaaaaaaaaaaaaaaaaaa", channel: "dm", name: "x" };
/** Where a path's id has another shape than a CLI login's. */
const SAMPLE_IDS: Record<string, string> = { "/v1/members/{id}": "mem_aaaaaaaaaaaaaaaaaaaa", "/v1/webhooks/{id}": "whk_aaaaaaaaaaaaaaaaaaaa" };

const toHono = (p: string) => p.replace(/\{(\w+)\}/g, ":$1");
const METHODS = ["get", "put", "post", "delete", "patch", "options", "head", "trace"];

let doc: any;
let text = "";
let routed: Set<string>;
/** The router serves method + path (OpenAPI syntax); `app.all` routes (like /mcp) serve every method. */
const serves = (method: string, path: string) => routed.has(`${method} ${toHono(path)}`) || routed.has(`all ${toHono(path)}`);
const operations = () =>
  Object.entries<any>(doc.paths).flatMap(([path, item]) => Object.keys(item).filter((k) => METHODS.includes(k)).map((method) => ({ method, path, op: item[method] })));
const ENVELOPE_REF = { $ref: "#/components/schemas/ErrorEnvelope" };

beforeAll(async () => {
  const res = await call("GET", "/openapi.json");
  expect(res.status, res.text).toBe(200);
  doc = res.body;
  text = res.text;
  routed = new Set(app.routes.map((r) => `${r.method.toLowerCase()} ${r.path}`));
});

describe("GET /openapi.json", () => {
  it("is served without a token as an OpenAPI 3.1 document", async () => {
    const res = await call("GET", "/openapi.json", { headers: { authorization: "Bearer junk" } });
    expect(res.status).toBe(200);
    expect(doc.openapi).toMatch(/^3\.1\.\d+$/);
    expect(typeof doc.info.title).toBe("string");
    expect(doc.info.title.length).toBeGreaterThan(0);
    expect(typeof doc.info.version).toBe("string");
    expect(typeof doc.paths).toBe("object");
    for (const [path, item] of Object.entries<any>(doc.paths)) {
      expect(path.startsWith("/")).toBe(true);
      expect(path).not.toMatch(/:\w/); // OpenAPI braces, never Hono's :param
      for (const key of Object.keys(item)) expect([...METHODS, "parameters", "summary", "description"]).toContain(key);
    }
  });

  it("declares the bearer security scheme", () => {
    expect(doc.components.securitySchemes.bearer).toMatchObject({ type: "http", scheme: "bearer" });
  });

  it("serves and documents every method and path of SPEC section 11", () => {
    for (const [method, path] of SPEC_11) {
      expect(serves(method, path), `the router serves ${method.toUpperCase()} ${path}`).toBe(true);
      expect(doc.paths[path]?.[method], `${method.toUpperCase()} ${path} is in the document`).toBeTruthy();
    }
    expect(doc.servers).toEqual([{ url: "http://localhost:8787", description: expect.any(String) }]); // PUBLIC_URL
  });

  it("documents every /v1 route the router serves", () => {
    for (const r of app.routes.filter((r) => r.path.startsWith("/v1/") && r.method !== "ALL")) {
      const key = `${r.method.toLowerCase()} ${r.path.replace(/:(\w+)/g, "{$1}")}`;
      if (UNDOCUMENTED.has(key)) continue;
      const [method, path] = key.split(" ") as [string, string];
      expect(doc.paths[path]?.[method], `${key} is in the document`).toBeTruthy();
    }
  });

  it("gives every operation a unique camelCase operationId, a declared tag, a summary and a description", () => {
    const ids = operations().map(({ op }) => op.operationId);
    for (const id of ids) expect(id).toMatch(/^[a-z][a-zA-Z0-9]*$/);
    expect(new Set(ids).size).toBe(ids.length);
    const tags = new Set(doc.tags.map((t: any) => t.name));
    for (const { method, path, op } of operations()) {
      expect(op.tags.length, `${method} ${path}`).toBeGreaterThan(0);
      for (const tag of op.tags) expect(tags.has(tag), `${method} ${path} tag ${tag}`).toBe(true);
      expect(op.summary && op.description, `${method} ${path}`).toBeTruthy();
    }
  });

  it("names the error envelope once (components.schemas.ErrorEnvelope) and references it, never inlines it", () => {
    const envelope = doc.components.schemas.ErrorEnvelope;
    expect(envelope.properties.error.properties.code.enum).toEqual([...ERROR_CODES]);
    expect(envelope.properties.error.required).toEqual(expect.arrayContaining(["code", "message"]));
    for (const { method, path, op } of operations()) {
      for (const [code, answer] of Object.entries<any>(op.responses).filter(([c]) => /^[45]/.test(c))) {
        const resolved = answer.$ref ? doc.components.responses[answer.$ref.split("/").pop()] : answer;
        const schema = resolved.content["application/json"].schema;
        // /mcp: the MCP SDK's own refusals are JSON-RPC errors, a named component too.
        const allowed = path === "/mcp" && ["400", "406", "415"].includes(code) ? { $ref: "#/components/schemas/JsonRpcMessage" } : ENVELOPE_REF;
        expect(schema, `${method} ${path} ${code}`).toEqual(allowed);
      }
    }
  });

  it("documents bearer security and the error answers of every operation", () => {
    for (const { method, path, op } of operations()) {
      // The operator's org creation takes PLATFORM_ADMIN_TOKEN (its own scheme), every other operation a ks_ token.
      expect(op.security, `${method} ${path}`).toEqual(path === "/v1/orgs" ? [{ platformAdmin: [] }] : [{ bearer: [] }]);
      const codes = Object.keys(op.responses);
      expect(codes.some((c) => /^2\d\d$/.test(c)), `${method} ${path} documents a success`).toBe(true);
      expect(codes, `${method} ${path} documents errors`).toEqual(expect.arrayContaining(["400", "401", "403"]));
      expect(op.responses["401"].content["application/json"].schema, `${method} ${path}`).toEqual(ENVELOPE_REF);
      if (path !== "/mcp") expect(op.responses["400"].content["application/json"].schema, `${method} ${path}`).toEqual(ENVELOPE_REF);
      const params: string[] = [...path.matchAll(/\{(\w+)\}/g)].map((m) => m[1]!);
      for (const name of params) {
        const declared = (op.parameters ?? []).find((p: any) => p.name === name && p.in === "path");
        expect(declared, `${method} ${path} declares path parameter ${name}`).toBeTruthy();
        expect(declared.required).toBe(true);
      }
    }
  });

  it("documents the credential bodies and query parameters", () => {
    const set = doc.paths["/v1/credentials"].post.requestBody.content["application/json"].schema;
    const props = set.properties ?? doc.components.schemas?.[set.$ref?.split("/").pop()]?.properties;
    expect(Object.keys(props)).toEqual(expect.arrayContaining(["app", "fields", "targets", "slug", "name"]));
    expect(set.required ?? []).toEqual(expect.arrayContaining(["app", "fields"]));
    const list = doc.paths["/v1/credentials"].get.parameters.filter((p: any) => p.in === "query").map((p: any) => p.name);
    expect(list).toEqual(expect.arrayContaining(["app", "scope", "status"]));
    const auditParams = doc.paths["/v1/audit"].get.parameters.map((p: any) => p.name);
    expect(auditParams).toEqual(expect.arrayContaining(["action", "actor", "credential", "since", "cursor", "limit"]));
    const patch = doc.paths["/v1/credentials/{ref}"].patch.requestBody.content["application/json"].schema;
    expect(JSON.stringify(patch)).toContain('"default"');
  });

  it("declares 413 and 415 on every operation with a body, and the app answers them", async () => {
    const withBody = operations().filter(({ op }) => op.requestBody);
    expect(withBody.length).toBeGreaterThan(15);
    for (const { method, path, op } of withBody) {
      expect(op.responses["413"], `${method} ${path} declares 413`).toBeTruthy();
      expect(op.responses["415"], `${method} ${path} declares 415`).toBeTruthy();
      const url = path.replace(/\{(\w+)\}/g, (_, name: string) => (name === "id" ? SAMPLE_IDS[path] : undefined) ?? SAMPLE_PARAMS[name] ?? name);
      const headers = { accept: "application/json, text/event-stream" };
      // Token-free: the body is refused before any handler runs. /mcp authenticates first.
      const token = path === "/mcp" ? (await seed()).alice : undefined;
      const notJson = await call(method.toUpperCase(), url, { token, rawBody: "{}", headers: { ...headers, "content-type": "text/plain" } });
      // The operator's /v1/orgs checks PLATFORM_ADMIN_TOKEN before it reads the body (the size limit still comes first).
      if (path === "/v1/orgs") expect(notJson.status, `${method} ${path} text/plain: ${notJson.text}`).toBe(401);
      else expect(notJson.status, `${method} ${path} text/plain: ${notJson.text}`).toBe(415);
      if (path === "/v1/orgs") expect(notJson.body.error.code).toBe("unauthorized");
      else if (path === "/mcp") expect(notJson.body.error.code).toBe(-32000); // the MCP SDK answers JSON-RPC errors
      else expect(notJson.body.error).toMatchObject({ code: "invalid_request", details: { field: "body" } });
      const tooLarge = await call(method.toUpperCase(), url, { token, rawBody: `{"x":"${"a".repeat(4 * 1024 * 1024)}"}`, headers: { ...headers, "content-type": "application/json" } });
      expect(tooLarge.status, `${method} ${path} over 4 MiB`).toBe(413);
      expect(tooLarge.body.error).toMatchObject({ code: "invalid_request", details: { field: "body" } });
    }
  });

  it("every $ref in the document resolves", () => {
    const refs = [...text.matchAll(/"\$ref":"([^"]+)"/g)].map((m) => m[1]!);
    for (const ref of refs) {
      expect(ref.startsWith("#/")).toBe(true);
      let node: any = doc;
      for (const part of ref.slice(2).split("/")) node = node?.[part.replace(/~1/g, "/").replace(/~0/g, "~")];
      expect(node, ref).toBeTruthy();
    }
  });

  it("documents no path that the router does not serve", () => {
    for (const [path, item] of Object.entries<any>(doc.paths)) {
      for (const method of Object.keys(item).filter((k) => METHODS.includes(k))) {
        expect(serves(method, path), `${method} ${path} is served`).toBe(true);
      }
    }
  });
});
