import { z } from "zod";
import { Timestamp } from "./common";

/** Audit details are shallow by contract: ids, slugs, scopes, reasons. Never a secret. */
const Primitive = z.union([z.string(), z.number(), z.boolean(), z.null()]);
const DetailValue = z.union([Primitive, z.array(Primitive), z.record(z.string(), z.union([Primitive, z.array(Primitive)]))]);
export const AuditDetail = z.record(z.string(), DetailValue);
export type AuditDetail = z.infer<typeof AuditDetail>;

export const AuditEntry = z.object({
  seq: z.number().int(),
  at: Timestamp,
  actor: z.string().nullable(),
  actor_kind: z.enum(["user", "key", "rt", "system"]),
  action: z.string(),
  outcome: z.enum(["ok", "denied", "failed"]),
  credential: z.string().nullable(),
  target: z.string().nullable(),
  detail: AuditDetail,
  /** People and credentials as readers know them (joined when read; null when gone or not a member). */
  actor_email: z.string().nullable(),
  credential_ref: z.string().nullable(),
  target_email: z.string().nullable(),
});
export type AuditEntry = z.infer<typeof AuditEntry>;

export const AuditQuery = z.strictObject({
  action: z.string().max(100).optional(),
  actor: z.string().max(200).optional(),
  credential: z.string().max(200).optional(),
  since: z.iso.datetime({ offset: true }).optional(),
  cursor: z.string().regex(/^\d{1,15}$/, "must be a cursor from a previous page").optional(),
  limit: z.coerce.number().int().min(1).max(200).optional(),
});
export type AuditQuery = z.infer<typeof AuditQuery>;

export const AuditPage = z.object({ entries: z.array(AuditEntry), next_cursor: z.string().nullable() });
export type AuditPage = z.infer<typeof AuditPage>;
