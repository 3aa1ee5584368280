/**
 * The CLI's contracts: the browser login API (`/v1/cli-logins`, SPEC section 11) shared by the api
 * worker and the CLI, and the CLI's own config file, parsed on every read (DESIGN section 6).
 */
import { z } from "zod";
import { Slug, Timestamp, TokenKind } from "./common";

/** Login sessions live 10 minutes (SPEC: single use, expire). */
export const CLI_LOGIN_TTL_MS = 10 * 60_000;
/**
 * A token minted by a browser login lives at most 30 days (SPEC section 12): the CLI may ask for
 * less, and the approver may shorten it further on the approval page, never lengthen it.
 */
export const CLI_TOKEN_TTL_MAX_S = 30 * 86_400;
export const CLI_TOKEN_TTL_DEFAULT_S = CLI_TOKEN_TTL_MAX_S;
/** Wrong codes typed for one login before it ends (RFC 8628 style: the member types the code). */
export const CLI_LOGIN_MAX_ATTEMPTS = 5;

/** `cli_<orgId>_<20 base32>`: like a token, the id names its org, so a poll routes itself. */
export const CLI_LOGIN_ID_PATTERN = /^cli_([a-z0-9]{1,40})_[a-z2-7]{20}$/;
/** `XXXX-XXXX` from an alphabet without 0/O/1/I, so it reads back without mistakes. */
export const LOGIN_CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789";
export const LOGIN_CODE_PATTERN = /^[A-HJ-NP-Z2-9]{4}-[A-HJ-NP-Z2-9]{4}$/;

export const CliLoginId = z.string().regex(CLI_LOGIN_ID_PATTERN, "must be a CLI login id (cli_...)");
/**
 * 32 random bytes, base64url, made by the CLI: the bearer credential of its own login (create and
 * poll send `Authorization: Bearer <secret>`). The vault keeps only its SHA-256.
 */
export const LoginSecret = z.string().regex(/^[A-Za-z0-9_-]{43}$/, "must be the 32-byte base64url login secret");

export const CreateCliLoginBody = z.strictObject({
  org: Slug.describe("the org slug to sign in to"),
  client: z
    .string()
    .trim()
    .min(1)
    .max(100)
    .regex(/^[\x20-\x7e]+$/, "must be printable ASCII")
    .optional()
    .describe("shown on the approval page, e.g. user@host"),
  token_ttl_seconds: z.number().int().min(1).max(CLI_TOKEN_TTL_MAX_S).optional().describe("upper bound for the minted token's lifetime; at most and by default 30 days"),
});
export type CreateCliLoginBody = z.infer<typeof CreateCliLoginBody>;

export const CliLoginCreated = z.object({
  id: z.string(),
  url: z.string().describe("the approval page"),
  code: z.string().describe("the code the member types on the approval page (the page never shows it)"),
  expires_at: Timestamp,
});
export type CliLoginCreated = z.infer<typeof CliLoginCreated>;

/** The poll answer: `approved` carries the token exactly once, then the session is consumed. */
export const CliLoginPoll = z.discriminatedUnion("status", [
  z.object({ status: z.literal("pending"), expires_at: Timestamp }),
  z.object({ status: z.literal("approved"), token: z.string(), token_expires_at: Timestamp }),
  z.object({ status: z.literal("denied"), reason: z.enum(["denied", "too_many_attempts"]).describe("a member denied it, or 5 wrong codes were typed") }),
]);
export type CliLoginPoll = z.infer<typeof CliLoginPoll>;

/** Approving needs the code the member typed from their terminal; a wrong one is counted. */
export const DecideCliLoginBody = z.strictObject({
  code: z.string().trim().min(1).max(20).describe("the code the terminal shows, typed by the member"),
  token_ttl_seconds: z.number().int().min(60).max(CLI_TOKEN_TTL_MAX_S).optional().describe("shorten the token's lifetime; never beyond what the CLI asked for"),
});
export type DecideCliLoginBody = z.infer<typeof DecideCliLoginBody>;
/** Denying needs no code: a member who did not start the login cannot know it. */
export const DenyCliLoginBody = z.strictObject({ code: z.string().max(20).optional().describe("ignored") });

/** What the approval page shows about a pending login: never its code, which the member must type. */
export const CliLoginView = z.object({
  id: z.string(),
  client: z.string().nullable().describe("the label the starter chose (e.g. user@host): a claim, not proof"),
  client_address: z.string().nullable().describe("the address the login was started from"),
  user_agent: z.string().nullable().describe("the starter's User-Agent header, as sent"),
  status: z.enum(["pending", "approved", "denied"]),
  created_at: Timestamp,
  expires_at: Timestamp,
  token_ttl_seconds: z.number().int(),
  attempts_left: z.number().int().describe("wrong codes that may still be typed before the login ends"),
});
export type CliLoginView = z.infer<typeof CliLoginView>;

// ---- the CLI's config file (~/.config/keystroke/config.json, mode 0600) ----

export const CliTarget = z.enum(["cloud", "local"]);
export type CliTarget = z.infer<typeof CliTarget>;

/** One signed-in org on one API. The token is the only secret the CLI keeps. */
export const StoredLogin = z.object({
  api_url: z.string(),
  org: Slug,
  org_id: z.string(),
  token: z.string(),
  token_kind: TokenKind,
  member: z.string().nullable().describe("the member's email; null for a runtime token"),
  expires_at: Timestamp.nullable(),
  via: z.enum(["browser", "token"]),
  saved_at: Timestamp,
});
export type StoredLogin = z.infer<typeof StoredLogin>;

export const CliConfig = z.object({
  version: z.literal(1).default(1),
  target: CliTarget.default("cloud"),
  api_url: z.url({ protocol: /^https?$/ }).optional(),
  /** The org used when several are signed in and no --org is given. */
  org: Slug.optional(),
  logins: z.array(StoredLogin).default([]),
});
export type CliConfig = z.infer<typeof CliConfig>;
