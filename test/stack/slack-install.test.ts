import { describe, expect, inject, it } from "vitest";
import { api, dance, newSession, signIn } from "./oauth-helpers";

/** `keystroke connect slack`'s web flow: a bot install through the sandbox's oauth.v2.access. */
const { baseUrl, seed } = inject("stack");
const tokenOf = (email: string) => seed.users.find((u) => u.email === email)!.token;

describe("Slack bot install through the connect flow", () => {
  it("installs the workspace at the org, reads the bot id from auth.test and completes the session", async () => {
    const alice = tokenOf("alice@acme.test");
    const jar = await signIn(baseUrl, "alice@acme.test");
    const session = await newSession(baseUrl, alice, { app: "slack" });
    const d = await dance(jar, session, { targets: ["org"] });
    expect(d.callback.status).toBe(303);
    expect(d.authorize.searchParams.get("scope")).toContain("app_mentions:read,channels:history");

    const done = await api(baseUrl, "GET", `/v1/connect-sessions/${session}`, alice);
    expect(done.body.status).toBe("completed");
    expect(done.body.credentials).toHaveLength(1);
    expect(done.body.credentials[0]).toMatchObject({ app: "slack", scope: { type: "org" }, kind: "oauth", status: "active" });

    const channels = await api(baseUrl, "GET", "/v1/channels", alice);
    const installation = channels.body.installations.find((i: { team_id: string }) => i.team_id === "T0AB1CD2EF");
    expect(installation).toMatchObject({ app_id: "A0AB2AGNT7", bot_user_id: "U0AB3BOT01", bot_id: "B0AB3BOT01", status: "active", credential: done.body.credentials[0].id });
    expect(JSON.stringify(channels.body)).not.toMatch(/sbx_at_|xoxb-/);
  });

  it("a builder cannot install Slack for the org: refused before leaving for Slack", async () => {
    const carol = tokenOf("carol@acme.test");
    const jar = await signIn(baseUrl, "carol@acme.test");
    const session = await newSession(baseUrl, carol, { app: "slack" });
    await jar.fetch(`/connect/${session}`);
    const res = await jar.post("/oauth/start", { csrf: jar.csrf, session, target: ["user"] });
    expect(res.status).toBe(403);
    expect(await res.text()).toContain("You may not manage credentials at org");
    const after = await api(baseUrl, "GET", `/v1/connect-sessions/${session}`, carol);
    expect(after.body.status).toBe("pending");
  });
});
