import { getApp } from "../../../../lib/catalog";

/**
 * How each catalog app's provider expects to be spoken to, where arctic's class for it depends on
 * it, written from the providers' documentation and arctic 3.7.0's classes (not from our own
 * providers module): the sandbox refuses any other shape, so a flow that passes proves the class
 * was used. Apps without a class (`oauth2`, Slack's bot install, custom apps) accept any client
 * authentication, as the generic client chooses it.
 */
export interface Shape {
  /** Client authentication at the token endpoint: HTTP basic, id and secret in the form body, or a public client (id only). */
  auth: "basic" | "body" | "public" | "any";
  /** The form and query name of the client id (TikTok calls it client_key). */
  clientParam: "client_id" | "client_key";
  /** How several scopes are joined in the authorize request; null: not checked. */
  scopeSeparator: " " | "," | null;
  /** Whether the authorize request must (always), may (optional) or must not (never) carry an S256 code challenge. */
  pkce: "always" | "optional" | "never";
  /** GitHub answers token errors with HTTP 200 and its own codes; everyone else with 400/401 and RFC 6749's. */
  errors: "rfc6749" | "github";
  /** Parameters the authorize request must carry (Atlassian's audience, Notion's owner). */
  authorizeParams: Record<string, string>;
  /** Also accepts a public client (id in the body, no secret), as arctic's class sends for a client without a secret. */
  publicOk: boolean;
}

const BASE: Shape = { auth: "basic", clientParam: "client_id", scopeSeparator: " ", pkce: "never", errors: "rfc6749", authorizeParams: {}, publicOk: false };

const BY_CLASS: Record<string, Partial<Shape>> = {
  GitHub: { errors: "github" },
  GitLab: { publicOk: true },
  Bitbucket: {},
  Linear: { auth: "body" },
  Atlassian: { auth: "body", authorizeParams: { audience: "api.atlassian.com", prompt: "consent" } },
  Notion: { authorizeParams: { owner: "user" } },
  Google: { pkce: "always" },
  MicrosoftEntraId: { pkce: "always", publicOk: true },
  Dropbox: {},
  Box: { auth: "body" },
  Figma: {},
  Discord: { pkce: "optional", publicOk: true },
  Zoom: { pkce: "always" },
  Salesforce: { pkce: "always", publicOk: true },
  Intuit: {},
  Coinbase: { auth: "body" },
  Autodesk: { pkce: "always", publicOk: true },
  Etsy: { auth: "public", pkce: "always" },
  LinkedIn: { auth: "body" },
  Twitter: { pkce: "always", publicOk: true },
  Reddit: {},
  Facebook: { auth: "body" },
  TikTok: { auth: "body", clientParam: "client_key", scopeSeparator: ",", pkce: "always" },
  Spotify: { pkce: "optional", publicOk: true },
  Twitch: { auth: "body" },
  Patreon: { auth: "body" },
  Strava: { auth: "body", scopeSeparator: "," },
  Yahoo: {},
};

export function shapeOf(slug: string): Shape {
  const app = getApp(slug);
  const cls = app?.kind === "oauth" ? app.provider.arcticProvider : undefined;
  const known = cls ? BY_CLASS[cls] : undefined;
  if (known) return { ...BASE, ...known };
  // The generic client: whatever the catalog configures (Slack: commas), any client authentication.
  const p = app?.kind === "oauth" ? app.provider : null;
  return { ...BASE, auth: "any", scopeSeparator: p ? p.scopeSeparator : null, pkce: "optional" };
}

/** What the authorize request got wrong for this shape, or null. */
export function authorizeProblem(shape: Shape, q: Record<string, string | undefined>): string | null {
  if (!q[shape.clientParam]) return `missing ${shape.clientParam}`;
  const scope = q.scope ?? "";
  if (shape.scopeSeparator === "," && scope.includes(" ")) return "scopes must be comma-separated";
  if (shape.scopeSeparator === " " && scope.includes(",")) return "scopes must be space-separated";
  const challenged = Boolean(q.code_challenge);
  if (shape.pkce === "always" && (!challenged || q.code_challenge_method !== "S256")) return "PKCE (S256) is required";
  if (shape.pkce === "never" && challenged) return "this provider does not take PKCE";
  for (const [k, v] of Object.entries(shape.authorizeParams)) if (q[k] !== v) return `${k}=${v} is required`;
  return null;
}

/** How a token or revoke request authenticated its client. */
export interface ClientAuth {
  style: "basic" | "body" | "public" | "mixed" | "none";
  clientId: string | null;
}

export function clientAuthOf(shape: Shape, authorization: string | undefined, form: URLSearchParams): ClientAuth {
  const basic = authorization?.match(/^Basic (.+)$/)?.[1];
  const bodyId = form.get(shape.clientParam) ?? form.get("client_id");
  const bodySecret = form.get("client_secret");
  if (basic) return { style: bodySecret ? "mixed" : "basic", clientId: atob(basic).split(":")[0] ?? null };
  if (bodyId && bodySecret) return { style: "body", clientId: bodyId };
  if (bodyId) return { style: "public", clientId: bodyId };
  return { style: "none", clientId: null };
}

/** Whether the token endpoint accepts this client authentication for the shape. */
export const authAccepted = (shape: Shape, auth: ClientAuth): boolean =>
  shape.auth === "any" ? auth.style !== "none" && auth.style !== "mixed" : auth.style === shape.auth || (shape.publicOk && auth.style === "public");
