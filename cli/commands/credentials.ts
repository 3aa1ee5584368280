/**
 * `keystroke credentials set|list|get|rename|update|rotate-key|revoke` (SPEC section 5). The
 * same code runs on both targets through the Backend; only rotate-key is cloud-only.
 */
import { slugify } from "../../lib/fields";
import { InvalidArgumentError, Option, type Command } from "commander";
import { SLUG_PATTERN, type Target } from "../../lib/schemas/common";
import { CredentialStatus, type CheckResult, type Credential } from "../../lib/schemas/credentials";
import { failure, usageError } from "../errors";
import { LOCAL_CHECK_WHY, LOCAL_ROTATE_WHY } from "../local/backend";
import { confirm, printJson, type Io } from "../output";
import { printCheck, printCredentials, statusText } from "../render";
import { act, collect, parseSets, printAnswer } from "./common";

/**
 * `--name` gives the slug and the display name. A name that is not a slug becomes one
 * ("Work Account" -> work-account) and stays the display name.
 */
export function slugOf(name: string): string {
  if (SLUG_PATTERN.test(name)) return name;
  const slug = slugify(name);
  if (slug === null || !SLUG_PATTERN.test(slug)) throw usageError("`--name` needs at least one letter or digit.");
  return slug;
}

/** Scopes and project slugs fan out in order: each `project` scope takes the next --project-slug. */
export function fanOut(scopes: readonly string[], projectSlugs: readonly string[]): Target[] {
  const wanted = scopes.filter((s) => s === "project").length;
  if (wanted !== projectSlugs.length) {
    throw usageError(
      `${wanted} \`--scope project\` but ${projectSlugs.length} \`--project-slug\`: each project scope takes the next --project-slug, in order, so the counts must match.`,
    );
  }
  if (scopes.length === 0) return [{ type: "org" }];
  let next = 0;
  return scopes.map((s): Target => (s === "project" ? { type: "project", project: projectSlugs[next++]! } : s === "user" ? { type: "user" } : { type: "org" }));
}

/** Whether the key works: the probe's own verdict, as set or rotate-key answered it (the probe ran before it was stored). */
function printVerdict(io: Io, c: Credential, check: CheckResult | undefined): void {
  if (c.kind !== "api_key" || !check) return;
  if (check.result === "refused") io.stdout.write(`${c.ref}: refused by the provider: it is stored as invalid and never handed out. ${c.last_error?.message ?? ""}\n`);
  else if (check.result === "unknown") io.stdout.write(`${c.ref}: not judged: ${c.last_error?.message ?? check.message}\n`);
  else if (check.result === "works") io.stdout.write(`${c.ref}: works.\n`);
  else io.stdout.write(`${c.ref}: not checked.\n`);
}

/** Repeatable and checked: commander's `.choices()` keeps only the last value of a repeated option. */
function scopeArg(value: string, previous: string[] = []): string[] {
  if (value !== "org" && value !== "user" && value !== "project") throw new InvalidArgumentError("Allowed: org, user, project.");
  return [...previous, value];
}

