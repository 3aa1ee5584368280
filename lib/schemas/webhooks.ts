import { z } from "zod";
import { WEBHOOK_EVENTS, TEST_EVENT } from "../webhook-events";
import { safeText, Timestamp } from "./common";
import { NextCursor, PageQuery } from "../paging";

/** Signed lifecycle webhooks (SPEC section 14): owners and admins. The URL rule is lib/urls.ts, checked in the vault. */
export const MAX_WEBHOOK_ENDPOINTS = 20;

export const WebhookEventType = z.enum(WEBHOOK_EVENTS);
export const WebhookUrl = safeText(z.string().trim().min(1, "must not be empty").max(2000, "must be at most 2000 characters"));
const Events = z.array(WebhookEventType).min(1, "must name at least one event (omit it for every event)").max(WEBHOOK_EVENTS.length);

export const CreateWebhookBody = z.strictObject({
  url: WebhookUrl,
  events: Events.optional().describe("the event types to receive; omitted: every event, including ones added later"),
});
export type CreateWebhookBody = z.infer<typeof CreateWebhookBody>;

export const UpdateWebhookBody = z
  .strictObject({
    url: WebhookUrl.optional(),
    events: Events.nullable().optional().describe("null: every event"),
    enabled: z.boolean().optional().describe("true also clears a failing endpoint's count of failing days"),
  })
  .refine((b) => b.url !== undefined || b.events !== undefined || b.enabled !== undefined, { error: "must change url, events or enabled", path: ["body"] });
export type UpdateWebhookBody = z.infer<typeof UpdateWebhookBody>;

export const WebhookId = z.string().regex(/^whk_[a-z2-7]{20}$/, "must be a webhook id (whk_...)");

export const Webhook = z.object({
  id: z.string(),
  url: z.string(),
  events: z.array(z.string()).nullable().describe("null: every event"),
  enabled: z.boolean(),
  disabled_reason: z.enum(["failing"]).nullable().describe("`failing`: the alarm disabled it after 3 days of failed deliveries"),
  previous_secret_until: Timestamp.nullable().describe("after a rotation, the old secret also signs until then"),
  failing_since: Timestamp.nullable(),
  created_by: z.string().nullable(),
  created_at: Timestamp,
  updated_at: Timestamp,
});
export type Webhook = z.infer<typeof Webhook>;

export const CreatedWebhook = Webhook.extend({ secret: z.string().describe("`whsec_…`, shown once: verify deliveries with it (Standard Webhooks)") });
export type CreatedWebhook = z.infer<typeof CreatedWebhook>;
export const RotatedWebhookSecret = CreatedWebhook;
export type RotatedWebhookSecret = CreatedWebhook;

export const WebhookDelivery = z.object({
  id: z.string().describe("the `webhook-id` header, the same on every attempt"),
  endpoint_id: z.string(),
  event_type: z.enum([...WEBHOOK_EVENTS, TEST_EVENT]),
  status: z.enum(["pending", "sending", "delivered", "failed"]),
  attempts: z.number().int(),
  last_status: z.number().int().nullable().describe("the endpoint's last HTTP status; null for a timeout or no answer"),
  last_error: z.string().nullable(),
  next_attempt_at: Timestamp.nullable(),
  created_at: Timestamp,
  delivered_at: Timestamp.nullable(),
  test: z.boolean(),
});
export type WebhookDelivery = z.infer<typeof WebhookDelivery>;

/** Newest first, keyset-paged like every management list (lib/paging.ts). */
export const DeliveriesQuery = z.strictObject({ ...PageQuery.shape });
export type DeliveriesQuery = z.infer<typeof DeliveriesQuery>;

export const DeliveriesPage = z.object({ deliveries: z.array(WebhookDelivery), next_cursor: NextCursor });
export type DeliveriesPage = z.infer<typeof DeliveriesPage>;
