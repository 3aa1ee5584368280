/**
 * `keystroke auth login|status|logout|tokens`. Browser login (SPEC section 11, /v1/cli-logins): the CLI
 * makes a random secret, the bearer of its login (the vault keeps only its hash); a member
 * approves the short code in the web app; the CLI polls with the secret and receives a fresh
 * member token exactly once. The token goes to the config file (0600) and is never printed.
 */
import { randomBytes } from "node:crypto";
import { hostname, userInfo } from "node:os";
import type { Command } from "commander";
import { z } from "zod";
import { CliLoginCreated, CliLoginPoll, type StoredLogin } from "../../lib/schemas/cli";
import { Me, MyToken, RevokedToken } from "../../lib/schemas/identity";
import { parseToken, tokenPreview } from "../../lib/tokens";
import { configFile, sameLogin } from "../config";
import { CliError, EXIT_USAGE, failure, usageError } from "../errors";
import { allPages, Api, seg } from "../http";
import { openBrowser, printJson, printTable, sleep, spinner, when, type Io } from "../output";
import type { Session } from "../session";
import { act, printAnswer, readStdin } from "./common";

const POLL_MS = 1_000;

const KIND_TEXT = { user: "member token", key: "API key", rt: "runtime token" } as const;

function clientName(): string {
  // Shown on the approval page so the member recognises their own terminal; never trusted.
  let user = "someone";
  try {
    user = userInfo().username;
  } catch {
    // No passwd entry (containers): keep the placeholder.
  }
  return `${user}@${hostname()}`.replace(/[^\x20-\x7e]/g, "?").slice(0, 100);
}

/** Checks a token with /v1/me and stores it for its org on this API. */
async function saveLogin(s: Session, token: string, via: StoredLogin["via"]): Promise<{ login: StoredLogin; me: z.infer<typeof Me> }> {
  const url = s.apiUrl().url;
  const me = await new Api(url, token).call("GET", "/v1/me", Me);
  if (s.globals.org !== undefined && me.org.slug !== s.globals.org) {
    // Conflicting flags, a usage error like any invalid_request (docs/cli.md: exit 2).
    throw new CliError(EXIT_USAGE, `That token belongs to org ${me.org.slug}, not ${s.globals.org}.`, { code: "invalid_request" });
  }
  const login: StoredLogin = {
    api_url: url,
    org: me.org.slug,
    org_id: me.org.id,
    token,
    token_kind: me.token.kind,
    member: me.member?.email ?? null,
    expires_at: me.token.expires_at,
    via,
    saved_at: new Date().toISOString(),
  };
  const config = s.config;
  s.saveConfig({ ...config, org: login.org, logins: [...config.logins.filter((l) => !sameLogin(l, login)), login] });
  return { login, me };
}

/** The browser flow: create, show URL and code, wait, collect the token once. */
async function browserLogin(s: Session, openIt: boolean): Promise<string> {
  const org = s.org();
  if (org === undefined) throw usageError("Which org? Pass --org <slug>.", "Or use `keystroke auth login --token <token>`.");
  // The login's own bearer credential: only this process can collect the token it leads to.
  const secret = randomBytes(32).toString("base64url");
  const api = new Api(s.apiUrl().url, secret);
  // The User-Agent is shown to the approver next to the label and the address.
  const agent = `keystroke-cli (node ${process.version}; ${process.platform})`;
  const created = await api.call("POST", "/v1/cli-logins", CliLoginCreated, { org, client: clientName() }, { "user-agent": agent });
  s.io.stderr.write(`To sign in to ${org}, open this page and type the code there:\n\n  ${created.url}\n\n  Code: ${created.code}\n\n`);
  if (openIt) openBrowser(s.io, created.url);
  const stop = spinner(s.io, "Waiting for approval in the browser (Ctrl-C to cancel)...");
  try {
    const deadline = Date.parse(created.expires_at);
    for (;;) {
      const poll = await api.call("GET", `/v1/cli-logins/${seg(created.id)}`, CliLoginPoll);
      if (poll.status === "approved") return poll.token;
      if (poll.status === "denied") {
        if (poll.reason === "too_many_attempts") throw failure("The login ended: 5 wrong codes were typed in the browser.", { code: "denied", fix: "Run `keystroke auth login` again and type the code exactly as shown." });
        throw failure("The login was denied in the browser.", { code: "denied" });
      }
      if (Date.now() > deadline) throw failure("The login expired before it was approved.", { code: "expired", fix: "Run `keystroke auth login` again." });
      await sleep(POLL_MS);
    }
  } finally {
    stop();
  }
}

