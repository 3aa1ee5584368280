import { Hono } from "hono";
import type { Directory } from "../../../durable-objects/directory";
import type { OrgVault } from "../../../durable-objects/org-vault";

export interface SlackEnv {
  VAULT: DurableObjectNamespace<OrgVault>;
  DIRECTORY: DurableObjectNamespace<Directory>;
  ROUTES: KVNamespace;
}

const app = new Hono<{ Bindings: SlackEnv }>();
app.get("/slack/health", (c) => c.json({ ok: true, worker: "slack-events" }));
app.notFound((c) => c.json({ error: { code: "not_found", message: `No route ${c.req.method} ${new URL(c.req.url).pathname}.` } }, 404));

export default app;
