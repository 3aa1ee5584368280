import { z } from "zod";
import { SLUG_PATTERN, SLUG_SOURCE } from "../slug";
import { TOKEN_KINDS } from "../tokens";

export { SLUG_PATTERN, SLUG_SOURCE };

/**
 * Characters no name, label or id may hold: C0 controls, DEL, C1 controls, bidi controls and lone
 * surrogates. Stored raw they would reach an admin's terminal as escape sequences, or reorder what a
 * page or terminal shows (bidi), or not survive UTF-8 (surrogates).
 */
const UNSAFE_CHAR = /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]|\p{Surrogate}/u;

/** The first unsafe character of `s` as `U+001B`, or null when `s` is safe. */
export function unsafeCharIn(s: string): string | null {
  const m = UNSAFE_CHAR.exec(s);
  return m ? `U+${m[0].charCodeAt(0).toString(16).toUpperCase().padStart(4, "0")}` : null;
}

/**
 * `s` with every unsafe character (see `unsafeCharIn`) written as the text `\uXXXX`, except those in
 * `keep`. The escape is JSON's own, so it is also harmless inside JSON output: it decodes back.
 */
export function escapeUnsafeChars(s: string, keep = ""): string {
  return s.replace(new RegExp(UNSAFE_CHAR.source, "gu"), (c) => (keep.includes(c) ? c : `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`));
}

/**
 * Text chosen outside, kept for display (a provider's account name, a granted scope, Slack's team
 * name): it cannot be refused, so its unsafe characters are written out as `\uXXXX` and it is cut to
 * `max` characters (code points; an ellipsis marks the cut).
 */
export function outsideText(s: string, max: number): string {
  const chars = Array.from(escapeUnsafeChars(s));
  return chars.length <= max ? chars.join("") : `${chars.slice(0, max - 1).join("")}…`;
}

/**
 * The shared refinement for untrusted display text (names, labels): refuses what `unsafeCharIn` finds.
 * Wrap a string schema: `safeText(z.string().min(1))`. The schema keeps its type (zod 4 checks).
 */
export function safeText<T extends z.ZodString>(schema: T): T {
  return schema.refine((s) => unsafeCharIn(s) === null, {
    error: (iss) => `must not contain control characters, bidi controls or lone surrogates (found ${unsafeCharIn(String(iss.input))})`,
  }) as T;
}

/** A machine name (the one slug rule of lib/slug.ts). */
export const Slug = z
  .string()
  .regex(SLUG_PATTERN, "must be 1-63 characters of a-z, 0-9, '_' or '-', starting with a letter or digit");

export const Role = z.enum(["owner", "admin", "builder"]);
export type Role = z.infer<typeof Role>;
export const ProjectRole = z.enum(["admin", "builder"]);
export type ProjectRole = z.infer<typeof ProjectRole>;

export const TokenKind = z.enum(TOKEN_KINDS);
export type TokenKind = z.infer<typeof TokenKind>;

/** Where a credential lives. The API shape of SPEC section 3. */
export const Scope = z.discriminatedUnion("type", [
  z.strictObject({ type: z.literal("org") }),
  z.strictObject({ type: z.literal("user"), user: z.string() }),
  z.strictObject({ type: z.literal("project"), project: Slug }),
]);
export type Scope = z.infer<typeof Scope>;

/** A write target: `user` always means the caller, so it carries no id. */
export const Target = z.discriminatedUnion("type", [
  z.strictObject({ type: z.literal("org") }),
  z.strictObject({ type: z.literal("user") }),
  z.strictObject({ type: z.literal("project"), project: Slug }),
]);
export type Target = z.infer<typeof Target>;

export const MAX_FIELD_BYTES = 64 * 1024;
export const MAX_FIELDS = 50;

/** Secret fields: names like `apiKey`, values non-empty and at most 64 KiB. */
export const FIELD_NAME_PATTERN = /^[a-zA-Z][a-zA-Z0-9_]{0,62}$/;
export const FieldName = z.string().regex(FIELD_NAME_PATTERN, "field names are 1-63 letters, digits or '_'");
export const FieldValue = z
  .string()
  .min(1, "must not be empty")
  .refine((v) => new TextEncoder().encode(v).byteLength <= MAX_FIELD_BYTES, "must be at most 64 KiB")
  // A lone surrogate cannot be sealed as UTF-8: it would silently become U+FFFD, a different secret.
  .refine((v) => !/\p{Surrogate}/u.test(v), "must be valid Unicode (no lone surrogates)");
export const Fields = z
  .record(FieldName, FieldValue)
  .refine((f) => Object.keys(f).length > 0, "must name at least one field")
  .refine((f) => Object.keys(f).length <= MAX_FIELDS, `must have at most ${MAX_FIELDS} fields`);
export type Fields = z.infer<typeof Fields>;

export const Timestamp = z.string().describe("ISO 8601 time");

/** A stored JSON list of strings (scopes, ids): one schema made once, since building a zod schema per read costs more than the parse. */
export const StringList = z.array(z.string());

/** Parses a stored JSON list of strings; throws (a bad row fails loudly) if it is not one. */
export const parseStringList = (json: string): string[] => StringList.parse(JSON.parse(json));
