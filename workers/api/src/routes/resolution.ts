import { createRoute, z } from "@hono/zod-openapi";
import { Slug } from "../../../../lib/schemas/common";
import {
  AgentTools,
  AssignmentsQuery,
  AssignmentView,
  ConsumersQuery,
  ConsumerView,
  DeleteAssignmentBody,
  ExplainAnswer,
  ExplainBody,
  PutAssignmentBody,
  RuntimeAnswer,
  RuntimeEvent,
  RuntimeResolveBody,
} from "../../../../lib/schemas/resolution";
import { BEARER, ERRORS, json, jsonBody, router } from "../http/openapi";
import { publicUrl, unwrap, vaultFor } from "../http/vault";
import { NextCursor } from "../../../../lib/paging";

export const resolution = router()
  .openapi(
    createRoute({ method: "post", path: "/v1/runtime/resolve", tags: ["runtime"], security: BEARER, operationId: "runtimeResolve", summary: "Resolve credentials for a run", description: "Runtime token only: applies the resolution rules (SPEC section 4) to each requirement and answers the chosen credentials with their secret fields, or an error per requirement.", request: { body: jsonBody(RuntimeResolveBody) }, responses: { 200: json(RuntimeAnswer), ...ERRORS } }),
    async (c) => {
      const { token, vault } = vaultFor(c);
      const answer = unwrap(await vault.resolveForRuntime(token, c.req.valid("json"), publicUrl(c)));
      c.header("cache-control", "no-store");
      return c.json(answer, 200);
    },
  )
  .openapi(
    createRoute({ method: "post", path: "/v1/runtime/events", tags: ["runtime"], security: BEARER, operationId: "runtimeEvent", summary: "Report a runtime event", description: "Runtime token only: a `step_completed` event makes the workflow step it names a known consumer.", request: { body: jsonBody(RuntimeEvent) }, responses: { 200: json(z.object({ consumer: z.object({ kind: z.literal("workflow"), target: z.string(), id: z.string() }) })), ...ERRORS } }),
    async (c) => {
      const { token, vault } = vaultFor(c);
      return c.json(unwrap(await vault.recordRuntimeEvent(token, c.req.valid("json"))), 200);
    },
  )
  .openapi(
    createRoute({ method: "put", path: "/v1/runtime/agents/{slug}/tools", tags: ["runtime"], security: BEARER, operationId: "registerAgentTools", summary: "Register an agent's tools", description: "Runtime token only: the agent's tool slugs, each a consumer that can be pinned, replace the ones known before.", request: { params: z.object({ slug: Slug }), body: jsonBody(AgentTools) }, responses: { 200: json(z.object({ agent: z.string(), tools: z.array(z.string()) })), ...ERRORS } }),
    async (c) => {
      const { token, vault } = vaultFor(c);
      return c.json(unwrap(await vault.registerAgentTools(token, c.req.valid("param").slug, c.req.valid("json").tools)), 200);
    },
  )
  .openapi(
    createRoute({ method: "post", path: "/v1/resolve/explain", tags: ["resolution"], security: BEARER, operationId: "explainResolution", summary: "Explain a resolution", description: "A dry run of runtime resolution for a member: which credential each requirement would get and why, never a secret.", request: { body: jsonBody(ExplainBody) }, responses: { 200: json(ExplainAnswer), ...ERRORS } }),
    async (c) => {
      const { token, vault } = vaultFor(c);
      return c.json(unwrap(await vault.explain(token, c.req.valid("json"), publicUrl(c))), 200);
    },
  )
  .openapi(
    createRoute({ method: "get", path: "/v1/consumers", tags: ["assignments"], security: BEARER, operationId: "listConsumers", summary: "List consumers", description: "The bindable consumers of a workflow, agent or poll target.", request: { query: ConsumersQuery }, responses: { 200: json(z.object({ consumers: z.array(ConsumerView), next_cursor: NextCursor })), ...ERRORS } }),
    async (c) => {
      const { token, vault } = vaultFor(c);
      const q = c.req.valid("query");
      return c.json(unwrap(await vault.listConsumers(token, q.kind, q.target, { limit: q.limit, cursor: q.cursor })), 200);
    },
  )
  .openapi(
    createRoute({ method: "get", path: "/v1/assignments", tags: ["assignments"], security: BEARER, operationId: "listAssignments", summary: "List assignments", description: "Assignments, optionally of one kind and target.", request: { query: AssignmentsQuery }, responses: { 200: json(z.object({ assignments: z.array(AssignmentView), next_cursor: NextCursor })), ...ERRORS } }),
    async (c) => {
      const { token, vault } = vaultFor(c);
      return c.json(unwrap(await vault.listAssignments(token, c.req.valid("query"))), 200);
    },
  )
  .openapi(
    createRoute({ method: "put", path: "/v1/assignments", tags: ["assignments"], security: BEARER, operationId: "putAssignment", summary: "Pin a credential", description: "Pins a credential to one consumer of a target, or to every consumer of it when `consumer` is absent (`*`).", request: { body: jsonBody(PutAssignmentBody) }, responses: { 200: json(AssignmentView), ...ERRORS } }),
    async (c) => {
      const { token, vault } = vaultFor(c);
      return c.json(unwrap(await vault.putAssignment(token, c.req.valid("json"))), 200);
    },
  )
  .openapi(
    createRoute({ method: "delete", path: "/v1/assignments", tags: ["assignments"], security: BEARER, operationId: "deleteAssignment", summary: "Remove a pin", description: "Removes the assignment of one app for one consumer of a target (absent consumer = `*`).", request: { body: jsonBody(DeleteAssignmentBody) }, responses: { 200: json(z.object({ deleted: AssignmentView })), ...ERRORS } }),
    async (c) => {
      const { token, vault } = vaultFor(c);
      return c.json(unwrap(await vault.deleteAssignment(token, c.req.valid("json"))), 200);
    },
  );
