import { describe, expect, it } from "vitest";
import { alice, Machine } from "./helpers";

/** The dev seed installs the sandbox Slack workspace (shared/fixtures/slack), so channels exist. */
describe("keystroke channels", () => {
  it("lists, binds the bot's DMs to an agent, shows sessions and unbinds", async () => {
    const m = new Machine({ KEYSTROKE_TOKEN: alice });
    const available = await m.run(["channels", "available"]);
    expect(available.code, available.stderr).toBe(0);
    expect(available.stdout).toMatch(/^CHANNEL +NAME +PRIVATE +BOT IN +BINDABLE +BOUND TO\n/);
    expect(available.stdout).toMatch(/^dm +direct messages/m);

    const bound = await m.run(["--project", "support", "channels", "bind", "dm", "--agent", "helper", "--mode", "all"]);
    expect(bound).toMatchObject({ code: 0, stdout: "Bound the bot's direct messages to agent helper (all).\n" });
    const list = await m.json(["channels", "list"]);
    expect(list.channels).toContainEqual(expect.objectContaining({ channel: "dm", agent: "helper", mode: "all", project: "support", status: "active" }));
    expect((await m.run(["channels", "list"])).stdout).toMatch(/^dm +\S.* +helper +all +support +active$/m);

    const sessions = await m.run(["channels", "sessions", "--agent", "helper"]);
    expect(sessions.code).toBe(0);
    expect(await m.json(["channels", "sessions"])).toEqual({ sessions: expect.any(Array) });

    expect(await m.run(["channels", "unbind", "dm"])).toMatchObject({ code: 0, stdout: "Unbound the bot's direct messages from agent helper.\n" });
    expect(await m.run(["channels", "unbind", "dm"])).toMatchObject({ code: 1, stderr: expect.stringMatching(/^keystroke: .*`dm`.*\n$/) });
    expect(await m.run(["channels", "bind", "dm"])).toMatchObject({ code: 2, stderr: expect.stringMatching(/required option '--agent <slug>'/) });
    expect(await m.run(["channels", "bind", "dm", "--agent", "helper", "--mode", "loud"])).toMatchObject({ code: 2 });
  });
});
