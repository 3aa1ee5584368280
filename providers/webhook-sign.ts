import { Webhook } from "standardwebhooks";

/**
 * Standard Webhooks signing (https://www.standardwebhooks.com), through the `standardwebhooks`
 * package so receivers can verify with the same library: `webhook-id` (the same on every retry of
 * a message), `webhook-timestamp` (seconds, this attempt) and `webhook-signature`, one `v1,<sig>`
 * per secret, space-separated, so a receiver holding either the new or the previous secret during
 * a rotation verifies.
 */
export function signedHeaders(secrets: readonly string[], msgId: string, at: Date, payload: string): Record<string, string> {
  return {
    "webhook-id": msgId,
    "webhook-timestamp": String(Math.floor(at.getTime() / 1000)),
    "webhook-signature": secrets.map((s) => new Webhook(s).sign(msgId, at, payload)).join(" "),
  };
}
