import { AppError } from "../../lib/errors";
import { isAdmin, type Principal } from "../../lib/permissions";
import type { ProjectRole } from "../../lib/schemas/common";
import type { Project } from "../../lib/schemas/identity";
import type { CreateProjectBody, DeletedProject, ProjectMembership } from "../../lib/schemas/projects";
import { writeAudit } from "./audit";
import type { Actor, VaultContext } from "./context";
import { openFields } from "./credentials";
import { listProjects, memberByEmail, memberById } from "./identity";
import { loadPrincipal } from "./auth";

/**
 * Projects CRUD and project members (SPEC section 12). Org owners and admins manage projects; a
 * project's admins also manage that project's members. Permission is checked before existence,
 * so a builder learns nothing about projects they are not in.
 */

function deny(ctx: VaultContext, actor: Actor, action: string, target: string, message: string, fix: string): never {
  writeAudit(ctx, actor, { action, outcome: "denied", target });
  throw new AppError("forbidden", message, { fix });
}

function requireOrgAdmin(ctx: VaultContext, actor: Actor, p: Principal, action: string, slug: string): void {
  if (!isAdmin(p)) deny(ctx, actor, action, `project:${slug}`, "Only org owners and admins may create, rename or delete projects.", "Ask an org owner or admin.");
}

function exists(ctx: VaultContext, slug: string): boolean {
  return ctx.sql.exec(`SELECT 1 FROM projects WHERE slug = ?`, slug).toArray().length > 0;
}

function requireProject(ctx: VaultContext, slug: string): void {
  if (!exists(ctx, slug)) throw new AppError("not_found", `There is no project \`${slug}\`.`, { fix: "See the projects with `keystroke projects list`.", details: { field: "slug" } });
}

/** The project as its manager sees it (GET /v1/projects' shape). */
function view(ctx: VaultContext, actor: Actor, slug: string): Project {
  // Re-read the caller: the write may just have changed their own membership.
  const p = actor.principal ? loadPrincipal(ctx, actor.principal.member) : null;
  const found = p ? listProjects(ctx, p).find((x) => x.slug === slug) : undefined;
  return found ?? { slug, name: String(ctx.sql.exec(`SELECT name FROM projects WHERE slug = ?`, slug).one().name), role: null, members: [] };
}

export function createProject(ctx: VaultContext, actor: Actor, p: Principal, body: CreateProjectBody): Project {
  requireOrgAdmin(ctx, actor, p, "project.create", body.slug);
  if (exists(ctx, body.slug)) {
    throw new AppError("conflict", `A project \`${body.slug}\` already exists.`, { fix: "Pick another slug, or rename the existing project.", details: { field: "slug" } });
  }
  ctx.storage.transactionSync(() => {
    ctx.sql.exec(`INSERT INTO projects (slug, name, created_at) VALUES (?, ?, ?)`, body.slug, body.name, ctx.now);
    writeAudit(ctx, actor, { action: "project.create", target: `project:${body.slug}`, detail: { name: body.name } });
  });
  return view(ctx, actor, body.slug);
}

export function renameProject(ctx: VaultContext, actor: Actor, p: Principal, slug: string, name: string): Project {
  requireOrgAdmin(ctx, actor, p, "project.rename", slug);
  requireProject(ctx, slug);
  const before = String(ctx.sql.exec(`SELECT name FROM projects WHERE slug = ?`, slug).one().name);
  if (before !== name) {
    ctx.storage.transactionSync(() => {
      ctx.sql.exec(`UPDATE projects SET name = ? WHERE slug = ?`, name, slug);
      writeAudit(ctx, actor, { action: "project.rename", target: `project:${slug}`, detail: { name, previous_name: before } });
    });
  }
  return view(ctx, actor, slug);
}

/** What a project still holds: live credentials, pins to its credentials, Slack channel bindings. */
function holdings(ctx: VaultContext, slug: string) {
  const credentials = ctx.sql
    .exec(`SELECT id, app, slug, kind FROM credentials WHERE scope_type = 'project' AND scope_id = ? AND status != 'revoked'`, slug)
    .toArray()
    .map((r) => ({ id: String(r.id), app: String(r.app), slug: String(r.slug), kind: String(r.kind) }));
  const assignments = Number(
    ctx.sql.exec(`SELECT COUNT(*) AS n FROM assignments WHERE credential_id IN (SELECT id FROM credentials WHERE scope_type = 'project' AND scope_id = ?)`, slug).one().n,
  );
  const bindings = Number(ctx.sql.exec(`SELECT COUNT(*) AS n FROM slack_bindings WHERE project = ?`, slug).one().n);
  return { credentials, assignments, bindings };
}

/**
 * Deletes a project. While it holds anything, a `conflict` unless `force`; with `force` its
 * credentials are revoked and its pins, bindings and memberships removed in the same transaction
 * as the project itself; OAuth grants are revoked at the provider afterwards, best effort.
 */
