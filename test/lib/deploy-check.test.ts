import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
// @ts-expect-error: a plain Node script, no types
import { bundleEnvUses, configIssues, envMembers, sizeLine, WORKERS } from "../../scripts/deploy-check.mjs";
import { SETTINGS, configProblems } from "../../lib/config-check";

describe("npm run deploy:check (SPEC section 15)", () => {
  it("builds the three deployed workers offline and prints each one's raw and gzipped size under its budget", { timeout: 60_000 }, async () => {
    const { stdout } = await promisify(execFile)(process.execPath, ["scripts/deploy-check.mjs"], { cwd: process.cwd() });
    const budgets = { api: "1024.0", oauth: "100.0", "slack-events": "100.0" };
    for (const [w, budget] of Object.entries(budgets)) {
      const m = new RegExp(`^${w}\\s+([\\d.]+) KiB\\s+([\\d.]+) KiB\\s+${budget} KiB\\s+ok$`, "m").exec(stdout);
      expect(m, stdout).not.toBeNull();
      expect(Number(m![2])).toBeLessThan(Number(budget));
    }
    expect(stdout).not.toMatch(/^dev\s/m);
    expect(stdout).toMatch(/deploy:check ok/);
  });

  it("holds oauth and slack-events to 100 KiB gzipped and the api worker to 1 MiB (issue 16): one byte over fails", () => {
    const budget = Object.fromEntries(WORKERS.map((w: { name: string; budgetGz: number }) => [w.name, w.budgetGz]));
    expect(budget).toEqual({ api: 1024 * 1024, oauth: 100 * 1024, "slack-events": 100 * 1024 });
    expect(sizeLine("oauth", { raw: 400_000, gz: 100 * 1024 + 1 }, budget.oauth)).toMatchObject({ over: true, line: expect.stringMatching(/^oauth\s+390\.6 KiB\s+100\.0 KiB\s+100\.0 KiB\s+OVER BUDGET$/) });
    expect(sizeLine("slack-events", { raw: 1, gz: 100 * 1024 }, budget["slack-events"]).over).toBe(false);
    expect(sizeLine("api", { raw: 1, gz: 900 * 1024 }, budget.api).over).toBe(false);
  });

  const clean = { main: "src/index.ts", vars: {}, services: [{ binding: "VAULT_DOOR", service: "keystroke-api", entrypoint: "SlackDoor" }], kv_namespaces: [{ binding: "ROUTES", id: "x" }] };
  it.each([
    ["DEV_MODE in [vars]", { ...clean, vars: { DEV_MODE: "true" } }, [], /dev-only setting DEV_MODE/],
    ["a sandbox URL", { ...clean, vars: { SLACK_APP_ID: "A1", X: "https://x.test/_sandbox/slack" } }, [], /\[vars\] X is a local or sandbox address/],
    ["a localhost URL", { ...clean, vars: { AGENT_RUNTIME_URL: "http://localhost:8787/agent" } }, [], /AGENT_RUNTIME_URL is a local or sandbox address/],
    ["the dev worker's service", { ...clean, services: [...clean.services, { binding: "DEV", service: "keystroke-dev" }] }, [], /points at the dev worker/],
    ["a secret in [vars]", { ...clean, vars: { SLACK_SIGNING_SECRET: "s" } }, [], /secret SLACK_SIGNING_SECRET in \[vars\]/],
    ["a binding the code uses but the config lacks", clean, ["SLACK_CACHE"], /SLACK_CACHE is used by the code/],
    ["a documented binding missing", { ...clean, kv_namespaces: [] }, [], /binding ROUTES is not declared/],
  ])("refuses %s", (_label, config, used, issue) => {
    expect(configIssues(config, used, SETTINGS["slack-events"]).join("\n")).toMatch(issue);
  });

  it("passes a clean config and reads Env members and the bundle's env uses", () => {
    expect(configIssues(clean, ["VAULT_DOOR", "ROUTES", "SLACK_SIGNING_SECRET"], SETTINGS["slack-events"])).toEqual([]);
    expect(envMembers("export interface E {\n  A_B: string;\n  /** doc */\n  C?: string;\n}", "E")).toEqual(["A_B", "C"]);
    expect([...bundleEnvUses("x = c.env.VAULT;\n * c.env.COUNTER docs\ny = this.env?.ORG_ID_KEY")]).toEqual(["VAULT", "ORG_ID_KEY"]);
  });
});

