import { beforeAll, describe, expect, it } from "vitest";
import app from "../../workers/api/src/index";
import { call } from "./helpers";

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
];

/** What this part of the product must always document, whatever else exists. */
const REQUIRED = new Set([
  "get /v1/apps", "get /v1/credentials", "post /v1/credentials", "get /v1/credentials/{ref}", "patch /v1/credentials/{ref}",
  "post /v1/credentials/{ref}/rotate", "post /v1/credentials/{ref}/revoke", "post /v1/api-keys", "get /v1/api-keys",
  "delete /v1/api-keys/{id}", "get /v1/audit", "get /v1/me", "get /v1/projects", "get /v1/members",
]);

const toHono = (p: string) => p.replace(/\{(\w+)\}/g, ":$1");
const METHODS = ["get", "put", "post", "delete", "patch", "options", "head", "trace"];

let doc: any;
let text = "";
let routed: Set<string>;

beforeAll(async () => {
  const res = await call("GET", "/openapi.json");
  expect(res.status, res.text).toBe(200);
  doc = res.body;
  text = res.text;
  routed = new Set(app.routes.filter((r) => r.method !== "ALL").map((r) => `${r.method.toLowerCase()} ${r.path}`));
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

  it("lists every SPEC section 11 path the router serves, with bearer security and documented answers", () => {
    const served = SPEC_11.filter(([m, p]) => routed.has(`${m} ${toHono(p)}`));
    for (const key of REQUIRED) expect(served.map(([m, p]) => `${m} ${p}`), `router serves ${key}`).toContain(key);
    for (const [method, path] of served) {
      const op = doc.paths[path]?.[method];
      expect(op, `${method.toUpperCase()} ${path} is in the document`).toBeTruthy();
      expect(op.security, `${method} ${path}`).toEqual([{ bearer: [] }]);
      const codes = Object.keys(op.responses);
      expect(codes.some((c) => /^2\d\d$/.test(c)), `${method} ${path} documents a success`).toBe(true);
      expect(codes, `${method} ${path} documents errors`).toEqual(expect.arrayContaining(["400", "401", "403"]));
      const err = op.responses["400"].content["application/json"].schema;
      expect(JSON.stringify(err)).toContain("error");
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
        expect(routed.has(`${method} ${toHono(path)}`), `${method} ${path} is served`).toBe(true);
      }
    }
  });
});
