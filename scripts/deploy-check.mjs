#!/usr/bin/env node
// npm run deploy:check (SPEC section 15): builds every deployed worker offline with
// `wrangler deploy --dry-run --outdir`, prints each bundle's size raw and gzipped against the
// worker's budget, checks that each config declares the bindings its code uses, and refuses a dev-only
// setting in a production config. Needs no network and no Cloudflare account. workers/dev is
// never deployed, so it is not built here.
import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { promisify } from "node:util";
import { gzipSync } from "node:zlib";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const KiB = 1024;

/**
 * Each deployed worker: its config, the files holding its Env interface(s) and its gzip budget.
 * The api worker (REST, web app, MCP, the Durable Objects) has Cloudflare's 1 MiB; the OAuth
 * redirect and the Slack acknowledgement are latency-critical and do little, so they stay small
 * (issue 16: they must not bundle classic zod, the catalog or the schemas; README, "Bundle sizes").
 */
export const WORKERS = [
  { name: "api", config: "wrangler.toml", envFiles: ["durable-objects/env.ts", "workers/api/src/env.ts"], envInterfaces: ["VaultEnv", "Env"], budgetGz: 1024 * KiB },
  { name: "oauth", config: "workers/oauth/wrangler.toml", envFiles: ["workers/oauth/src/index.tsx"], envInterfaces: ["OAuthEnv"], budgetGz: 100 * KiB },
  { name: "slack-events", config: "workers/slack-events/wrangler.toml", envFiles: ["workers/slack-events/src/env.ts"], envInterfaces: ["SlackEnv"], budgetGz: 100 * KiB },
];

/** One line of the size table: raw, gzipped, the budget and whether the gzipped bundle is within it. */
export function sizeLine(name, built, budgetGz) {
  const over = built.gz > budgetGz;
  return { over, line: `${name.padEnd(14)} ${kib(built.raw).padEnd(12)} ${kib(built.gz).padEnd(12)} ${kib(budgetGz).padEnd(14)} ${over ? "OVER BUDGET" : "ok"}` };
}

/** The dev worker's service name and what only local dev uses: never in a production config. */
const DEV_SERVICES = new Set(["keystroke-dev"]);
const DEV_ONLY_VARS = new Set(["DEV_MODE", "DEV_SEED_SECRET", "SANDBOX_SLACK_SIGNING_SECRET"]);
const DEV_URL = /\b(localhost|127\.0\.0\.1|0\.0\.0\.0|\[::1\])\b|\/_sandbox\b|sandbox/i;

/** Names of an interface's members (`NAME?: T` / `NAME: T`) in a TypeScript source. */
export function envMembers(source, iface) {
  const m = new RegExp(`interface ${iface}\\b[^{]*\\{([\\s\\S]*?)\\n\\}`).exec(source);
  if (!m) throw new Error(`interface ${iface} not found`);
  return [...m[1].matchAll(/^\s*([A-Z][A-Z0-9_]*)\??\s*:/gm)].map((x) => x[1]);
}

/** The bindings a wrangler config declares, by kind (from wrangler's own parser). */
export function configBindings(config) {
  return {
    durable_objects: (config.durable_objects?.bindings ?? []).map((b) => b.name),
    kv_namespaces: (config.kv_namespaces ?? []).map((b) => b.binding),
    services: (config.services ?? []).map((b) => b.binding),
    ratelimits: (config.ratelimits ?? []).map((b) => b.name),
    vars: Object.keys(config.vars ?? {}),
  };
}

/**
 * The problems of one worker's config: bindings the code uses but neither the config nor the
 * documented settings (lib/config-check.ts) declare, documented bindings missing from the config,
 * secrets written into [vars], and dev-only settings.
 */
