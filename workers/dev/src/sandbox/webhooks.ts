import { Hono } from "hono";
import { Webhook } from "standardwebhooks";

/**
 * The sandbox's webhook receiver (dev only, memory only; SPEC section 14). Point a webhook at
 * `<dev origin>/_sandbox/webhooks/<name>`, give the receiver the secret it was answered
 * (`PUT /_sandbox/webhooks/<name>/secrets {"secrets": ["whsec_…"]}`), and every delivery is
 * verified with the `standardwebhooks` package, as a customer's receiver would, and recorded:
 * `GET /_sandbox/webhooks/<name>` lists them (id, type, verified or why not, what was answered).
 * A delivery that does not verify is answered 400. `POST /_sandbox/webhooks/<name>/answers
 * {"statuses": [500, 500]}` makes the next deliveries fail with those statuses (retries, backoff).
 */
export const sandboxWebhooks = new Hono();

interface Recorded {
  id: string | null;
  type: string | null;
  verified: boolean;
  error: string | null;
  /** Which registered secret verified it (0 = the first given). */
  secret_index: number | null;
  answered: number;
  at: string;
}

interface Receiver { secrets: string[]; answers: number[]; deliveries: Recorded[] }
const receivers = new Map<string, Receiver>();
const KEEP = 200;

const receiver = (name: string): Receiver => {
  let r = receivers.get(name);
  if (!r) receivers.set(name, (r = { secrets: [], answers: [], deliveries: [] }));
  return r;
};

sandboxWebhooks.put("/:name/secrets", async (c) => {
  const body = (await c.req.json().catch(() => null)) as { secrets?: unknown } | null;
  const secrets = body?.secrets;
  if (!Array.isArray(secrets) || secrets.length === 0 || !secrets.every((s) => typeof s === "string" && s.startsWith("whsec_"))) {
    return c.json({ error: 'Expected {"secrets": ["whsec_…"]}.' }, 400);
  }
  receiver(c.req.param("name")).secrets = secrets as string[];
  return c.json({ name: c.req.param("name"), secrets: secrets.length });
});

sandboxWebhooks.post("/:name/answers", async (c) => {
  const body = (await c.req.json().catch(() => null)) as { statuses?: unknown } | null;
  const statuses = body?.statuses;
  if (!Array.isArray(statuses) || !statuses.every((s) => Number.isInteger(s) && s >= 200 && s <= 599)) return c.json({ error: 'Expected {"statuses": [500, …]}.' }, 400);
  receiver(c.req.param("name")).answers.push(...(statuses as number[]));
  return c.json({ queued: receiver(c.req.param("name")).answers.length });
});

sandboxWebhooks.post("/:name", async (c) => {
  const r = receiver(c.req.param("name"));
  const payload = await c.req.text();
  const headers = Object.fromEntries(c.req.raw.headers);
  let verified = false;
  let error: string | null = r.secrets.length ? null : "no secret registered (PUT /_sandbox/webhooks/<name>/secrets)";
  let secretIndex: number | null = null;
  let type: string | null = null;
  for (const [i, secret] of r.secrets.entries()) {
    try {
      const event = new Webhook(secret).verify(payload, headers) as { type?: unknown };
      verified = true;
      error = null;
      secretIndex = i;
      type = typeof event.type === "string" ? event.type : null;
      break;
    } catch (e) {
      error = e instanceof Error ? e.message : "verification failed";
    }
  }
  const answered = !verified ? 400 : (r.answers.shift() ?? 200);
  r.deliveries.push({ id: headers["webhook-id"] ?? null, type, verified, error, secret_index: secretIndex, answered, at: new Date().toISOString() });
  if (r.deliveries.length > KEEP) r.deliveries.splice(0, r.deliveries.length - KEEP);
  return c.json(verified ? { received: true } : { error }, answered as 200);
});

sandboxWebhooks.get("/:name", (c) => c.json({ deliveries: receiver(c.req.param("name")).deliveries }));

sandboxWebhooks.delete("/:name", (c) => {
  receivers.delete(c.req.param("name"));
  return c.json({ cleared: true });
});
