import { readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";

/**
 * Issue 12, build 2: only the api worker (root wrangler.toml) binds the Durable Objects; every
 * other worker reaches them through its own door, a service binding to one named entrypoint of
 * the api worker (durable-objects/doors/). What each door answers is tested in test/api/doors.test.ts.
 */
const ROOT = path.resolve(import.meta.dirname, "../..");
const config = (file: string) => readFileSync(path.join(ROOT, file), "utf8");
/** The `[[services]]` blocks of a wrangler.toml, as binding -> {service, entrypoint}. */
function services(toml: string): Record<string, { service?: string; entrypoint?: string }> {
  const out: Record<string, { service?: string; entrypoint?: string }> = {};
  for (const block of toml.split(/^\[\[services\]\]$/m).slice(1)) {
    const body = block.split(/^\[/m)[0]!;
    const get = (k: string) => new RegExp(`^${k}\\s*=\\s*"([^"]*)"`, "m").exec(body)?.[1];
    out[get("binding")!] = { service: get("service"), entrypoint: get("entrypoint") };
  }
  return out;
}
const doBindings = (toml: string) => [...toml.matchAll(/^\[\[durable_objects\.bindings\]\]\s*\nname\s*=\s*"([^"]+)"/gm)].map((m) => m[1]);

describe("one door per caller: the wrangler configs", () => {
  it.each([
    ["workers/oauth/wrangler.toml", "OAuthDoor", []],
    ["workers/slack-events/wrangler.toml", "SlackDoor", []],
    ["workers/dev/wrangler.toml", "DevDoor", ["SANDBOX"]],
  ] as const)("%s binds no vault or Directory, only VAULT_DOOR = the api worker's %s", (file, entrypoint, ownObjects) => {
    const toml = config(file);
    expect(doBindings(toml)).toEqual(ownObjects);
    expect(toml).not.toMatch(/class_name\s*=\s*"(OrgVault|Directory)"/);
    expect(services(toml).VAULT_DOOR).toEqual({ service: "keystroke-api", entrypoint });
  });

  it("the api worker owns both Durable Objects and exports every door", () => {
    expect(doBindings(config("wrangler.toml"))).toEqual(["VAULT", "DIRECTORY"]);
    const entry = config("workers/api/src/index.ts");
    for (const door of ["OAuthDoor", "SlackDoor", "DevDoor"]) expect(entry).toMatch(new RegExp(`export \\{ ${door} \\} from "\\.\\./\\.\\./\\.\\./durable-objects/doors/`));
  });
});
