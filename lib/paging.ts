/**
 * Paging for every management list (issue 16): `limit` and an opaque `cursor` in, `next_cursor`
 * out (null on the last page). Keyset paging: a cursor is the sort key of the last row shown, so
 * a page is "the next `limit` rows after that key". Rows added or removed between page fetches
 * never make another row repeat or go missing. Pure: no I/O.
 */
import { z } from "zod";
import { invalidField } from "./errors";

export const DEFAULT_PAGE_LIMIT = 100;
export const MAX_PAGE_LIMIT = 500;

/** The query fields of every paged list; merged into each list's query schema. Strict: `?limt=5` is a 400 naming it, not a silent 100. */
export const PageQuery = z.strictObject({
  limit: z.coerce.number().int().min(1).max(MAX_PAGE_LIMIT).optional().describe(`page size, 1-${MAX_PAGE_LIMIT} (default ${DEFAULT_PAGE_LIMIT})`),
  cursor: z.string().min(1).max(1000).regex(/^[A-Za-z0-9_-]+$/, "must be a cursor from a previous page").optional().describe("`next_cursor` of the previous page"),
});
export type PageQuery = { limit?: number | undefined; cursor?: string | undefined };

/** A page's sort key: strings and integers, compared in order. */
export type PageKey = readonly (string | number)[];

const te = new TextEncoder();
const td = new TextDecoder("utf-8", { fatal: true, ignoreBOM: false });

function toBase64Url(bytes: Uint8Array): string {
  let bin = "";
  for (const b of bytes) bin += String.fromCharCode(b);
  return btoa(bin).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

/** The cursor of a row: its sort key with the list's name, so one list's cursor is refused by another. */
export function encodeCursor(list: string, key: PageKey): string {
  return toBase64Url(te.encode(JSON.stringify([list, ...key])));
}

/**
 * The sort key a cursor carries, checked against the list it must come from and the key's shape
 * (`shape`: one letter per position, "s" string or "n" integer; upper case sorts that position
 * descending). Anything else is a 400 naming `query.cursor`.
 */
export function decodeCursor(list: string, raw: string, shape: string): PageKey {
  // Named as the edge names query fields (`query.<name>`), so every bad cursor reads the same.
  const bad = () => invalidField("query.cursor", "The cursor is not one this list gave out.", "Start again without `cursor`, then pass each answer's `next_cursor`.");
  let parsed: unknown;
  try {
    const bin = atob(raw.replace(/-/g, "+").replace(/_/g, "/"));
    parsed = JSON.parse(td.decode(Uint8Array.from(bin, (c) => c.charCodeAt(0))));
  } catch {
    throw bad();
  }
  if (!Array.isArray(parsed) || parsed.length !== shape.length + 1 || parsed[0] !== list) throw bad();
  const key = parsed.slice(1) as unknown[];
  key.forEach((v, i) => {
    const ok = shape[i]!.toLowerCase() === "n" ? Number.isSafeInteger(v) : typeof v === "string" && v.length <= 400;
    if (!ok) throw bad();
  });
  return key as PageKey;
}

/** Orders two keys position by position (strings by code unit, like SQLite's BINARY collation; upper-case shape letters descending). */
export function compareKeys(a: PageKey, b: PageKey, shape: string): number {
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    const x = a[i]!;
    const y = b[i]!;
    const desc = shape[i] !== undefined && shape[i] !== shape[i]!.toLowerCase();
    if (x !== y) return (x < y ? -1 : 1) * (desc ? -1 : 1);
  }
  return 0;
}

export interface Page<T> {
  items: T[];
  next_cursor: string | null;
}

/**
 * One page of rows the caller already loaded (small lists: members, tokens, projects). `keyOf`
 * must be unique per row; the rows are sorted by it.
 */
export function pageOf<T>(list: string, rows: readonly T[], keyOf: (row: T) => PageKey, shape: string, q: PageQuery): Page<T> {
  const limit = q.limit ?? DEFAULT_PAGE_LIMIT;
  const after = q.cursor !== undefined ? decodeCursor(list, q.cursor, shape) : null;
  const keyed = rows.map((row) => ({ row, key: keyOf(row) })).sort((a, b) => compareKeys(a.key, b.key, shape));
  const rest = after ? keyed.filter((k) => compareKeys(k.key, after, shape) > 0) : keyed;
  const items = rest.slice(0, limit);
  const last = items[items.length - 1];
  return { items: items.map((k) => k.row), next_cursor: rest.length > limit && last ? encodeCursor(list, last.key) : null };
}

/** The next cursor of a page read from SQL with `LIMIT limit + 1`. */
export function nextCursor<T>(list: string, rows: readonly T[], limit: number, keyOf: (row: T) => PageKey): string | null {
  return rows.length > limit ? encodeCursor(list, keyOf(rows[limit - 1]!)) : null;
}

/** `next_cursor` in every paged answer. */
export const NextCursor = z.string().nullable().describe("pass as `cursor` for the next page; null on the last page");
