import { createRoute } from "@hono/zod-openapi";
import type { Context } from "hono";
import { AppError } from "../../../../lib/errors";
import { CreateOrgBody, CreatedOrg, MyOrgs } from "../../../../lib/schemas/orgs";
import { constantTimeEqual, hashToken } from "../../../../lib/tokens";
import { createOrg as createOrgIn } from "../../../../durable-objects/org-creation";
import { BEARER, ERRORS, json, jsonBody, router } from "../http/openapi";
import { publicUrl, unwrap, vaultFor, type ApiEnv } from "../http/vault";

const ADMIN = [{ platformAdmin: [] }];

/**
 * The operator's bearer: PLATFORM_ADMIN_TOKEN, never a ks_ token, so it is checked here and no
 * vault is asked. Both sides are hashed first, so the comparison is constant time in the secret's
 * length too. Unset = the operator API is off.
 */
async function requirePlatformAdmin(c: Context<ApiEnv>): Promise<void> {
  const expected = c.env.PLATFORM_ADMIN_TOKEN;
  const given = /^Bearer\s+(\S+)$/i.exec(c.req.header("authorization") ?? "")?.[1];
  const refuse = () => new AppError("unauthorized", "This call needs the platform admin token: `Authorization: Bearer <PLATFORM_ADMIN_TOKEN>`.", { fix: "Only the operator of this deployment creates orgs here (README, Configuration)." });
  if (!expected) throw new AppError("unauthorized", "The operator API is off on this deployment.", { fix: "The operator sets the secret PLATFORM_ADMIN_TOKEN (README, Configuration)." });
  if (!given) throw refuse();
  const [a, b] = await Promise.all([hashToken(given), hashToken(expected)]);
  if (!constantTimeEqual(a, b)) throw refuse();
}

/** Creates an org through the one creation path (durable-objects/org-creation.ts), with this deployment's public URL. */
export function createOrg(c: Context<ApiEnv>, body: { slug: string; name: string }, owner: { email: string; name: string } | null, inviteEmail: string | null) {
  return createOrgIn(c.env, body, owner, inviteEmail, publicUrl(c));
}

export const orgs = router();
// The admin token is checked before the body is read, so a stranger learns nothing from validation.
orgs.use("/v1/orgs", async (c, next) => {
  if (c.req.method === "POST") await requirePlatformAdmin(c);
  await next();
});
orgs.openapi(
  createRoute({
    method: "post", path: "/v1/orgs", tags: ["orgs"], security: ADMIN, operationId: "createOrg",
    summary: "Create an org (operator)",
    description: "The operator's call, with `PLATFORM_ADMIN_TOKEN` as the bearer (not a member token): creates the org and an owner invitation for `owner_email`, whose link is in this answer only (SPEC section 12). A taken slug is a `conflict` naming `slug`.",
    request: { body: jsonBody(CreateOrgBody) },
    responses: { 201: json(CreatedOrg), ...ERRORS },
  }),
  async (c) => {
    const body = c.req.valid("json");
    const { org, invitation } = await createOrg(c, body, null, body.owner_email);
    return c.json({ org, invitation: invitation! }, 201);
  },
);

orgs.openapi(
  createRoute({
    method: "get", path: "/v1/me/orgs", tags: ["identity"], security: BEARER, operationId: "listMyOrgs",
    summary: "List my orgs",
    description: "The orgs the caller's person (the member behind a member token or API key) belongs to, by their email in this org; `current` marks the token's own org. A runtime token is refused (403): it stands for no person.",
    responses: { 200: json(MyOrgs), ...ERRORS },
  }),
  async (c) => {
    const { token, vault } = vaultFor(c);
    // One vault call (who the caller is) and one Directory read (that person's orgs).
    const me = unwrap(await vault.describeMe(token));
    if (me.token.kind === "rt" || !me.member) throw new AppError("forbidden", "A runtime token stands for no person, so it has no orgs to list.", { fix: "Use a member token (`keystroke auth login`) or an API key." });
    const found = await c.env.DIRECTORY.getByName("global").orgsOfEmails([me.member.email]);
    const list = found.map(({ org }) => ({ id: org.id, slug: org.slug, name: org.name, current: org.id === me.org.id }));
    // The token's org is always listed, even if the Directory's index lags behind the vault.
    if (!list.some((o) => o.current)) list.unshift({ id: me.org.id, slug: me.org.slug, name: me.org.name, current: true });
    c.header("cache-control", "no-store");
    return c.json({ orgs: list }, 200);
  },
);
