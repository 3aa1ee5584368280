import type { Principal } from "./permissions";
import type { Role } from "./schemas/common";

/**
 * Who may manage whom (SPEC section 12), as one pure table: owners grant any role and manage
 * anyone; admins grant admin or builder and manage builders only; builders manage nobody. Only
 * owners invite owners. The last-owner rule needs the org's state and lives in the vault.
 */
export function mayGrant(p: Principal, role: Role): boolean {
  if (p.role === "owner") return true;
  return p.role === "admin" && role !== "owner";
}

/** Changing a member's role or removing them: owners anyone, admins builders. */
export function mayManage(p: Principal, target: { role: Role }): boolean {
  if (p.role === "owner") return true;
  return p.role === "admin" && target.role === "builder";
}
