import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import type { SeedAnswer } from "../../lib/schemas/dev";

export const ROOT = path.resolve(import.meta.dirname, "../..");

/**
 * Starts the real local stack (`npm run dev`'s script: wrangler dev with all four configs) on a
 * port of `portBase`..`portBase + 79` with fresh state, and waits for its seed. Each test project
 * that needs a stack gets its own range, so projects can run side by side.
 */
export async function startStack(portBase: number, label: string): Promise<{ baseUrl: string; seed: SeedAnswer; stateDir: string; stop: () => void }> {
  const dir = mkdtempSync(path.join(tmpdir(), `keystroke-${label}-`));
  const seedFile = path.join(dir, "seed.json");
  const port = portBase + Math.floor(Math.random() * 80);
  const stateDir = path.join(dir, "state");
  const child = spawn(process.execPath, ["scripts/dev.mjs"], {
    cwd: ROOT,
    env: { ...process.env, PORT: String(port), KEYSTROKE_STATE_DIR: stateDir, KEYSTROKE_SEED_FILE: seedFile, KEYSTROKE_QUIET: "1" },
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
  return {
    baseUrl: `http://localhost:${port}`,
    seed: JSON.parse(readFileSync(seedFile, "utf8")) as SeedAnswer,
    stateDir,
    stop: () => {
      try {
        process.kill(-child.pid!, "SIGTERM");
      } catch {}
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
