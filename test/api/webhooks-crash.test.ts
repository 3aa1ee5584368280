import { evictDurableObject, runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { Webhook } from "standardwebhooks";
import { beforeAll, describe, expect, it } from "vitest";
import { writeAudit } from "../../durable-objects/vault/audit";
import { parseKeyring } from "../../lib/crypto";
import { call, seed, setCred, uid, vaultOf, type Seed } from "./helpers";
import { deliveryRows, hookUrl, installReceiver, settleWebhooks, type Receiver } from "./webhook-receiver";

/**
 * Issue 15 Done-when: a crash between the change and the delivery loses no event. Its own file:
 * it evicts the vault, which waits for the outbound timeouts of earlier deliveries in the same
 * instance (webhooks.test.ts makes many).
 */
let s: Seed;
let rx: Receiver;
const create = (token: string, body: unknown) => call("POST", "/v1/webhooks", { token, body });
const deliveries = (id: string) => deliveryRows(s.org.id, id);
const forPath = (url: string) => rx.forPath(url);
const settle = () => settleWebhooks(s.org.id);

beforeAll(async () => {
  s = await seed();
  rx = installReceiver();
});

describe("the outbox survives a crash", () => {
  it("a crash between the change and the delivery loses no event: the restarted vault wakes for the committed row", async () => {
    const url = hookUrl();
    const made = await create(s.alice, { url, events: ["credential.updated"] });
    const cred = await setCred(s.alice, { slug: `c-${uid(5)}` });
    const id: string = cred.body.credentials[0].id;
    const stub = vaultOf(s.org.id);
    // The change commits with its outbox row, then the instance dies before it could wake the alarm
    // (this context has no onOutbox hook, as if the process ended right after the commit).
    await runInDurableObject(stub, async (_i, state) => {
      await state.storage.deleteAlarm();
      const ctx = { storage: state.storage, sql: state.storage.sql, orgId: s.org.id, ring: parseKeyring(env.VAULT_KEYS), now: Date.now() };
      state.storage.transactionSync(() => {
        state.storage.sql.exec(`UPDATE credentials SET name = 'Renamed' WHERE id = ?`, id);
        writeAudit(ctx, null, { action: "credential.rename", credentialId: id, target: "org", detail: { name: "Renamed" } });
      });
    });
    expect(await runInDurableObject(stub, (_i, state) => state.storage.getAlarm())).toBeNull();
    await evictDurableObject(stub);
    expect(rx.received).toEqual([]);
    // Any call starts it again; its start-up finds the queued delivery and sets the alarm.
    expect((await call("GET", "/v1/webhooks", { token: s.alice })).status).toBe(200);
    // The start-up armed the alarm for "now"; it may already have run. Nothing here sets one.
    for (let i = 0; i < 100 && forPath(url).length === 0; i++) {
      if (!(await runDurableObjectAlarm(stub))) await new Promise((r) => setTimeout(r, 20));
    }
    expect(forPath(url)).toHaveLength(1);
    await settle();
    expect(forPath(url)).toHaveLength(1);
    const event = new Webhook(made.body.secret).verify(forPath(url)[0]!.body, forPath(url)[0]!.headers) as { type: string; data: { credential: { id: string } } };
    expect(event).toMatchObject({ type: "credential.updated", data: { credential: { id } } });
    expect((await deliveries(made.body.id))[0]).toMatchObject({ status: "delivered", attempts: 1 });
  });

});
