#!/usr/bin/env node
// `npm run dev`: the whole platform in one local workerd (DESIGN section 5), seeded with the demo org.
// Env: PORT (default 8787), KEYSTROKE_STATE_DIR (default .wrangler/state), KEYSTROKE_QUIET=1 (no wrangler output).
// Stop: Ctrl-C. Reset: stop, delete the state directory, start again (README, "Run it locally").
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import net from "node:net";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { devBanner } from "./dev-banner.mjs";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const port = Number(process.env.PORT ?? 8787);
const stateDir = process.env.KEYSTROKE_STATE_DIR ?? path.join(root, ".wrangler/state");
const base = `http://localhost:${port}`;
const inspectorPort = port + 1442;

/** Why `port` cannot be listened on (EADDRINUSE, EACCES), or null; IPv6 loopback too, since `localhost` may resolve there. */
function listenError(p, host) {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once("error", (e) => resolve(e.code === "EADDRNOTAVAIL" || e.code === "EAFNOSUPPORT" ? null : e.code ?? "error"));
    server.listen({ port: p, host, exclusive: true }, () => server.close(() => resolve(null)));
  });
}
async function portProblem(p) {
  return (await listenError(p, "127.0.0.1")) ?? (await listenError(p, "::1"));
}

// Before anything else (no .dev.vars written, no wrangler): a busy port would otherwise let this
// script wait for, and seed, whatever already answers there.
if (!Number.isInteger(port) || port < 1 || inspectorPort > 65535) {
  console.error(`PORT must be a whole number from 1 to ${65535 - 1442} (got ${JSON.stringify(process.env.PORT)}).`);
  process.exit(1);
}
for (const [p, what] of [[port, "Port"], [inspectorPort, "Debugger port (PORT + 1442)"]]) {
  const problem = await portProblem(p);
  if (problem) {
    const why = problem === "EADDRINUSE" ? "is already in use (another `npm run dev`?)" : `cannot be used (${problem})`;
    console.error(`${what} ${p} ${why}: stop what runs there, or pick another port: PORT=${port + 1} npm run dev`);
    process.exit(1);
  }
}

// Local secrets live in .dev.vars (git-ignored), which the api worker reads: a vault keyring made
// once with a fresh key (so persisted state stays readable across runs) and DEV_MODE.
const devVars = path.join(root, ".dev.vars");
const existing = existsSync(devVars) ? readFileSync(devVars, "utf8") : "";
const keys = /^VAULT_KEYS=.*$/m.exec(existing)?.[0] ?? `VAULT_KEYS="k1:${randomBytes(32).toString("base64")}"`;
// ORG_ID_KEY signs org ids (README, "Org ids"): made once, like the keyring, since org ids outlive runs.
const orgIdKey = /^ORG_ID_KEY=.*$/m.exec(existing)?.[0] ?? `ORG_ID_KEY="${randomBytes(32).toString("base64")}"`;
// The bearer the vault sends to the agent runtime: in dev the sandbox echo agent, which expects the
// same fixed value (workers/dev/wrangler.toml [vars]); dev only, not a secret.
const agentToken = "AGENT_RUNTIME_TOKEN=keystroke-local-dev-agent-token";
// The operator's bearer for POST /v1/orgs (`keystroke orgs create`), so org creation can be tried
// locally: made once like the keys (README, Quick start).
const adminToken = /^PLATFORM_ADMIN_TOKEN=.*$/m.exec(existing)?.[0] ?? `PLATFORM_ADMIN_TOKEN="${randomBytes(32).toString("base64url")}"`;
const wanted = `# Local dev secrets, made by scripts/dev.mjs. Never commit.\n${keys}\n${orgIdKey}\n${agentToken}\n${adminToken}\nDEV_MODE=true\n`;
if (existing !== wanted) writeFileSync(devVars, wanted, { mode: 0o600 });
// Vaults are reached only inside the api worker (its doors run there), which checks org ids; the dev
// worker's seed checks the demo org's id too, and the oauth worker needs DEV_MODE (its origin rule).
// The other workers' copies of ORG_ID_KEY are unused since the doors (issue 12), kept so an older
// checkout on the same state still starts. Wrangler reads the .dev.vars next to each config.
for (const dir of ["workers/dev", "workers/oauth"]) {
  const file = path.join(root, dir, ".dev.vars");
  const content = `# Made by scripts/dev.mjs from the root .dev.vars. Never commit.\n${orgIdKey}\nDEV_MODE=true\n`;
  if (!existsSync(file) || readFileSync(file, "utf8") !== content) writeFileSync(file, content, { mode: 0o600 });
}

