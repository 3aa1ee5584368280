/**
 * The preview of a secret shown in lists (`sk-…a1b2`). At most 8 characters of the secret ever
 * appear, and a short secret shows little or nothing, since its length makes each char count more.
 */

/** Most characters of the secret a preview may contain. */
export const MAX_REVEALED = 8;
const TAIL = 4;

/**
 * >= 20 code points: recognisable prefix + "…" + last 4. The prefix is the leading run up to and
 * including the first '-' or '_' if that fits next to the tail within MAX_REVEALED (so "sk-",
 * "ghp_", "pk_"), else the first 3 chars ("xoxb-…" would make 9, so "xox…").
 * 12..19: "…" + last 2. Under 12: "…".
 */
export function maskSecret(value: string): string {
  // Code points, so a preview never splits a surrogate pair.
  const cps = Array.from(value);
  const n = cps.length;
  if (n < 12) return "…";
  if (n < 20) return `…${cps.slice(-2).join("")}`;
  const maxPrefix = MAX_REVEALED - TAIL;
  const sep = cps.findIndex((c, i) => i < maxPrefix && (c === "-" || c === "_"));
  const prefix = sep >= 0 ? cps.slice(0, sep + 1) : cps.slice(0, 3);
  return `${prefix.join("")}…${cps.slice(-TAIL).join("")}`;
}
