/**
 * `keystroke connect <app> [--reconnect <ref>]` (SPEC sections 5 and 6): creates a connect session,
 * prints and opens its web URL, waits until the web flow completes or fails, and prints the new
 * credential(s). Where the credential goes is chosen in the web flow, so there are no target-scope
 * flags; `--scopes` names OAuth scopes to ask for beyond the app's defaults (shown before the URL).
 */
import type { Command } from "commander";
import { ConnectSession } from "../../lib/schemas/connect";
import { failure } from "../errors";
import { seg } from "../http";
import { openBrowser, printJson, sleep, spinner, type Io } from "../output";
import { printCredentials } from "../render";
import { act } from "./common";

const POLL_MS = 1_500;

export function registerConnect(program: Command, io: Io): void {
  program
    .command("connect <app>")
    .description("Connect an app through the web flow (OAuth, or an API-key form) and wait until it is done")
    .option("--reconnect <ref>", "new tokens into this existing credential instead of a new one")
    .option("--scopes <list>", "OAuth scopes to ask for beyond the app's defaults, comma-separated (with --reconnect: a step-up into the same credential)")
    .option("--no-browser", "print the URL but do not try to open a browser")
    .action(
      act(io, async (s, app: string, opts: { reconnect?: string; scopes?: string; browser: boolean }) => {
        s.requireCloud("connect", "the connect flow runs in the web app; locally, use `keystroke credentials set` or .env");
        const api = s.api();
        const scopes = (opts.scopes ?? "").split(",").map((x) => x.trim()).filter(Boolean);
        const created = await api.call("POST", "/v1/connect-sessions", ConnectSession, { app, ...(opts.reconnect !== undefined ? { reconnect: opts.reconnect } : {}), ...(scopes.length ? { scopes } : {}) });
        // What the provider will be asked for (the web form shows the same and lets them change it).
        const listed = await s.backend().apps(app).catch(() => []);
        const about = listed.find((a) => a.slug === app)?.scopes;
        if (about) {
          io.stderr.write(`Scopes asked for: ${[...about.default, ...scopes].join(" ") || "(none)"}\n`);
          if (about.optional.length) io.stderr.write(`Optional scopes (tick them in the web form, or pass --scopes): ${about.optional.join(" ")}\n`);
        }
        io.stderr.write(`Open this page to ${opts.reconnect ? "reconnect" : "connect"} ${app}:\n\n  ${created.url}\n\n`);
        if (opts.browser) openBrowser(io, created.url);
        const stop = spinner(io, "Waiting for the connection to complete (Ctrl-C to stop waiting)...");
        let session = created;
        try {
          const deadline = Date.parse(created.expires_at);
          while (session.status === "pending") {
            if (Date.now() > deadline) throw failure(`The connect session for ${app} expired before it completed.`, { code: "expired", fix: `Run \`keystroke connect ${app}\` again.` });
            await sleep(POLL_MS);
            session = await api.call("GET", `/v1/connect-sessions/${seg(created.id)}`, ConnectSession);
          }
        } finally {
          stop();
        }
        if (session.status === "failed") throw failure(`Connecting ${app} failed: ${session.error ?? "no reason given"}.`, { code: "connect_failed", fix: `Run \`keystroke connect ${app}\` again.` });
        const credentials = session.credentials ?? [];
        if (s.globals.json) return printJson(io, { session: { ...session, credentials: undefined }, credentials });
        io.stdout.write(`Connected ${app}.\n`);
        printCredentials(io, credentials);
      }),
    );
}
