import { parseKeyring } from "./crypto";
import { binding, configError, DEV_MODE, OAUTH_SETTINGS, PUBLIC_URL, settingProblems, SLACK_EVENTS_SETTINGS, url, type ConfigProblem, type DeployedWorker, type Setting } from "./config-rules";
import { AppError } from "./errors";
import { parseClients } from "./oauth";
import { parseSignup } from "./signup";

export { configError, type ConfigProblem, type DeployedWorker, type Setting };

/** The reason only: every thrown message here is written to name no key material. */
const reason = (fn: () => unknown, prefix: string) => {
  try {
    fn();
    return null;
  } catch (e) {
    return e instanceof AppError ? e.message.replace(prefix, "").replace(/^: /, "").replace(/\.$/, "") || "is malformed" : "is malformed";
  }
};

/**
 * What each deployed worker needs to run (SPEC section 15): its bindings, secrets and vars, and
 * how a value is checked. One list, read by the workers (a worker with a problem answers 503
 * naming the setting instead of running half-configured) and by `npm run deploy:check` (every
 * binding the code uses must be a config binding or a setting listed here). Problems name the
 * setting and never carry its value. The engine and the oauth and slack-events lists are in
 * lib/config-rules.ts (light enough for those workers); the api list is here.
 */
export const SETTINGS: Record<DeployedWorker, Setting[]> = {
  api: [
    binding("VAULT"),
    binding("DIRECTORY"),
    binding("ROUTES"),
    binding("CLI_LOGIN_LIMITER"),
    binding("MANAGEMENT_LIMITER"),
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
    // The vault reads only "off" (durable-objects/vault/health.ts): anything else but "on" would silently mean on.
    { name: "PROBES", kind: "var", required: false, check: (v) => (v === "on" || v === "off" ? null : 'is not "on" or "off"') },
    DEV_MODE,
  ],
  oauth: OAUTH_SETTINGS,
  "slack-events": SLACK_EVENTS_SETTINGS,
};

/** Every configuration problem of `worker` under `env`: missing, empty or malformed settings. */
export const configProblems = (worker: DeployedWorker, env: Record<string, unknown>): ConfigProblem[] => settingProblems(SETTINGS[worker], env);

/** What the vault and the Directory run with (durable-objects/env.ts), checked by the doors: the api worker's settings the other workers' calls depend on. */
const VAULT_SETTINGS = new Set(["VAULT", "DIRECTORY", "ROUTES", "VAULT_KEYS", "ORG_ID_KEY", "OAUTH_CLIENTS", "AGENT_RUNTIME_URL", "SLACK_API_URL", "OUTBOUND_TIMEOUT_MS", "PROBES"]);

export const vaultConfigProblems = (env: Record<string, unknown>): ConfigProblem[] => configProblems("api", env).filter((p) => VAULT_SETTINGS.has(p.setting));
