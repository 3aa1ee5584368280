import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, readFileSync, existsSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import type { TestProject } from "vitest/node";

/**
 * Starts the real local stack (`npm run dev`'s script: wrangler dev with all four configs) on a
 * spare port with fresh state, waits for its seed, and hands the seed answer to the tests.
 */
let child: ChildProcess | undefined;

export default async function setup(project: TestProject) {
  const dir = mkdtempSync(path.join(tmpdir(), "keystroke-stack-"));
  const seedFile = path.join(dir, "seed.json");
  const port = 8700 + Math.floor(Math.random() * 80);
  child = spawn(process.execPath, ["scripts/dev.mjs"], {
    cwd: path.resolve(import.meta.dirname, "../.."),
    env: { ...process.env, PORT: String(port), KEYSTROKE_STATE_DIR: path.join(dir, "state"), KEYSTROKE_SEED_FILE: seedFile, KEYSTROKE_QUIET: "1" },
    stdio: ["ignore", "ignore", "pipe"],
    detached: true,
  });
  let stderr = "";
  child.stderr?.on("data", (d) => (stderr += String(d)));
  const deadline = Date.now() + 120_000;
  while (!existsSync(seedFile)) {
    if (Date.now() > deadline || child.exitCode !== null) throw new Error(`the local stack did not start:\n${stderr.slice(-2000)}`);
    await new Promise((r) => setTimeout(r, 200));
  }
  project.provide("stack", { baseUrl: `http://localhost:${port}`, seed: JSON.parse(readFileSync(seedFile, "utf8")) });
  return () => {
    try { process.kill(-child!.pid!, "SIGTERM"); } catch {}
    rmSync(dir, { recursive: true, force: true });
  };
}

declare module "vitest" {
  export interface ProvidedContext {
    stack: { baseUrl: string; seed: import("../../lib/schemas/dev").SeedAnswer };
  }
}
