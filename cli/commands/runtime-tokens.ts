/** `keystroke runtime-tokens create|list|revoke` (cloud, owners and admins). A token is printed once, at creation. */
import type { Command } from "commander";
import { z } from "zod";
import { CreatedRuntimeToken, RevokedRuntimeToken, RuntimeToken } from "../../lib/schemas/tokens";
import { allPages, seg } from "../http";
import { when, type Io } from "../output";
import { act, printAnswer, printList, printSecretOnce } from "./common";

const WHY = "runtime tokens belong to the cloud org";

export function registerRuntimeTokens(program: Command, io: Io): void {
  const tokens = program.command("runtime-tokens").description("The execution plane's tokens (owners and admins); rotate by create, switch, revoke");

  tokens
    .command("create")
    .description("Create a runtime token; it is shown once")
    .requiredOption("--name <name>", "which execution plane it is for (1-100 characters)")
    .action(
      act(io, async (s, opts: { name: string }) => {
        s.requireCloud("runtime-tokens", WHY);
        const t = await s.api().call("POST", "/v1/runtime-tokens", CreatedRuntimeToken, { name: opts.name });
        printSecretOnce(s, t, `Created runtime token ${t.id} (${t.name}). Copy it now: it is not shown again.`, t.token);
      }),
    );

  tokens
    .command("list")
    .description("The org's live runtime tokens, previews only")
    .action(
      act(io, async (s) => {
        s.requireCloud("runtime-tokens", WHY);
        const runtime_tokens = await allPages(s.api(), "/v1/runtime-tokens", {}, "runtime_tokens", RuntimeToken);
        printList(
          s,
          "runtime_tokens",
          runtime_tokens,
          ["ID", "NAME", "PREVIEW", "CREATED BY", "CREATED", "LAST USED"],
          (t) => [t.id, t.name, t.preview, t.created_by ?? "-", when(t.created_at), when(t.last_used_at)],
          "No runtime tokens.",
        );
      }),
    );

  tokens
    .command("revoke <id>")
    .description("Revoke a runtime token at once")
    .action(
      act(io, async (s, id: string) => {
        s.requireCloud("runtime-tokens", WHY);
        const t = await s.api().call("DELETE", `/v1/runtime-tokens/${seg(id)}`, RevokedRuntimeToken);
        printAnswer(s, t, `Revoked runtime token ${t.id} (${t.name}).`);
      }),
    );
}
