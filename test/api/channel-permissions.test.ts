import { afterEach, beforeAll, beforeEach, describe, expect, it, vi } from "vitest";
import { call, installSlackIn, seed, tableActors, tableRow, uid, vaultSql, type Seed, type TableRole } from "./helpers";

/**
 * Who may bind and unbind Slack channels (SPEC section 7, README "Agent channels"): a binding has
 * the permissions of a credential at its scope (the org, or the project it is bound for), checked
 * in the vault. One table: roles x operations x the binding's scope. 403 writes one denied audit
 * row and changes nothing; 404: a binding of a project the caller cannot see does not exist for them.
 */
type Role = TableRole;
const SCOPES = ["org", "growth", "support"] as const;
type ScopeName = (typeof SCOPES)[number];
type Outcome = "ok" | "403" | "404";
const row = tableRow<ScopeName>(SCOPES);

// Columns: org, growth, support.
const BIND: Record<Role, Record<ScopeName, Outcome>> = {
  owner: row("ok ok ok"),
  admin: row("ok ok ok"),
  projectAdmin: row("403 ok 403"), // admin of growth
  builderIn: row("403 403 403"), // builder of growth
  builderOut: row("403 403 403"), // carol: builder of support
  key: row("403 403 403"), // carol's API key
};
const UNBIND: Record<Role, Record<ScopeName, Outcome>> = {
  owner: row("ok ok ok"),
  admin: row("ok ok ok"),
  projectAdmin: row("403 ok 404"),
  builderIn: row("403 403 404"),
  builderOut: row("403 404 403"),
  key: row("403 404 403"),
};
const ROLES = Object.keys(BIND) as Role[];

let s: Seed;
const tokens = {} as Record<Role, string>;
// One Slack channel per table cell, so no cell sees another's binding.
const CHANNELS = Array.from({ length: 60 }, (_, i) => ({ id: `C0TAB${String(i).padStart(4, "0")}`, name: `table-${i}`, is_member: true }));
let next = 0;

beforeEach(() => {
  vi.spyOn(globalThis, "fetch").mockImplementation(async (input, init) => {
    const req = new Request(input as RequestInfo, init);
    if (req.url === "https://slack.com/api/conversations.list") return Response.json({ ok: true, channels: CHANNELS, response_metadata: { next_cursor: "" } });
    return new Response("blocked by test", { status: 599 });
  });
});
afterEach(() => vi.restoreAllMocks());

beforeAll(async () => {
  s = await seed();
  const installed = await installSlackIn(s.org.id, {
    appId: "A0AB2AGNT7", teamId: "T0TABLE001", teamName: "table", enterpriseId: null, isEnterpriseInstall: false,
    botUserId: "U0AB3BOT01", botId: "B0AB3BOT01", botToken: "xoxb-table-NOT-A-REAL-TOKEN", scopes: ["chat:write", "channels:read"], installedBy: "test",
  });
  expect(installed.ok).toBe(true);
  Object.assign(tokens, await tableActors(s));
});

const bind = (token: string, channel: string, scope: ScopeName) =>
  call("POST", "/v1/channels/bindings", { token, body: { channel, agent: `agent-${uid(4)}`, ...(scope === "org" ? {} : { project: scope }) } });
const bindings = () => vaultSql(s.org.id, `SELECT channel_id, agent, project FROM slack_bindings ORDER BY channel_id`);
const denials = async () => (await vaultSql(s.org.id, `SELECT seq FROM audit WHERE outcome = 'denied'`)).length;

describe("channel bindings: roles x operations x scopes", () => {
  beforeAll(async () => {
    // The vault learns the channels from conversations.list (GET /v1/channels/available).
    vi.spyOn(globalThis, "fetch").mockImplementation(async () => Response.json({ ok: true, channels: CHANNELS, response_metadata: { next_cursor: "" } }));
    expect((await call("GET", "/v1/channels/available", { token: s.alice })).status).toBe(200);
    vi.restoreAllMocks();
  });

  const cases = ROLES.flatMap((role) => SCOPES.flatMap((scope) => [
    { role, op: "bind" as const, scope, want: BIND[role][scope] },
    { role, op: "unbind" as const, scope, want: UNBIND[role][scope] },
  ]));
  it.each(cases)("$role $op at $scope -> $want", async ({ role, op, scope, want }) => {
    const channel = CHANNELS[next++]!.id;
    if (op === "unbind") expect((await bind(s.alice, channel, scope)).status).toBe(200);
    const before = await bindings();
    const denied = await denials();
    const res = op === "bind" ? await bind(tokens[role], channel, scope) : await call("DELETE", `/v1/channels/bindings/${channel}`, { token: tokens[role] });
    if (want === "ok") {
      expect(res.status, res.text).toBe(200);
      return;
    }
    expect(res.status, res.text).toBe(want === "403" ? 403 : 404);
    expect(res.body.error.code).toBe(want === "403" ? "forbidden" : "not_found");
    expect(await bindings()).toEqual(before);
    expect(await denials()).toBe(denied + (want === "403" ? 1 : 0));
  });

  it("a runtime token binds nothing", async () => {
    expect((await bind(s.runtime, CHANNELS[next++]!.id, "org")).status).toBe(403);
  });
});
