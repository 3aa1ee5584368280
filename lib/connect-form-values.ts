import type { ErrorBody } from "./errors";
import type { Target } from "./schemas/common";
import { SLUG_PATTERN } from "./slug";

/**
 * The posted connect form's values in ConnectChoice shape (lib/schemas/connect.ts checks them, in
 * the vault). Pure and zod-free: the oauth worker and the shared connect form import these as
 * values, and one value import of a zod schema module would put classic zod into the oauth
 * worker's bundle (README, "Bundle sizes"). lib/schemas/connect.ts re-exports them.
 */

/** The web form's checkboxes (`org`, `user`, `project:<slug>`) as targets; unknown values are bad input. */
export function targetsFromForm(values: readonly string[]): Target[] {
  return values.map((v) => {
    if (v === "org") return { type: "org" as const };
    if (v === "user") return { type: "user" as const };
    const project = v.startsWith("project:") ? v.slice("project:".length) : null;
    if (project !== null && SLUG_PATTERN.test(project)) return { type: "project" as const, project };
    throw new Error(`unknown target ${v}`);
  });
}

/**
 * The connect form's scope choices: the optional scopes ticked (`scope`, repeated) and extra ones
 * typed (`extra_scopes`, separated by spaces or commas, so one typed scope can never hold a space).
 */
export function scopesFromForm(ticked: readonly string[], typed: string): string[] {
  return [...new Set([...ticked, ...typed.split(/[\s,]+/).filter(Boolean)])];
}

/** The OAuth connect form's answer when no place, or a place it never offered, was chosen. */
export const CHOOSE_PLACE: ErrorBody = { code: "invalid_request", message: "Choose where the connection will be available.", fix: "Pick at least one place.", details: { field: "target" } };
