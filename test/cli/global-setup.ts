import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import type { TestProject } from "vitest/node";

/**
 * For the cli and e2e projects: builds the real bundle (dist/keystroke.mjs, what `npm install`
 * makes), then starts the local stack like test/stack/global-setup.ts does, on its own port range
 * (8800-8879) and fresh state, so it can run next to the stack project.
 */
let child: ChildProcess | undefined;

export default async function setup(project: TestProject) {
  const root = path.resolve(import.meta.dirname, "../..");
  execFileSync(process.execPath, ["cli/build.mjs"], { cwd: root, stdio: "inherit" });
  const dir = mkdtempSync(path.join(tmpdir(), "keystroke-cli-stack-"));
  const seedFile = path.join(dir, "seed.json");
  const port = 8800 + Math.floor(Math.random() * 80);
  child = spawn(process.execPath, ["scripts/dev.mjs"], {
    cwd: root,
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
  project.provide("cli", { baseUrl: `http://localhost:${port}`, seed: JSON.parse(readFileSync(seedFile, "utf8")), bin: path.join(root, "dist/keystroke.mjs") });
  return () => {
    try {
      process.kill(-child!.pid!, "SIGTERM");
    } catch {}
    rmSync(dir, { recursive: true, force: true });
  };
}

declare module "vitest" {
  export interface ProvidedContext {
    cli: { baseUrl: string; seed: import("../../lib/schemas/dev").SeedAnswer; bin: string };
  }
}
