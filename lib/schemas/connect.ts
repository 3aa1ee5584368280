import { z } from "zod";
import { Slug, SLUG_PATTERN, Target, Timestamp } from "./common";
import { Credential, Name } from "./credentials";

export const CreateConnectSessionBody = z.strictObject({
  app: Slug,
  reconnect: z.string().min(1).max(300).optional().describe("a credential reference: new tokens into that credential"),
  name: Name.optional(),
  allow_account_change: z.boolean().optional().describe("admins only: let a reconnect switch to another account"),
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
  credentials: z.array(Credential).optional(),
  error: z.string().nullable(),
});
export type ConnectSession = z.infer<typeof ConnectSession>;

/** What the web flow offers: the app, where it may go (limited by role), and its fields. */
export const ConnectOptions = z.object({
  session: ConnectSession,
  app: z.object({ slug: z.string(), name: z.string(), kind: z.enum(["oauth", "api_key"]), fields: z.array(z.object({ name: z.string(), label: z.string(), secret: z.boolean(), optional: z.boolean() })) }),
  targets: z.object({ org: z.boolean(), user: z.boolean(), projects: z.array(z.string()) }),
  /** For a reconnect, the one target it keeps. */
  fixed_target: z.string().nullable(),
});
export type ConnectOptions = z.infer<typeof ConnectOptions>;

/** The web form's choice, in API shape. */
export const ConnectChoice = z.strictObject({
  targets: z.array(Target).min(1, "choose where it will be available").max(50),
  name: Name.optional(),
});
export type ConnectChoice = z.infer<typeof ConnectChoice>;

export const SessionIdParam = z.object({ id: z.string().regex(/^cs_[a-z2-7]{20}$/, "must be a connect session id (cs_...)") });

/** The web form's checkboxes (`org`, `user`, `project:<slug>`) as targets; unknown values are bad input. */
export function targetsFromForm(values: readonly string[]): z.infer<typeof Target>[] {
  return values.map((v) => {
    if (v === "org") return { type: "org" as const };
    if (v === "user") return { type: "user" as const };
    const project = v.startsWith("project:") ? v.slice("project:".length) : null;
    if (project !== null && SLUG_PATTERN.test(project)) return { type: "project" as const, project };
    throw new Error(`unknown target ${v}`);
  });
}
