import { deterministicToken, hashToken, isOrgId, tokenPreview, type TokenKind } from "../../../lib/tokens";
import type { DevDoor } from "../../../durable-objects/doors/dev";
import type { ProvisionSpec } from "../../../durable-objects/vault/identity";
import type { DevSlackSeed } from "../../../durable-objects/vault/slack/dev-seed";
import type { VaultResult } from "../../../lib/rpc";
import type { SeedAnswer } from "../../../lib/schemas/dev";
import type { ProjectRole } from "../../../lib/schemas/common";
import type { Me, Member, MyToken, Org, Project } from "../../../lib/schemas/identity";
import type { AcceptedInvitation, CreateInvitationBody } from "../../../lib/schemas/members";
import type { CreatedInvitation } from "../../../lib/schemas/orgs";
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
 * runs as in production (no DevDoor), passes its own (test/api/helpers.ts).
 */
export interface SeedDoor {
  orgBySlug(slug: string): Promise<Org | null>;
  // Production operations: the operator's org creation, then calls as the web app and API make them.
  createOrg(body: { slug: string; name: string }, ownerEmail: string, publicUrl: string): Promise<{ org: Org; invitation: CreatedInvitation | null }>;
  acceptInvitation(orgId: string, secret: string, emails: string[], name: string): Promise<VaultResult<AcceptedInvitation & { session: { token: string } }>>;
  startWebSession(orgId: string, email: string): Promise<VaultResult<{ token: string }>>;
  describeMe(orgId: string, token: string): Promise<VaultResult<Me>>;
  listMyTokens(orgId: string, token: string): Promise<VaultResult<{ tokens: MyToken[] }>>;
  listMembers(orgId: string, token: string): Promise<VaultResult<{ members: Member[] }>>;
  inviteMember(orgId: string, token: string, body: CreateInvitationBody, publicUrl: string): Promise<VaultResult<CreatedInvitation>>;
  listProjects(orgId: string, token: string): Promise<VaultResult<{ projects: Project[] }>>;
  createProject(orgId: string, token: string, body: CreateProjectBody): Promise<VaultResult<Project>>;
  putProjectMember(orgId: string, token: string, slug: string, member: string, role: ProjectRole): Promise<VaultResult<ProjectMembership>>;
  listRuntimeTokens(orgId: string, token: string): Promise<VaultResult<{ runtime_tokens: RuntimeToken[] }>>;
  createRuntimeToken(orgId: string, token: string, name: string): Promise<VaultResult<CreatedRuntimeToken>>;
  /** Dev only: gives a token row the operations above made the seed's deterministic value (as a hash). */
  pinSeedToken(orgId: string, id: string, hash: string, preview: string): Promise<void>;
  configureSandbox(orgId: string, settings: { sandboxUrl: string }): Promise<void>;
  seedSlack(orgId: string, seed: DevSlackSeed): Promise<VaultResult<{ installed: boolean }>>;
}

/** The secret part of an invitation link (`<origin>/invitations/<orgId>.<secret>`). */
const linkSecret = (url: string) => url.slice(url.lastIndexOf("/") + 1).split(".").slice(1).join(".");

/**
 * Creates the demo org if it is missing; the same answer on every call. It is built the way a
 * real team builds one (SPEC 12): the operator's org creation with an owner invitation for alice,
 * who accepts it; alice invites bob and carol (carol as a builder of support), who accept; alice
 * creates the projects and the runtime token. Accepting signs a person in, and that session is
 * their seed token. The dev-only part is the tokens' values: derived from DEV_SEED_SECRET so they
 * can be answered again, and pinned onto the rows those operations made (a member token's also
 * never expires, as the demo's always did); the vault still stores only their hashes. A later call
 * writes nothing unless a token stopped working (the member signs in again and it is re-pinned) or
 * a member is missing (invited again).
 */
