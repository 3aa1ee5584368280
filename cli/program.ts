/**
 * The `keystroke` CLI (SPEC section 5). `createCli` builds the command tree; `main` runs it and
 * owns the one error path: every failure becomes one line on stderr and a non-zero exit code.
 */
import { Command, CommanderError, Option } from "commander";
import { registerApiKeys } from "./commands/api-keys";
import { registerApps } from "./commands/apps";
import { registerAssignments } from "./commands/assignments";
import { registerAuth } from "./commands/auth";
import { registerChannels } from "./commands/channels";
import { registerConnect } from "./commands/connect";
import { registerCredentials } from "./commands/credentials";
import { registerTarget } from "./commands/target";
import { registerProjects } from "./commands/projects";
import { registerRuntimeTokens } from "./commands/runtime-tokens";
import { registerWebhooks } from "./commands/webhooks";
import { registerMembers } from "./commands/members";
import { registerOrgs } from "./commands/orgs";
import { EXIT_OK, EXIT_USAGE, reportError } from "./errors";
import { processIo, type Io } from "./output";

declare const __KEYSTROKE_VERSION__: string;
const VERSION = typeof __KEYSTROKE_VERSION__ === "string" ? __KEYSTROKE_VERSION__ : "0.0.0-dev";

export function createCli(io: Io): Command {
  const program = new Command("keystroke")
    .description("Keystroke apps & credentials: connect apps, store API keys, and see exactly which credential a run gets.")
    .version(VERSION, "-V, --version")
    .option("--json", "machine output: stable JSON on stdout (errors as JSON on stderr)")
    .option("--org <slug>", "the org: for auth login, and to pick one when several are signed in")
    .option("--project <slug>", "the project context (credentials resolve, list --scope project, channels bind)")
    .addOption(new Option("--target <target>", "local or cloud, for this command only (default: `keystroke target`)").choices(["local", "cloud"]))
    // Set before any subcommand exists: commander copies these settings into each new subcommand.
    .exitOverride()
    .configureOutput({ writeOut: (s) => io.stdout.write(s), writeErr: (s) => io.stderr.write(s), outputError: () => {} })
    .showSuggestionAfterError(true);

  registerAuth(program, io);
  registerTarget(program, io);
  registerApps(program, io);
  registerConnect(program, io);
  registerAssignments(registerCredentials(program, io), io);
  registerChannels(program, io);
  registerApiKeys(program, io);
  registerProjects(program, io);
  registerRuntimeTokens(program, io);
  registerWebhooks(program, io);
  registerMembers(program, io);
  registerOrgs(program, io);
  return program;
}

export async function main(argv: string[], io: Io = processIo()): Promise<void> {
  const program = createCli(io);
  try {
    await program.parseAsync(argv);
    process.exitCode = EXIT_OK;
  } catch (e) {
    if (e instanceof CommanderError && (e.code === "commander.helpDisplayed" || e.code === "commander.version")) {
      process.exitCode = EXIT_OK;
      return;
    }
    // A command group without a subcommand: commander has already printed its help to stderr.
    if (e instanceof CommanderError && e.code === "commander.help") {
      process.exitCode = EXIT_USAGE;
      return;
    }
    const json = program.opts().json === true || argv.includes("--json");
    process.exitCode = reportError(e, io.stderr, json);
  }
}
