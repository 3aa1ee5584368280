import type { Env as ApiEnv } from "../workers/api/src/env";

declare global {
  namespace Cloudflare {
    interface GlobalProps {
      mainModule: typeof import("../workers/api/src/index");
    }
    interface Env extends ApiEnv {
      DEV_SEED_SECRET: string;
    }
  }
}
export {};
