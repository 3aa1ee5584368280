import fc from "fast-check";
import { beforeAll, describe, expect, it } from "vitest";
import { call, credentialState, expectError, seed, setCred, uid, type CallOptions, type Seed } from "./helpers";

let s: Seed;
let existing: { id: string };
beforeAll(async () => {
  s = await seed();
  const res = await setCred(s.alice, { slug: "present", targets: [{ type: "org" }] });
  expect(res.status, res.text).toBe(200);
  existing = res.body.credentials[0];
});

const good = () => ({ app: "exa", fields: { apiKey: `exa-${uid(30)}` }, targets: [{ type: "org" }] as unknown[], slug: `ok${uid()}` });
const json = { "content-type": "application/json" };

interface Case {
  name: string;
  method: string;
  path: string | (() => string);
  opts: () => CallOptions;
  status: number;
  code: string;
  field?: string;
}

const post = (name: string, body: () => unknown, field: string, status = 400, code = "invalid_request"): Case =>
  ({ name, method: "POST", path: "/v1/credentials", opts: () => ({ body: body() }), status, code, field });

const manyFields = () => Object.fromEntries(Array.from({ length: 51 }, (_, i) => [`f${i}`, "v"]));

const CASES: Case[] = [
  { name: "malformed JSON", method: "POST", path: "/v1/credentials", opts: () => ({ rawBody: '{"app": "exa", "fields": ', headers: json }), status: 400, code: "invalid_request", field: "body" },
  { name: "JSON with a trailing comma", method: "POST", path: "/v1/credentials", opts: () => ({ rawBody: '{"app":"exa",}', headers: json }), status: 400, code: "invalid_request", field: "body" },
  { name: "missing content-type", method: "POST", path: "/v1/credentials", opts: () => ({ rawBody: JSON.stringify(good()) }), status: 415, code: "invalid_request", field: "body" },
  { name: "text/plain content-type", method: "POST", path: "/v1/credentials", opts: () => ({ rawBody: JSON.stringify(good()), headers: { "content-type": "text/plain" } }), status: 415, code: "invalid_request", field: "body" },
  { name: "form content-type on PATCH", method: "PATCH", path: () => `/v1/credentials/${existing.id}`, opts: () => ({ rawBody: "name=x", headers: { "content-type": "application/x-www-form-urlencoded" } }), status: 415, code: "invalid_request", field: "body" },
  post("a JSON array body", () => [good()], "body"),
  post("a JSON string body", () => "exa", "body"),
  post("app of the wrong type", () => ({ ...good(), app: 123 }), "app"),
  post("app missing", () => ({ ...good(), app: undefined }), "app"),
  post("fields of the wrong type", () => ({ ...good(), fields: "sk-123" }), "fields"),
  post("a field value of the wrong type", () => ({ ...good(), fields: { apiKey: 12345 } }), "fields.apiKey"),
  post("targets not an array", () => ({ ...good(), targets: { type: "org" } }), "targets"),
  post("slug of the wrong type", () => ({ ...good(), slug: 7 }), "slug"),
  post("name of the wrong type", () => ({ ...good(), name: ["x"] }), "name"),
  post("a blank name", () => ({ ...good(), name: "   " }), "name"),
  post("unknown top-level field", () => ({ ...good(), secret: "x" }), "secret"),
  post("unknown nested field in a target", () => ({ ...good(), targets: [{ type: "org" }, { type: "org", project: "support" }] }), "targets[1].project"),
  post("unknown field in a user target", () => ({ ...good(), targets: [{ type: "user", user: "mem_someoneelse" }] }), "targets[0].user"),
  post("unknown target type", () => ({ ...good(), targets: [{ type: "galaxy" }] }), "targets[0].type"),
  post("project target without project", () => ({ ...good(), targets: [{ type: "project" }] }), "targets[0].project"),
  post("empty field value", () => ({ ...good(), fields: { apiKey: "" } }), "fields.apiKey"),
  post("a field value over 64 KiB", () => ({ ...good(), fields: { apiKey: "x".repeat(64 * 1024 + 1) } }), "fields.apiKey"),
  post("a multibyte field value over 64 KiB in bytes", () => ({ ...good(), fields: { apiKey: "é".repeat(32 * 1024 + 1) } }), "fields.apiKey"),
  { name: "a field value with a lone surrogate", method: "POST", path: "/v1/credentials", opts: () => ({ rawBody: '{"app":"exa","fields":{"apiKey":"exa-abcdefghij\\ud800klmnop"}}', headers: json }), status: 400, code: "invalid_request", field: "fields.apiKey" },
  post("more than 50 fields", () => ({ ...good(), app: `many-${uid()}`, fields: manyFields() }), "fields"),
  post("no fields", () => ({ ...good(), fields: {} }), "fields"),
  post("a field name that is not a name", () => ({ ...good(), fields: { "api key": "x" } }), "fields.api key"),
  post("slug with uppercase", () => ({ ...good(), slug: "Work" }), "slug"),
  post("slug with a leading dash", () => ({ ...good(), slug: "-work" }), "slug"),
  post("slug of 64 characters", () => ({ ...good(), slug: "a".repeat(64) }), "slug"),
  post("slug with a slash", () => ({ ...good(), slug: "a/b" }), "slug"),
  post("unknown project", () => ({ ...good(), targets: [{ type: "project", project: "nope" }] }), "targets[0].project"),
  post("an OAuth app (github) via set", () => ({ ...good(), app: "github", fields: { accessToken: "gho_abcdefghijklmnop" } }), "app"),
  post("a field the catalog app does not have", () => ({ ...good(), fields: { apiKey: "exa-1234567890abcdef", other: "x" } }), "fields.other"),
  post("a catalog app missing a required field", () => ({ ...good(), app: "twilio", fields: { accountSid: "AC123" } }), "fields.authToken"),
  post("a reserved word as a custom app", () => ({ ...good(), app: "project", fields: { token: "t" } }), "app"),
  { name: "unknown ref", method: "GET", path: "/v1/credentials/nosuchthing", opts: () => ({}), status: 404, code: "not_found" },
  { name: "unknown ref on rotate", method: "POST", path: "/v1/credentials/nosuchthing/rotate", opts: () => ({ body: { fields: { apiKey: "x-1234567890abcdef" } } }), status: 404, code: "not_found" },
  { name: "malformed ref", method: "GET", path: "/v1/credentials/a%2F%2Fb", opts: () => ({}), status: 400, code: "invalid_request", field: "ref" },
  { name: "PATCH with an empty body", method: "PATCH", path: () => `/v1/credentials/${existing.id}`, opts: () => ({ body: {} }), status: 400, code: "invalid_request", field: "body" },
  { name: "PATCH with an unknown field", method: "PATCH", path: () => `/v1/credentials/${existing.id}`, opts: () => ({ body: { status: "revoked" } }), status: 400, code: "invalid_request", field: "status" },
  { name: "PATCH default of the wrong type", method: "PATCH", path: () => `/v1/credentials/${existing.id}`, opts: () => ({ body: { default: "yes" } }), status: 400, code: "invalid_request", field: "default" },
  { name: "PATCH with a bad slug", method: "PATCH", path: () => `/v1/credentials/${existing.id}`, opts: () => ({ body: { slug: "Nope!" } }), status: 400, code: "invalid_request", field: "slug" },
  { name: "rotate without fields", method: "POST", path: () => `/v1/credentials/${existing.id}/rotate`, opts: () => ({ body: {} }), status: 400, code: "invalid_request", field: "fields" },
  { name: "rotate with an empty value", method: "POST", path: () => `/v1/credentials/${existing.id}/rotate`, opts: () => ({ body: { fields: { apiKey: "" } } }), status: 400, code: "invalid_request", field: "fields.apiKey" },
  { name: "list scope=bogus", method: "GET", path: "/v1/credentials?scope=bogus", opts: () => ({}), status: 400, code: "invalid_request", field: "query.scope" },
  { name: "list status=x", method: "GET", path: "/v1/credentials?status=x", opts: () => ({}), status: 400, code: "invalid_request", field: "query.status" },
  { name: "list app=UPPER", method: "GET", path: "/v1/credentials?app=EXA", opts: () => ({}), status: 400, code: "invalid_request", field: "query.app" },
  { name: "list unknown query parameter", method: "GET", path: "/v1/credentials?colour=red", opts: () => ({}), status: 400, code: "invalid_request", field: "query.colour" },
  ...["/v1/members", "/v1/projects", "/v1/me/tokens", "/v1/api-keys", "/v1/invitations", "/v1/runtime-tokens"].map((path): Case => ({ name: `${path} misspelt limit`, method: "GET", path: `${path}?limt=5`, opts: () => ({}), status: 400, code: "invalid_request", field: "query.limt" })),
  { name: "audit limit=0", method: "GET", path: "/v1/audit?limit=0", opts: () => ({}), status: 400, code: "invalid_request", field: "query.limit" },
  { name: "audit limit=201", method: "GET", path: "/v1/audit?limit=201", opts: () => ({}), status: 400, code: "invalid_request", field: "query.limit" },
  { name: "audit limit=abc", method: "GET", path: "/v1/audit?limit=abc", opts: () => ({}), status: 400, code: "invalid_request", field: "query.limit" },
  { name: "audit cursor=abc", method: "GET", path: "/v1/audit?cursor=abc", opts: () => ({}), status: 400, code: "invalid_request", field: "query.cursor" },
  { name: "audit since=yesterday", method: "GET", path: "/v1/audit?since=yesterday", opts: () => ({}), status: 400, code: "invalid_request", field: "query.since" },
  { name: "api key with an empty name", method: "POST", path: "/v1/api-keys", opts: () => ({ body: { name: "" } }), status: 400, code: "invalid_request", field: "name" },
  { name: "api key id that is not an id", method: "DELETE", path: "/v1/api-keys/nope", opts: () => ({}), status: 400, code: "invalid_request", field: "path.id" },
  { name: "unknown route", method: "GET", path: "/v1/nothing-here", opts: () => ({}), status: 404, code: "not_found" },
  { name: "unknown version", method: "POST", path: "/v2/credentials", opts: () => ({ body: good() }), status: 404, code: "not_found" },
  { name: "wrong method on a known path", method: "DELETE", path: "/v1/credentials", opts: () => ({}), status: 404, code: "not_found" },
  { name: "body over the 4 MiB limit", method: "POST", path: "/v1/credentials", opts: () => ({ rawBody: JSON.stringify({ ...good(), name: "x".repeat(4 * 1024 * 1024 + 10) }), headers: json }), status: 413, code: "invalid_request", field: "body" },
];

