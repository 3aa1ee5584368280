/** `keystroke channels list|available|bind|unbind|sessions` (cloud): Slack channels routed to agents. */
import { Option, type Command } from "commander";
import { z } from "zod";
import { AvailableAnswer, ChannelBinding, ChannelsAnswer, SessionsAnswer } from "../../lib/schemas/slack";
import { query, seg } from "../http";
import { printJson, printTable, when, type Io } from "../output";
import type { Session } from "../session";
import { act, printAnswer } from "./common";

const WHY = "Slack bindings live in the cloud org";

const label = (b: ChannelBinding): string => (b.channel === "dm" ? "the bot's direct messages" : b.name ? `#${b.name}` : b.channel);

function printBindings(io: Io, rows: readonly ChannelBinding[]): void {
  printTable(
    io,
    ["CHANNEL", "NAME", "AGENT", "MODE", "PROJECT", "STATUS"],
    rows.map((b) => [b.channel, b.name ?? "-", b.agent, b.mode, b.project ?? "-", b.status === "paused" ? `paused (${b.paused_reason ?? "?"})` : b.status]),
    "No channel bindings.",
  );
}

function cloud(s: Session) {
  s.requireCloud("channels", WHY);
  return s.api();
}

export function registerChannels(program: Command, io: Io): void {
  const channels = program.command("channels").description("Slack channels (and the bot's DMs) routed to agents");

  channels
    .command("list")
    .description("Bound channels (with --json, the Slack installations too)")
    .action(
      act(io, async (s) => {
        const answer = await cloud(s).call("GET", "/v1/channels", ChannelsAnswer);
        if (s.globals.json) return printJson(io, answer);
        printBindings(io, answer.channels);
      }),
    );

  channels
    .command("available")
    .description("Channels the bot can see, and whether they can be bound")
    .action(
      act(io, async (s) => {
        const answer = await cloud(s).call("GET", "/v1/channels/available", AvailableAnswer);
        if (s.globals.json) return printJson(io, answer);
        printTable(
          io,
          ["CHANNEL", "NAME", "PRIVATE", "BOT IN", "BINDABLE", "BOUND TO"],
          answer.channels.map((c) => [c.id, c.name ?? "-", c.is_private ? "yes" : "", c.is_member ? "yes" : "no", c.bindable ? "yes" : "no", c.binding ? `${c.binding.agent} (${c.binding.mode})` : c.bound_elsewhere ? "(another project)" : "-"]),
          "No channels (is Slack connected? `keystroke connect slack`).",
        );
      }),
    );

  channels
    .command("bind <channel>")
    .description("Route a channel (#name, id, or dm) to an agent; --project (global) names the owning project")
    .requiredOption("--agent <slug>", "the agent that answers")
    .addOption(new Option("--mode <mode>", "mentions (default) or every message").choices(["mentions", "all"]))
    .action(
      act(io, async (s, channel: string, opts: { agent: string; mode?: "mentions" | "all" }) => {
        const body = { channel, agent: opts.agent, ...(opts.mode ? { mode: opts.mode } : {}), ...(s.globals.project ? { project: s.globals.project } : {}) };
        const binding = await cloud(s).call("POST", "/v1/channels/bindings", ChannelBinding, body);
        printAnswer(s, binding, `Bound ${label(binding)} to agent ${binding.agent} (${binding.mode}).`);
      }),
    );

  channels
    .command("unbind <channel>")
    .description("Remove a channel's binding")
    .action(
      act(io, async (s, channel: string) => {
        const answer = await cloud(s).call("DELETE", `/v1/channels/bindings/${seg(channel)}`, z.object({ deleted: ChannelBinding }));
        printAnswer(s, answer, `Unbound ${label(answer.deleted)} from agent ${answer.deleted.agent}.`);
      }),
    );

  channels
    .command("sessions")
    .description("Agent sessions (one per Slack thread)")
    .option("--agent <slug>", "only this agent's")
    .action(
      act(io, async (s, opts: { agent?: string }) => {
        const answer = await cloud(s).call("GET", `/v1/channels/sessions${query({ agent: opts.agent })}`, SessionsAnswer);
        if (s.globals.json) return printJson(io, answer);
        printTable(
          io,
          ["SESSION", "AGENT", "CHANNEL", "THREAD", "MESSAGES", "REPLIES", "LAST MESSAGE"],
          answer.sessions.map((x) => [x.id, x.agent, x.channel, x.thread_ts, String(x.messages), String(x.replies), when(x.last_message_at)]),
          "No sessions.",
        );
      }),
    );
}
