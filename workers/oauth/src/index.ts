import { Hono } from "hono";
import type { OrgVault } from "../../../durable-objects/org-vault";

export interface OAuthEnv {
  VAULT: DurableObjectNamespace<OrgVault>;
  ROUTES: KVNamespace;
  PUBLIC_URL?: string;
}

const app = new Hono<{ Bindings: OAuthEnv }>();
app.get("/oauth/health", (c) => c.json({ ok: true, worker: "oauth" }));
app.notFound((c) => c.json({ error: { code: "not_found", message: `No route ${c.req.method} ${new URL(c.req.url).pathname}.` } }, 404));

export default app;
