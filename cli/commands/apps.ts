/** `keystroke apps list [--search q]`: the catalog, marking what is connected on the active target; `apps oauth-client` (oauth-clients.ts). */
import type { Command } from "commander";
import type { Io } from "../output";
import { act, printList } from "./common";
import { registerOAuthClients } from "./oauth-clients";

export function registerApps(program: Command, io: Io): void {
  const apps = program.command("apps").description("The apps catalog, and the org's own OAuth clients");
  apps
    .command("list")
    .description("Apps you can connect or set, and how many credentials each has")
    .option("--search <query>", "filter by slug, name, category or description")
    .action(
      act(io, async (s, opts: { search?: string }) => {
        const apps = await s.backend().apps(opts.search);
        printList(
          s,
          "apps",
          apps,
          ["APP", "NAME", "KIND", "CATEGORY", "CONNECTED"],
          (a) => [a.slug, a.name, a.custom ? `${a.kind} (custom)` : a.kind, a.category, a.connected > 0 ? `yes (${a.connected})` : ""],
          "No apps match.",
        );
      }),
    );
  registerOAuthClients(apps, io);
}
