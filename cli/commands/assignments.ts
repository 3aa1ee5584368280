/**
 * `keystroke credentials consumers|assign|unassign|assignments|resolve`: pins and the dry-run of
 * runtime resolution (SPEC sections 4 and 5). Every target flag is "exactly one of".
 */
import type { Command } from "commander";
import { z } from "zod";
import { Me } from "../../lib/schemas/identity";
import { RuntimeAnswer, type ConsumerKind, type ExplainBody } from "../../lib/schemas/resolution";
import { parseToken } from "../../lib/tokens";
import { failure, usageError } from "../errors";
import { LOCAL_USER } from "../local/backend";
import { printJson, type Io } from "../output";
import { consumerText, printAssignments, printConsumers, printDecision } from "../render";
import type { Session } from "../session";
import { act, consumerTarget, printAnswer, targetOptions, type TargetFlags } from "./common";

interface ResolveOpts extends TargetFlags {
  consumer?: string;
  user?: boolean;
  scope?: "org" | "project" | "user";
  credential?: string;
  reveal?: boolean;
}

/** One assignment's key as `assign` and `unassign` name it: the target flag and --consumer (absent = the wildcard). */
function assignmentKey(opts: TargetFlags & { consumer?: string }) {
  const t = consumerTarget(opts);
  return { kind: t.kind, target: t.target, ...(opts.consumer !== undefined ? { consumer: opts.consumer } : {}) };
}

/** The run context of `credentials resolve`, in the API's ExplainBody shape. */
async function runContext(s: Session, app: string, opts: ResolveOpts): Promise<ExplainBody> {
  const target = consumerTarget(opts, true);
  if (target && opts.consumer === undefined) {
    throw usageError(`--${target.kind} needs --consumer <id>: a run is always one consumer (a step, a tool or an action).`);
  }
  if (!target && opts.consumer !== undefined) throw usageError("--consumer needs --workflow, --agent or --poll.");
  if (opts.consumer === "*") throw usageError("`--consumer *` is not a run: name one consumer; its target's * assignment applies when it has none of its own.");
  let user: string | undefined;
  if (opts.user) {
    // The run acts for the caller: the member behind the token, or the one local user.
    user = s.target().target === "local" ? LOCAL_USER : ((await s.api().call("GET", "/v1/me", Me)).member?.id ?? undefined);
    if (user === undefined) throw usageError("--user needs a member token or API key: this token acts for no member.");
  }
  return {
    ...(s.globals.project !== undefined ? { project: s.globals.project } : {}),
    ...(user !== undefined ? { user } : {}),
    ...(target ? { consumer: { kind: target.kind, target: target.target, id: opts.consumer! } } : {}),
    requirements: [{ app, ...(opts.scope ? { scope: opts.scope } : {}), ...(opts.credential ? { credential: opts.credential } : {}) }],
  };
}

/** `--reveal`: the runtime resolve, the one answer that holds secrets, so only with a runtime token. */
async function reveal(s: Session, body: ExplainBody): Promise<z.infer<typeof RuntimeAnswer>> {
  s.requireCloud("--reveal", "it reads secrets through the runtime API; locally they are in .keystroke/credentials.json and .env");
  const api = s.api();
  if (parseToken(s.activeToken()!.token)?.kind !== "rt") {
    throw usageError("--reveal needs a runtime token (ks_rt_…): only the execution plane may read secrets.", "Run it with KEYSTROKE_TOKEN=<runtime token>, or leave out --reveal.");
  }
  if (!body.consumer) throw usageError("--reveal needs --workflow, --agent or --poll with --consumer: a runtime resolve is always for one consumer.");
  if (body.user !== undefined) throw usageError("--reveal cannot use --user: a runtime token acts for no member.");
  return api.call("POST", "/v1/runtime/resolve", RuntimeAnswer, { ...body, consumer: body.consumer });
}

export function registerAssignments(creds: Command, io: Io): void {
  targetOptions(creds.command("consumers").description("Bindable consumers of one workflow, agent or poll"), "whose consumers to list").action(
    act(io, async (s, opts: TargetFlags) => {
      const t = consumerTarget(opts);
      const list = await s.backend().consumers(t.kind, t.target);
      if (s.globals.json) printJson(io, { consumers: list });
      else printConsumers(io, list);
    }),
  );

  targetOptions(creds.command("assign").description("Pin a credential to a consumer; no --consumer (or *) = every consumer of the target"), "to assign to")
    .option("--consumer <id>", "a step id, tool slug or action slug; * or absent = every consumer of the target")
    .requiredOption("--credential <ref>", "the credential: a slug, a qualified reference or an id")
    .action(
      act(io, async (s, opts: TargetFlags & { consumer?: string; credential: string }) => {
        const a = await s.backend().putAssignment({ ...assignmentKey(opts), credential: opts.credential });
        printAnswer(s, a, `Assigned ${a.credential?.ref ?? "the credential"} to ${a.kind} ${a.target}, ${a.consumer === "*" ? "every consumer (*)" : `consumer ${a.consumer}`}.`);
      }),
    );

  targetOptions(creds.command("unassign").description("Remove one assignment"), "to unassign from")
    .option("--consumer <id>", "the consumer; * or absent = the target's wildcard assignment")
    .requiredOption("--app <app>", "the app of the assignment")
    .action(
      act(io, async (s, opts: TargetFlags & { consumer?: string; app: string }) => {
        const a = await s.backend().deleteAssignment({ ...assignmentKey(opts), app: opts.app });
        printAnswer(s, { deleted: a }, `Unassigned ${a.app} from ${a.kind} ${a.target}, ${consumerText(a.consumer)} (was ${a.credential?.ref ?? "a credential hidden from you"}).`);
      }),
    );

  targetOptions(creds.command("assignments").description("Assignments, all or of one workflow, agent or poll"), "whose assignments to list").action(
    act(io, async (s, opts: TargetFlags) => {
      const t = consumerTarget(opts, true);
      const list = await s.backend().assignments(t ? { kind: t.kind as ConsumerKind, target: t.target } : {});
      if (s.globals.json) printJson(io, { assignments: list });
      else printAssignments(io, list);
    }),
  );

  targetOptions(creds.command("resolve <app>").description("Dry-run the resolver: which credential a run would get, the rule that matched, and the fix on errors"), "the run belongs to")
    .option("--consumer <id>", "the consumer of the run (with --workflow, --agent or --poll)")
    .option("--user", "the run acts for you (user credentials count only when pinned or assigned)")
    .option("--scope <scope>", "pin the requirement to one scope: org, project or user")
    .option("--credential <ref>", "an explicit credential, as a run may name one")
    .option("--reveal", "also print the secret fields (cloud, runtime token only)")
    .action(
      act(io, async (s, app: string, opts: ResolveOpts) => {
        if (opts.scope !== undefined && !["org", "project", "user"].includes(opts.scope)) throw usageError("--scope must be org, project or user.");
        const body = await runContext(s, app, opts);
        const answer = opts.reveal ? await reveal(s, body) : await s.backend().explain(body);
        if (s.globals.json) printJson(io, answer);
        else answer.results.forEach((r) => printDecision(io, r));
        const bad = answer.results.find((r) => !r.ok);
        if (bad && !bad.ok) throw failure(`${bad.app}: ${bad.error.message}`, { code: bad.error.code, fix: bad.error.fix });
      }),
    );
}