export async function deleteProject(
  ctx: VaultContext,
  actor: Actor,
  p: Principal,
  slug: string,
  force: boolean,
  upstream: (app: string, tokens: Record<string, string>, credentialId: string) => Promise<boolean>,
): Promise<DeletedProject> {
  requireOrgAdmin(ctx, actor, p, "project.delete", slug);
  requireProject(ctx, slug);
  const held = holdings(ctx, slug);
  if (!force && (held.credentials.length > 0 || held.assignments > 0 || held.bindings > 0)) {
    throw new AppError(
      "conflict",
      `Project \`${slug}\` still has ${held.credentials.length} live credential(s), ${held.assignments} assignment(s) and ${held.bindings} Slack channel binding(s).`,
      {
        fix: "Revoke or move them first, or delete with `?force=true` (`keystroke projects delete --force`), which revokes and removes them.",
        details: { field: "query.force", credentials: held.credentials.length, assignments: held.assignments, channel_bindings: held.bindings },
      },
    );
  }
  // OAuth tokens are read before they are destroyed, to revoke them upstream afterwards.
  const grants: { id: string; app: string; tokens: Record<string, string> }[] = [];
  for (const c of held.credentials) if (c.kind === "oauth") grants.push({ id: c.id, app: c.app, tokens: await openFields(ctx, c.id) });
  // Read again inside the transaction: a credential set while the grants were read is revoked too.
  const final = ctx.storage.transactionSync(() => {
    requireProject(ctx, slug);
    const now = holdings(ctx, slug);
    if (!force && (now.credentials.length > 0 || now.assignments > 0 || now.bindings > 0)) {
      throw new AppError("conflict", `Project \`${slug}\` gained credentials, pins or channel bindings meanwhile.`, { fix: "Try again, or delete with `?force=true`.", details: { field: "query.force" } });
    }
    for (const c of now.credentials) {
      ctx.sql.exec(`DELETE FROM secret_fields WHERE credential_id = ?`, c.id);
      ctx.sql.exec(`UPDATE credentials SET status = 'revoked', health = NULL, status_reason = 'project_deleted', is_default = 0, preview = NULL, revoked_at = ?, updated_at = ? WHERE id = ?`, ctx.now, ctx.now, c.id);
      writeAudit(ctx, actor, { action: "credential.revoke", credentialId: c.id, target: `project:${slug}`, detail: { app: c.app, slug: c.slug, reason: "project.delete" } });
    }
    ctx.sql.exec(`DELETE FROM assignments WHERE credential_id IN (SELECT id FROM credentials WHERE scope_type = 'project' AND scope_id = ?)`, slug);
    ctx.sql.exec(`DELETE FROM slack_bindings WHERE project = ?`, slug);
    ctx.sql.exec(`DELETE FROM project_members WHERE project = ?`, slug);
    ctx.sql.exec(`DELETE FROM projects WHERE slug = ?`, slug);
    writeAudit(ctx, actor, {
      action: "project.delete",
      target: `project:${slug}`,
      detail: { force, revoked_credentials: now.credentials.length, removed_assignments: now.assignments, removed_channel_bindings: now.bindings },
    });
    return now;
  });
  for (const g of grants) {
    let ok = false;
    try {
      ok = await upstream(g.app, g.tokens, g.id);
    } catch {
      ok = false;
    }
    writeAudit({ ...ctx, now: Date.now() }, actor, { action: "credential.revoke_upstream", outcome: ok ? "ok" : "failed", credentialId: g.id, target: `project:${slug}`, detail: { app: g.app } });
  }
  return { slug, revoked_credentials: final.credentials.length, removed_assignments: final.assignments, removed_channel_bindings: final.bindings };
}

/** An org admin, or an admin of this project. */
function requireProjectManager(ctx: VaultContext, actor: Actor, p: Principal, action: string, slug: string): void {
  if (isAdmin(p) || p.projects[slug] === "admin") return;
  deny(ctx, actor, action, `project:${slug}`, `You may not manage the members of project ${slug}.`, `Ask an org owner or admin, or an admin of project ${slug}.`);
}

/** `{member}` is a member id or an email. */
function findMember(ctx: VaultContext, ref: string) {
  const m = ref.includes("@") ? memberByEmail(ctx, ref) : memberById(ctx, ref);
  if (!m) throw new AppError("not_found", `There is no member \`${ref}\` in this organization.`, { fix: "List members with `keystroke members list`.", details: { field: "member" } });
  return m;
}

export function putProjectMember(ctx: VaultContext, actor: Actor, p: Principal, slug: string, ref: string, role: ProjectRole): ProjectMembership {
  requireProjectManager(ctx, actor, p, "project.member.put", slug);
  requireProject(ctx, slug);
  const m = findMember(ctx, ref);
  const before = ctx.sql.exec(`SELECT role FROM project_members WHERE project = ? AND member_id = ?`, slug, m.id).toArray()[0];
  if (before?.role !== role) {
    ctx.storage.transactionSync(() => {
      ctx.sql.exec(
        `INSERT INTO project_members (project, member_id, role) VALUES (?, ?, ?) ON CONFLICT(project, member_id) DO UPDATE SET role = excluded.role`,
        slug, m.id, role,
      );
      writeAudit(ctx, actor, { action: "project.member.put", target: `project:${slug}`, detail: { member: m.id, role, previous_role: before ? String(before.role) : null } });
    });
  }
  return { project: slug, member: m.id, role };
}

export function removeProjectMember(ctx: VaultContext, actor: Actor, p: Principal, slug: string, ref: string): ProjectMembership {
  requireProjectManager(ctx, actor, p, "project.member.remove", slug);
  requireProject(ctx, slug);
  const m = findMember(ctx, ref);
  const before = ctx.sql.exec(`SELECT role FROM project_members WHERE project = ? AND member_id = ?`, slug, m.id).toArray()[0];
  if (!before) throw new AppError("not_found", `${m.email} is not a member of project ${slug}.`, { fix: "See the project's members with `keystroke projects list`.", details: { field: "member" } });
  ctx.storage.transactionSync(() => {
    ctx.sql.exec(`DELETE FROM project_members WHERE project = ? AND member_id = ?`, slug, m.id);
    writeAudit(ctx, actor, { action: "project.member.remove", target: `project:${slug}`, detail: { member: m.id, previous_role: String(before.role) } });
  });
  return { project: slug, member: m.id, role: null };
}
