/**
 * The CLI's one error path. Everything that goes wrong ends up here, as one line on stderr (or one
 * JSON line with --json) and an exit code: 2 for a usage error, 1 for anything else. Messages come
 * from the API or from our own checks and never carry a secret; nothing is ever logged elsewhere.
 */
import { CommanderError } from "commander";
import { AppError } from "../lib/errors";

export const EXIT_OK = 0;
export const EXIT_FAILURE = 1;
export const EXIT_USAGE = 2;

export interface CliErrorOptions {
  /** An API error code (SPEC section 10), or `usage`. */
  code?: string;
  fix?: string;
  details?: Record<string, unknown>;
}

export class CliError extends Error {
  override readonly name = "CliError";
  readonly exitCode: number;
  readonly code: string;
  readonly fix?: string;
  readonly details?: Record<string, unknown>;

  constructor(exitCode: number, message: string, opts: CliErrorOptions = {}) {
    super(message);
    this.exitCode = exitCode;
    this.code = opts.code ?? (exitCode === EXIT_USAGE ? "usage" : "failed");
    this.fix = opts.fix;
    this.details = opts.details;
  }
}

/** Bad flags or arguments: the command never ran. */
export const usageError = (message: string, fix?: string): CliError => new CliError(EXIT_USAGE, message, { fix });
/** The command ran and failed. */
export const failure = (message: string, opts: CliErrorOptions = {}): CliError => new CliError(EXIT_FAILURE, message, opts);

/** A command that needs a server, asked of the local target. */
export const cloudOnly = (what: string, why: string): CliError =>
  usageError(`${what} works only on the cloud target: ${why}.`, "Run `keystroke target use cloud` or pass `--target cloud`.");

const oneLine = (s: string): string => s.replace(/\s*\n\s*/g, " ").trim();

/** Maps anything thrown to a CliError; unknown errors say as little as possible about themselves. */
export function toCliError(err: unknown): CliError {
  if (err instanceof CliError) return err;
  if (err instanceof AppError) {
    return new CliError(err.code === "invalid_request" ? EXIT_USAGE : EXIT_FAILURE, err.message, { code: err.code, fix: err.fix, details: err.details });
  }
  if (err instanceof CommanderError) {
    // Commander's messages start with "error: "; ours say it once.
    return usageError(err.message.replace(/^error:\s*/i, ""), "See `--help`.");
  }
  return failure(`Unexpected error (${err instanceof Error ? err.name : typeof err}).`);
}

/** Writes the one line and answers the exit code. */
export function reportError(err: unknown, stderr: { write(s: string): unknown }, json: boolean): number {
  const e = toCliError(err);
  if (json) {
    const body: Record<string, unknown> = { code: e.code, message: oneLine(e.message) };
    if (e.fix !== undefined) body.fix = e.fix;
    if (e.details !== undefined) body.details = e.details;
    stderr.write(JSON.stringify({ error: body }) + "\n");
  } else {
    stderr.write(`keystroke: ${oneLine(e.message)}${e.fix ? ` Fix: ${oneLine(e.fix)}` : ""}\n`);
  }
  return e.exitCode;
}
