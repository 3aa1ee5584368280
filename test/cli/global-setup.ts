import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import path from "node:path";
import type { TestProject } from "vitest/node";
import { ROOT, startStack } from "../support/start-stack";

/**
 * For the cli and e2e projects: builds the real bundle (dist/keystroke.mjs, what `npm install`
 * makes), then starts the local stack on its own port range (8800-8879) and fresh state, so it can
 * run next to the stack project.
 */
export default async function setup(project: TestProject) {
  execFileSync(process.execPath, ["cli/build.mjs"], { cwd: ROOT, stdio: "inherit" });
  const stack = await startStack(8800, "cli-stack");
  // The operator's token of the local stack (scripts/dev.mjs makes it once), for `orgs create`.
  const adminToken = /^PLATFORM_ADMIN_TOKEN="?([^"\n]+)"?$/m.exec(readFileSync(path.join(ROOT, ".dev.vars"), "utf8"))?.[1] ?? "";
  project.provide("cli", { baseUrl: stack.baseUrl, seed: stack.seed, bin: path.join(ROOT, "dist/keystroke.mjs"), adminToken });
  return stack.stop;
}

declare module "vitest" {
  export interface ProvidedContext {
    cli: { baseUrl: string; seed: import("../../lib/schemas/dev").SeedAnswer; bin: string; adminToken: string };
  }
}