/** Answers the `credentials` command, so assignments and resolve register under it. */
export function registerCredentials(program: Command, io: Io): Command {
  const creds = program.command("credentials").alias("creds").description("API keys and connected accounts: set, list, rename, default, rotate, revoke, assign, resolve");

  creds
    .command("set <app>")
    .description("Create a credential, or replace the value of the one with the same app, name and scope (fans out over several scopes)")
    .option("--set <field=value>", "a field: `apiKey=sk-…` or `apiKey=@env:NAME` (the shell, then the project's .env); repeatable", collect, [])
    .option("--scope <scope>", "org, user or project: where it is stored; repeat to fan out (default: org)", scopeArg)
    .option("--project-slug <slug>", "the project of the next `--scope project`; repeatable", collect, [])
    .option("--name <name>", "the credential's name: its slug and display name (default: default)")
    .option("--no-verify", "store it without the app's probe (one cheap call to the provider that says whether the key works)")
    .action(
      act(io, async (s, app: string, opts: { set: string[]; scope?: string[]; projectSlug: string[]; name?: string; verify: boolean }) => {
        const targets = fanOut(opts.scope ?? [], opts.projectSlug);
        const fields = parseSets(opts.set, s);
        // Without --name the API's default slug applies, and a replaced credential keeps the display name it was given.
        const naming = opts.name !== undefined ? { slug: slugOf(opts.name), name: opts.name } : {};
        const answer = await s.backend().setCredentials({ app, fields, targets, ...naming, ...(opts.verify ? {} : { verify: false }) });
        if (s.globals.json) printJson(io, answer);
        else {
          printCredentials(io, answer.credentials);
          for (const c of answer.credentials) printVerdict(io, c, answer.checks.find((x) => x.id === c.id));
        }
      }),
    );

  creds
    .command("list")
    .description("Credentials, one row per instance, masked (as on the Apps page)")
    .option("--app <app>", "only this app")
    .addOption(new Option("--scope <scope>", "only this scope (with --project: that project)").choices(["org", "user", "project"]))
    .addOption(new Option("--status <status>", "only this status").choices(CredentialStatus.options))
    .option("--attention", "only those that need attention: expiring, needs_reauth, invalid, or a failing check")
    .action(
      act(io, async (s, opts: { app?: string; scope?: "org" | "user" | "project"; status?: CredentialStatus; attention?: boolean }) => {
        const scope = opts.scope === "project" && s.globals.project ? `project:${s.globals.project}` : opts.scope;
        const list = await s.backend().listCredentials({ app: opts.app, scope, status: opts.status, ...(opts.attention ? { attention: "true" as const } : {}) });
        if (s.globals.json) printJson(io, { credentials: list });
        else printCredentials(io, list);
      }),
    );

  creds
    .command("get <ref>")
    .description("One credential, masked")
    .action(
      act(io, async (s, ref: string) => {
        const cred = await s.backend().getCredential(ref);
        if (s.globals.json) printJson(io, cred);
        else printCredentials(io, [cred]);
      }),
    );

  creds
    .command("rename <ref> <name>")
    .description("Change the display name (and, with --slug, the machine name)")
    .option("--slug <slug>", "a new slug as well")
    .action(
      act(io, async (s, ref: string, name: string, opts: { slug?: string }) => {
        const cred = await s.backend().updateCredential(ref, { name, ...(opts.slug !== undefined ? { slug: opts.slug } : {}) });
        printAnswer(s, cred, `Renamed: ${cred.ref} is now "${cred.name}".`);
      }),
    );

  creds
    .command("update <ref>")
    .description("Make it the default of its app and scope (clears the previous default)")
    .option("--default", "make it the default")
    .action(
      act(io, async (s, ref: string, opts: { default?: boolean }) => {
        if (!opts.default) throw usageError("Nothing to update: pass --default.");
        const cred = await s.backend().updateCredential(ref, { default: true });
        printAnswer(s, cred, `${cred.ref} is now the default ${cred.app} credential at ${cred.scope.type === "project" ? `project ${cred.scope.project}` : cred.scope.type}.`);
      }),
    );

  creds
    .command("rotate-key <ref>")
    .description("Replace a manual secret; the id, default flag and assignments stay (cloud target only)")
    .option("--set <field=value>", "a field to replace: `apiKey=…` or `apiKey=@env:NAME`; repeatable", collect, [])
    .option("--no-verify", "replace it without the app's probe")
    .action(
      act(io, async (s, ref: string, opts: { set: string[]; verify: boolean }) => {
        // Refuse before reading any secret from the environment.
        s.requireCloud("rotate-key", LOCAL_ROTATE_WHY);
        const cred = await s.backend().rotateCredential(ref, { fields: parseSets(opts.set, s), ...(opts.verify ? {} : { verify: false }) });
        printAnswer(s, cred, `Rotated ${cred.ref} (${cred.preview ?? "no preview"}).`);
        if (!s.globals.json) printVerdict(io, cred, cred.check);
      }),
    );

  creds
    .command("check <ref>")
    .description("Ask the provider now whether the credential works (API keys: the app's probe; OAuth: a refresh when due); cloud target only")
    .action(
      act(io, async (s, ref: string) => {
        s.requireCloud("credentials check", LOCAL_CHECK_WHY);
        const answer = await s.backend().checkCredential(ref);
        if (s.globals.json) printJson(io, answer);
        else {
          printCheck(io, answer.check);
          printCredentials(io, [answer.credential]);
        }
        // A refused key is a failed check for scripts too.
        if (answer.check.result === "refused") throw failure(`${answer.credential.ref} is ${statusText(answer.credential)}.`, { code: "check_failed" });
      }),
    );

  creds
    .command("revoke <ref>")
    .description("Destroy the secret; the row stays as revoked for the audit trail")
    .option("-y, --yes", "do not ask for confirmation")
    .action(
      act(io, async (s, ref: string, opts: { yes?: boolean }) => {
        const backend = s.backend();
        if (!opts.yes) {
          // Show exactly which credential the reference names before destroying it.
          const cred = await backend.getCredential(ref);
          if (!io.stdin.isTTY) throw usageError(`Revoking ${cred.ref} needs confirmation and stdin is not a terminal.`, "Pass --yes.");
          if (!(await confirm(io, `Revoke ${cred.ref}? Its secret is destroyed.`))) throw failure("Not revoked.", { code: "cancelled" });
        }
        const cred = await backend.revokeCredential(ref);
        printAnswer(s, cred, `Revoked ${cred.ref}.`);
      }),
    );
  return creds;
}