export function configIssues(config, used, settings) {
  const issues = [];
  const b = configBindings(config);
  const declared = new Set([...b.durable_objects, ...b.kv_namespaces, ...b.services, ...b.ratelimits, ...b.vars]);
  const documented = new Map(settings.map((s) => [s.name, s]));
  for (const name of used) {
    if (!declared.has(name) && !documented.has(name)) issues.push(`${name} is used by the code but neither bound in the config nor a documented setting (lib/config-check.ts)`);
    if (documented.get(name)?.kind === "binding" && !declared.has(name)) issues.push(`binding ${name} is not declared in the config`);
  }
  for (const s of settings) if (s.kind === "binding" && !declared.has(s.name)) issues.push(`binding ${s.name} is not declared in the config`);
  for (const name of b.vars) {
    if (DEV_ONLY_VARS.has(name) || documented.get(name)?.kind === "dev") issues.push(`dev-only setting ${name} in [vars]`);
    if (documented.get(name)?.kind === "secret") issues.push(`secret ${name} in [vars]: use wrangler secret put`);
  }
  for (const s of config.services ?? []) if (DEV_SERVICES.has(s.service)) issues.push(`service binding ${s.binding} points at the dev worker (${s.service})`);
  const strings = [...Object.entries(config.vars ?? {}).map(([k, v]) => [`[vars] ${k}`, v]), ...(config.routes ?? []).map((r) => ["route", typeof r === "string" ? r : r.pattern])];
  for (const [where, v] of strings) if (typeof v === "string" && DEV_URL.test(v)) issues.push(`${where} is a local or sandbox address`);
  if (/workers\/dev\//.test(String(config.main ?? ""))) issues.push("main points into workers/dev");
  return [...new Set(issues)];
}

/** Every `env.NAME` the bundle reads (upper-case names only: bindings and settings), comment lines (libraries' docs) aside. */
export const bundleEnvUses = (code) =>
  new Set(code.split("\n").filter((l) => !/^\s*(\*|\/\/|\/\*)/.test(l)).flatMap((l) => [...l.matchAll(/\benv\??\.([A-Z][A-Z0-9_]*)\b/g)].map((m) => m[1])));

const run = promisify(execFile);

async function loadSettings() {
  // lib/ is TypeScript: bundled in memory by the project's esbuild, then imported.
  const { build } = await import("esbuild");
  const out = await build({ entryPoints: [join(ROOT, "lib/config-check.ts")], bundle: true, format: "esm", platform: "neutral", write: false, logLevel: "silent" });
  return (await import("data:text/javascript;base64," + Buffer.from(out.outputFiles[0].text).toString("base64"))).SETTINGS;
}

async function dryRun(worker, outdir) {
  const wrangler = join(ROOT, "node_modules/.bin/wrangler");
  // No account, no telemetry: a dry run reads only the local config and sources.
  const env = { ...process.env, WRANGLER_SEND_METRICS: "false", CLOUDFLARE_API_TOKEN: "", CLOUDFLARE_ACCOUNT_ID: "", NO_UPDATE_NOTIFIER: "1", FORCE_COLOR: "0" };
  await run(process.execPath, [wrangler, "deploy", "--dry-run", "--outdir", outdir, "-c", join(ROOT, worker.config)], { cwd: ROOT, env, maxBuffer: 16 * 1024 * 1024 });
  const files = readdirSync(outdir).filter((f) => /\.(m?js|wasm)$/.test(f));
  const code = files.filter((f) => /\.m?js$/.test(f)).map((f) => readFileSync(join(outdir, f), "utf8")).join("\n");
  const bytes = Buffer.concat(files.map((f) => readFileSync(join(outdir, f))));
  return { raw: bytes.length, gz: gzipSync(bytes, { level: 9 }).length, code };
}

const kib = (n) => `${(n / 1024).toFixed(1)} KiB`;

export async function main() {
  const started = Date.now();
  const { unstable_readConfig } = await import("wrangler");
  const SETTINGS = await loadSettings();
  const tmp = mkdtempSync(join(tmpdir(), "keystroke-deploy-check-"));
  let failed = false;
  try {
    const results = await Promise.all(WORKERS.map(async (w) => {
      const outdir = join(tmp, w.name);
      const built = await dryRun(w, outdir);
      const config = unstable_readConfig({ config: join(ROOT, w.config) }, { hideWarnings: true });
      const members = w.envFiles.flatMap((f, i) => envMembers(readFileSync(join(ROOT, f), "utf8"), w.envInterfaces[i]));
      // The bundle holds every module the worker ships (doors and Durable Objects included), so
      // its env reads are checked too, not just the interface.
      const used = new Set([...members, ...bundleEnvUses(built.code)]);
      return { w, built, issues: configIssues(config, [...used], SETTINGS[w.name]) };
    }));
    // Every setting an operator sets is explained in the deployment guide.
    const guide = readFileSync(join(ROOT, "docs/deploy.md"), "utf8");
    const undocumented = [...new Set(Object.values(SETTINGS).flat().filter((s) => s.kind === "secret" || s.kind === "var").map((s) => s.name))].filter((n) => !guide.includes(n));
    for (const n of undocumented) console.log(`  docs/deploy.md does not explain ${n}`);
    if (undocumented.length) failed = true;
    console.log(`worker         raw          gzip         budget (gzip)`);
    for (const { w, built, issues } of results) {
      const { over, line } = sizeLine(w.name, built, w.budgetGz);
      console.log(line);
      if (over) failed = true;
      for (const i of issues) console.log(`  ${w.name} (${w.config}): ${i}`);
      if (issues.length) failed = true;
    }
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
  console.log(failed ? "deploy:check FAILED" : `deploy:check ok (${((Date.now() - started) / 1000).toFixed(1)} s)`);
  return failed ? 1 : 0;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) process.exitCode = await main();
