import { z } from "zod";
import { Timestamp } from "./common";

export const AuditEntry = z.object({
  seq: z.number().int(),
  at: Timestamp,
  actor: z.string().nullable(),
  actor_kind: z.enum(["user", "key", "rt", "system"]),
  action: z.string(),
  outcome: z.enum(["ok", "denied"]),
  credential: z.string().nullable(),
  target: z.string().nullable(),
  detail: z.record(z.string(), z.unknown()),
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
