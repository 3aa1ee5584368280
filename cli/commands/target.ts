/**
 * `keystroke target` and `keystroke target use local|cloud [--url U]`: which backend the credential
 * commands talk to. The choice lives in the config file; `--target` overrides it for one command.
 */
import { existsSync } from "node:fs";
import type { Command } from "commander";
import { z } from "zod";
import { CliTarget } from "../../lib/schemas/cli";
import { usageError } from "../errors";
import { readDotenv, storePath } from "../local/files";
import { printJson, type Io } from "../output";
import { Session } from "../session";
import { act } from "./common";

function describe(s: Session) {
  const { target, source } = s.target();
  if (target === "local") {
    const dir = s.projectDir();
    const env = readDotenv(dir);
    return { target, source, project_dir: dir, store: storePath(dir), store_exists: existsSync(storePath(dir)), dotenv: env.modified !== null ? env.path : null };
  }
  const api = s.apiUrl();
  const login = s.storedLogin();
  return { target, source, api_url: api.url, api_url_source: api.source, org: login?.org ?? s.org() ?? null, signed_in: s.io.env.KEYSTROKE_TOKEN ? "KEYSTROKE_TOKEN" : login ? "config" : null };
}

function print(s: Session): void {
  const d = describe(s);
  if (s.globals.json) return printJson(s.io, d);
  const lines =
    d.target === "local"
      ? [`Target:  local (from ${d.source})`, `Store:   ${d.store}${d.store_exists ? "" : " (not created yet)"}`, `.env:    ${d.dotenv ?? "none"}`]
      : [`Target:  cloud (from ${d.source})`, `API:     ${d.api_url} (from ${d.api_url_source})`, `Signed in: ${d.signed_in ? `yes, org ${d.org ?? "?"} (${d.signed_in})` : "no (run `keystroke auth login`)"}`];
  s.io.stdout.write(lines.join("\n") + "\n");
}

export function registerTarget(program: Command, io: Io): void {
  const target = program
    .command("target")
    .description("Show the active target (local file store or cloud API); `target use` switches it")
    .action(act(io, async (s) => print(s)));

  target
    .command("use <target>")
    .description("Switch the active target: local (this project's .keystroke/ and .env) or cloud (the API)")
    .option("--url <url>", "the cloud API's URL (default http://localhost:8787, the local stack)")
    .action(
      act(io, async (s, name: string, opts: { url?: string }) => {
        const parsed = CliTarget.safeParse(name);
        if (!parsed.success) throw usageError(`Unknown target \`${name}\`: use local or cloud.`);
        if (opts.url !== undefined && parsed.data === "local") throw usageError("--url is for the cloud target; the local target has no server.");
        if (opts.url !== undefined && !z.url({ protocol: /^https?$/ }).safeParse(opts.url).success) throw usageError("--url must be an http(s) URL.");
        const config = s.config;
        s.saveConfig({ ...config, target: parsed.data, ...(opts.url !== undefined ? { api_url: opts.url.replace(/\/+$/, "") } : {}) });
        // Show the result as the next command will see it (without this command's --target).
        print(new Session(io, { ...s.globals, target: undefined }));
      }),
    );
}
