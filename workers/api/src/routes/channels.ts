import { createRoute } from "@hono/zod-openapi";
import { AvailableAnswer, BindChannelBody, ChannelBinding, ChannelParam, ChannelsAnswer, SessionsAnswer, SessionsQuery } from "../../../../lib/schemas/slack";
import { z } from "zod";
import { BEARER, ErrorEnvelope, ERRORS, json, jsonBody, router } from "../http/openapi";
import { unwrap, vaultFor } from "../http/vault";

/** Slack channel bindings (SPEC sections 9 and 11): one vault call per request, audited there. */
const tags = ["channels"];

export const channels = router()
  .openapi(
    createRoute({ method: "get", path: "/v1/channels", tags, security: BEARER, operationId: "listChannels", summary: "List Slack installations and bindings", description: "Slack installations and the channel bindings the caller can see.", responses: { 200: json(ChannelsAnswer), ...ERRORS } }),
    async (c) => {
      const { token, vault } = vaultFor(c);
      return c.json(unwrap(await vault.listChannels(token)), 200);
    },
  )
  .openapi(
    createRoute({
      method: "get", path: "/v1/channels/available", tags, security: BEARER,
      operationId: "listAvailableChannels", summary: "List bindable channels", description: "Channels a binding can target: Slack's conversations.list plus channels the bot joined, and `dm`.",
      responses: { 200: json(AvailableAnswer), ...ERRORS, 429: json(ErrorEnvelope, "rate_limited: Slack is rate limiting"), 502: json(ErrorEnvelope, "upstream_error: Slack did not answer") },
    }),
    async (c) => {
      const { token, vault } = vaultFor(c);
      return c.json(unwrap(await vault.listAvailableChannels(token)), 200);
    },
  )
  .openapi(
    createRoute({ method: "post", path: "/v1/channels/bindings", tags, security: BEARER, operationId: "bindChannel", summary: "Bind a channel", description: "Binds a channel (or `dm`) to an agent; binding it again changes agent, mode or project.", request: { body: jsonBody(BindChannelBody) }, responses: { 200: json(ChannelBinding), ...ERRORS } }),
    async (c) => {
      const { token, vault } = vaultFor(c);
      return c.json(unwrap(await vault.bindChannel(token, c.req.valid("json"))), 200);
    },
  )
  .openapi(
    createRoute({ method: "delete", path: "/v1/channels/bindings/{channel}", tags, security: BEARER, operationId: "unbindChannel", summary: "Unbind a channel", description: "Removes the binding of a channel named by id, name or `dm`.", request: { params: ChannelParam }, responses: { 200: json(z.object({ deleted: ChannelBinding })), ...ERRORS } }),
    async (c) => {
      const { token, vault } = vaultFor(c);
      return c.json(unwrap(await vault.unbindChannel(token, c.req.valid("param").channel)), 200);
    },
  )
  .openapi(
    createRoute({ method: "get", path: "/v1/channels/sessions", tags, security: BEARER, operationId: "listAgentSessions", summary: "List agent sessions", description: "Agent sessions, one per Slack thread, newest first.", request: { query: SessionsQuery }, responses: { 200: json(SessionsAnswer), ...ERRORS } }),
    async (c) => {
      const { token, vault } = vaultFor(c);
      return c.json(unwrap(await vault.listSlackSessions(token, c.req.valid("query"))), 200);
    },
  );
