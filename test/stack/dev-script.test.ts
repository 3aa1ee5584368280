import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { createServer, type Server } from "node:http";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { devBanner } from "../../scripts/dev-banner.mjs";
import { ROOT } from "../support/start-stack";

/** Issue 11, item 15: `npm run dev` on a busy port, and the banner's CLI hint. No stack is started here. */
let squatter: Server;
let port: number;
const seen: string[] = [];
const dir = mkdtempSync(path.join(tmpdir(), "keystroke-dev-script-"));

beforeAll(async () => {
  // Something that looks like a Keystroke stack: answers /health, and would answer a seed.
  squatter = createServer((req, res) => {
    seen.push(`${req.method} ${req.url}`);
    res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ ok: true, worker: "api" }));
  });
  await new Promise<void>((resolve) => squatter.listen(0, "127.0.0.1", resolve));
  port = (squatter.address() as { port: number }).port;
});
afterAll(() => {
  squatter.close();
  rmSync(dir, { recursive: true, force: true });
});

function runDev(env: Record<string, string>): Promise<{ code: number | null; stdout: string; stderr: string; ms: number }> {
  const started = Date.now();
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ["scripts/dev.mjs"], { cwd: ROOT, env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => (stdout += String(d)));
    child.stderr.on("data", (d) => (stderr += String(d)));
    const timer = setTimeout(() => child.kill("SIGKILL"), 15_000);
    child.on("exit", (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr, ms: Date.now() - started });
    });
  });
}

describe("scripts/dev.mjs", () => {
  it("fails at once with one clear line on a busy port, and seeds nothing there", async () => {
    const stateDir = path.join(dir, "state");
    const seedFile = path.join(dir, "seed.json");
    const r = await runDev({ PORT: String(port), KEYSTROKE_STATE_DIR: stateDir, KEYSTROKE_SEED_FILE: seedFile });
    expect(r.code).not.toBe(0);
    expect(r.ms).toBeLessThan(5_000);
    expect(r.stdout).toBe("");
    const lines = r.stderr.trim().split("\n");
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain(`Port ${port} is already in use`);
    expect(lines[0]).toContain(`PORT=${port + 1} npm run dev`);
    expect(seen).toEqual([]);
    expect(existsSync(stateDir)).toBe(false);
    expect(existsSync(seedFile)).toBe(false);
  });

  it("refuses a PORT that is not a port, in one line", async () => {
    const r = await runDev({ PORT: "eighty", KEYSTROKE_STATE_DIR: path.join(dir, "state2") });
    expect(r.code).not.toBe(0);
    expect(r.stderr.trim().split("\n")).toEqual([expect.stringContaining("PORT must be a whole number")]);
  });

  it("the banner points the CLI at the stack's own URL, on any PORT", () => {
    const seed = { org: { slug: "acme", id: "oabc" }, users: [{ email: "alice@acme.test", role: "owner", token: "ks_user_oabc_x" }], runtime_token: "ks_rt_oabc_y" };
    const text = devBanner({ base: "http://localhost:9887", stateDir: "/tmp/s", seed });
    expect(text).toContain("export KEYSTROKE_API_URL=http://localhost:9887 KEYSTROKE_TOKEN=ks_user_oabc_x");
    expect(text).not.toContain("8787");
    expect(text).toContain("Ctrl-C");
    expect(text).toContain("/tmp/s");
  });
});
