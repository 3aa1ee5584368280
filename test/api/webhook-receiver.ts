import { runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { vi } from "vitest";
import { uid, vaultOf, vaultSql } from "./helpers";

/**
 * The webhook receiver of the api tests: a fetch spy on https://hooks.example.com that records
 * every delivery and answers from a per-path script (default 200). Tests verify what it recorded
 * with the `standardwebhooks` package, as a customer's receiver would.
 */
export const RECEIVER = "https://hooks.example.com/";

export interface Received { url: string; headers: Record<string, string>; body: string; answered: number }
export interface Receiver {
  received: Received[];
  /** What the receiver answers next, per path; default 200. */
  script: Record<string, { status: number; headers?: Record<string, string> }[]>;
  forPath(url: string): Received[];
}

/** Installs the spy (call in beforeEach; vi.restoreAllMocks removes it). */
export function installReceiver(): Receiver {
  const r: Receiver = { received: [], script: {}, forPath: (url) => r.received.filter((x) => x.url === url) };
  const real = globalThis.fetch;
  vi.spyOn(globalThis, "fetch").mockImplementation(async (input, init) => {
    const req = new Request(input, init);
    if (!req.url.startsWith(RECEIVER)) return real(input, init);
    const next = r.script[new URL(req.url).pathname]?.shift() ?? { status: 200 };
    r.received.push({ url: req.url, headers: Object.fromEntries(req.headers), body: await req.text(), answered: next.status });
    return new Response(next.status === 200 ? "ok" : "nope", { status: next.status, headers: next.headers });
  });
  return r;
}

export const hookUrl = () => `${RECEIVER}r-${uid(6)}`;

/** Runs the alarm until nothing is due or sending (the alarm may also fire in the background; claims make each attempt run once). */
export async function settleWebhooks(orgId: string): Promise<void> {
  const stub = vaultOf(orgId);
  for (let i = 0; i < 50; i++) {
    await runInDurableObject(stub, async (_i, state) => {
      if ((await state.storage.getAlarm()) === null) await state.storage.setAlarm(Date.now() + 3_600_000);
    });
    await runDurableObjectAlarm(stub);
    const [row] = await vaultSql(
      orgId,
      `SELECT COUNT(*) AS n FROM webhook_deliveries d JOIN webhook_endpoints e ON e.id = d.endpoint_id WHERE d.status = 'sending' OR (d.status = 'pending' AND d.next_attempt_at <= ? AND e.enabled = 1)`,
      Date.now(),
    );
    if (Number(row!.n) === 0) return;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`webhook deliveries did not settle: ${JSON.stringify(await vaultSql(orgId, `SELECT status, attempts, next_attempt_at, last_error FROM webhook_deliveries`))}`);
}

export const deliveryRows = (orgId: string, endpointId: string) =>
  vaultSql(orgId, `SELECT id, event_type, status, attempts, last_status, last_error, next_attempt_at, payload FROM webhook_deliveries WHERE endpoint_id = ? ORDER BY created_at`, endpointId);
