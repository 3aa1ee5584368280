import { z } from "zod";
import { safeText, Timestamp } from "./common";

/** Runtime tokens (SPEC section 12): the execution plane's bearer, managed by owners and admins. */
export const RuntimeTokenName = safeText(z.string().trim().min(1, "must not be empty").max(100, "must be at most 100 characters"));

export const CreateRuntimeTokenBody = z.strictObject({ name: RuntimeTokenName });
export type CreateRuntimeTokenBody = z.infer<typeof CreateRuntimeTokenBody>;

export const RuntimeToken = z.object({
  id: z.string(),
  name: z.string(),
  preview: z.string().describe("`ks_rt_…` and the last 4 characters"),
  created_by: z.string().nullable().describe("the member id who created it; null for a token from before creators were recorded"),
  created_at: Timestamp,
  last_used_at: Timestamp.nullable(),
});
export type RuntimeToken = z.infer<typeof RuntimeToken>;

export const CreatedRuntimeToken = RuntimeToken.extend({ token: z.string().describe("shown once") });
export type CreatedRuntimeToken = z.infer<typeof CreatedRuntimeToken>;
export const RevokedRuntimeToken = RuntimeToken.extend({ revoked_at: Timestamp });
export type RevokedRuntimeToken = z.infer<typeof RevokedRuntimeToken>;

export const RuntimeTokenId = z.string().regex(/^tok_[a-z2-7]{20}$/, "must be a runtime token id (tok_...)");