export async function seedDemo(env: Omit<SeedEnv, "VAULT_DOOR">, door: SeedDoor, apiUrl: string): Promise<SeedAnswer> {
  const first = DEMO.members[0];
  // The operator's POST /v1/orgs, on the first call only: the org and an owner invitation for alice.
  const found = await door.orgBySlug(DEMO.org.slug);
  const created = found ? null : await door.createOrg({ slug: DEMO.org.slug, name: DEMO.org.name }, first.email, apiUrl);
  const org = found ?? created!.org;
  if (!(await isOrgId(env.ORG_ID_KEY, org.id))) {
    throw new Error(`The local state holds org ${org.slug} under an id this ORG_ID_KEY did not sign (state from before verifiable org ids, or a changed .dev.vars). Stop the stack, delete the state directory (KEYSTROKE_STATE_DIR, default .wrangler/state) and run npm run dev again.`);
  }
  const token = (kind: TokenKind, label: string) => deterministicToken(kind, org.id, env.DEV_SEED_SECRET, label);
  const users = await Promise.all(DEMO.members.map(async (m) => ({ ...m, token: await token("user", m.email) })));
  const runtimeToken = await token("rt", "runtime");
  const ok = <T>(what: string, r: VaultResult<T>): T => {
    if (!r.ok) throw new Error(`seeding the demo org: ${what} failed: ${r.error.code} ${r.error.message}`);
    return r.value;
  };
  const works = async (u: (typeof users)[number]) => {
    const r = await door.describeMe(org.id, u.token);
    return r.ok && r.value.member?.email === u.email;
  };
  /** The session that just signed the member in becomes their seed token (its value pinned, dev only). */
  const pin = async (u: (typeof users)[number], session: string) => {
    const id = ok(`listing ${u.email}'s tokens`, await door.listMyTokens(org.id, session)).tokens.find((t) => t.current)!.id;
    await door.pinSeedToken(org.id, id, await hashToken(u.token), tokenPreview(u.token));
  };
  const accept = async (u: (typeof users)[number], url: string) =>
    ok(`${u.email} accepting the invitation`, await door.acceptInvitation(org.id, linkSecret(url), [u.email], u.name)).session.token;
  /** A member whose seed token stopped working (revoked) signs in again, as through GitHub. */
  const signIn = async (u: (typeof users)[number]) => {
    const r = await door.startWebSession(org.id, u.email);
    if (!r.ok && r.error.code === "not_found") {
      throw new Error(`The demo org ${org.slug} has no member ${u.email} (a seed interrupted before the invitation was accepted?). Stop the stack, delete the state directory (KEYSTROKE_STATE_DIR, default .wrangler/state) and run npm run dev again.`);
    }
    return ok(`signing ${u.email} in`, r).token;
  };

  const alice = users[0]!;
  if (!(await works(alice))) await pin(alice, created?.invitation ? await accept(alice, created.invitation.url) : await signIn(alice));
  const owner = alice.token;
  // alice creates the projects, as on the Projects page.
  const existing = new Set(ok("listing projects", await door.listProjects(org.id, owner)).projects.map((p) => p.slug));
  for (const p of DEMO.projects) {
    if (!existing.has(p.slug)) ok(`creating project ${p.slug}`, await door.createProject(org.id, owner, { slug: p.slug, name: p.name }));
  }
  // alice invites the others (with their project roles) and each accepts.
  let members: Set<string> | null = null;
  for (const u of users.slice(1)) {
    if (await works(u)) continue;
    members ??= new Set(ok("listing members", await door.listMembers(org.id, owner)).members.map((m) => m.email));
    if (members.has(u.email)) {
      await pin(u, await signIn(u));
      continue;
    }
    const projects = DEMO.projects.flatMap((p) => p.members.filter((m) => m.email === u.email).map((m) => ({ project: p.slug, role: m.role })));
    const invitation = ok(`inviting ${u.email}`, await door.inviteMember(org.id, owner, { email: u.email, role: u.role, projects }, apiUrl));
    await pin(u, await accept(u, invitation.url));
  }
  // Project roles hold whatever happened since (a no-op, unaudited, when they already do).
  for (const p of DEMO.projects) {
    for (const m of p.members) ok(`adding ${m.email} to ${p.slug}`, await door.putProjectMember(org.id, owner, p.slug, m.email, m.role));
  }
  // alice creates the runtime token; only its value is the seed's (pinned, dev only).
  const rt = ok("listing runtime tokens", await door.listRuntimeTokens(org.id, owner)).runtime_tokens.find((t) => t.name === RUNTIME_TOKEN_NAME)
    ?? ok("creating the runtime token", await door.createRuntimeToken(org.id, owner, RUNTIME_TOKEN_NAME));
  await door.pinSeedToken(org.id, rt.id, await hashToken(runtimeToken), tokenPreview(runtimeToken));
  const spec = { projects: DEMO.projects.map((p) => ({ slug: p.slug, name: p.name, members: p.members.map((m) => ({ ...m })) })) };
  // Providers, Slack and the agent runtime of the demo org are the sandbox on this same origin.
  if (env.DEV_MODE === "true") await door.configureSandbox(org.id, { sandboxUrl: apiUrl });
  // The sandbox Slack workspace (fixture ids), its bot token sealed like any secret, and
  // #deploys bound in mode `all`, so signed fixture events can be posted at once (SPEC 11).
  if (env.DEV_MODE === "true") await seedSlack(door, org.id, env.DEV_SEED_SECRET);
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
