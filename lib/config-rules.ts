import { AppError } from "./errors";

/**
 * How a deployed worker's settings are checked (SPEC section 15), and the settings of the two small
 * workers (oauth, slack-events). The api worker's list is in lib/config-check.ts: its checks parse
 * keyrings and OAuth client JSON (lib/crypto, lib/oauth and with it the catalog and zod), which the
 * small workers must not bundle (README, "Bundle sizes"). Problems name the setting, never its value.
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

export const url = (value: string) => {
  try {
    const u = new URL(value);
    return u.protocol === "https:" || u.protocol === "http:" ? null : "is not an http(s) URL";
  } catch {
    return "is not a URL";
  }
};

export const binding = (name: string): Setting => ({ name, kind: "binding", required: true });
export const DEV_MODE: Setting = { name: "DEV_MODE", kind: "dev", required: false };
export const PUBLIC_URL: Setting = { name: "PUBLIC_URL", kind: "var", required: "outside-dev", check: url };

export const OAUTH_SETTINGS: Setting[] = [binding("VAULT_DOOR"), PUBLIC_URL, DEV_MODE];

export const SLACK_EVENTS_SETTINGS: Setting[] = [
  binding("VAULT_DOOR"),
  binding("ROUTES"),
  { name: "SLACK_SIGNING_SECRET", kind: "secret", required: true, check: (v) => (v.trim().length < 16 ? "is shorter than 16 characters" : null) },
  { name: "SLACK_SIGNING_SECRET_PREVIOUS", kind: "secret", required: false },
  { name: "SLACK_APP_ID", kind: "var", required: false, check: (v) => (/^A[A-Z0-9]+(,A[A-Z0-9]+)*$/.test(v.replace(/\s/g, "")) ? null : "is not a comma-separated list of Slack app ids (A…)") },
  DEV_MODE,
];

/** Every problem of `settings` under `env`: missing, empty or malformed settings. */
export function settingProblems(settings: readonly Setting[], env: Record<string, unknown>): ConfigProblem[] {
  const dev = env.DEV_MODE === "true";
  const problems: ConfigProblem[] = [];
  for (const s of settings) {
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

/** The 503 a worker answers while `problems` is not empty (`internal`, status 503: the deployment, not the request, is at fault). */
export function configError(problems: ConfigProblem[]): AppError {
  const names = [...new Set(problems.map((p) => p.setting))];
  return new AppError("internal", `This deployment is not configured: ${problems.map((p) => `${p.setting} ${p.problem}`).join("; ")}.`, {
    fix: "The operator sets the named settings (docs/deploy.md), then checks GET /health.",
    details: { settings: names },
    status: 503,
  });
}
