/**
 * The resolver's fix sentences (lib/resolve.ts), exported so tests and docs quote them exactly and
 * lib/fixes.ts recognises them by their text. Their own module, importing nothing, so what renders
 * fixes (the page layout of every worker) does not bundle the resolver and what it imports.
 */
export const AMBIGUOUS_FIX =
  "Set a default (`keystroke credentials update <ref> --default`) or assign one (`keystroke credentials assign ...`)";
export const REASSIGN_FIX =
  "Assign a credential this run can use, the org's, the run's project's or the run's own user's (`keystroke credentials assign ... --credential <ref>`), or remove the assignment (`keystroke credentials unassign ...`)";
export const missingFix = (app: string, connectUrl?: string): string =>
  connectUrl !== undefined
    ? `Connect ${app}: open ${connectUrl} or run \`keystroke connect ${app}\``
    : `Connect ${app}: run \`keystroke connect ${app}\``;
export const noContextFix = (scope: "user" | "project"): string =>
  scope === "user" ? "Run it on behalf of a user, or stop pinning scope `user`" : "Run it inside a project, or stop pinning scope `project`";
export const reconnectFix = (app: string, ref: string): string => `Reconnect it: \`keystroke connect ${app} --reconnect ${ref}\``;
export const scopesFix = (app: string, ref: string, scopes: readonly string[]): string =>
  `Reconnect it asking for the missing scopes: \`keystroke connect ${app} --reconnect ${ref} --scopes ${scopes.join(",")}\``;
export const invalidFix = (ref: string): string =>
  `Set a working key: \`keystroke credentials rotate-key ${ref} --set <field>=<value>\` (it is checked as it is stored)`;
export const revokedFix = (app: string): string =>
  `Connect a new one (\`keystroke connect ${app}\`) or assign another credential (\`keystroke credentials assign ... --credential <ref>\`)`;
