import { beforeAll, describe, expect, it } from "vitest";
import { call, credentialState, seed, tableActors, tableRow, uid, vaultOf, vaultSql, type Seed, type TableRole } from "./helpers";

/**
 * Who may connect where (SPEC sections 3 and 6): a connect session's targets follow the same rule
 * as `credentials set` (manage on the scope), checked inside the vault when the form completes, and
 * a reconnect needs manage on the credential it renews. One table: roles x targets. A refusal is
 * 403 with one denied audit row and nothing written; the runtime token is no member at all.
 */
type Role = TableRole;
const TARGETS = ["org", "growth", "support", "user"] as const;
type TargetName = (typeof TARGETS)[number];
const row = tableRow<TargetName, "ok" | "403">(TARGETS);

// Columns: org, growth, support, the caller's own user scope.
const COMPLETE: Record<Role, Record<TargetName, "ok" | "403">> = {
  owner: row("ok ok ok ok"),
  admin: row("ok ok ok ok"),
  projectAdmin: row("403 ok 403 ok"), // admin of growth
  builderIn: row("403 403 403 ok"), // builder of growth
  builderOut: row("403 403 403 ok"), // carol: builder of support
  key: row("403 403 403 ok"), // carol's API key: carol's rights
};
const ROLES = Object.keys(COMPLETE) as Role[];

let s: Seed;
const tokens = {} as Record<Role, string>;

beforeAll(async () => {
  s = await seed();
  Object.assign(tokens, await tableActors(s));
});

const targetOf = (t: TargetName) => (t === "org" ? { type: "org" as const } : t === "user" ? { type: "user" as const } : { type: "project" as const, project: t });
const denials = async () => (await vaultSql(s.org.id, `SELECT seq FROM audit WHERE outcome = 'denied'`)).length;

describe("completing a connect session (API-key app): roles x targets", () => {
  const cases = ROLES.flatMap((role) => TARGETS.map((target) => ({ role, target, ok: COMPLETE[role][target] === "ok" })));
  it.each(cases)("$role -> $target: ok=$ok", async ({ role, target, ok }) => {
    const session = await call("POST", "/v1/connect-sessions", { token: tokens[role], body: { app: "exa" } });
    expect(session.status, session.text).toBe(201);
    const before = await credentialState(s.org.id);
    const denied = await denials();
    const r = await vaultOf(s.org.id).completeConnectWithFields(tokens[role], session.body.id, { targets: [targetOf(target)], name: `t-${uid(6)}` }, { apiKey: `exa-${uid(20)}` });
    if (ok) {
      expect(r.ok, JSON.stringify(r)).toBe(true);
      expect((await call("GET", `/v1/connect-sessions/${session.body.id}`, { token: tokens[role] })).body.status).toBe("completed");
    } else {
      expect(r.ok || r.error).toMatchObject({ code: "forbidden" });
      expect(await credentialState(s.org.id)).toEqual(before);
      expect(await denials()).toBe(denied + 1);
      // The session stays open: the member can pick a target they may use.
      expect((await call("GET", `/v1/connect-sessions/${session.body.id}`, { token: tokens[role] })).body.status).toBe("pending");
    }
  });

  it("a runtime token opens no connect session", async () => {
    const r = await call("POST", "/v1/connect-sessions", { token: s.runtime, body: { app: "exa" } });
    expect(r.status).toBe(403);
  });
});
