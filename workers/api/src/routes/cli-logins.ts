import { createRoute, z } from "@hono/zod-openapi";
import { AppError } from "../../../../lib/errors";
import type { Context } from "hono";
import { CLI_LOGIN_ID_PATTERN, CliLoginCreated, CliLoginId, CliLoginPoll, CliLoginView, CreateCliLoginBody, DecideCliLoginBody, LoginSecret } from "../../../../lib/schemas/cli";
import { hashToken } from "../../../../lib/tokens";
import { BEARER, ERRORS, json, jsonBody, router } from "../http/openapi";
import { publicUrl, unwrap, vaultFor, type ApiEnv } from "../http/vault";

/**
 * CLI browser login (SPEC section 11; the handoff is described in durable-objects/vault/cli-logins.ts).
 * The CLI has no token yet: creating and polling a login are authenticated by the CLI's own login
 * secret as the bearer. Approving needs a member token.
 */
const IdParam = z.object({ id: CliLoginId });
const tags = ["cli-logins"];

/** The bearer of create and poll: the CLI's login secret, never a platform token. */
function loginSecret(c: Context<ApiEnv>): string {
  const match = /^Bearer\s+(\S+)$/i.exec(c.req.header("authorization") ?? "");
  if (!match || !LoginSecret.safeParse(match[1]).success) {
    throw new AppError("unauthorized", "Send the CLI's login secret: `Authorization: Bearer <32 random bytes, base64url>`.", { fix: "Run `keystroke auth login`." });
  }
  return match[1]!;
}

/** The login id names its org, like a token does: no lookup to find the vault. */
function vaultOfLogin(c: Context<ApiEnv>, id: string) {
  const orgId = CLI_LOGIN_ID_PATTERN.exec(id)![1]!;
  return c.env.VAULT.get(c.env.VAULT.idFromName(orgId));
}

export const cliLogins = router()
  .openapi(
    createRoute({ method: "post", path: "/v1/cli-logins", tags, security: BEARER, summary: "Start a CLI browser login for an org. Bearer: the CLI's login secret (not a token). Answers the approval page and the code to confirm; expires in 10 minutes", request: { body: jsonBody(CreateCliLoginBody) }, responses: { 201: json(CliLoginCreated), ...ERRORS } }),
    async (c) => {
      const verifier = await hashToken(loginSecret(c));
      const body = c.req.valid("json");
      const org = await c.env.DIRECTORY.getByName("global").orgBySlug(body.org);
      if (!org) throw new AppError("not_found", `There is no org \`${body.org}\`.`, { fix: "Check the org's slug (`--org`).", details: { field: "org" } });
      const vault = c.env.VAULT.get(c.env.VAULT.idFromName(org.id));
      return c.json(unwrap(await vault.createCliLogin(body, verifier, publicUrl(c))), 201);
    },
  )
  .openapi(
    createRoute({ method: "get", path: "/v1/cli-logins/{id}", tags, security: BEARER, summary: "Poll a CLI login. Bearer: the same login secret. Answers pending, denied, or approved with a new member token, exactly once", request: { params: IdParam }, responses: { 200: json(CliLoginPoll), ...ERRORS } }),
    async (c) => {
      const secret = loginSecret(c);
      const { id } = c.req.valid("param");
      c.header("cache-control", "no-store");
      return c.json(unwrap(await vaultOfLogin(c, id).pollCliLogin(id, secret)), 200);
    },
  )
  .openapi(
    createRoute({ method: "get", path: "/v1/cli-logins/{id}/details", tags, security: BEARER, summary: "A pending CLI login, for the member who is asked to approve it (member token)", request: { params: IdParam }, responses: { 200: json(CliLoginView), ...ERRORS } }),
    async (c) => {
      const { id } = c.req.valid("param");
      const { token } = vaultFor(c);
      return c.json(unwrap(await vaultOfLogin(c, id).cliLogin(token, id)), 200);
    },
  )
  .openapi(
    createRoute({ method: "post", path: "/v1/cli-logins/{id}/approve", tags, security: BEARER, summary: "Approve a CLI login as the calling member (member token); the code must match", request: { params: IdParam, body: jsonBody(DecideCliLoginBody) }, responses: { 200: json(CliLoginView), ...ERRORS } }),
    async (c) => {
      const { id } = c.req.valid("param");
      const { token } = vaultFor(c);
      return c.json(unwrap(await vaultOfLogin(c, id).decideCliLogin(token, id, c.req.valid("json").code, true)), 200);
    },
  )
  .openapi(
    createRoute({ method: "post", path: "/v1/cli-logins/{id}/deny", tags, security: BEARER, summary: "Deny a CLI login (member token)", request: { params: IdParam, body: jsonBody(DecideCliLoginBody) }, responses: { 200: json(CliLoginView), ...ERRORS } }),
    async (c) => {
      const { id } = c.req.valid("param");
      const { token } = vaultFor(c);
      return c.json(unwrap(await vaultOfLogin(c, id).decideCliLogin(token, id, c.req.valid("json").code, false)), 200);
    },
  )
  .openapi(
    createRoute({ method: "post", path: "/v1/cli-logins/logout", tags, security: BEARER, summary: "Revoke the calling token if a CLI login minted it (`keystroke auth logout`); other tokens are left alone", responses: { 200: json(z.object({ revoked: z.boolean() })), ...ERRORS } }),
    async (c) => {
      const { token, vault } = vaultFor(c);
      return c.json(unwrap(await vault.cliLogout(token)), 200);
    },
  );
