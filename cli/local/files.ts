/**
 * The local target's files (SPEC section 5): `.keystroke/credentials.json` in the project folder
 * (directory 0700, file 0600, `.keystroke/` added to the project's .gitignore) and the project's
 * `.env`. The store holds plain values, exactly like .env does: it is a developer's own machine,
 * and the file mode plus .gitignore are what protect it.
 */
import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from "node:fs";
import path from "node:path";
import { parse as parseDotenv } from "dotenv";
import { z } from "zod";
import { Scope, Slug } from "../../lib/schemas/common";
import { ConsumerKind } from "../../lib/schemas/resolution";
import { failure } from "../errors";

const StoredCredential = z.object({
  id: z.string(),
  app: Slug,
  slug: Slug,
  name: z.string(),
  scope: Scope,
  default: z.boolean(),
  status: z.enum(["active", "revoked"]),
  fields: z.record(z.string(), z.string()),
  created_at: z.string(),
  updated_at: z.string(),
  rotated_at: z.string().nullable(),
  revoked_at: z.string().nullable(),
});
export type StoredCredential = z.infer<typeof StoredCredential>;

const StoredAssignment = z.object({
  kind: ConsumerKind,
  target: Slug,
  consumer: z.string(),
  app: Slug,
  credential_id: z.string(),
  created_at: z.string(),
});
export type StoredAssignment = z.infer<typeof StoredAssignment>;

export const LocalStore = z.object({
  version: z.literal(1),
  custom_apps: z.array(z.object({ slug: Slug, fields: z.array(z.string()) })).default([]),
  credentials: z.array(StoredCredential).default([]),
  assignments: z.array(StoredAssignment).default([]),
  /** Apps whose .env credential is the org default (it has no row of its own to carry the flag). */
  env_defaults: z.array(Slug).default([]),
});
export type LocalStore = z.infer<typeof LocalStore>;

export const STORE_DIR = ".keystroke";
export const STORE_FILE = "credentials.json";

/** The project folder: the nearest ancestor with a `.keystroke/` folder, else the working directory. */
export function findProjectDir(cwd: string): string {
  const start = path.resolve(cwd);
  for (let dir = start; ; dir = path.dirname(dir)) {
    if (existsSync(path.join(dir, STORE_DIR, STORE_FILE))) return dir;
    if (path.dirname(dir) === dir) return start;
  }
}

export const storePath = (dir: string): string => path.join(dir, STORE_DIR, STORE_FILE);

export function readStore(dir: string): LocalStore {
  const file = storePath(dir);
  if (!existsSync(file)) return LocalStore.parse({ version: 1 });
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, "utf8"));
  } catch {
    throw failure(`${file} is not valid JSON.`, { fix: "Fix it by hand or move it away and set the credentials again." });
  }
  const parsed = LocalStore.safeParse(raw);
  if (!parsed.success) {
    const where = parsed.error.issues[0]?.path.join(".") || "the file";
    throw failure(`${file} is invalid at ${where}.`, { fix: "Fix it by hand or move it away and set the credentials again." });
  }
  return parsed.data;
}

export function writeStore(dir: string, store: LocalStore): void {
  const folder = path.join(dir, STORE_DIR);
  mkdirSync(folder, { recursive: true, mode: 0o700 });
  ensureGitignored(dir);
  const file = storePath(dir);
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, JSON.stringify(LocalStore.parse(store), null, 2) + "\n", { mode: 0o600 });
  chmodSync(tmp, 0o600);
  renameSync(tmp, file);
}

/** Adds `.keystroke/` to the project's .gitignore once, so the plain store is never committed. */
function ensureGitignored(dir: string): void {
  const file = path.join(dir, ".gitignore");
  const current = existsSync(file) ? readFileSync(file, "utf8") : "";
  const lines = current.split(/\r?\n/).map((l) => l.trim());
  if (lines.some((l) => l === ".keystroke" || l === ".keystroke/" || l === "/.keystroke/" || l === "/.keystroke")) return;
  const sep = current === "" || current.endsWith("\n") ? "" : "\n";
  writeFileSync(file, `${current}${sep}${STORE_DIR}/\n`);
}

export interface Dotenv {
  path: string;
  vars: Record<string, string>;
  /** The file's mtime, for the created/updated columns of .env credentials. */
  modified: string | null;
}

/** The project's .env, parsed by the dotenv package; an absent file is an empty one. */
export function readDotenv(dir: string): Dotenv {
  const file = path.join(dir, ".env");
  if (!existsSync(file)) return { path: file, vars: {}, modified: null };
  return { path: file, vars: parseDotenv(readFileSync(file)), modified: statSync(file).mtime.toISOString() };
}

/** `EXA_API_KEY` for app `exa`, field `apiKey`: the app's slug and the field in SCREAMING_SNAKE. */
export function envVarName(app: string, field: string): string {
  const snake = (s: string) => s.replace(/([a-z0-9])([A-Z])/g, "$1_$2").replace(/[^A-Za-z0-9]+/g, "_");
  return `${snake(app)}_${snake(field)}`.toUpperCase();
}
