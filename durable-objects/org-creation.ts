import { AppError } from "../lib/errors";
import type { Org } from "../lib/schemas/identity";
import type { CreatedInvitation } from "../lib/schemas/orgs";
import type { VaultEnv } from "./env";
import { vaultStub } from "./vault-stub";

/**
 * Creating an org (SPEC section 12), one path for the operator's `POST /v1/orgs`, a signed-in
 * user's `/orgs/new` and the dev seed: the slug claimed in the Directory (which mints the signed
 * org id), the vault provisioned with no member and no token, then either `owner` as its first
 * member (/orgs/new) or an owner invitation for `inviteEmail` (the operator, the seed). A taken
 * slug is a `conflict` naming `slug`; a creation that fails after the claim gives the slug back.
 */
export async function createOrg(
  env: Pick<VaultEnv, "VAULT" | "DIRECTORY" | "ORG_ID_KEY">,
  body: { slug: string; name: string },
  owner: { email: string; name: string } | null,
  inviteEmail: string | null,
  publicUrl: string,
): Promise<{ org: Org; invitation: CreatedInvitation | null }> {
  const directory = env.DIRECTORY.getByName("global");
  const org = await directory.ensureOrg(body.slug, body.name);
  if (!org.created) throw new AppError("conflict", `The org slug ${body.slug} is taken.`, { details: { field: "slug" }, fix: "Pick another slug." });
  const spec = { id: org.id, slug: org.slug, name: org.name };
  try {
    // The owner's link first: an org whose owner sign-in cannot find is no org.
    if (owner) await directory.addUser(owner.email, org.id);
    const r = await vaultStub(env, org.id).provisionNewOrg(spec, owner, inviteEmail, publicUrl);
    if (!r.ok) throw AppError.fromBody(r.error, r.status);
    return { org: spec, invitation: r.value.invitation };
  } catch (e) {
    // Not usable yet: the slug is given back, so the same request can simply be sent again.
    await directory.releaseOrg(org.id).catch(() => undefined);
    throw e;
  }
}
