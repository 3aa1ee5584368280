/** `keystroke projects list|create|rename|delete` and `projects members add|remove` (cloud). */
import type { Command } from "commander";
import { Option } from "commander";
import { z } from "zod";
import { Project } from "../../lib/schemas/identity";
import { DeletedProject, ProjectMembership } from "../../lib/schemas/projects";
import { allPages, seg } from "../http";
import type { Io } from "../output";
import { act, printAnswer, printList } from "./common";

const WHY = "projects belong to the cloud org";

export function registerProjects(program: Command, io: Io): void {
  const projects = program.command("projects").description("The org's projects and their members");

  projects
    .command("list")
    .description("Projects you can see, with your role and their members")
    .action(
      act(io, async (s) => {
        s.requireCloud("projects", WHY);
        const list = await allPages(s.api(), "/v1/projects", {}, "projects", Project);
        printList(
          s,
          "projects",
          list,
          ["SLUG", "NAME", "YOUR ROLE", "MEMBERS"],
          (p) => [p.slug, p.name, p.role ?? "-", p.members.map((m) => `${m.member} (${m.role})`).join(", ") || "-"],
          "No projects.",
        );
      }),
    );

  projects
    .command("create <slug>")
    .description("Create a project (owners and admins)")
    .requiredOption("--name <name>", "its display name")
    .action(
      act(io, async (s, slug: string, opts: { name: string }) => {
        s.requireCloud("projects", WHY);
        const p = await s.api().call("POST", "/v1/projects", Project, { slug, name: opts.name });
        printAnswer(s, p, `Created project ${p.slug} (${p.name}).`);
      }),
    );

  projects
    .command("rename <slug>")
    .description("Rename a project; its slug stays (owners and admins)")
    .requiredOption("--name <name>", "the new display name")
    .action(
      act(io, async (s, slug: string, opts: { name: string }) => {
        s.requireCloud("projects", WHY);
        const p = await s.api().call("PATCH", `/v1/projects/${seg(slug)}`, Project, { name: opts.name });
        printAnswer(s, p, `Renamed project ${p.slug} to ${p.name}.`);
      }),
    );

  projects
    .command("delete <slug>")
    .description("Delete a project (owners and admins); refused while it holds credentials, pins or channel bindings")
    .option("--force", "also revoke its credentials and remove its pins and channel bindings")
    .action(
      act(io, async (s, slug: string, opts: { force?: boolean }) => {
        s.requireCloud("projects", WHY);
        const d = await s.api().call("DELETE", `/v1/projects/${seg(slug)}${opts.force ? "?force=true" : ""}`, DeletedProject);
        const extra = opts.force ? ` Revoked ${d.revoked_credentials} credential(s), removed ${d.removed_assignments} pin(s) and ${d.removed_channel_bindings} channel binding(s).` : "";
        printAnswer(s, d, `Deleted project ${d.slug}.${extra}`);
      }),
    );

  const members = projects.command("members").description("A project's members (org admins and the project's admins)");

  members
    .command("add <slug> <member>")
    .description("Add a member (id or email) to a project, or change their project role")
    .addOption(new Option("--role <role>", "their role in the project").choices(["builder", "admin"]).default("builder"))
    .action(
      act(io, async (s, slug: string, member: string, opts: { role: "builder" | "admin" }) => {
        s.requireCloud("projects", WHY);
        const m = await s.api().call("PUT", `/v1/projects/${seg(slug)}/members/${seg(member)}`, ProjectMembership, { role: opts.role });
        printAnswer(s, m, `${member} is now ${m.role} of project ${m.project}.`);
      }),
    );

  members
    .command("remove <slug> <member>")
    .description("Remove a member (id or email) from a project; they stay in the org")
    .action(
      act(io, async (s, slug: string, member: string) => {
        s.requireCloud("projects", WHY);
        const m = await s.api().call("DELETE", `/v1/projects/${seg(slug)}/members/${seg(member)}`, ProjectMembership);
        printAnswer(s, m, `Removed ${member} from project ${m.project}.`);
      }),
    );
}
