import { deterministicToken, hashToken, tokenPreview, type TokenKind } from "../../../lib/tokens";
import type { Directory } from "../../../durable-objects/directory";
import type { OrgVault } from "../../../durable-objects/org-vault";
import type { ProvisionSpec } from "../../../durable-objects/vault/identity";
import type { SeedAnswer } from "../../../lib/schemas/dev";

export type { SeedAnswer };

export interface SeedEnv {
  VAULT: DurableObjectNamespace<OrgVault>;
  DIRECTORY: DurableObjectNamespace<Directory>;
  DEV_SEED_SECRET: string;
  DEV_MODE?: string;
}

/** The demo org of SPEC section 11. Changing it changes what every dev and test session sees. */
export const DEMO = {
  org: { slug: "acme", name: "Acme" },
  members: [
    { email: "alice@acme.test", name: "Alice", role: "owner" },
    { email: "bob@acme.test", name: "Bob", role: "admin" },
    { email: "carol@acme.test", name: "Carol", role: "builder" },
  ],
  projects: [
    { slug: "support", name: "Support", members: [{ email: "carol@acme.test", role: "builder" }] },
    { slug: "growth", name: "Growth", members: [] },
  ],
} as const satisfies { org: { slug: string; name: string }; members: ProvisionSpec["members"]; projects: ProvisionSpec["projects"] };


/**
 * Creates the demo org if it is missing; the same answer on every call. Tokens are derived from
 * DEV_SEED_SECRET so they can be answered again; the vault still stores only their hashes.
 */
export async function seedDemo(env: SeedEnv, apiUrl: string): Promise<SeedAnswer> {
  const org = await env.DIRECTORY.getByName("global").ensureOrg(DEMO.org.slug, DEMO.org.name);
  const token = (kind: TokenKind, label: string) => deterministicToken(kind, org.id, env.DEV_SEED_SECRET, label);
  const users = await Promise.all(DEMO.members.map(async (m) => ({ ...m, token: await token("user", m.email) })));
  const runtimeToken = await token("rt", "runtime");
  const tokens: ProvisionSpec["tokens"] = await Promise.all([
    ...users.map(async (u) => ({ hash: await hashToken(u.token), preview: tokenPreview(u.token), kind: "user" as const, email: u.email, name: "dev seed", expires_at: null })),
    (async () => ({ hash: await hashToken(runtimeToken), preview: tokenPreview(runtimeToken), kind: "rt" as const, email: null, name: "dev runtime", expires_at: null }))(),
  ]);
  const spec: ProvisionSpec = {
    org: { id: org.id, slug: org.slug, name: org.name },
    members: DEMO.members.map((m) => ({ ...m })),
    projects: DEMO.projects.map((p) => ({ slug: p.slug, name: p.name, members: p.members.map((m) => ({ ...m })) })),
    tokens,
  };
  const vault = env.VAULT.get(env.VAULT.idFromName(org.id));
  await vault.provision(spec);
  // Providers, Slack and the agent runtime of the demo org are the sandbox on this same origin.
  if (env.DEV_MODE === "true") await vault.devConfigure({ sandboxUrl: apiUrl });
  const directory = env.DIRECTORY.getByName("global");
  for (const m of DEMO.members) await directory.addUser(m.email, org.id);
  return {
    org: { id: org.id, slug: org.slug, name: org.name },
    api_url: apiUrl,
    users: users.map((u) => ({ email: u.email, name: u.name, role: u.role, token: u.token })),
    runtime_token: runtimeToken,
    projects: spec.projects,
  };
}
