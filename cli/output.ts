/**
 * Terminal output: stable JSON with --json, aligned tables otherwise, a spinner on stderr (only on
 * a TTY, so pipes and tests see clean streams), and the browser opener.
 */
import { spawn } from "node:child_process";
import { createInterface } from "node:readline/promises";
import { escapeUnsafeChars } from "../lib/schemas/common";

export interface Io {
  stdout: NodeJS.WriteStream;
  stderr: NodeJS.WriteStream;
  stdin: NodeJS.ReadStream;
  env: NodeJS.ProcessEnv;
  cwd: string;
}

/**
 * What the CLI prints may come from anyone who could name a credential, a key or an app: control
 * characters (ESC sequences, BEL, CR), bidi controls and lone surrogates become the visible text
 * `\u001b` (JSON's own escape, so JSON output stays valid and decodes to the same value). Newlines stay.
 */
export const terminalSafe = (s: string): string => escapeUnsafeChars(s, "\n");

const RAW = Symbol("raw stream");

/** The stream with every string written through `terminalSafe`: the one gate for stdout and stderr. */
function guarded(stream: NodeJS.WriteStream): NodeJS.WriteStream {
  return new Proxy(stream, {
    get(target, prop) {
      if (prop === RAW) return target;
      if (prop === "write") return (chunk: unknown, ...rest: unknown[]) => (target.write as (...a: unknown[]) => boolean)(typeof chunk === "string" ? terminalSafe(chunk) : chunk, ...rest);
      const value: unknown = Reflect.get(target, prop, target);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
}

/** The stream under the gate, for the CLI's own escape codes (spinner, prompt); anything else stays guarded. */
const raw = (stream: NodeJS.WriteStream): NodeJS.WriteStream => (stream as NodeJS.WriteStream & { [RAW]?: NodeJS.WriteStream })[RAW] ?? stream;

export const processIo = (): Io => ({ stdout: guarded(process.stdout), stderr: guarded(process.stderr), stdin: process.stdin, env: process.env, cwd: process.cwd() });

export function printJson(io: Io, value: unknown): void {
  io.stdout.write(JSON.stringify(value, null, 2) + "\n");
}

/** Columns padded to their widest cell; the last column is not padded, so lines carry no trailing blanks. */
export function table(headers: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  const line = (cells: readonly string[]) =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i] ?? 0)))
      .join("  ")
      .trimEnd();
  return [line(headers), ...rows.map(line)].join("\n") + "\n";
}

export function printTable(io: Io, headers: readonly string[], rows: readonly (readonly string[])[], empty: string): void {
  io.stdout.write(rows.length === 0 ? `${empty}\n` : table(headers, rows));
}

/** A short date for tables: 2026-11-28 22:17, or "-" for never. */
export const when = (iso: string | null | undefined): string => (iso ? iso.slice(0, 16).replace("T", " ") : "-");

const FRAMES = ["⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏"];

/** Starts a spinner on stderr when it is a terminal; answers the function that stops and clears it. */
export function spinner(io: Io, text: string): () => void {
  if (!io.stderr.isTTY) return () => {};
  let i = 0;
  const out = raw(io.stderr);
  const draw = () => out.write(`\r${FRAMES[i++ % FRAMES.length]} ${terminalSafe(text)}`);
  draw();
  const timer = setInterval(draw, 100);
  return () => {
    clearInterval(timer);
    out.write("\r\x1b[2K");
  };
}

/** Tries to open a URL in the default browser; any failure is ignored, since the URL is printed too. */
export function openBrowser(io: Io, url: string): void {
  if (io.env.KEYSTROKE_NO_BROWSER) return;
  const cmd = process.platform === "darwin" ? "open" : process.platform === "win32" ? "explorer.exe" : "xdg-open";
  try {
    const child = spawn(cmd, [url], { stdio: "ignore", detached: true });
    child.on("error", () => {});
    child.unref();
  } catch {
    // Nothing to do: the URL is on the screen.
  }
}

/** Asks a yes/no question on stderr; only called when stdin is a terminal. */
export async function confirm(io: Io, question: string): Promise<boolean> {
  // readline draws with escape codes of its own; the question itself is made safe here.
  const rl = createInterface({ input: io.stdin, output: raw(io.stderr) });
  try {
    const answer = await rl.question(`${terminalSafe(question)} [y/N] `);
    return /^y(es)?$/i.test(answer.trim());
  } finally {
    rl.close();
  }
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
