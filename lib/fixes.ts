import type { ErrorDetails } from "./errors";
import { NOT_FOUND_FIX } from "./refs";
import { AMBIGUOUS_FIX, invalidFix, missingFix, reconnectFix, REASSIGN_FIX, revokedFix, scopesFix } from "./resolve-fixes";

/**
 * "How to fix" in the language of where it is shown. An error names the next step once, as a
 * remedy in `details.remedy`; its `fix` is the CLI's wording (the API's readers are the CLI and
 * scripts), and the web pages and MCP tools word the same step as a page link or a tool name.
 * The resolver's fixes (lib/resolve) carry no remedy: they are recognised by their exact text.
 */
export type Surface = "cli" | "web" | "mcp";

export type Remedy =
  | { do: "connect"; app: string }
  | { do: "reconnect"; app: string; ref: string }
  /** An API key the provider refused: replace its value (SPEC section 14). */
  | { do: "rotate"; ref: string }
  /** A step-up: reconnect `ref` asking for `scopes` (space-separated: details stay flat). */
  | { do: "reconnect_scopes"; app: string; ref: string; scopes: string }
  | { do: "connect_or_assign"; app: string }
  | { do: "set_default_or_assign" }
  | { do: "reassign" }
  | { do: "list_credentials" }
  | { do: "list_apps" }
  | { do: "new_connect_session" }
  | { do: "sign_in" }
  | { do: "list_assignments" }
  | { do: "list_api_keys" };

/** What the renderers read of an error (an ErrorBody, or a resolver's error). */
export interface Fixable {
  fix?: string;
  details?: object;
}

/** A fix as a page shows it: the sentence and, where one exists, the page that does it. */
export interface WebFix {
  text: string;
  href?: string;
  link?: string;
}

const catalogOf = (app: string) => `/catalog?search=${encodeURIComponent(app)}`;
const scopeList = (scopes: string) => scopes.split(" ").filter(Boolean);
/** The web page that starts a reconnect of `ref` asking for `scopes` (workers/api/src/web/connect.tsx). */
export const reconnectScopesPath = (app: string, ref: string, scopes: readonly string[]) =>
  `/connect?app=${encodeURIComponent(app)}&reconnect=${encodeURIComponent(ref)}&scopes=${encodeURIComponent(scopes.join(" "))}`;

export function cliFix(r: Remedy): string {
  switch (r.do) {
    case "connect": return `Run \`keystroke connect ${r.app}\`.`;
    case "reconnect": return reconnectFix(r.app, r.ref) + ".";
    case "rotate": return invalidFix(r.ref) + ".";
    case "reconnect_scopes": return scopesFix(r.app, r.ref, scopeList(r.scopes)) + ".";
    case "connect_or_assign": return revokedFix(r.app) + ".";
    case "set_default_or_assign": return AMBIGUOUS_FIX + ".";
    case "reassign": return REASSIGN_FIX + ".";
    case "list_credentials": return NOT_FOUND_FIX;
    case "list_apps": return "Find one with `keystroke apps list --search <q>`.";
    case "new_connect_session": return "Start a new one: `keystroke connect <app>`.";
    case "sign_in": return "Sign in again (`keystroke auth login`) or use a current API key.";
    case "list_assignments": return "List them with `keystroke credentials assignments`.";
    case "list_api_keys": return "List keys with `keystroke api-keys list`.";
  }
}

export function webFix(r: Remedy): WebFix {
  switch (r.do) {
    case "connect": return { text: `Connect ${r.app} from the catalog.`, href: catalogOf(r.app), link: `Connect ${r.app}` };
    case "reconnect": return { text: `Reconnect ${r.ref} on the Apps page.`, href: `/apps?app=${encodeURIComponent(r.app)}`, link: "Open Apps" };
    case "rotate": return { text: `Rotate ${r.ref} with a working key on the Apps page.`, href: "/apps?attention=true", link: "Open Apps" };
    case "reconnect_scopes": return { text: `Reconnect ${r.ref} asking for ${r.scopes.split(" ").join(", ")}.`, href: reconnectScopesPath(r.app, r.ref, scopeList(r.scopes)), link: `Reconnect ${r.ref}` };
    case "connect_or_assign": return { text: `Connect a new ${r.app} credential, or assign another one on the Assignments page.`, href: catalogOf(r.app), link: `Connect ${r.app}` };
    case "set_default_or_assign": return { text: "Set a default on the Apps page, or assign one on the Assignments page.", href: "/apps", link: "Open Apps" };
    case "reassign": return { text: "Assign a credential this run can use (the org's, the run's project's or its own user's), or remove the assignment.", href: "/assignments", link: "Open Assignments" };
    case "list_credentials": return { text: "The Apps page lists the credentials and their references.", href: "/apps", link: "Open Apps" };
    case "list_apps": return { text: "Find the app in the catalog.", href: "/catalog", link: "Open the catalog" };
    case "new_connect_session": return { text: "Start a new connection from the catalog.", href: "/catalog", link: "Open the catalog" };
    case "sign_in": return { text: "Sign in again.", href: "/signin", link: "Sign in" };
    case "list_assignments": return { text: "The Assignments page lists them.", href: "/assignments", link: "Open Assignments" };
    case "list_api_keys": return { text: "The API keys page lists the keys.", href: "/api-keys", link: "Open API keys" };
  }
}

