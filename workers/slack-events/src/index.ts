import { Hono } from "hono";
import { AppError } from "../../../lib/errors";
import type { SlackEnv } from "./env";
import { handleSlackEvent } from "./events";
import { noStoreByDefault } from "../../shared/security";
import { healthRoute, requireConfig } from "../../shared/config";
import { SLACK_EVENTS_SETTINGS } from "../../../lib/config-rules";

export type { SlackEnv };

/** The slack-events worker: /slack/events (Slack's Request URL) and a health route. */
const app = new Hono<{ Bindings: SlackEnv }>();

// Its answers (errors above all) are never cached; it serves no pages, so no page headers.
// A missing or malformed required setting (SLACK_SIGNING_SECRET…): 503 naming it, which Slack retries.
app.use("*", requireConfig(SLACK_EVENTS_SETTINGS, ["/slack/health", "/health"]), noStoreByDefault);
app.get("/slack/health", healthRoute("slack-events", SLACK_EVENTS_SETTINGS));
app.get("/health", healthRoute("slack-events", SLACK_EVENTS_SETTINGS));
app.post("/slack/events", handleSlackEvent);

app.notFound((c) => c.json({ error: { code: "not_found", message: `No route ${c.req.method} ${new URL(c.req.url).pathname}.` } }, 404));
app.onError((err, c) => {
  // A vault that cannot be reached, or any bug: 500 so Slack retries; the reason stays in the log.
  console.error("slack-events: internal error", err instanceof Error ? err.name : typeof err);
  const e = err instanceof AppError ? err : new AppError("internal", "Something went wrong on our side.");
  return c.json({ error: e.toBody() }, e.httpStatus as 500);
});

export default app;