describe("bad input is a 4xx naming the field, and writes nothing", () => {
  it.each(CASES)("$name -> $status", async (c) => {
    const before = await credentialState(s.org.id);
    const path = typeof c.path === "function" ? c.path() : c.path;
    const res = await call(c.method, path, { token: s.alice, ...c.opts() });
    expectError(res, c.status, c.code, c.field);
    expect(res.text).not.toMatch(/at .*\.ts:\d+|Error:|ZodError|stack/);
    expect(await credentialState(s.org.id)).toBe(before);
  });

  it("the error message never echoes the secret that was sent", async () => {
    const secret = `sk-ECHO-${uid(32)}`;
    for (const body of [
      { ...good(), fields: { apiKey: secret, nope: secret } },
      { ...good(), app: "github", fields: { accessToken: secret } },
      { ...good(), fields: { apiKey: secret }, targets: [{ type: "project", project: "nope" }] },
    ]) {
      const res = await call("POST", "/v1/credentials", { token: s.alice, body });
      expect(res.status).toBe(400);
      expect(res.text).not.toContain(secret.slice(8));
    }
  });
});

describe("property: arbitrary JSON bodies never produce a 5xx", () => {
  const slugish = fc.oneof(fc.constantFrom("exa", "github", "twilio", "stripe", "org", "user", "project", "work", "support", "nope", ""), fc.string({ maxLength: 70 }));
  const target = fc.oneof(
    fc.record({ type: fc.constantFrom("org", "user", "project", "team"), project: fc.option(slugish, { nil: undefined }) }, { requiredKeys: ["type"] }),
    fc.jsonValue({ maxDepth: 2 }),
  );
  const fieldName = fc.oneof(fc.constantFrom("apiKey", "secretKey", "accountSid", "authToken", "constructor", "toString", "__proto__", "hasOwnProperty"), fc.string({ maxLength: 70 }));
  const fieldValue = fc.oneof(fc.string({ maxLength: 40 }), fc.string({ unit: "binary", maxLength: 40 }), fc.jsonValue({ maxDepth: 1 }));
  const shaped = fc.record(
    {
      app: fc.oneof(slugish, fc.jsonValue({ maxDepth: 1 })),
      fields: fc.oneof(fc.dictionary(fieldName, fieldValue, { maxKeys: 6 }), fc.jsonValue({ maxDepth: 2 })),
      targets: fc.oneof(fc.array(target, { maxLength: 5 }), fc.jsonValue({ maxDepth: 1 })),
      slug: fc.oneof(slugish, fc.jsonValue({ maxDepth: 1 })),
      name: fc.oneof(fc.string({ maxLength: 30 }), fc.jsonValue({ maxDepth: 1 })),
      extra: fc.jsonValue({ maxDepth: 1 }),
    },
    { requiredKeys: [] },
  );
  const anyBody = fc.oneof(shaped, fc.jsonValue({ maxDepth: 4 }));

  it("POST /v1/credentials answers 200 or a well-formed 4xx", async () => {
    await fc.assert(
      fc.asyncProperty(anyBody, async (body) => {
        const res = await call("POST", "/v1/credentials", { token: s.alice, rawBody: JSON.stringify(body) ?? "null", headers: json });
        if (res.status >= 500) throw new Error(`${res.status} for ${JSON.stringify(body).slice(0, 300)}: ${res.text}`);
        if (res.status === 200) {
          expect(Array.isArray(res.body.credentials)).toBe(true);
        } else {
          expect(res.status).toBeGreaterThanOrEqual(400);
          expect(typeof res.body?.error?.code).toBe("string");
          expect(typeof res.body?.error?.message).toBe("string");
          if (res.status === 400) expect(typeof res.body.error.details?.field).toBe("string");
        }
      }),
      { numRuns: 300 },
    );
  }, 120_000);

  it("PATCH /v1/credentials/{ref} answers 200 or a well-formed 4xx", async () => {
    const patchBody = fc.oneof(
      fc.record({ name: fc.oneof(fc.string({ maxLength: 30 }), fc.jsonValue({ maxDepth: 1 })), slug: slugish, default: fc.oneof(fc.boolean(), fc.jsonValue({ maxDepth: 1 })) }, { requiredKeys: [] }),
      fc.jsonValue({ maxDepth: 3 }),
    );
    await fc.assert(
      fc.asyncProperty(patchBody, slugish, async (body, ref) => {
        const path = `/v1/credentials/${encodeURIComponent(ref || existing.id)}`;
        const res = await call("PATCH", path, { token: s.alice, rawBody: JSON.stringify(body) ?? "null", headers: json });
        if (res.status >= 500) throw new Error(`${res.status} for ${path} ${JSON.stringify(body)}: ${res.text}`);
        expect(res.status === 200 || typeof res.body?.error?.code === "string").toBe(true);
      }),
      { numRuns: 100 },
    );
  }, 120_000);
});
