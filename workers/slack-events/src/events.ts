import type { Context } from "hono";
import { AppError } from "../../../lib/errors";
import type { HandoffAnswer } from "../../../lib/schemas/slack";
import type { VaultResult } from "../../../lib/rpc";
import { classify, Envelope, routeKeysOf, toHandoff } from "../../../lib/slack/envelope";
import { verifySlackSignature } from "../../../lib/slack/signature";
import type { SlackEnv } from "./env";
import { orgForRoute } from "./routing";

/** Slack event payloads are small; anything this large is not one. */
const MAX_BODY_BYTES = 1024 * 1024;

type C = Context<{ Bindings: SlackEnv }>;

const fail = (c: C, e: AppError) => c.json({ error: e.toBody() }, e.httpStatus as 400);
/** Every verified event is answered 200: Slack disables apps that fail deliveries. */
const ack = (c: C) => c.json({ ok: true }, 200);

/**
 * POST /slack/events. The body is read once as bytes and verified before anything parses it;
 * then the event is routed to its org and handed to the org's vault in one RPC, and only then
 * answered, so a 200 means the vault holds it durably. Unknown teams, unbound channels and
 * unhandled types are answered 200 too (never 404: Slack would retry and eventually disable us).
 */
export async function handleSlackEvent(c: C): Promise<Response> {
  const declared = Number(c.req.header("content-length") ?? "0");
  if (declared > MAX_BODY_BYTES) return fail(c, new AppError("invalid_request", "The body is too large.", { details: { field: "body" }, status: 413 }));
  const body = new Uint8Array(await c.req.arrayBuffer());
  if (body.byteLength > MAX_BODY_BYTES) return fail(c, new AppError("invalid_request", "The body is too large.", { details: { field: "body" }, status: 413 }));

  const secrets = [c.env.SLACK_SIGNING_SECRET ?? "", c.env.SLACK_SIGNING_SECRET_PREVIOUS ?? ""];
  const check = await verifySlackSignature(
    { body, timestamp: c.req.header("x-slack-request-timestamp"), signature: c.req.header("x-slack-signature") },
    secrets,
    Math.floor(Date.now() / 1000),
  );
  if (!check.ok) {
    if (check.reason === "no_secret") {
      console.error("slack-events: SLACK_SIGNING_SECRET is not set");
      return fail(c, new AppError("internal", "The Slack signing secret is not configured.", { fix: "Set SLACK_SIGNING_SECRET on the slack-events worker." }));
    }
    // The reason is logged (never the signature or the secret); the caller only learns "unauthorized".
    console.warn("slack-events: signature rejected", { reason: check.reason });
    return fail(c, new AppError("unauthorized", "The request is not signed by Slack.", { fix: "Slack signs every request with the app's signing secret (v0, 5-minute window)." }));
  }

  let json: unknown;
  try {
    json = JSON.parse(new TextDecoder("utf-8", { fatal: true, ignoreBOM: false }).decode(body));
  } catch {
    return fail(c, new AppError("invalid_request", "The body is not JSON.", { details: { field: "body" } }));
  }
  const envelope = Envelope.safeParse(json);
  if (!envelope.success) {
    // Signed by Slack but not a shape we know: acknowledged, so Slack never counts it as a failure.
    console.warn("slack-events: unknown envelope shape, dropped", { field: envelope.error.issues[0]?.path.map(String).join(".") || "body" });
    return ack(c);
  }
  const env = envelope.data;
  const retry = c.req.header("x-slack-retry-num");

  const what = classify(env);
  if (what.kind === "url_verification") return c.json({ challenge: what.challenge }, 200);
  if (what.kind === "rate_limited") {
    // Slack stopped delivering to this workspace for the rest of the minute: worth an operator's attention.
    console.warn("slack-events: app_rate_limited", { team: env.team_id ?? null, minute: what.minute });
    return ack(c);
  }
  if (what.kind === "ignore") return ack(c);
  const allowed = (c.env.SLACK_APP_ID ?? "").split(",").map((s) => s.trim()).filter(Boolean);
  if (allowed.length > 0 && !allowed.includes(env.api_app_id ?? "")) {
    console.warn("slack-events: event for another app dropped", { app: env.api_app_id ?? null });
    return ack(c);
  }
  if (!env.event_id || !env.api_app_id) return ack(c);

  const found = await orgForRoute(c.env, routeKeysOf(env));
  if (!found) {
    console.warn("slack-events: no org for this installation, dropped", { keys: routeKeysOf(env), retry: retry ?? null });
    return ack(c);
  }
  // Validated once, in the vault (the trust boundary of a tokenless method; README, Slack): a
  // hand-off it does not understand comes back as invalid_request and is acknowledged below.
  const handoff = toHandoff(what, found.route, env.api_app_id, env.event_id);
  const result: VaultResult<HandoffAnswer> = await c.env.VAULT_DOOR.receiveSlackEvent(found.orgId, handoff);
  if (!result.ok && result.error.code === "internal") {
    // Not stored: a 5xx makes Slack deliver it again, which is what we want.
    console.error("slack-events: hand-off failed", { org: found.orgId, event: env.event_id });
    return fail(c, AppError.fromBody(result.error, result.status));
  }
  if (!result.ok) console.warn("slack-events: hand-off refused", { org: found.orgId, code: result.error.code, field: result.error.details?.field ?? null });
  return ack(c);
}
