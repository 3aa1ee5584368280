import type { TestProject } from "vitest/node";
import { startStack } from "../support/start-stack";

/** The stack project: the real `npm run dev` stack on ports 8700-8779, its seed handed to the tests. */
export default async function setup(project: TestProject) {
  const stack = await startStack(8700, "stack");
  project.provide("stack", { baseUrl: stack.baseUrl, seed: stack.seed, stateDir: stack.stateDir });
  return stack.stop;
}

declare module "vitest" {
  export interface ProvidedContext {
    /** stateDir: the stack's KEYSTROKE_STATE_DIR (wrangler's --persist-to), for tests that count what it writes. */
    stack: { baseUrl: string; seed: import("../../lib/schemas/dev").SeedAnswer; stateDir: string };
  }
}
