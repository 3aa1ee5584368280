import { z } from "zod";
import { CHOOSE_PLACE } from "../connect-form-values";
import { AppError, fromZodError } from "../errors";
import { Slug, Target, Timestamp } from "./common";
import { Connection, ConnectionInput, ScopeList } from "./connection";
import { Credential, Name } from "./credentials";

export const CreateConnectSessionBody = z.strictObject({
  app: Slug,
  reconnect: z.string().min(1).max(300).optional().describe("a credential reference: new tokens into that credential"),
  name: Name.optional(),
  allow_account_change: z.boolean().optional().describe("admins only: let a reconnect switch to another account"),
  scopes: ScopeList.optional().describe("OAuth scopes to ask for beyond the app's defaults (with reconnect: a step-up into the same credential); the connect form shows them chosen"),
});
export type CreateConnectSessionBody = z.infer<typeof CreateConnectSessionBody>;

export const ConnectStatus = z.enum(["pending", "completed", "failed"]);

export const ConnectSession = z.object({
  id: z.string(),
  app: z.string(),
  url: z.string(),
  status: ConnectStatus,
  expires_at: Timestamp,
  reconnect: z.string().nullable(),
  scopes: z.array(z.string()).describe("extra OAuth scopes the session was created with"),
  credentials: z.array(Credential).optional(),
  error: z.string().nullable(),
});
export type ConnectSession = z.infer<typeof ConnectSession>;

/** What the web flow offers: the app, where it may go (limited by role), and its fields. */
export const ConnectOptions = z.object({
  session: ConnectSession,
  app: z.object({ slug: z.string(), name: z.string(), kind: z.enum(["oauth", "api_key"]), fields: z.array(z.object({ name: z.string(), label: z.string(), secret: z.boolean(), optional: z.boolean() })) }),
  targets: z.object({ org: z.boolean(), user: z.boolean(), projects: z.array(z.string()) }),
  /** OAuth apps: the scopes on offer and what is asked before the redirect; null for API-key apps. */
  oauth: z
    .object({
      default_scopes: z.array(z.string()).describe("always asked for (with, on a reconnect, those asked last time)"),
      optional_scopes: z.array(z.string()).describe("the catalog's optional scopes, offered as choices"),
      chosen_scopes: z.array(z.string()).describe("extra scopes chosen in advance (the session's)"),
      connection: z.array(z.object({ key: z.string(), label: z.string(), suffix: z.string() })).describe("values asked before the redirect (a subdomain)"),
      fixed_connection: Connection.nullable().describe("a reconnect keeps its credential's connection values"),
    })
    .nullable(),
  /** For a reconnect, the one target it keeps. */
  fixed_target: z.string().nullable(),
});
export type ConnectOptions = z.infer<typeof ConnectOptions>;

/** The web form's choice, in API shape. */
export const ConnectChoice = z.strictObject({
  targets: z.array(Target).min(1, "choose where it will be available").max(50),
  name: Name.optional(),
  scopes: ScopeList.optional(),
  connection: ConnectionInput.optional(),
});
export type ConnectChoice = z.infer<typeof ConnectChoice>;

export const SessionIdParam = z.object({ id: z.string().regex(/^cs_[a-z2-7]{20}$/, "must be a connect session id (cs_...)") });

// The form's values in this shape (zod-free, for the oauth worker): lib/connect-form-values.ts.
export { scopesFromForm, targetsFromForm } from "../connect-form-values";

/**
 * The OAuth connect form's choice, checked where it is trusted: the vault's beginConnect (the oauth
 * worker sends it unchecked, so it bundles no zod). A bad name, scope or connection value is
 * named at its field; anything else (no place, too many) is the place question again.
 */
export function connectChoiceOf(input: unknown): ConnectChoice {
  const parsed = ConnectChoice.safeParse(input);
  if (parsed.success) return parsed.data;
  const named = fromZodError(parsed.error, { fallback: "target", say: (_f, problem) => ({ message: `Check the name: ${problem}.` }) });
  const field = String(named.details?.field ?? "");
  if (field === "name" || /^(scopes|connection)\b/.test(field)) throw named;
  throw AppError.fromBody(CHOOSE_PLACE, 400);
}
