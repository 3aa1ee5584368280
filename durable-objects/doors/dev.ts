import { WorkerEntrypoint } from "cloudflare:workers";
import type { VaultEnv } from "../env";
import type { ProvisionSpec } from "../vault/identity";
import type { BulkLoadSpec } from "../vault/bulk";
import type { DevSlackSeed } from "../vault/slack/dev-seed";
import { vaultStub } from "../vault-stub";
import type { ProjectRole } from "../../lib/schemas/common";
import type { CreateProjectBody } from "../../lib/schemas/projects";
import type { CreateInvitationBody } from "../../lib/schemas/members";
import { createOrg } from "../org-creation";

/**
 * The dev worker's door (local only; service binding VAULT_DOOR, entrypoint "DevDoor"): the demo
 * seed, which builds its org through the production operations forwarded here, and the benchmark org. Every method refuses without DEV_MODE, and the vault's dev tools
 * (vault/dev-tools.ts) refuse again, so a deployment that exports this class still opens nothing.
 */
export class DevDoor extends WorkerEntrypoint<VaultEnv> {
  #directory() {
    if (this.env.DEV_MODE !== "true") throw new Error("The dev door is only open in dev mode (DEV_MODE).");
    return this.env.DIRECTORY.getByName("global");
  }
  async #tools(orgId: string) {
    this.#directory();
    return vaultStub(this.env, orgId).openDevTools();
  }

  /** The benchmark org only (bench-org.ts); the demo seed creates its org as production does (createOrg). */
  ensureOrg(slug: string, name: string) {
    return this.#directory().ensureOrg(slug, name);
  }
  orgBySlug(slug: string) {
    return this.#directory().orgBySlug(slug);
  }
  /** Pre-made tokens are accepted by the vault in dev mode only (the benchmark org). */
  async provision(orgId: string, spec: ProvisionSpec): Promise<void> {
    this.#directory();
    await vaultStub(this.env, orgId).provision(spec);
  }
  // The seed's production operations, forwarded as they are (the vault checks the token's role).
  /** The operator's `POST /v1/orgs`: the org and an owner invitation (durable-objects/org-creation.ts). */
  async createOrg(body: { slug: string; name: string }, ownerEmail: string, publicUrl: string) {
    this.#directory();
    return createOrg(this.env, body, null, ownerEmail, publicUrl);
  }
  async acceptInvitation(orgId: string, secret: string, emails: string[], name: string) {
    this.#directory();
    return vaultStub(this.env, orgId).acceptInvitation(secret, emails, name);
  }
  /** What "Sign in with GitHub" asks the vault once GitHub answered the person's verified email. */
  async startWebSession(orgId: string, email: string) {
    this.#directory();
    return vaultStub(this.env, orgId).startWebSession(email, "github");
  }
  async describeMe(orgId: string, token: string) {
    this.#directory();
    return vaultStub(this.env, orgId).describeMe(token);
  }
  async listMyTokens(orgId: string, token: string) {
    this.#directory();
    return vaultStub(this.env, orgId).listMyTokens(token);
  }
  async listMembers(orgId: string, token: string) {
    this.#directory();
    return vaultStub(this.env, orgId).listMembers(token);
  }
  async inviteMember(orgId: string, token: string, body: CreateInvitationBody, publicUrl: string) {
    this.#directory();
    return vaultStub(this.env, orgId).inviteMember(token, body, publicUrl);
  }
  async createProject(orgId: string, token: string, body: CreateProjectBody) {
    this.#directory();
    return vaultStub(this.env, orgId).createProject(token, body);
  }
  async listProjects(orgId: string, token: string) {
    this.#directory();
    return vaultStub(this.env, orgId).listProjects(token);
  }
  async putProjectMember(orgId: string, token: string, slug: string, member: string, role: ProjectRole) {
    this.#directory();
    return vaultStub(this.env, orgId).putProjectMember(token, slug, member, role);
  }
  async createRuntimeToken(orgId: string, token: string, name: string) {
    this.#directory();
    return vaultStub(this.env, orgId).createRuntimeToken(token, name);
  }
  async listRuntimeTokens(orgId: string, token: string) {
    this.#directory();
    return vaultStub(this.env, orgId).listRuntimeTokens(token);
  }
  /** Dev only: a token row made by the operations above gets the seed's value (vault/dev-tools.ts). */
  async pinSeedToken(orgId: string, id: string, hash: string, preview: string): Promise<void> {
    await (await this.#tools(orgId)).pinSeedToken(id, hash, preview);
  }
  async configureSandbox(orgId: string, settings: { sandboxUrl: string }): Promise<void> {
    await (await this.#tools(orgId)).configureSandbox(settings);
  }
  async setPlatformClient(orgId: string, app: string, on: boolean): Promise<void> {
    await (await this.#tools(orgId)).setPlatformClient(app, on);
  }
  async seedSlack(orgId: string, seed: DevSlackSeed) {
    return (await this.#tools(orgId)).seedSlack(seed);
  }
  async bulkLoad(orgId: string, spec: BulkLoadSpec) {
    return (await this.#tools(orgId)).bulkLoad(spec);
  }
  async countCredentials(orgId: string): Promise<number> {
    return (await this.#tools(orgId)).countCredentials();
  }
}
