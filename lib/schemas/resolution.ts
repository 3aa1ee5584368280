import { z } from "zod";
import { safeText, Slug, Timestamp } from "./common";
import { Connection, ScopeList } from "./connection";
import { Credential } from "./credentials";
import { PageQuery } from "../paging";

export const ConsumerKind = z.enum(["workflow", "agent", "poll"]);
export type ConsumerKind = z.infer<typeof ConsumerKind>;

/**
 * Consumer ids are the execution plane's own names, taken as they come (SPEC section 4): step ids
 * (`step:send-welcome#0`), tool slugs, action slugs. Any printable ASCII without whitespace, so
 * `#`, `/`, `?`, `%` and `&` are legal: every URL that carries one must percent-encode it.
 */
export const CONSUMER_ID_PATTERN = /^[\x21-\x7e]{1,200}$/;
const CONSUMER_ID_RULE = "must be 1-200 printable ASCII characters without spaces";
/** One consumer: `*` means every consumer of the target and is never an id. */
export const ConsumerId = z
  .string()
  .regex(CONSUMER_ID_PATTERN, CONSUMER_ID_RULE)
  .refine((s) => s !== "*", "must name one consumer: `*` means every consumer and is never a consumer id");
/** Where assignments name a consumer: an id, or `*` (the same as absent) for every consumer of the target. */
export const AssignmentConsumer = z.string().regex(CONSUMER_ID_PATTERN, CONSUMER_ID_RULE).describe("a consumer id, or * for every consumer of the target");
export const Ref = safeText(z.string().min(1, "must not be empty").max(300, "must be at most 300 characters"));

export const ConsumerRef = z.strictObject({ kind: ConsumerKind, target: Slug, id: ConsumerId });

export const RequirementSchema = z.strictObject({
  app: Slug,
  scope: z.enum(["org", "project", "user"]).optional(),
  credential: Ref.optional(),
  scopes: ScopeList.min(1, "name at least one scope, or leave scopes out").optional().describe("OAuth scopes the credential must have been granted; one lacking any is credential_unavailable"),
});

const RunContextFields = {
  project: Slug.optional(),
  user: safeText(z.string().min(1).max(320)).optional().describe("who the run acts for: a member id or email"),
  requirements: z.array(RequirementSchema).min(1, "name at least one requirement").max(50, "at most 50 requirements"),
};

export const RuntimeResolveBody = z.strictObject({ ...RunContextFields, consumer: ConsumerRef });
export type RuntimeResolveBody = z.infer<typeof RuntimeResolveBody>;
export const ExplainBody = z.strictObject({ ...RunContextFields, consumer: ConsumerRef.optional() });
export type ExplainBody = z.infer<typeof ExplainBody>;

export const Rule = z.enum(["explicit", "assignment", "assignment_wildcard", "pinned_scope", "project", "org"]);
export type Rule = z.infer<typeof Rule>;
export const Skipped = z.object({ credential: z.string(), id: z.string(), reason: z.string() });
export type Skipped = z.infer<typeof Skipped>;

/** The refusals the rules themselves give (SPEC section 4, lib/resolve.ts): all a dry run can answer. */
export const ResolveRefusalCode = z.enum(["missing_credentials", "ambiguous_credentials", "credential_unavailable"]);
export type ResolveRefusalCode = z.infer<typeof ResolveRefusalCode>;
/** A runtime answer can also fail upstream: the OAuth refresh before hand-out (SPEC section 4) failed. */
export const ResolveErrorCode = z.enum([...ResolveRefusalCode.options, "upstream_error"]);
export type ResolveErrorCode = z.infer<typeof ResolveErrorCode>;

