import { z } from "zod";

/** An app as the API lists it: what to connect and which fields a secret needs; no provider internals. */
export const AppSummary = z.object({
  slug: z.string(),
  name: z.string(),
  kind: z.enum(["oauth", "api_key"]),
  category: z.string(),
  description: z.string(),
  fields: z.array(z.object({ name: z.string(), label: z.string(), secret: z.boolean(), optional: z.boolean() })).nullable(),
  channel: z.boolean(),
  custom: z.boolean(),
  connected: z.number().int().describe("live credentials of this app the caller can see"),
});
export type AppSummary = z.infer<typeof AppSummary>;

export const AppsQuery = z.strictObject({ search: z.string().max(100).optional() });