// The slack-events worker reads its own .dev.vars: the fixture app's signing secret unless the
// developer put their own there (then it is left alone).
const slackDevVars = path.join(root, "workers/slack-events/.dev.vars");
if (!existsSync(slackDevVars)) writeFileSync(slackDevVars, readFileSync(path.join(root, "workers/slack-events/.dev.vars.example"), "utf8"), { mode: 0o600 });
{
  const slack = readFileSync(slackDevVars, "utf8");
  const updated = /^ORG_ID_KEY=.*$/m.test(slack) ? slack.replace(/^ORG_ID_KEY=.*$/m, orgIdKey) : `${slack.replace(/\n?$/, "\n")}${orgIdKey}\n`;
  if (updated !== slack) writeFileSync(slackDevVars, updated, { mode: 0o600 });
}

// Wrangler needs Node >= 22.12: run it with the project's own Node (the `node` devDependency),
// whatever Node started this script.
const nodeBin = path.join(root, "node_modules/node/bin/node");
const wranglerJs = path.join(root, "node_modules/wrangler/bin/wrangler.js");
const args = [
  "dev",
  "-c", "workers/dev/wrangler.toml",
  "-c", "wrangler.toml",
  "-c", "workers/oauth/wrangler.toml",
  "-c", "workers/slack-events/wrangler.toml",
  "--port", String(port),
  "--ip", "127.0.0.1",
  "--inspector-port", String(port + 1442),
  "--persist-to", stateDir,
  // The gateway's only origin: it refuses other Hosts (DNS rebinding) and seeds the sandbox URL from it.
  "--var", `PUBLIC_URL:${base}`,
  ...(process.env.KEYSTROKE_QUIET ? ["--log-level", "warn"] : []),
];
const child = spawn(existsSync(nodeBin) ? nodeBin : process.execPath, [wranglerJs, ...args], {
  cwd: root,
  env: { ...process.env, CLOUDFLARE_CF_FETCH_ENABLED: "false", WRANGLER_SEND_METRICS: "false", CI: process.env.CI ?? "" },
  stdio: process.env.KEYSTROKE_QUIET ? ["ignore", "ignore", "inherit"] : ["ignore", "inherit", "inherit"],
  detached: true,
});

let stopping = false;
function stop(code = 0) {
  if (stopping) return;
  stopping = true;
  try { process.kill(-child.pid, "SIGTERM"); } catch {}
  setTimeout(() => { try { process.kill(-child.pid, "SIGKILL"); } catch {} process.exit(code); }, 2000).unref();
}
process.on("SIGINT", () => stop(0));
process.on("SIGTERM", () => stop(0));
child.on("exit", (code) => { if (!stopping) { console.error(`wrangler exited (${code})`); process.exit(code ?? 1); } });

async function waitForHealth() {
  for (let i = 0; i < 600; i++) {
    try {
      const r = await fetch(`${base}/health`);
      if (r.ok) return;
    } catch {}
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error("the local stack did not answer /health within 150 s");
}

try {
  await waitForHealth();
  const res = await fetch(`${base}/dev/seed`, { method: "POST" });
  if (!res.ok) {
    const text = await res.text();
    let message = text;
    try { message = JSON.parse(text).error.message ?? text; } catch {}
    throw new Error(`The demo seed failed (${res.status}): ${message}`);
  }
  const seed = await res.json();
  console.log(devBanner({ base, stateDir, seed }));
  if (process.env.KEYSTROKE_SEED_FILE) writeFileSync(process.env.KEYSTROKE_SEED_FILE, JSON.stringify(seed));
} catch (e) {
  console.error(String(e instanceof Error ? e.message : e));
  stop(1);
}
