import type { Env as ApiEnv } from "../workers/api/src/env";

declare global {
  namespace Cloudflare {
    interface GlobalProps {
      mainModule: typeof import("../workers/api/src/index");
    }
    interface Env extends ApiEnv {
      DEV_SEED_SECRET: string;
      /** api project: each other worker's door, bound back to the test worker (vitest.config.ts). */
      OAUTH_DOOR: Service<import("../durable-objects/doors/oauth").OAuthDoor>;
      SLACK_DOOR: Service<import("../durable-objects/doors/slack").SlackDoor>;
      DEV_DOOR: Service<import("../durable-objects/doors/dev").DevDoor>;
      /** slack project: the slack-events worker's own binding. */
      VAULT_DOOR: Service<import("../durable-objects/doors/slack").SlackDoor>;
    }
  }
}
export {};
