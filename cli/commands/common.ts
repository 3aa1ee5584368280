/**
 * Small pieces every command file uses: the action wrapper that builds the Session, the three
 * shapes of a command's answer (one line, a list, a secret shown once), reading stdin, repeatable
 * options, the `--set field=value` parser and the exactly-one-target-flag rule.
 */
import type { Command } from "commander";
import type { ConsumerKind } from "../../lib/schemas/resolution";
import { usageError } from "../errors";
import { readDotenv } from "../local/files";
import { printJson, printTable, type Io } from "../output";
import { parseGlobals, Session } from "../session";

/**
 * Wraps a command's action: commander passes (...arguments, options, command); the handler gets
 * the Session first. Errors propagate to the one error path in program.ts.
 */
export function act<A extends unknown[]>(io: Io, fn: (s: Session, ...args: A) => Promise<void>) {
  return async (...args: unknown[]): Promise<void> => {
    const cmd = args[args.length - 1] as Command;
    const session = new Session(io, parseGlobals(cmd.optsWithGlobals()));
    await fn(session, ...(args.slice(0, -1) as A));
  };
}

/** An answer: with --json the API's shape as is, else one line on stdout. */
export function printAnswer(s: Session, value: unknown, line: string): void {
  if (s.globals.json) return printJson(s.io, value);
  s.io.stdout.write(`${line}\n`);
}

/** A list: with --json `{ [key]: rows }`, else a table of `row(item)`, or the `empty` line. */
export function printList<T>(s: Session, key: string, rows: readonly T[], headers: readonly string[], row: (item: T) => string[], empty: string): void {
  if (s.globals.json) return printJson(s.io, { [key]: rows });
  printTable(s.io, headers, rows.map(row), empty);
}

/**
 * A secret shown once (a key, a token, a signing secret, an invitation link): with --json the
 * API's shape, else the notice on stderr and the bare secret alone on stdout, so `$(…)` captures
 * just the secret.
 */
export function printSecretOnce(s: Session, value: unknown, notice: string, secret: string): void {
  if (s.globals.json) return printJson(s.io, value);
  s.io.stderr.write(`${notice}\n`);
  s.io.stdout.write(`${secret}\n`);
}

/** All of piped stdin, trimmed (a token or a secret; never echoed). */
export async function readStdin(io: Io): Promise<string> {
  let text = "";
  for await (const chunk of io.stdin) text += String(chunk);
  return text.trim();
}

/** For repeatable options: `--scope org --scope project` -> ["org", "project"]. */
export const collect = (value: string, previous: string[] = []): string[] => [...previous, value];

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/**
 * `--set f=v` and `--set f=@env:NAME` into fields. `@env:` reads the shell first, then the
 * project's .env (dotenv). Errors name the field and the variable, never a value.
 */
export function parseSets(sets: readonly string[], session: Session): Record<string, string> {
  if (sets.length === 0) throw usageError("Give at least one field: `--set field=value` or `--set field=@env:NAME`.");
  const fields: Record<string, string> = {};
  let dotenv: ReturnType<typeof readDotenv> | undefined;
  for (const item of sets) {
    const eq = item.indexOf("=");
    if (eq <= 0) throw usageError("`--set` takes field=value (or field=@env:NAME); one was given without a field name or `=`.");
    const field = item.slice(0, eq);
    let value = item.slice(eq + 1);
    if (Object.hasOwn(fields, field)) throw usageError(`The field \`${field}\` is given twice.`);
    if (value.startsWith("@env:")) {
      const name = value.slice(5);
      if (!ENV_NAME.test(name)) throw usageError(`\`--set ${field}=@env:…\` needs a variable name (letters, digits and _).`);
      const fromShell = session.io.env[name];
      if (fromShell !== undefined && fromShell !== "") value = fromShell;
      else {
        dotenv ??= readDotenv(session.projectDir());
        const fromFile = dotenv.vars[name];
        if (fromFile === undefined || fromFile === "") throw usageError(`\`--set ${field}=@env:${name}\`: ${name} is set neither in the environment nor in ${dotenv.path}.`);
        value = fromFile;
      }
    }
    if (value === "") throw usageError(`The field \`${field}\` has an empty value.`);
    fields[field] = value;
  }
  return fields;
}

export interface TargetFlags {
  workflow?: string;
  agent?: string;
  poll?: string;
}

/** Adds --workflow / --agent / --poll to a command. */
export function targetOptions(cmd: Command, what: string): Command {
  return cmd
    .option("--workflow <slug>", `the workflow ${what}`)
    .option("--agent <slug>", `the agent ${what}`)
    .option("--poll <slug>", `the poll ${what}`);
}

/** Exactly one of --workflow, --agent, --poll (or none, where `optional`). */
export function consumerTarget(opts: TargetFlags, optional: true): { kind: ConsumerKind; target: string } | undefined;
export function consumerTarget(opts: TargetFlags, optional?: false): { kind: ConsumerKind; target: string };
export function consumerTarget(opts: TargetFlags, optional = false): { kind: ConsumerKind; target: string } | undefined {
  const given = (["workflow", "agent", "poll"] as const).filter((k) => opts[k] !== undefined);
  if (given.length > 1) throw usageError(`Give exactly one of --workflow, --agent or --poll, not ${given.map((k) => `--${k}`).join(" and ")}.`);
  const [kind] = given;
  if (kind === undefined) {
    if (optional) return undefined;
    throw usageError("Give exactly one of --workflow <slug>, --agent <slug> or --poll <slug>.");
  }
  return { kind, target: opts[kind]! };
}
