/** `keystroke api-keys create|list|revoke` (cloud). A key is printed once, at creation, and never again. */
import type { Command } from "commander";
import { z } from "zod";
import { ApiKey, CreatedApiKey } from "../../lib/schemas/identity";
import { allPages, seg } from "../http";
import { when, type Io } from "../output";
import { act, printAnswer, printList, printSecretOnce } from "./common";

const WHY = "API keys belong to the cloud org";

export function registerApiKeys(program: Command, io: Io): void {
  const keys = program.command("api-keys").description("Platform API keys for scripts (they act as you)");

  keys
    .command("create")
    .description("Create an API key; it is shown once")
    .requiredOption("--name <name>", "what the key is for")
    .action(
      act(io, async (s, opts: { name: string }) => {
        s.requireCloud("api-keys", WHY);
        const key = await s.api().call("POST", "/v1/api-keys", CreatedApiKey, { name: opts.name });
        printSecretOnce(s, key, `Created API key ${key.id} (${key.name}). Copy it now: it is not shown again.`, key.key);
      }),
    );

  keys
    .command("list")
    .description("Your API keys (all of them for owners and admins), previews only")
    .action(
      act(io, async (s) => {
        s.requireCloud("api-keys", WHY);
        const api_keys = await allPages(s.api(), "/v1/api-keys", {}, "api_keys", ApiKey);
        printList(
          s,
          "api_keys",
          api_keys,
          ["ID", "NAME", "PREVIEW", "MEMBER", "CREATED", "LAST USED", "REVOKED"],
          (k) => [k.id, k.name, k.preview, k.member, when(k.created_at), when(k.last_used_at), when(k.revoked_at)],
          "No API keys.",
        );
      }),
    );

  keys
    .command("revoke <id>")
    .description("Revoke an API key")
    .action(
      act(io, async (s, id: string) => {
        s.requireCloud("api-keys", WHY);
        const key = await s.api().call("DELETE", `/v1/api-keys/${seg(id)}`, ApiKey);
        printAnswer(s, key, `Revoked API key ${key.id} (${key.name}).`);
      }),
    );
}
