import { z } from "zod";

/**
 * OAuth scopes and connection data (SPEC section 13). One scope is one RFC 6749 scope-token:
 * printable ASCII without space, `"` or `\`; commas are refused too, since Slack, Linear and a few
 * others join scopes with commas, so a comma inside one scope would split it at the provider.
 */
export const SCOPE_PATTERN = /^[\x21\x23-\x2b\x2d-\x5b\x5d-\x7e]{1,200}$/;
export const ScopeName = z
  .string()
  .regex(SCOPE_PATTERN, "must be one scope: 1-200 printable characters without spaces, commas, quotes or backslashes");
export const ScopeList = z.array(ScopeName).max(50, "at most 50 scopes");

/** The connection values a provider may need for calls; closed, so each has its own rule below. */
export const ConnectionKey = z.enum(["instance_url", "realmId", "cloud_id", "tenant", "subdomain"]);
export type ConnectionKey = z.infer<typeof ConnectionKey>;

/** A subdomain is one DNS label: it is put in front of the provider's domain, so no dots or slashes. */
export const DNS_LABEL = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;

/** Each value's rule: they are stored unsealed and shown everywhere, so only their expected shape passes. */
export const CONNECTION_VALUE: Record<ConnectionKey, z.ZodType<string, string>> = {
  instance_url: z.url({ protocol: /^https$/, error: "must be an https URL" }).max(300, "must be at most 300 characters"),
  realmId: z.string().regex(/^[0-9]{1,32}$/, "must be the company's numeric realm id"),
  cloud_id: z.string().regex(/^[0-9A-Za-z-]{1,64}$/, "must be a site id (letters, digits and '-')"),
  tenant: z.string().regex(/^[A-Za-z0-9](?:[A-Za-z0-9.-]{0,252})$/, "must be a tenant id or domain"),
  subdomain: z.string().regex(DNS_LABEL, "must be a single DNS label: letters, digits and '-', no dots or slashes"),
};

/** The connection data of a credential, as every view shows it (never a secret). */
export const Connection = z.record(z.string(), z.string()).describe("non-secret values captured at connect (instance_url, realmId, cloud_id, tenant, subdomain)");
export type Connection = z.infer<typeof Connection>;

/** What a connect form or session may carry: only values asked before the redirect (a subdomain). */
export const ConnectionInput = z.strictObject({ subdomain: z.string().trim().toLowerCase().pipe(CONNECTION_VALUE.subdomain).optional() });
export type ConnectionInput = z.infer<typeof ConnectionInput>;
