/**
 * SPEC section 12, "Creating orgs": the `SIGNUP` variable. `closed` (the default, also for an
 * empty or unreadable value: failing closed) lets only the operator create orgs; `open` lets any
 * signed-in user; otherwise a comma list of email domains whose users may.
 */
export type SignupRule = { mode: "closed" } | { mode: "open" } | { mode: "domains"; domains: string[] };

const DOMAIN = /^(?=.{1,253}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/;

export function parseSignup(raw: string | undefined): SignupRule {
  const v = (raw ?? "").trim().toLowerCase();
  if (v === "open") return { mode: "open" };
  if (v === "" || v === "closed") return { mode: "closed" };
  const domains = v.split(",").map((d) => d.trim().replace(/^@/, "")).filter((d) => d.length > 0);
  // One malformed entry closes sign-up rather than guessing what the operator meant.
  if (domains.length === 0 || !domains.every((d) => DOMAIN.test(d))) return { mode: "closed" };
  return { mode: "domains", domains };
}

/** The verified email (of `emails`) that lets its owner create an org, or null when none may. */
export function signupEmail(rule: SignupRule, emails: readonly string[]): string | null {
  if (rule.mode === "closed") return null;
  const verified = emails.map((e) => e.toLowerCase());
  if (rule.mode === "open") return verified[0] ?? null;
  return verified.find((e) => rule.domains.includes(e.slice(e.lastIndexOf("@") + 1))) ?? null;
}
