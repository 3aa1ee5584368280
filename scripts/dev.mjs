#!/usr/bin/env node
// `npm run dev`: the whole platform in one local workerd (DESIGN section 5), seeded with the demo org.
// Env: PORT (default 8787), KEYSTROKE_STATE_DIR (default .wrangler/state), KEYSTROKE_QUIET=1 (no wrangler output).
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const port = Number(process.env.PORT ?? 8787);
const stateDir = process.env.KEYSTROKE_STATE_DIR ?? path.join(root, ".wrangler/state");
const base = `http://localhost:${port}`;

// Local secrets live in .dev.vars (git-ignored), which the api worker reads: a vault keyring made
// once with a fresh key (so persisted state stays readable across runs) and DEV_MODE.
const devVars = path.join(root, ".dev.vars");
const existing = existsSync(devVars) ? readFileSync(devVars, "utf8") : "";
const keys = /^VAULT_KEYS=.*$/m.exec(existing)?.[0] ?? `VAULT_KEYS="k1:${randomBytes(32).toString("base64")}"`;
const wanted = `# Local dev secrets, made by scripts/dev.mjs. Never commit.\n${keys}\nDEV_MODE=true\n`;
if (existing !== wanted) writeFileSync(devVars, wanted, { mode: 0o600 });

// The slack-events worker reads its own .dev.vars: the fixture app's signing secret unless the
// developer put their own there (then it is left alone).
const slackDevVars = path.join(root, "workers/slack-events/.dev.vars");
if (!existsSync(slackDevVars)) writeFileSync(slackDevVars, readFileSync(path.join(root, "workers/slack-events/.dev.vars.example"), "utf8"), { mode: 0o600 });

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
  if (!res.ok) throw new Error(`POST /dev/seed answered ${res.status}: ${await res.text()}`);
  const seed = await res.json();
  const owner = seed.users.find((u) => u.role === "owner");
  console.log(`
  Keystroke is running on ${base}

  Web app        ${base}/
  API            ${base}/v1  (OpenAPI: ${base}/openapi.json)
  Org            ${seed.org.slug} (${seed.org.id})
  Demo users     ${seed.users.map((u) => `${u.email} (${u.role})`).join(", ")}
  CLI token      ${owner.token}   (alice; export KEYSTROKE_TOKEN=...)
  Runtime token  ${seed.runtime_token}

  Try: curl -H "authorization: Bearer ${owner.token}" ${base}/v1/me
`);
  if (process.env.KEYSTROKE_SEED_FILE) writeFileSync(process.env.KEYSTROKE_SEED_FILE, JSON.stringify(seed));
} catch (e) {
  console.error(String(e instanceof Error ? e.message : e));
  stop(1);
}
