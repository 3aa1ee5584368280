/**
 * `keystroke apps oauth-client set|show|remove <slug>` (SPEC section 13, cloud): the org's own
 * OAuth client of an app. The secret is read from stdin (piped) or a prompt that does not echo
 * (a terminal), never from argv, where it would land in shell history and `ps`.
 */
import { createInterface } from "node:readline/promises";
import { Writable } from "node:stream";
import type { Command } from "commander";
import { OAuthClientSettings, type PutOAuthClientBody } from "../../lib/schemas/oauth-clients";
import { usageError } from "../errors";
import { seg } from "../http";
import { confirm, printJson, type Io } from "../output";
import { act, collect, readStdin } from "./common";

const WHY = "OAuth clients live in the cloud deployment";
const CONNECTS_WITH = { org: "the org's own client", platform: "the platform's client", none: "no client: connecting is refused until an org owner or admin sets one" } as const;

async function readSecret(io: Io): Promise<string> {
  if (!io.stdin.isTTY) return readStdin(io);
  // No echo: readline writes what is typed to a sink, the question goes to stderr.
  io.stderr.write("Client secret (empty keeps the stored one of the same client id): ");
  const sink = new Writable({ write: (_c, _e, done) => done() });
  const rl = createInterface({ input: io.stdin, output: sink, terminal: true });
  try {
    return (await rl.question("")).trim();
  } finally {
    rl.close();
    io.stderr.write("\n");
  }
}

function print(io: Io, s: OAuthClientSettings): void {
  const lines = [`App:           ${s.app}`, `Redirect URI:  ${s.redirect_uri}   (register this at the provider)`, `Connects with: ${CONNECTS_WITH[s.connects_with]}`];
  if (s.client) {
    lines.push(`Client id:     ${s.client.client_id}`, `Secret:        ${s.client.has_secret ? "stored (sealed, never shown)" : "none"}`);
    for (const [k, v] of Object.entries(s.client.endpoints)) if (v) lines.push(`${k.padEnd(14)} ${v}`);
    if (s.client.scopes) lines.push(`Scopes:        ${s.client.scopes.join(" ")}`);
    if (s.client.pkce !== null) lines.push(`PKCE:          ${s.client.pkce ? "on" : "off"}`);
    lines.push(`Credentials:   ${s.credentials.org_client} made with this client, ${s.credentials.other_client} with another`);
  }
  io.stdout.write(lines.join("\n") + "\n");
}

interface SetOpts {
  clientId: string;
  authorizeUrl?: string;
  tokenUrl?: string;
  refreshUrl?: string;
  userinfoUrl?: string;
  revokeUrl?: string;
  scope?: string[];
  pkce?: boolean;
}

export function registerOAuthClients(apps: Command, io: Io): void {
  const oc = apps.command("oauth-client").description("The org's own OAuth client of an app (org owners and admins)");

  oc.command("show <slug>")
    .description("The org's client (never its secret), the redirect URI to register, and which client connecting uses")
    .action(
      act(io, async (s, slug: string) => {
        s.requireCloud("apps oauth-client", WHY);
        const got = await s.api().call("GET", `/v1/apps/${seg(slug)}/oauth-client`, OAuthClientSettings);
        if (s.globals.json) return printJson(io, got);
        print(io, got);
      }),
    );

  oc.command("set <slug>")
    .description("Register or replace the org's client; the secret comes from stdin or a prompt, never an argument")
    .requiredOption("--client-id <id>", "the client id the provider gave the org's OAuth app")
    .option("--authorize-url <url>", "self-hosted or generic providers: the authorize endpoint (https)")
    .option("--token-url <url>", "the token endpoint (https)")
    .option("--refresh-url <url>", "only when refreshes go elsewhere than the token endpoint")
    .option("--userinfo-url <url>", "where the connected account is read")
    .option("--revoke-url <url>", "the revocation endpoint")
    .option("--scope <scope>", "a default scope to ask for instead of the app's (repeatable)", collect)
    .option("--pkce", "use PKCE")
    .option("--no-pkce", "do not use PKCE")
    .action(
      act(io, async (s, slug: string, opts: SetOpts) => {
        s.requireCloud("apps oauth-client", WHY);
        const secret = await readSecret(io);
        const endpoints = Object.fromEntries(
          ([["authorize_url", opts.authorizeUrl], ["token_url", opts.tokenUrl], ["refresh_url", opts.refreshUrl], ["userinfo_url", opts.userinfoUrl], ["revoke_url", opts.revokeUrl]] as const).filter(([, v]) => v),
        );
        const body: PutOAuthClientBody = {
          client_id: opts.clientId,
          ...(secret ? { client_secret: secret } : {}),
          ...(Object.keys(endpoints).length ? { endpoints } : {}),
          ...(opts.scope?.length ? { scopes: opts.scope } : {}),
          ...(opts.pkce !== undefined ? { pkce: opts.pkce } : {}),
        };
        const saved = await s.api().call("PUT", `/v1/apps/${seg(slug)}/oauth-client`, OAuthClientSettings, body);
        if (s.globals.json) return printJson(io, saved);
        io.stderr.write(`Saved ${slug}'s OAuth client ${opts.clientId}.\n`);
        print(io, saved);
      }),
    );

  oc.command("remove <slug>")
    .description("Remove the org's client: connecting then uses the platform's client, or is refused")
    .option("--yes", "do not ask for confirmation")
    .action(
      act(io, async (s, slug: string, opts: { yes?: boolean }) => {
        s.requireCloud("apps oauth-client", WHY);
        if (!opts.yes) {
          if (!io.stdin.isTTY) throw usageError(`Removing ${slug}'s OAuth client needs confirmation and stdin is not a terminal.`, "Pass --yes.");
          if (!(await confirm(io, `Remove ${slug}'s OAuth client? Credentials made with it will need a reconnect.`))) return;
        }
        const after = await s.api().call("DELETE", `/v1/apps/${seg(slug)}/oauth-client`, OAuthClientSettings);
        if (s.globals.json) return printJson(io, after);
        io.stderr.write(`Removed ${slug}'s OAuth client.\n`);
        print(io, after);
      }),
    );
}