export function mcpFix(r: Remedy): string {
  switch (r.do) {
    case "connect": return `Call connect_app with app "${r.app}" and ask the user to open the link.`;
    case "reconnect": return `Ask the user to reconnect ${r.ref} on the Apps page of the Keystroke web app.`;
    case "rotate": return `Ask the user to rotate ${r.ref} with a working key on the Apps page of the Keystroke web app.`;
    case "reconnect_scopes": return `Call connect_app with app "${r.app}", reconnect "${r.ref}" and scopes ${JSON.stringify(scopeList(r.scopes))}, and ask the user to open the link.`;
    case "connect_or_assign": return `Call connect_app with app "${r.app}" for a new credential, or ask the user to assign another one on the Assignments page of the Keystroke web app.`;
    case "set_default_or_assign": return "Ask the user to set a default on the Apps page, or to assign one on the Assignments page, of the Keystroke web app.";
    case "reassign": return "Ask the user to fix the assignment on the Assignments page of the Keystroke web app.";
    case "list_credentials": return "Call list_credentials to see the credentials and their references.";
    case "list_apps": return "Call list_apps with a search to find one.";
    case "new_connect_session": return "Call connect_app again for a new link.";
    case "sign_in": return "Send a current API key or member token as the bearer token.";
    case "list_assignments": return "Ask the user to look at the Assignments page of the Keystroke web app.";
    case "list_api_keys": return "Ask the user to look at the API keys page of the Keystroke web app.";
  }
}

/**
 * Options for an AppError: the CLI wording as `fix` (or `cli`, a sentence closer to the case)
 * and the remedy the other surfaces word for themselves.
 */
export function remedy(r: Remedy, details: ErrorDetails = {}, cli?: string): { fix: string; details: ErrorDetails } {
  return { fix: cli ?? cliFix(r), details: { ...details, remedy: r } };
}

const REMEDIES = new Set<string>(["connect", "reconnect", "rotate", "reconnect_scopes", "connect_or_assign", "set_default_or_assign", "reassign", "list_credentials", "list_apps", "new_connect_session", "sign_in", "list_assignments", "list_api_keys"]);

/** The remedy of an error body: its own, or the one behind a resolver fix of known text. */
export function remedyOf(e: Fixable): Remedy | null {
  const d = (e.details ?? {}) as Record<string, unknown>;
  const own = d.remedy;
  if (own && typeof own === "object" && !Array.isArray(own) && typeof (own as Record<string, unknown>).do === "string" && REMEDIES.has((own as { do: string }).do)) return own as unknown as Remedy;
  const app = typeof d.app === "string" ? d.app : null;
  const ref = typeof d.credential === "string" ? d.credential : null;
  if (e.fix === undefined) return null;
  if (e.fix === AMBIGUOUS_FIX) return { do: "set_default_or_assign" };
  if (e.fix === REASSIGN_FIX) return { do: "reassign" };
  if (e.fix === NOT_FOUND_FIX) return { do: "list_credentials" };
  if (app && (e.fix === missingFix(app) || e.fix === missingFix(app, typeof d.connect_url === "string" ? d.connect_url : undefined))) return { do: "connect", app };
  if (app && ref && e.fix === reconnectFix(app, ref)) return { do: "reconnect", app, ref };
  if (ref && e.fix === invalidFix(ref)) return { do: "rotate", ref };
  const missing = Array.isArray(d.missing_scopes) && d.missing_scopes.every((x) => typeof x === "string") ? (d.missing_scopes as string[]) : null;
  if (app && ref && missing && e.fix === scopesFix(app, ref, missing)) return { do: "reconnect_scopes", app, ref, scopes: missing.join(" ") };
  if (app && e.fix === revokedFix(app)) return { do: "connect_or_assign", app };
  return null;
}

/** The fix of an error as a page shows it (null: none). */
export function fixForWeb(e: Fixable): WebFix | null {
  const r = remedyOf(e);
  if (r) return webFix(r);
  return e.fix ? { text: e.fix } : null;
}

/** The fix of an error as an MCP tool result says it (undefined: none). */
export function fixForMcp(e: Fixable): string | undefined {
  const r = remedyOf(e);
  return r ? mcpFix(r) : e.fix;
}
