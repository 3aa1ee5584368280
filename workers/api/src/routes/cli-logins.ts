import { createRoute, z } from "@hono/zod-openapi";
import { AppError } from "../../../../lib/errors";
import type { Context } from "hono";
import { addressKey } from "../../../../lib/client-address";
import { CLI_LOGIN_ID_PATTERN, CliLoginCreated, CliLoginId, CliLoginPoll, CliLoginView, CreateCliLoginBody, DecideCliLoginBody, DenyCliLoginBody, LoginSecret } from "../../../../lib/schemas/cli";
import { hashToken } from "../../../../lib/tokens";
import { vaultStub } from "../../../../durable-objects/vault-stub";
import { BEARER, ERRORS, ErrorEnvelope, json, jsonBody, router } from "../http/openapi";
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

/** Display text from a request header: printable ASCII only, bounded (the page shows it as text). */
const headerText = (value: string | undefined, max: number): string | null => {
  const text = (value ?? "").replace(/[^\x20-\x7e]/g, "").trim().slice(0, max);
  return text === "" ? null : text;
};

/**
 * Starting a login is unauthenticated, so it is limited per client address (the Workers Rate
 * Limiting binding, `CLI_LOGIN_LIMITER` in wrangler.toml), before anything else is looked at.
 * Nothing is counted per org: strangers filling an org-wide cap would lock its members out.
 */
async function limitStarts(c: Context<ApiEnv>): Promise<string | null> {
  const address = headerText(c.req.header("cf-connecting-ip"), 64);
  const { success } = await c.env.CLI_LOGIN_LIMITER.limit({ key: `cli-login:${addressKey(address)}` });
  if (!success) {
    c.header("retry-after", "60");
    throw new AppError("rate_limited", "Too many CLI logins were started from your address.", { fix: "Wait a minute and run `keystroke auth login` again." });
  }
  return address;
}

/** The login id names its org, like a token does: no lookup to find the vault (a forged org: 404, no vault touched). */
function vaultOfLogin(c: Context<ApiEnv>, id: string) {
  const orgId = CLI_LOGIN_ID_PATTERN.exec(id)![1]!;
  return vaultStub(c.env, orgId, () => new AppError("not_found", "This CLI login does not exist, has expired or was already used.", { fix: "Run `keystroke auth login` again." }));
}

export const cliLogins = router()
  .openapi(
    createRoute({ method: "post", path: "/v1/cli-logins", tags, security: BEARER, operationId: "createCliLogin", summary: "Start a CLI login", description: "Starts a CLI browser login for an org. Bearer: the CLI's own login secret, not a token. Answers the approval page and the code the member must type there; the login expires in 10 minutes. Limited per client address (429 with Retry-After).", request: { body: jsonBody(CreateCliLoginBody) }, responses: { 201: json(CliLoginCreated), ...ERRORS, 429: { description: "rate_limited: too many logins started from this address", content: { "application/json": { schema: ErrorEnvelope } } } } }),
    async (c) => {
      const address = await limitStarts(c);
      const verifier = await hashToken(loginSecret(c));
      const body = c.req.valid("json");
      const org = await c.env.DIRECTORY.getByName("global").orgBySlug(body.org);
      if (!org) throw new AppError("not_found", `There is no org \`${body.org}\`.`, { fix: "Check the org's slug (`--org`).", details: { field: "org" } });
      const vault = vaultStub(c.env, org.id);
      const origin = { address, userAgent: headerText(c.req.header("user-agent"), 200) };
      return c.json(unwrap(await vault.createCliLogin(body, verifier, publicUrl(c), origin)), 201);
    },
  )
  .openapi(
    createRoute({ method: "get", path: "/v1/cli-logins/{id}", tags, security: BEARER, operationId: "pollCliLogin", summary: "Poll a CLI login", description: "Bearer: the same login secret. Answers pending, denied, or approved with a new member token, exactly once.", request: { params: IdParam }, responses: { 200: json(CliLoginPoll), ...ERRORS } }),
    async (c) => {
      const secret = loginSecret(c);
      const { id } = c.req.valid("param");
      c.header("cache-control", "no-store");
      return c.json(unwrap(await vaultOfLogin(c, id).pollCliLogin(id, secret)), 200);
    },
  )
  .openapi(
    createRoute({ method: "get", path: "/v1/cli-logins/{id}/details", tags, security: BEARER, operationId: "getCliLogin", summary: "Show a pending CLI login", description: "For the member who is asked to approve it (member token): the client's label, address, user agent and time; never the code.", request: { params: IdParam }, responses: { 200: json(CliLoginView), ...ERRORS } }),
    async (c) => {
      const { id } = c.req.valid("param");
      const { token } = vaultFor(c);
      return c.json(unwrap(await vaultOfLogin(c, id).getCliLogin(token, id)), 200);
    },
  )
  .openapi(
    createRoute({ method: "post", path: "/v1/cli-logins/{id}/approve", tags, security: BEARER, operationId: "approveCliLogin", summary: "Approve a CLI login", description: "Approves the login as the calling member (member token) with the code typed from the terminal; a wrong code is counted and the fifth ends the login. `token_ttl_seconds` may shorten the token's lifetime.", request: { params: IdParam, body: jsonBody(DecideCliLoginBody) }, responses: { 200: json(CliLoginView), ...ERRORS } }),
    async (c) => {
      const { id } = c.req.valid("param");
      const { token } = vaultFor(c);
      const body = c.req.valid("json");
      return c.json(unwrap(await vaultOfLogin(c, id).decideCliLogin(token, id, { approve: true, code: body.code, tokenTtlSeconds: body.token_ttl_seconds })), 200);
    },
  )
  .openapi(
    createRoute({ method: "post", path: "/v1/cli-logins/{id}/deny", tags, security: BEARER, operationId: "denyCliLogin", summary: "Deny a CLI login", description: "Denies the login (member token; no code needed); the CLI's poll then answers denied.", request: { params: IdParam, body: jsonBody(DenyCliLoginBody) }, responses: { 200: json(CliLoginView), ...ERRORS } }),
    async (c) => {
      const { id } = c.req.valid("param");
      const { token } = vaultFor(c);
      return c.json(unwrap(await vaultOfLogin(c, id).decideCliLogin(token, id, { approve: false })), 200);
    },
  )
  .openapi(
    createRoute({ method: "post", path: "/v1/cli-logins/logout", tags, security: BEARER, operationId: "cliLogout", summary: "Log the CLI out", description: "Revokes the calling token if a CLI login minted it (`keystroke auth logout`); other tokens are left alone.", responses: { 200: json(z.object({ revoked: z.boolean() })), ...ERRORS } }),
    async (c) => {
      const { token, vault } = vaultFor(c);
      return c.json(unwrap(await vault.logOutCli(token)), 200);
    },
  );
