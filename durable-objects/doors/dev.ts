import { WorkerEntrypoint } from "cloudflare:workers";
import type { VaultEnv } from "../env";
import type { ProvisionSpec } from "../vault/identity";
import type { BulkLoadSpec } from "../vault/bulk";
import type { DevSlackSeed } from "../vault/slack/dev-seed";
import { vaultStub } from "../vault-stub";
import type { ProjectRole } from "../../lib/schemas/common";
import type { CreateProjectBody } from "../../lib/schemas/projects";

/**
 * The dev worker's door (local only; service binding VAULT_DOOR, entrypoint "DevDoor"): the demo
 * seed and the benchmark org. Every method refuses without DEV_MODE, and the vault's dev tools
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

  ensureOrg(slug: string, name: string) {
    return this.#directory().ensureOrg(slug, name);
  }
  addUser(email: string, orgId: string) {
    return this.#directory().addUser(email, orgId);
  }
  /** Pre-made tokens are accepted by the vault in dev mode only. */
  async provision(orgId: string, spec: ProvisionSpec): Promise<void> {
    this.#directory();
    await vaultStub(this.env, orgId).provision(spec);
  }
  // The seed's production operations, forwarded as they are (the vault checks the token's role).
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
  async pinSeedToken(orgId: string, id: string, hash: string, preview: string): Promise<void> {
    await (await this.#tools(orgId)).pinSeedToken(id, hash, preview);
  }
  async configureSandbox(orgId: string, settings: { sandboxUrl: string }): Promise<void> {
    await (await this.#tools(orgId)).configureSandbox(settings);
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
