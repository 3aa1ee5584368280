/** `keystroke webhooks create|list|test|rotate-secret|deliveries|delete` (cloud, owners and admins). A secret is printed once. */
import type { Command } from "commander";
import { z } from "zod";
import { CreatedWebhook, Webhook, WebhookDelivery } from "../../lib/schemas/webhooks";
import { allPages, seg } from "../http";
import { printJson, when, type Io } from "../output";
import { act, collect, printAnswer, printList, printSecretOnce } from "./common";
import { CliError, EXIT_FAILURE } from "../errors";

const WHY = "webhooks belong to the cloud org";
const Webhooks = z.object({ webhooks: z.array(Webhook) });
const Deleted = z.object({ deleted: Webhook });

export function registerWebhooks(program: Command, io: Io): void {
  const hooks = program.command("webhooks").description("Signed lifecycle events (Standard Webhooks) sent to your endpoints (owners and admins)");

  hooks
    .command("create")
    .description("Add an endpoint; its signing secret (whsec_…) is shown once")
    .requiredOption("--url <url>", "an https URL (no localhost or private addresses)")
    .option("--event <type>", "an event type to receive, e.g. credential.needs_reauth; repeatable (default: every event)", collect, [])
    .action(
      act(io, async (s, opts: { url: string; event: string[] }) => {
        s.requireCloud("webhooks", WHY);
        const w = await s.api().call("POST", "/v1/webhooks", CreatedWebhook, { url: opts.url, ...(opts.event.length ? { events: opts.event } : {}) });
        printSecretOnce(s, w, `Created webhook ${w.id} for ${w.url}. Copy its signing secret now: it is not shown again.`, w.secret);
      }),
    );

  hooks
    .command("list")
    .description("The org's endpoints, never a secret")
    .action(
      act(io, async (s) => {
        s.requireCloud("webhooks", WHY);
        const { webhooks } = await s.api().call("GET", "/v1/webhooks", Webhooks);
        printList(
          s,
          "webhooks",
          webhooks,
          ["ID", "URL", "EVENTS", "STATUS", "FAILING SINCE", "CREATED"],
          (w) => [w.id, w.url, w.events ? w.events.join(",") : "all", w.enabled ? "enabled" : `disabled${w.disabled_reason ? ` (${w.disabled_reason})` : ""}`, when(w.failing_since), when(w.created_at)],
          "No webhooks.",
        );
      }),
    );

  hooks
    .command("test <id>")
    .description("Send one signed webhook.test delivery now and show how the endpoint answered")
    .action(
      act(io, async (s, id: string) => {
        s.requireCloud("webhooks", WHY);
        const d = await s.api().call("POST", `/v1/webhooks/${seg(id)}/test`, WebhookDelivery);
        if (s.globals.json) printJson(io, d);
        const answer = d.last_status !== null ? `HTTP ${d.last_status}` : (d.last_error ?? "no answer");
        // A failed test send is a failed command (exit 1), with --json too, so scripts can check an endpoint.
        if (d.status !== "delivered") throw new CliError(EXIT_FAILURE, `The test delivery failed: the endpoint answered ${answer} (delivery ${d.id}).`, { fix: "Check the URL and that the receiver answers 2xx within 10 s." });
        if (!s.globals.json) io.stdout.write(`Delivered: the endpoint answered ${answer} (delivery ${d.id}).\n`);
      }),
    );

  hooks
    .command("rotate-secret <id>")
    .description("A new signing secret, shown once; the old one keeps signing alongside for 24 hours")
    .action(
      act(io, async (s, id: string) => {
        s.requireCloud("webhooks", WHY);
        const w = await s.api().call("POST", `/v1/webhooks/${seg(id)}/rotate-secret`, CreatedWebhook);
        printSecretOnce(s, w, `Rotated the secret of ${w.id}; the previous one also signs until ${when(w.previous_secret_until)}. Copy the new one now.`, w.secret);
      }),
    );

  hooks
    .command("deliveries <id>")
    .description("An endpoint's recent deliveries: event, status, attempts, last response code")
    .action(
      act(io, async (s, id: string) => {
        s.requireCloud("webhooks", WHY);
        const deliveries = await allPages(s.api(), `/v1/webhooks/${seg(id)}/deliveries`, {}, "deliveries", WebhookDelivery);
        printList(
          s,
          "deliveries",
          deliveries,
          ["ID", "EVENT", "STATUS", "ATTEMPTS", "LAST", "CREATED"],
          (d) => [d.id, d.event_type, d.status, String(d.attempts), d.last_status !== null ? String(d.last_status) : (d.last_error ?? "-"), when(d.created_at)],
          "No deliveries yet.",
        );
      }),
    );

  hooks
    .command("delete <id>")
    .description("Delete an endpoint, its queued deliveries and its log")
    .action(
      act(io, async (s, id: string) => {
        s.requireCloud("webhooks", WHY);
        const { deleted } = await s.api().call("DELETE", `/v1/webhooks/${seg(id)}`, Deleted);
        printAnswer(s, { deleted }, `Deleted webhook ${deleted.id} (${deleted.url}).`);
      }),
    );
}