const ResolveErrorDetails = z.object({
  app: z.string(),
  tried: z.array(z.string()).optional(),
  candidates: z.array(z.object({ credential: z.string(), id: z.string() })).optional(),
  credential: z.string().optional(),
  id: z.string().optional(),
  status: z.string().optional(),
  status_reason: z.string().optional().describe("why the credential is not handed out (SPEC section 14)"),
  connect_url: z.string().optional(),
  missing_scopes: z.array(z.string()).optional().describe("the requirement's scopes the credential was not granted"),
});
export const ResolveRefusal = z.object({ code: ResolveRefusalCode, message: z.string(), fix: z.string(), details: ResolveErrorDetails });
export type ResolveRefusal = z.infer<typeof ResolveRefusal>;
export const ResolveError = ResolveRefusal.extend({ code: ResolveErrorCode });
export type ResolveError = z.infer<typeof ResolveError>;
/** The resolver's "no" (lib/resolve.ts); its "yes" carries the candidate it picked, not the API's Credential. */
export const ResolveFailure = z.object({ ok: z.literal(false), error: ResolveRefusal });
export type ResolveFailure = z.infer<typeof ResolveFailure>;

const DecisionFields = { app: z.string(), credential: Credential, connection: Connection, rule: Rule, explanation: z.string(), skipped: z.array(Skipped) };

export const ExplainResult = z.union([
  z.object({ ok: z.literal(true), ...DecisionFields }),
  z.object({ ok: z.literal(false), app: z.string(), error: ResolveRefusal }),
]);
export const RuntimeResult = z.union([
  z.object({ ok: z.literal(true), ...DecisionFields, fields: z.record(z.string(), z.string()).describe("the secret fields: only here") }),
  z.object({ ok: z.literal(false), app: z.string(), error: ResolveError }),
]);
export type ExplainResult = z.infer<typeof ExplainResult>;
export type RuntimeResult = z.infer<typeof RuntimeResult>;
export const ExplainAnswer = z.object({ ok: z.boolean(), results: z.array(ExplainResult) });
export const RuntimeAnswer = z.object({ ok: z.boolean(), results: z.array(RuntimeResult) });

export const RuntimeEvent = z.strictObject({ type: z.literal("step_completed"), workflow: Slug, step: ConsumerId, run_id: z.string().min(1).max(200) });
export type RuntimeEvent = z.infer<typeof RuntimeEvent>;
export const AgentTools = z.strictObject({ tools: z.array(ConsumerId).max(500, "at most 500 tools") });

export const AssignmentView = z.object({
  kind: ConsumerKind,
  target: z.string(),
  consumer: z.string().describe("a consumer id, or * for every consumer of the target"),
  app: z.string(),
  credential: z
    .object({ id: z.string(), ref: z.string(), status: z.string() })
    .nullable()
    .describe("null when the pin points at a credential the caller may not see (another user's, or a project they are not in): the pin exists, what it points at is hidden"),
  created_by: z.string(),
  created_at: Timestamp,
});
export type AssignmentView = z.infer<typeof AssignmentView>;

export const AssignmentsQuery = z.strictObject({ kind: ConsumerKind.optional(), target: Slug.optional(), ...PageQuery.shape });
export const PutAssignmentBody = z.strictObject({ kind: ConsumerKind, target: Slug, consumer: AssignmentConsumer.optional(), credential: Ref });
export type PutAssignmentBody = z.infer<typeof PutAssignmentBody>;
export const DeleteAssignmentBody = z.strictObject({ kind: ConsumerKind, target: Slug, consumer: AssignmentConsumer.optional(), app: Slug });
export type DeleteAssignmentBody = z.infer<typeof DeleteAssignmentBody>;

export const ConsumersQuery = z.strictObject({ kind: ConsumerKind, target: Slug, ...PageQuery.shape });
export const ConsumerView = z.object({
  kind: ConsumerKind,
  target: z.string(),
  id: z.string(),
  sources: z.array(z.enum(["event", "agent_tools", "assignment"])),
  last_seen_at: Timestamp.nullable(),
  assignments: z.array(z.object({ app: z.string(), credential: z.string().nullable().describe("null when hidden from the caller, as in AssignmentView"), wildcard: z.boolean() })),
});
export type ConsumerView = z.infer<typeof ConsumerView>;