describe("the small workers bundle only what they use (issue 16 item 5; README, Bundle sizes)", () => {
  // The same resolution as wrangler's build; the metafile names every module with bytes in the bundle.
  const inputsOf = async (entry: string) => {
    const { build } = await import("esbuild");
    const out = await build({ entryPoints: [entry], bundle: true, format: "esm", platform: "neutral", conditions: ["workerd", "worker", "browser"], mainFields: ["browser", "module", "main"], external: ["cloudflare:*", "node:*"], jsx: "automatic", jsxImportSource: "hono/jsx", write: false, metafile: true, logLevel: "silent", outdir: "/tmp/keystroke-bundle-test" });
    const [bundle] = Object.values(out.metafile.outputs).filter((o) => o.entryPoint);
    return Object.entries(bundle!.inputs).filter(([, i]) => i.bytesInOutput > 0).map(([path]) => path);
  };
  const NOT_NEEDED = [/^node_modules\/zod\/v4\/classic\//, /^node_modules\/@hono\/zod-openapi\//, /^node_modules\/@modelcontextprotocol\//, /^node_modules\/arctic\//, /^lib\/catalog\//, /^lib\/oauth\.ts$/, /^lib\/resolve\.ts$/, /^lib\/config-check\.ts$/, /^lib\/schemas\//, /^durable-objects\/(vault\/|org-vault|directory)/];
  it.each([["oauth", "workers/oauth/src/index.tsx"], ["slack-events", "workers/slack-events/src/index.ts"]])("%s: no classic zod, schemas, catalog, resolver, OpenAPI, MCP or vault code", async (_name, entry) => {
    const inputs = await inputsOf(entry);
    expect(inputs).toContain(entry);
    expect(inputs.filter((i) => NOT_NEEDED.some((r) => r.test(i)))).toEqual([]);
  });
  it("the guard sees them: the api worker bundles all of them", async () => {
    const inputs = await inputsOf("workers/api/src/index.ts");
    for (const r of [/^node_modules\/zod\/v4\/classic\//, /^lib\/catalog\//, /^lib\/schemas\//]) expect(inputs.some((i) => r.test(i)), String(r)).toBe(true);
  });
});

describe("configProblems: a missing or malformed required setting, named without its value", () => {
  const key = btoa("A".repeat(32));
  const api = { VAULT: {}, DIRECTORY: {}, ROUTES: {}, CLI_LOGIN_LIMITER: {}, MANAGEMENT_LIMITER: {}, VAULT_KEYS: `k1:${key}`, ORG_ID_KEY: "o".repeat(32), PUBLIC_URL: "https://k.example.com" };
  it("is empty for a configured api worker", () => expect(configProblems("api", api)).toEqual([]));
  it.each([
    ["VAULT_KEYS", { VAULT_KEYS: "" }, /not set/],
    ["VAULT_KEYS", { VAULT_KEYS: "k1:c2hvcnQ=" }, /malformed.*32 bytes/],
    ["ORG_ID_KEY", { ORG_ID_KEY: "short-secret-value" }, /shorter than 32/],
    ["PUBLIC_URL", { PUBLIC_URL: undefined }, /not set/],
    ["PUBLIC_URL", { PUBLIC_URL: "not a url" }, /not a URL/],
    ["OAUTH_CLIENTS", { OAUTH_CLIENTS: "{nope" }, /not JSON/],
    ["PLATFORM_GITHUB_CLIENT_SECRET", { PLATFORM_GITHUB_CLIENT_ID: "Iv1.abc" }, /not set while PLATFORM_GITHUB_CLIENT_ID is/],
    ["VAULT", { VAULT: undefined }, /binding is missing/],
    ["SIGNUP", { SIGNUP: "acme.test,not a domain" }, /comma list of email domains/],
    ["PLATFORM_ADMIN_TOKEN", { PLATFORM_ADMIN_TOKEN: "admin-token-too-short" }, /shorter than 32/],
    ["PROBES", { PROBES: "OFF" }, /is not "on" or "off"/],
  ])("names %s", (setting, patch, problem) => {
    const found = configProblems("api", { ...api, ...patch });
    expect(found).toHaveLength(1);
    expect(found[0]!.setting).toBe(setting);
    expect(found[0]!.problem).toMatch(problem);
    for (const v of Object.values(patch)) if (v) expect(JSON.stringify(found)).not.toContain(v);
  });
  it("needs PUBLIC_URL outside dev only; slack-events needs its signing secret", () => {
    expect(configProblems("oauth", { VAULT_DOOR: {}, DEV_MODE: "true" })).toEqual([]);
    expect(configProblems("oauth", { VAULT_DOOR: {} }).map((p) => p.setting)).toEqual(["PUBLIC_URL"]);
    expect(configProblems("slack-events", { VAULT_DOOR: {}, ROUTES: {} }).map((p) => p.setting)).toEqual(["SLACK_SIGNING_SECRET"]);
  });
});