export function registerAuth(program: Command, io: Io): void {
  const auth = program.command("auth").description("Sign in to the cloud target, check who you are, sign out");

  auth
    .command("login")
    .description("Sign in: approve a code in the browser, or give a token (headless)")
    .option("--token <token>", "use this token instead of the browser (`-` reads it from stdin)")
    .option("--no-browser", "print the URL but do not try to open a browser")
    .action(
      act(io, async (s, opts: { token?: string; browser: boolean }) => {
        let token: string;
        if (opts.token !== undefined) {
          token = opts.token === "-" ? await readStdin(io) : opts.token;
          // Never echo it back: a mistyped value may be some other secret.
          if (parseToken(token) === null) throw usageError("That does not look like a Keystroke token (ks_<kind>_<org>_<random>).");
        } else {
          token = await browserLogin(s, opts.browser);
        }
        const { login, me } = await saveLogin(s, token, opts.token !== undefined ? "token" : "browser");
        if (io.env.KEYSTROKE_TOKEN) io.stderr.write("keystroke: note: KEYSTROKE_TOKEN is set and wins over the stored login until you unset it.\n");
        if (s.globals.json) {
          printJson(io, { api_url: login.api_url, org: me.org, member: me.member, token: { kind: login.token_kind, preview: tokenPreview(token), expires_at: login.expires_at }, config: configFile(io.env) });
        } else {
          const who = me.member ? `${me.member.email} (${me.member.role})` : `a ${KIND_TEXT[login.token_kind]}`;
          io.stdout.write(`Signed in to ${me.org.slug} at ${login.api_url} as ${who}.\n`);
        }
      }),
    );

  auth
    .command("status")
    .description("Who you are on the cloud target, and which token is used")
    .action(
      act(io, async (s) => {
        const api = s.api(); // throws "not signed in", with the fix
        const active = s.activeToken()!;
        const url = api.baseUrl;
        const me = await api.call("GET", "/v1/me", Me);
        const token = { kind: me.token.kind, preview: tokenPreview(active.token), source: active.source, expires_at: me.token.expires_at };
        if (s.globals.json) {
          printJson(io, { api_url: url, org: me.org, member: me.member, token });
          return;
        }
        io.stdout.write(
          [
            `API:     ${url}`,
            `Org:     ${me.org.slug} (${me.org.name})`,
            `Member:  ${me.member ? `${me.member.email} (${me.member.role})` : "none (runtime token)"}`,
            `Token:   ${token.preview}, ${KIND_TEXT[token.kind]} from ${active.source === "config" ? configFile(io.env) : "KEYSTROKE_TOKEN"}; ${token.expires_at ? `expires ${token.expires_at}` : "does not expire"}`,
          ].join("\n") + "\n",
        );
      }),
    );

  auth
    .command("logout")
    .description("Forget the stored token (and revoke it, when it came from a browser login)")
    .action(
      act(io, async (s) => {
        if (io.env.KEYSTROKE_TOKEN) throw failure("KEYSTROKE_TOKEN is set in the environment; the CLI cannot forget it.", { fix: "Unset KEYSTROKE_TOKEN." });
        const login = s.storedLogin();
        if (!login) {
          if (s.globals.json) printJson(io, { signed_out: false, revoked: false });
          else io.stdout.write(`Not signed in at ${s.apiUrl().url}.\n`);
          return;
        }
        let revoked = false;
        try {
          revoked = (await new Api(login.api_url, login.token).call("POST", "/v1/cli-logins/logout", z.object({ revoked: z.boolean() }))).revoked;
        } catch {
          // Signing out must work offline and with an expired token: forget it anyway.
          io.stderr.write("keystroke: could not revoke the token on the server; forgetting it here.\n");
        }
        const config = s.config;
        s.saveConfig({ ...config, ...(config.org === login.org ? { org: undefined } : {}), logins: config.logins.filter((l) => !sameLogin(l, login)) });
        if (s.globals.json) printJson(io, { signed_out: true, org: login.org, revoked });
        else io.stdout.write(`Signed out of ${login.org} at ${login.api_url}${revoked ? " (the token is revoked)" : ""}.\n`);
      }),
    );

  auth
    .command("tokens")
    .description("Your live tokens (web sessions, CLI logins, API keys); --revoke one of them")
    .option("--revoke <id>", "revoke this token (an id from the list)")
    .action(
      act(io, async (s, opts: { revoke?: string }) => {
        const api = s.api(); // throws "not signed in", with the fix
        if (opts.revoke !== undefined) {
          const t = await api.call("DELETE", `/v1/me/tokens/${seg(opts.revoke)}`, RevokedToken);
          return printAnswer(s, t, `Revoked ${KIND_TEXT[t.kind]} ${t.id} (${t.name})${t.current ? ": it was this CLI's own token, sign in again" : ""}.`);
        }
        const tokens = await allPages(api, "/v1/me/tokens", {}, "tokens", MyToken);
        if (s.globals.json) return printJson(io, { tokens });
        printTable(
          io,
          ["ID", "KIND", "NAME", "PREVIEW", "CREATED", "LAST USED", "EXPIRES"],
          tokens.map((t) => [t.current ? `${t.id} *` : t.id, KIND_TEXT[t.kind], t.name, t.preview, when(t.created_at), when(t.last_used_at), t.expires_at ? when(t.expires_at) : "never"]),
          "No live tokens.",
        );
        if (tokens.some((t) => t.current)) io.stdout.write("* the token this CLI uses\n");
      }),
    );
}
