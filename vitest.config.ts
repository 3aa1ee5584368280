import { cloudflareTest } from "@cloudflare/vitest-pool-workers";
import { defineConfig } from "vitest/config";

/** Test-only secrets: plain miniflare bindings, which win over .dev.vars and [vars]. */
export const TEST_BINDINGS = {
  VAULT_KEYS: "k2:" + btoa("B".repeat(32)) + ",k1:" + btoa("A".repeat(32)),
  DEV_SEED_SECRET: "test-seed-secret",
  ORG_ID_KEY: "test-org-id-key-0123456789abcdef0123456789",
  PUBLIC_URL: "http://localhost:8787",
  // The vault's bearer for the agent runtime; the sandbox echo agent (test/slack) checks it.
  AGENT_RUNTIME_TOKEN: "test-agent-runtime-token",
  // Tests never depend on a developer's local .dev.vars.
  DEV_MODE: "",
  // No credential probe reaches a real provider from a test (this project has no sandbox URL);
  // test/api/health.test.ts turns them on for its vault and routes them to the sandbox's probe app.
  PROBES: "off",
};

export default defineConfig({
  test: {
    projects: [
      {
        test: { name: "lib", environment: "node", include: ["test/lib/**/*.test.ts"] },
      },
      {
        plugins: [cloudflareTest({
          wrangler: { configPath: "./wrangler.toml" },
          miniflare: {
            bindings: TEST_BINDINGS,
            // Each other worker's door, bound back to this worker's own entrypoints (test/api/doors.test.ts).
            serviceBindings: {
              OAUTH_DOOR: { name: "keystroke-api", entrypoint: "OAuthDoor" },
              SLACK_DOOR: { name: "keystroke-api", entrypoint: "SlackDoor" },
              DEV_DOOR: { name: "keystroke-api", entrypoint: "DevDoor" },
            },
          },
        })],
        test: { name: "api", include: ["test/api/**/*.test.ts"] },
      },
      {
        // The slack-events worker, with the vault and Directory classes re-pointed to local exports
        // (test/slack/entry.ts) so the DOs run in the test isolate: runInDurableObject works and a
        // fetch spy sees the vault's calls to Slack and the agent runtime. DEV_MODE on: the seed
        // installs the sandbox workspace (shared/fixtures/slack ids, copied to test/slack/fixtures).
        plugins: [cloudflareTest({
          main: "./test/slack/entry.ts",
          wrangler: { configPath: "./workers/slack-events/wrangler.toml" },
          miniflare: {
            bindings: { ...TEST_BINDINGS, DEV_MODE: "true", SLACK_SIGNING_SECRET: "fixture-signing-secret-0123456789abcdef", SLACK_SIGNING_SECRET_PREVIOUS: "previous-signing-secret-for-tests-0001", SLACK_APP_ID: "A0AB2AGNT7" },
            durableObjects: { VAULT: { className: "OrgVault", useSQLite: true }, DIRECTORY: { className: "Directory", useSQLite: true } },
            // The worker's door, as in production but exported by this test worker itself (a name equal to the wrangler name means "this worker").
            serviceBindings: { VAULT_DOOR: { name: "keystroke-slack-events", entrypoint: "SlackDoor" } },
          },
        })],
        test: { name: "slack", include: ["test/slack/**/*.test.ts"] },
      },
      {
        // The real `npm run dev` stack, driven over HTTP from Node.
        test: { name: "stack", environment: "node", include: ["test/stack/**/*.test.ts"], globalSetup: ["test/stack/global-setup.ts"], testTimeout: 30_000, hookTimeout: 150_000 },
      },
      {
        // The bundled CLI (rebuilt by the setup) spawned as a child process against its own local stack.
        test: { name: "cli", environment: "node", include: ["test/cli/**/*.test.ts"], globalSetup: ["test/cli/global-setup.ts"], testTimeout: 60_000, hookTimeout: 150_000 },
      },
      // A real browser (Debian's chromium through playwright-core): only `npm run test:e2e`, never `npm test`.
      ...(process.env.KEYSTROKE_E2E
        ? [{ test: { name: "e2e", environment: "node", include: ["test/e2e/**/*.test.ts"], globalSetup: ["test/cli/global-setup.ts"], testTimeout: 120_000, hookTimeout: 150_000 } }]
        : []),
    ],
  },
});
