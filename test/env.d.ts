declare global {
  namespace Cloudflare {
    interface GlobalProps {
      mainModule: typeof import("../workers/api/src/index");
    }
    interface Env extends import("../workers/api/src/env").Env {
      DEV_SEED_SECRET: string;
    }
  }
}
export {};
