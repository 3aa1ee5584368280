import { deterministicToken, hashToken, isOrgId, tokenPreview, type TokenKind } from "../../../lib/tokens";
import type { DevDoor } from "../../../durable-objects/doors/dev";
import type { ProvisionSpec } from "../../../durable-objects/vault/identity";
import type { DevSlackSeed } from "../../../durable-objects/vault/slack/dev-seed";
import type { VaultResult } from "../../../lib/rpc";
import type { SeedAnswer } from "../../../lib/schemas/dev";
import type { ProjectRole } from "../../../lib/schemas/common";
import type { Project } from "../../../lib/schemas/identity";
import type { CreateProjectBody, ProjectMembership } from "../../../lib/schemas/projects";
import type { CreatedRuntimeToken, RuntimeToken } from "../../../lib/schemas/tokens";
import { WORKSPACE as SANDBOX_WORKSPACE } from "./sandbox/slack-fake";

export type { SeedAnswer };

export interface SeedEnv {
  /** The dev worker's only way to the platform's state: the api worker's DevDoor (durable-objects/doors/dev.ts). */
  VAULT_DOOR: Service<DevDoor>;
  DEV_SEED_SECRET: string;
  /** Signs org ids: the api worker's value (scripts/dev.mjs writes it to every worker's .dev.vars). */
  ORG_ID_KEY: string;
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
 * What the seed needs from the platform: the DevDoor's methods. The api test suite, whose vault
 * runs as in production (no DevDoor, pre-made tokens refused), passes its own (test/api/helpers.ts).
 */
export interface SeedDoor {
  ensureOrg(slug: string, name: string): Promise<{ id: string; slug: string; name: string }>;
  addUser(email: string, orgId: string): Promise<void>;
  provision(orgId: string, spec: ProvisionSpec): Promise<void>;
  // Production operations, called with the owner's token as the web app and API call them.
  listProjects(orgId: string, token: string): Promise<VaultResult<{ projects: Project[] }>>;
  createProject(orgId: string, token: string, body: CreateProjectBody): Promise<VaultResult<Project>>;
  putProjectMember(orgId: string, token: string, slug: string, member: string, role: ProjectRole): Promise<VaultResult<ProjectMembership>>;
  listRuntimeTokens(orgId: string, token: string): Promise<VaultResult<{ runtime_tokens: RuntimeToken[] }>>;
  createRuntimeToken(orgId: string, token: string, name: string): Promise<VaultResult<CreatedRuntimeToken>>;
  /** Dev only: gives an existing runtime token row the seed's deterministic value (as a hash). */
  pinSeedToken(orgId: string, id: string, hash: string, preview: string): Promise<void>;
  configureSandbox(orgId: string, settings: { sandboxUrl: string }): Promise<void>;
  seedSlack(orgId: string, seed: DevSlackSeed): Promise<VaultResult<{ installed: boolean }>>;
}

/**
 * Creates the demo org if it is missing; the same answer on every call. Tokens are derived from
 * DEV_SEED_SECRET so they can be answered again; the vault still stores only their hashes.
 * Projects, project members and the runtime token go through the production operations, with the
 * owner's token; the org, its members and the token values are the dev-only part.
 */
export async function seedDemo(env: Omit<SeedEnv, "VAULT_DOOR">, door: SeedDoor, apiUrl: string): Promise<SeedAnswer> {
  const org = await door.ensureOrg(DEMO.org.slug, DEMO.org.name);
  if (!(await isOrgId(env.ORG_ID_KEY, org.id))) {
    throw new Error(`The local state holds org ${org.slug} under an id this ORG_ID_KEY did not sign (state from before verifiable org ids, or a changed .dev.vars). Stop the stack, delete the state directory (KEYSTROKE_STATE_DIR, default .wrangler/state) and run npm run dev again.`);
  }
  const token = (kind: TokenKind, label: string) => deterministicToken(kind, org.id, env.DEV_SEED_SECRET, label);
  const users = await Promise.all(DEMO.members.map(async (m) => ({ ...m, token: await token("user", m.email) })));
  const runtimeToken = await token("rt", "runtime");
  const tokens: ProvisionSpec["tokens"] = await Promise.all(
    users.map(async (u) => ({ hash: await hashToken(u.token), preview: tokenPreview(u.token), kind: "user" as const, email: u.email, name: "dev seed", expires_at: null })),
  );
  // Dev only: the members and their never-expiring tokens are pre-made (production invites
  // people, and a GitHub sign-in mints their sessions). Projects and the runtime token below are not.
  await door.provision(org.id, { org: { id: org.id, slug: org.slug, name: org.name }, members: DEMO.members.map((m) => ({ ...m })), projects: [], tokens });
  const owner = users.find((u) => u.role === "owner")!.token;
  const ok = <T>(what: string, r: VaultResult<T>): T => {
    if (!r.ok) throw new Error(`seeding the demo org: ${what} failed: ${r.error.code} ${r.error.message}`);
    return r.value;
  };
  // The owner creates the projects and adds their members, as on the Projects page (SPEC 12).
  const existing = new Set(ok("listing projects", await door.listProjects(org.id, owner)).projects.map((p) => p.slug));
  for (const p of DEMO.projects) {
    if (!existing.has(p.slug)) ok(`creating project ${p.slug}`, await door.createProject(org.id, owner, { slug: p.slug, name: p.name }));
    for (const m of p.members) ok(`adding ${m.email} to ${p.slug}`, await door.putProjectMember(org.id, owner, p.slug, m.email, m.role));
  }
  // The owner creates the runtime token; only its value is the seed's (pinned, dev only).
  const rt = ok("listing runtime tokens", await door.listRuntimeTokens(org.id, owner)).runtime_tokens.find((t) => t.name === RUNTIME_TOKEN_NAME)
    ?? ok("creating the runtime token", await door.createRuntimeToken(org.id, owner, RUNTIME_TOKEN_NAME));
  await door.pinSeedToken(org.id, rt.id, await hashToken(runtimeToken), tokenPreview(runtimeToken));
  const spec = { projects: DEMO.projects.map((p) => ({ slug: p.slug, name: p.name, members: p.members.map((m) => ({ ...m })) })) };
  // Providers, Slack and the agent runtime of the demo org are the sandbox on this same origin.
  if (env.DEV_MODE === "true") await door.configureSandbox(org.id, { sandboxUrl: apiUrl });
  // The sandbox Slack workspace (fixture ids), its bot token sealed like any secret, and
  // #deploys bound in mode `all`, so signed fixture events can be posted at once (SPEC 11).
  if (env.DEV_MODE === "true") await seedSlack(door, org.id, env.DEV_SEED_SECRET);
  for (const m of DEMO.members) await door.addUser(m.email, org.id);
  return {
    org: { id: org.id, slug: org.slug, name: org.name },
    api_url: apiUrl,
    users: users.map((u) => ({ email: u.email, name: u.name, role: u.role, token: u.token })),
    runtime_token: runtimeToken,
    projects: spec.projects,
  };
}

/** The demo runtime token's name (the name earlier seeds gave it, so old local state is reused). */
const RUNTIME_TOKEN_NAME = "dev runtime";

/** The agent #deploys is bound to in the demo. */
export const DEMO_SLACK_AGENT = "deploy-helper";

async function seedSlack(door: SeedDoor, orgId: string, seedSecret: string): Promise<void> {
  const w = SANDBOX_WORKSPACE;
  // Not a Slack token (the fake Slack accepts any); derived so every seed call stores the same one.
  const botToken = `xoxb-sandbox-${(await hashToken(`${seedSecret}:slack-bot`)).slice(0, 32)}`;
  const r = await door.seedSlack(orgId, {
    install: {
      appId: w.appId, teamId: w.teamId, teamName: w.teamName, enterpriseId: null, isEnterpriseInstall: false,
      botUserId: w.botUserId, botId: w.botId, botToken, scopes: [...w.scopes], installerUserId: w.people[0], installedBy: null,
    },
    channels: [{ ...w.boundChannel, is_member: true }],
    bindings: [{ channel: w.boundChannel.id, agent: DEMO_SLACK_AGENT, mode: "all" }],
  });
  if (!r.ok) throw new Error(`seeding the sandbox Slack workspace failed: ${r.error.code}`);
}
