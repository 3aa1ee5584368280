import { cloudflareTest } from "@cloudflare/vitest-pool-workers";
import { defineConfig } from "vitest/config";

/** Test-only secrets: plain miniflare bindings, which win over .dev.vars and [vars]. */
export const TEST_BINDINGS = {
  VAULT_KEYS: "k2:" + btoa("B".repeat(32)) + ",k1:" + btoa("A".repeat(32)),
  DEV_SEED_SECRET: "test-seed-secret",
  PUBLIC_URL: "http://localhost:8787",
  // Tests never depend on a developer's local .dev.vars.
  DEV_MODE: "",
};

export default defineConfig({
  test: {
    projects: [
      {
        test: { name: "lib", environment: "node", include: ["test/lib/**/*.test.ts"] },
      },
      {
        plugins: [cloudflareTest({ wrangler: { configPath: "./wrangler.toml" }, miniflare: { bindings: TEST_BINDINGS } })],
        test: { name: "api", include: ["test/api/**/*.test.ts"] },
      },
      {
        // The real `npm run dev` stack, driven over HTTP from Node.
        test: { name: "stack", environment: "node", include: ["test/stack/**/*.test.ts"], globalSetup: ["test/stack/global-setup.ts"], testTimeout: 30_000, hookTimeout: 150_000 },
      },
    ],
  },
});
