import type { ProjectRole, Role, Scope } from "./schemas/common";

/**
 * Who may do what with credentials (SPEC section 3), as one pure table so the web, the CLI and
 * the API can never disagree. The vault asks; it never decides on its own.
 */
export interface Principal {
  member: string;
  role: Role;
  /** The member's role in each project they belong to. */
  projects: Readonly<Record<string, ProjectRole>>;
}

export type CredentialAction = "view" | "manage" | "revoke";

const isOrgAdmin = (p: Principal) => p.role === "owner" || p.role === "admin";

export function can(p: Principal, action: CredentialAction, scope: Scope): boolean {
  switch (scope.type) {
    case "org":
      // Everyone in the org sees org credentials (masked); only owners and admins change them.
      return action === "view" ? true : isOrgAdmin(p);
    case "project": {
      const projectRole = p.projects[scope.project];
      if (action === "view") return isOrgAdmin(p) || projectRole !== undefined;
      return isOrgAdmin(p) || projectRole === "admin";
    }
    case "user":
      if (scope.user === p.member) return true;
      // Admins see that other users' credentials exist and may revoke them when offboarding.
      return isOrgAdmin(p) && (action === "view" || action === "revoke");
  }
}

/**
 * Assignments (pins). Writing a pin that points at a credential needs `manage` on that
 * credential's scope, so a user credential can be pinned only by its owner. Replacing or removing
 * a pin needs `manage` on the scope of the credential it points at now; org owners and admins may
 * always clear a pin (offboarding, a pin nobody else can undo). `scope` null: the credential row
 * is gone, so only an org admin can tell what to do with the pin.
 */
export function canPin(p: Principal, scope: Scope): boolean {
  return can(p, "manage", scope);
}
export function canUnpin(p: Principal, scope: Scope | null): boolean {
  return isOrgAdmin(p) || (scope !== null && can(p, "manage", scope));
}

/** Whether the principal may see the masked preview; never for another user's credential. */
export function canSeePreview(p: Principal, scope: Scope): boolean {
  return scope.type !== "user" || scope.user === p.member;
}

export function canSeeProject(p: Principal, project: string): boolean {
  return isOrgAdmin(p) || p.projects[project] !== undefined;
}

/** Org-level administration: API keys of others, the whole audit log, members. */
export function isAdmin(p: Principal): boolean {
  return isOrgAdmin(p);
}
