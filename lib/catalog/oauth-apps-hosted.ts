/**
 * OAuth apps that live on the customer's own subdomain: the connect form asks for it before the
 * redirect (a single DNS label), and `{subdomain}` in each endpoint is replaced by it for every
 * call (lib/connection.ts). arctic has no class for these, so the generic client serves them.
 */
import type { OAuthAppInput } from "./schema";

export const OAUTH_APPS_HOSTED: readonly OAuthAppInput[] = [
  {
    slug: "shopify",
    name: "Shopify",
    kind: "oauth",
    category: "commerce",
    description: "A Shopify store's products, orders and customers through the Admin API.",
    provider: {
      authorizeUrl: "https://{subdomain}.myshopify.com/admin/oauth/authorize",
      tokenUrl: "https://{subdomain}.myshopify.com/admin/oauth/access_token",
      scopes: ["read_products", "read_orders"],
      optionalScopes: ["write_products", "write_orders", "read_customers", "write_customers", "read_inventory"],
      // Shopify documents `scope` as comma-separated.
      scopeSeparator: ",",
      pkce: false,
      // Offline access tokens do not expire.
      refresh: false,
      // The grant is the store's, not a person's: the store is the account.
      identity: { source: "connection", idPath: "subdomain" },
      connection: [{ key: "subdomain", from: "form", label: "Store name", suffix: ".myshopify.com" }],
    },
    channel: false,
    custom: false,
  },
  {
    slug: "zendesk",
    name: "Zendesk",
    kind: "oauth",
    category: "support",
    description: "Tickets, users and help center content in a Zendesk account.",
    provider: {
      authorizeUrl: "https://{subdomain}.zendesk.com/oauth/authorizations/new",
      tokenUrl: "https://{subdomain}.zendesk.com/oauth/tokens",
      userinfoUrl: "https://{subdomain}.zendesk.com/api/v2/users/me.json",
      scopes: ["read", "write"],
      optionalScopes: ["impersonate", "hc:read", "hc:write"],
      pkce: false,
      refresh: true,
      identity: { source: "userinfo", idPath: "user.id", emailPath: "user.email", namePath: "user.name" },
      connection: [{ key: "subdomain", from: "form", label: "Zendesk subdomain", suffix: ".zendesk.com" }],
    },
    channel: false,
    custom: false,
  },
];
