/**
 * Everything a command needs to know about where it runs: the global flags (validated once), the
 * config file, the active target, the API URL and the token. Precedence, highest first:
 * flags, then KEYSTROKE_API_URL / KEYSTROKE_TOKEN, then the config file, then the defaults.
 */
import { z } from "zod";
import { Slug } from "../lib/schemas/common";
import { CliTarget, type CliConfig, type StoredLogin } from "../lib/schemas/cli";
import { parseToken } from "../lib/tokens";
import { CloudBackend, type Backend } from "./backend";
import { readConfig, sameLogin, writeConfig } from "./config";
import { cloudOnly, failure, usageError } from "./errors";
import { Api } from "./http";
import { LocalBackend } from "./local/backend";
import { findProjectDir } from "./local/files";
import type { Io } from "./output";

/** The embedded local stack (`npm run dev`). */
export const DEFAULT_API_URL = "http://localhost:8787";

const Globals = z.object({
  json: z.boolean().default(false),
  org: Slug.optional(),
  project: Slug.optional(),
  target: CliTarget.optional(),
});
export type Globals = z.infer<typeof Globals>;

export interface ActiveToken {
  token: string;
  source: "KEYSTROKE_TOKEN" | "config";
  login?: StoredLogin;
}

export function parseGlobals(raw: Record<string, unknown>): Globals {
  const r = Globals.safeParse({ json: raw.json, org: raw.org, project: raw.project, target: raw.target });
  if (r.success) return r.data;
  const flag = String(r.error.issues[0]?.path[0] ?? "option");
  throw usageError(`--${flag} ${r.error.issues[0]?.message ?? "is invalid"}.`);
}

export class Session {
  readonly io: Io;
  readonly globals: Globals;
  #config: CliConfig | undefined;

  constructor(io: Io, globals: Globals) {
    this.io = io;
    this.globals = globals;
  }

  get config(): CliConfig {
    this.#config ??= readConfig(this.io.env);
    return this.#config;
  }

  saveConfig(next: CliConfig): void {
    writeConfig(this.io.env, next);
    this.#config = next;
  }

  target(): { target: CliTarget; source: "--target" | "config" } {
    return this.globals.target !== undefined ? { target: this.globals.target, source: "--target" } : { target: this.config.target, source: "config" };
  }

  apiUrl(): { url: string; source: "KEYSTROKE_API_URL" | "config" | "default" } {
    const fromEnv = this.io.env.KEYSTROKE_API_URL;
    if (fromEnv) {
      if (!z.url({ protocol: /^https?$/ }).safeParse(fromEnv).success) throw usageError("KEYSTROKE_API_URL is not an http(s) URL.");
      return { url: fromEnv.replace(/\/+$/, ""), source: "KEYSTROKE_API_URL" };
    }
    if (this.config.api_url) return { url: this.config.api_url.replace(/\/+$/, ""), source: "config" };
    return { url: DEFAULT_API_URL, source: "default" };
  }

  /** The org a command means: --org, else the config's current org. */
  org(): string | undefined {
    return this.globals.org ?? this.config.org;
  }

  /** The stored login for this API and org (or the only one for this API when no org is named). */
  storedLogin(): StoredLogin | undefined {
    const url = this.apiUrl().url;
    const here = this.config.logins.filter((l) => l.api_url === url);
    const org = this.org();
    if (org !== undefined) return here.find((l) => sameLogin(l, { api_url: url, org }));
    return here.length === 1 ? here[0] : undefined;
  }

  activeToken(): ActiveToken | undefined {
    const fromEnv = this.io.env.KEYSTROKE_TOKEN;
    if (fromEnv) {
      // Never echo it: a mistyped value may be some other secret.
      if (parseToken(fromEnv) === null) throw usageError("KEYSTROKE_TOKEN does not look like a Keystroke token (ks_<kind>_<org>_<random>).");
      return { token: fromEnv, source: "KEYSTROKE_TOKEN" };
    }
    const login = this.storedLogin();
    return login ? { token: login.token, source: "config", login } : undefined;
  }

  /** An authenticated client for the cloud target, or a clear "sign in first". */
  api(): Api {
    const active = this.activeToken();
    const { url } = this.apiUrl();
    if (!active) {
      const org = this.org();
      throw failure(org ? `Not signed in to org ${org} at ${url}.` : `Not signed in at ${url}.`, {
        code: "unauthorized",
        fix: `Run \`keystroke auth login --org <org>\` (or \`--token <token>\`), or set KEYSTROKE_TOKEN.`,
      });
    }
    return new Api(url, active.token);
  }

  projectDir(): string {
    return findProjectDir(this.io.cwd);
  }

  backend(): Backend {
    return this.target().target === "local" ? new LocalBackend(this.projectDir()) : new CloudBackend(this.api());
  }

  /** Refuses a cloud-only command on the local target, with what to do instead. */
  requireCloud(what: string, why: string): void {
    if (this.target().target === "local") throw cloudOnly(what, why);
  }
}
