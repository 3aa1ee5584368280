/**
 * `keystroke orgs list|create` (SPEC section 12, cloud). `list` is the caller's own orgs; `create`
 * is the operator's call, with PLATFORM_ADMIN_TOKEN (never a ks_ token), and prints the owner
 * invitation link once.
 */
import type { Command } from "commander";
import { CreatedOrg, MyOrgs } from "../../lib/schemas/orgs";
import { failure, usageError } from "../errors";
import { Api } from "../http";
import type { Io } from "../output";
import { act, printList, printSecretOnce, readStdin } from "./common";

const WHY = "orgs live in the cloud deployment";
const ADMIN_ENV = "KEYSTROKE_PLATFORM_ADMIN_TOKEN";

export function registerOrgs(program: Command, io: Io): void {
  const orgs = program.command("orgs").description("The orgs you belong to; the operator creates new ones");

  orgs
    .command("list")
    .description("The orgs your person belongs to; * marks the current one")
    .action(
      act(io, async (s) => {
        s.requireCloud("orgs", WHY);
        const { orgs: mine } = await s.api().call("GET", "/v1/me/orgs", MyOrgs);
        printList(s, "orgs", mine, ["", "SLUG", "NAME", "ID"], (o) => [o.current ? "*" : "", o.slug, o.name, o.id], "No orgs.");
      }),
    );

  orgs
    .command("create <slug>")
    .description(`Create an org (operator): needs the platform admin token in ${ADMIN_ENV} or on stdin`)
    .requiredOption("--name <name>", "the org's display name")
    .requiredOption("--owner-email <email>", "who gets the owner invitation")
    .option("--admin-token-stdin", "read the platform admin token from stdin")
    .action(
      act(io, async (s, slug: string, opts: { name: string; ownerEmail: string; adminTokenStdin?: boolean }) => {
        s.requireCloud("orgs create", WHY);
        const token = opts.adminTokenStdin ? await readStdin(io) : (io.env[ADMIN_ENV] ?? "");
        if (!token) throw usageError(`orgs create needs the platform admin token: set ${ADMIN_ENV} or pass --admin-token-stdin.`);
        if (/\s/.test(token)) throw failure("The platform admin token has whitespace in it.", { code: "unauthorized" });
        const made = await new Api(s.apiUrl().url, token).call("POST", "/v1/orgs", CreatedOrg, { slug, name: opts.name, owner_email: opts.ownerEmail });
        printSecretOnce(s, made, `Created org ${made.org.slug} (${made.org.name}). The owner invitation for ${made.invitation.email} is shown once:`, made.invitation.url);
      }),
    );
}
