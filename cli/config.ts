/**
 * The CLI's config file: `$XDG_CONFIG_HOME/keystroke/config.json` (default `~/.config/keystroke/`),
 * directory 0700, file 0600, parsed with zod on every read. It holds the active target, the API URL
 * and the tokens of signed-in orgs; writes are atomic (temp file + rename) so a crash never leaves
 * half a token on disk.
 */
import { chmodSync, mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { homedir } from "node:os";
import path from "node:path";
import { CliConfig, type StoredLogin } from "../lib/schemas/cli";
import { failure } from "./errors";

export function configDir(env: NodeJS.ProcessEnv): string {
  const base = env.XDG_CONFIG_HOME && path.isAbsolute(env.XDG_CONFIG_HOME) ? env.XDG_CONFIG_HOME : path.join(homedir(), ".config");
  return path.join(base, "keystroke");
}

export const configFile = (env: NodeJS.ProcessEnv): string => path.join(configDir(env), "config.json");

export function readConfig(env: NodeJS.ProcessEnv): CliConfig {
  const file = configFile(env);
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return CliConfig.parse({});
    throw failure(`Cannot read ${file} (${(e as NodeJS.ErrnoException).code ?? "error"}).`);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    throw failure(`${file} is not valid JSON.`, { fix: `Delete it and sign in again (\`keystroke auth login\`).` });
  }
  const parsed = CliConfig.safeParse(raw);
  if (!parsed.success) {
    const where = parsed.error.issues[0]?.path.join(".") || "the file";
    throw failure(`${file} is invalid at ${where}.`, { fix: `Fix or delete it, then sign in again (\`keystroke auth login\`).` });
  }
  return parsed.data;
}

/** Writes the whole config with mode 0600, through a temp file so readers never see a partial one. */
export function writeConfig(env: NodeJS.ProcessEnv, config: CliConfig): void {
  const dir = configDir(env);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const file = configFile(env);
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, JSON.stringify(CliConfig.parse(config), null, 2) + "\n", { mode: 0o600 });
  // The mode option is ignored when the file exists; chmod makes it hold either way.
  chmodSync(tmp, 0o600);
  renameSync(tmp, file);
}

export const sameLogin = (a: Pick<StoredLogin, "api_url" | "org">, b: Pick<StoredLogin, "api_url" | "org">): boolean =>
  a.api_url === b.api_url && a.org === b.org;
