import { z } from "zod";
import { FieldName, Slug } from "./common";

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
  scopes: z.object({ default: z.array(z.string()), optional: z.array(z.string()) }).nullable().describe("OAuth apps: the scopes always asked for and the optional ones the connect flow offers"),
  connection: z.array(z.object({ key: z.string(), from: z.enum(["token_response", "callback", "id_token", "lookup", "form", "field"]) })).describe("the connection values a credential of this app carries, and where each is read"),
  connected: z.number().int().describe("live credentials of this app the caller can see"),
});
export type AppSummary = z.infer<typeof AppSummary>;

export const AppsQuery = z.strictObject({ search: z.string().max(100).optional() });

export const AppParam = z.object({ slug: Slug });
/** PATCH /v1/apps/{slug}: a custom app's field list, replaced whole (org owners and admins only). */
export const UpdateCustomAppBody = z.strictObject({
  fields: z.array(FieldName).min(1, "name at least one field").max(50, "at most 50 fields").describe("the field names new sets and rotations must use"),
});
export type UpdateCustomAppBody = z.infer<typeof UpdateCustomAppBody>;
