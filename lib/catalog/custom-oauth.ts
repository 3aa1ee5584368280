import { z } from "zod";
import { invalidField } from "../errors";
import { getApp, RESERVED_SLUGS } from "./index";
import { Identity, OAuthApp, Slug } from "./schema";

/**
 * Org-local custom OAuth apps (SPEC section 13, `POST /v1/apps {kind:"oauth"}`): what the org
 * stores (custom_apps.provider) and the OAuthApp built from it. Endpoints are not part of the app:
 * they come from the org's OAuth client, so until an admin saves one the app points at the
 * never-resolving `.invalid` TLD (RFC 2606), as the catalog's generic oauth2 does, and fails closed.
 */
export const CustomOAuthSpec = z.object({
  description: z.string().optional(),
  scopes: z.array(z.string()).default([]),
  scopeSeparator: z.enum([" ", ","]).default(" "),
  pkce: z.boolean().default(true),
  identity: Identity.default({ source: "userinfo", idPath: "sub", emailPath: "email", namePath: "name" }),
});
export type CustomOAuthSpec = z.infer<typeof CustomOAuthSpec>;

/** Throws invalid_request naming `field` when `slug` may not name a custom app (catalog or reserved). */
export function checkCustomSlug(slug: string, field = "slug"): void {
  if (!Slug.safeParse(slug).success) throw invalidField(field, `"${slug}" is not a valid app slug`, "use 1-63 characters of a-z, 0-9, '_' or '-'");
  if (RESERVED_SLUGS.has(slug)) throw invalidField(field, `"${slug}" is reserved and cannot name an app`, "pick another name for the custom app");
  if (getApp(slug)) throw invalidField(field, `"${slug}" is a catalog app, not a custom one`, "connect the catalog app, or pick another slug");
}

export function customOAuthApp(slug: string, name: string, spec: CustomOAuthSpec): OAuthApp {
  const placeholder = `https://${slug.replace(/_/g, "-")}.invalid`;
  const userinfo = spec.identity.source === "userinfo";
  return OAuthApp.parse({
    slug,
    name,
    kind: "oauth",
    category: "custom",
    description: spec.description || `Custom OAuth app; its endpoints come from the org's OAuth client.`,
    provider: {
      authorizeUrl: `${placeholder}/authorize`,
      tokenUrl: `${placeholder}/token`,
      revokeUrl: `${placeholder}/revoke`,
      // Only when identity is read there: withProviderOverrides replaces only endpoints an app has.
      ...(userinfo ? { userinfoUrl: `${placeholder}/userinfo` } : {}),
      scopes: spec.scopes,
      scopeSeparator: spec.scopeSeparator,
      pkce: spec.pkce,
      refresh: true,
      identity: spec.identity,
    },
    channel: false,
    custom: true,
  });
}
