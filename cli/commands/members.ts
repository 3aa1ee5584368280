/** `keystroke members list|invite|set-role|remove` and `invitations list|revoke` (cloud, SPEC section 12). */
import type { Command } from "commander";
import { Option } from "commander";
import { z } from "zod";
import { AppError } from "../../lib/errors";
import { Role } from "../../lib/schemas/common";
import { Member } from "../../lib/schemas/identity";
import { Invitation, RemovedMember } from "../../lib/schemas/members";
import { CreatedInvitation } from "../../lib/schemas/orgs";
import { allPages, seg } from "../http";
import { when, type Io } from "../output";
import type { Session } from "../session";
import { act, printAnswer, printList, printSecretOnce } from "./common";

const WHY = "members belong to the cloud org";
const Members = z.object({ members: z.array(Member) });

/** A member named by id (`mem_…`) or email, as `GET /v1/members` knows them. */
async function memberOf(s: Session, ref: string): Promise<Member> {
  const members = await allPages(s.api(), "/v1/members", {}, "members", Member);
  const m = members.find((x) => x.id === ref || x.email === ref.toLowerCase());
  if (!m) throw new AppError("not_found", `No member \`${ref}\`.`, { fix: "List members with `keystroke members list`.", details: { field: "member" } });
  return m;
}

/** `--project-role support` (builder) or `--project-role support:admin`, repeatable (`--project` is the global flag). */
function projectRole(value: string, previous: { project: string; role: string }[] = []) {
  const [project = "", role = "builder"] = value.split(":");
  // The role is checked by the API, which names the field (`projects[0].role`).
  return [...previous, { project, role }];
}

export function registerMembers(program: Command, io: Io): void {
  const members = program.command("members").description("The org's members: invite, change roles, remove");

  members
    .command("list")
    .description("Members and their org roles")
    .action(
      act(io, async (s) => {
        s.requireCloud("members", WHY);
        const list = await allPages(s.api(), "/v1/members", {}, "members", Member);
        printList(s, "members", list, ["ID", "EMAIL", "ROLE"], (m) => [m.id, m.email, m.role], "No members.");
      }),
    );

  members
    .command("invite <email>")
    .description("Invite someone by email; the link is printed once (owners and admins; only owners invite owners)")
    .addOption(new Option("--role <role>", "their org role").choices(Role.options).default("builder"))
    .option("--project-role <project[:role]>", "a project membership on accepting (role admin|builder, default builder); repeatable", projectRole)
    .action(
      act(io, async (s, email: string, opts: { role: string; projectRole?: { project: string; role: string }[] }) => {
        s.requireCloud("members", WHY);
        const inv = await s.api().call("POST", "/v1/invitations", CreatedInvitation, { email, role: opts.role, ...(opts.projectRole ? { projects: opts.projectRole } : {}) });
        printSecretOnce(s, inv, `Invited ${inv.email} as ${inv.role} (${inv.id}), until ${when(inv.expires_at)}. Send them this link now: it is not shown again.`, inv.url);
      }),
    );

  members
    .command("set-role <member> <role>")
    .description("Change a member's role (id or email): owners any, admins builders'")
    .action(
      act(io, async (s, ref: string, role: string) => {
        s.requireCloud("members", WHY);
        const m = await memberOf(s, ref);
        const updated = await s.api().call("PATCH", `/v1/members/${seg(m.id)}`, Member, { role });
        printAnswer(s, updated, `${updated.email} is now ${updated.role}.`);
      }),
    );

  members
    .command("remove <member>")
    .description("Offboard a member (id or email): every token of theirs and their own credentials revoked at once")
    .action(
      act(io, async (s, ref: string) => {
        s.requireCloud("members", WHY);
        const m = await memberOf(s, ref);
        const r = await s.api().call("DELETE", `/v1/members/${seg(m.id)}`, RemovedMember);
        printAnswer(s, r, `Removed ${r.member.email}: ${r.tokens_revoked} token(s) and ${r.credentials_revoked} credential(s) revoked, ${r.connect_sessions_failed} connect session(s) failed.`);
      }),
    );

  const invitations = program.command("invitations").description("Open invitations (owners and admins)");

  invitations
    .command("list")
    .description("Open invitations, newest first; never their links")
    .action(
      act(io, async (s) => {
        s.requireCloud("invitations", WHY);
        const list = await allPages(s.api(), "/v1/invitations", {}, "invitations", Invitation);
        printList(
          s,
          "invitations",
          list,
          ["ID", "EMAIL", "ROLE", "PROJECTS", "STATUS", "EXPIRES"],
          (i) => [i.id, i.email, i.role, i.projects.map((p) => `${p.project}:${p.role}`).join(", ") || "-", i.status, when(i.expires_at)],
          "No open invitations.",
        );
      }),
    );

  invitations
    .command("revoke <id>")
    .description("Revoke an invitation: its link stops working")
    .action(
      act(io, async (s, id: string) => {
        s.requireCloud("invitations", WHY);
        const inv = await s.api().call("DELETE", `/v1/invitations/${seg(id)}`, Invitation);
        printAnswer(s, inv, `Revoked the invitation ${inv.id} (${inv.email}).`);
      }),
    );
}
