import { parseKeyring } from "./crypto";
import { AppError } from "./errors";
import { parseClients } from "./oauth";
import { parseSignup } from "./signup";

/**
 * What each deployed worker needs to run (SPEC section 15): its bindings, secrets and vars, and
 * how a value is checked. One list, read by the workers (a worker with a problem answers 503
 * naming the setting instead of running half-configured) and by `npm run deploy:check` (every
 * binding the code uses must be a config binding or a setting listed here). Problems name the
 * setting and never carry its value.
 */
export type DeployedWorker = "api" | "oauth" | "slack-events";

export interface Setting {
  name: string;
  /** binding: declared in wrangler.toml; secret: `wrangler secret put`; var: `--var` or [vars]; dev: local only, never in a production config. */
  kind: "binding" | "secret" | "var" | "dev";
  /** "outside-dev": required unless DEV_MODE is "true" (local `npm run dev`). */
  required: boolean | "outside-dev";
  /** A problem with a present value (never quoting it), or null. */
  check?: (value: string) => string | null;
  /** Set both or neither (the two halves of one OAuth app). */
  pairedWith?: string;
}

export interface ConfigProblem {
  setting: string;
  problem: string;
}

const url = (value: string) => {
  try {
    const u = new URL(value);
    return u.protocol === "https:" || u.protocol === "http:" ? null : "is not an http(s) URL";
  } catch {
    return "is not a URL";
  }
};

/** The reason only: every thrown message here is written to name no key material. */
const reason = (fn: () => unknown, prefix: string) => {
  try {
    fn();
    return null;
  } catch (e) {
    return e instanceof AppError ? e.message.replace(prefix, "").replace(/^: /, "").replace(/\.$/, "") || "is malformed" : "is malformed";
  }
};

const binding = (name: string): Setting => ({ name, kind: "binding", required: true });
const DEV_MODE: Setting = { name: "DEV_MODE", kind: "dev", required: false };
const PUBLIC_URL: Setting = { name: "PUBLIC_URL", kind: "var", required: "outside-dev", check: url };

export const SETTINGS: Record<DeployedWorker, Setting[]> = {
  api: [
    binding("VAULT"),
    binding("DIRECTORY"),
    binding("ROUTES"),
    binding("CLI_LOGIN_LIMITER"),
    { name: "VAULT_KEYS", kind: "secret", required: true, check: (v) => { const r = reason(() => parseKeyring(v), "VAULT_KEYS is malformed"); return r && `is malformed (${r})`; } },
    { name: "ORG_ID_KEY", kind: "secret", required: true, check: (v) => (v.length < 32 ? "is shorter than 32 characters" : null) },
    PUBLIC_URL,
    { name: "OAUTH_CLIENTS", kind: "secret", required: false, check: (v) => (reason(() => parseClients(v), "") ? 'is not JSON of the form {"<app>":{"id":"…","secret":"…"}}' : null) },
    { name: "PLATFORM_GITHUB_CLIENT_ID", kind: "secret", required: false, pairedWith: "PLATFORM_GITHUB_CLIENT_SECRET" },
    { name: "PLATFORM_GITHUB_CLIENT_SECRET", kind: "secret", required: false, pairedWith: "PLATFORM_GITHUB_CLIENT_ID" },
    { name: "PLATFORM_ADMIN_TOKEN", kind: "secret", required: false, check: (v) => (v.length < 32 ? "is shorter than 32 characters" : null) },
    { name: "AGENT_RUNTIME_TOKEN", kind: "secret", required: false },
    { name: "AGENT_RUNTIME_URL", kind: "var", required: false, check: url },
    { name: "SLACK_API_URL", kind: "var", required: false, check: url },
    // parseSignup fails closed on an unreadable value; the operator still hears about it here.
    { name: "SIGNUP", kind: "var", required: false, check: (v) => (parseSignup(v).mode === "closed" && v.trim().toLowerCase() !== "closed" ? "is not closed, open or a comma list of email domains" : null) },
    { name: "OUTBOUND_TIMEOUT_MS", kind: "var", required: false, check: (v) => (/^[1-9][0-9]*$/.test(v) ? null : "is not a whole number of milliseconds") },
    DEV_MODE,
  ],
  oauth: [binding("VAULT_DOOR"), PUBLIC_URL, DEV_MODE],
  "slack-events": [
    binding("VAULT_DOOR"),
    binding("ROUTES"),
    { name: "SLACK_SIGNING_SECRET", kind: "secret", required: true, check: (v) => (v.trim().length < 16 ? "is shorter than 16 characters" : null) },
    { name: "SLACK_SIGNING_SECRET_PREVIOUS", kind: "secret", required: false },
    { name: "SLACK_APP_ID", kind: "var", required: false, check: (v) => (/^A[A-Z0-9]+(,A[A-Z0-9]+)*$/.test(v.replace(/\s/g, "")) ? null : "is not a comma-separated list of Slack app ids (A…)") },
    DEV_MODE,
  ],
};

/** Every configuration problem of `worker` under `env`: missing, empty or malformed settings. */
export function configProblems(worker: DeployedWorker, env: Record<string, unknown>): ConfigProblem[] {
  const dev = env.DEV_MODE === "true";
  const problems: ConfigProblem[] = [];
  for (const s of SETTINGS[worker]) {
    const value = env[s.name];
    const required = s.required === true || (s.required === "outside-dev" && !dev);
    if (s.kind === "binding") {
      if (value === undefined || value === null) problems.push({ setting: s.name, problem: "the binding is missing" });
      continue;
    }
    if (value === undefined || value === null || value === "") {
      if (s.pairedWith && env[s.pairedWith]) problems.push({ setting: s.name, problem: `is not set while ${s.pairedWith} is` });
      else if (required) problems.push({ setting: s.name, problem: s.kind === "secret" ? "is not set (wrangler secret put " + s.name + ")" : "is not set" });
      continue;
    }
    if (typeof value !== "string") {
      problems.push({ setting: s.name, problem: "is not a string" });
      continue;
    }
    const bad = s.check?.(value);
    if (bad) problems.push({ setting: s.name, problem: bad });
  }
  return problems;
}

/** What the vault and the Directory run with (durable-objects/env.ts), checked by the doors: the api worker's settings the other workers' calls depend on. */
const VAULT_SETTINGS = new Set(["VAULT", "DIRECTORY", "ROUTES", "VAULT_KEYS", "ORG_ID_KEY", "OAUTH_CLIENTS", "AGENT_RUNTIME_URL", "SLACK_API_URL", "OUTBOUND_TIMEOUT_MS"]);

export const vaultConfigProblems = (env: Record<string, unknown>): ConfigProblem[] => configProblems("api", env).filter((p) => VAULT_SETTINGS.has(p.setting));

/** The 503 a worker answers while `problems` is not empty (`internal`, status 503: the deployment, not the request, is at fault). */
export function configError(problems: ConfigProblem[]): AppError {
  const names = [...new Set(problems.map((p) => p.setting))];
  return new AppError("internal", `This deployment is not configured: ${problems.map((p) => `${p.setting} ${p.problem}`).join("; ")}.`, {
    fix: "The operator sets the named settings (docs/deploy.md), then checks GET /health.",
    details: { settings: names },
    status: 503,
  });
}
