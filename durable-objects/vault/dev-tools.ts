import { RpcTarget } from "cloudflare:workers";
import { AppError } from "../../lib/errors";
import type { VaultResult } from "../../lib/rpc";
import { routeKeyOf } from "../../lib/slack/routing";
import type { VaultEnv } from "../env";
import { WEB_SESSION_TOKEN_NAME, WEB_SESSION_TTL_MS } from "./auth";
import { bulkLoad, type BulkLoadSpec } from "./bulk";
import type { VaultContext } from "./context";
import { memberByEmail, mintMemberToken } from "./identity";
import { setSandboxUrl } from "./outbound";
import { DevSlackSeed, needsInstall, seedChannels } from "./slack/dev-seed";
import { installSlack } from "./slack/install";

/** What the vault lends its dev tools: a fresh context per call, its env, and its error-to-result wrapper. */
export interface DevToolsHost {
  context(): VaultContext;
  env: VaultEnv;
  asResult<T>(fn: () => T | Promise<T>): Promise<VaultResult<T>>;
}

/**
 * Dev only: what the dev worker (through its DevDoor) and the dev sign-in page may do to one org,
 * kept out of the production OrgVault class. Only OrgVault.openDevTools() makes one, and it
 * refuses without DEV_MODE; each method checks again, in case a stub outlives a config change.
 */
export class DevTools extends RpcTarget {
  readonly #host: DevToolsHost;

  constructor(host: DevToolsHost) {
    super();
    this.#host = host;
  }

  #ctx(): VaultContext {
    if (this.#host.env.DEV_MODE !== "true") throw new AppError("forbidden", "Dev tools are only available in dev mode (DEV_MODE).");
    return this.#host.context();
  }

  /** Points this org's providers, Slack and agent runtime at the local sandbox. */
  configureSandbox(settings: { sandboxUrl: string }): void {
    setSandboxUrl(this.#ctx(), settings.sandboxUrl);
  }

  /** Bulk rows for the 10,000-credential benchmark. */
  bulkLoad(spec: BulkLoadSpec) {
    return bulkLoad(this.#ctx(), spec);
  }

  /** How many credentials the org holds (the benchmark fills an org once). */
  countCredentials(): number {
    return Number(this.#ctx().sql.exec(`SELECT COUNT(*) AS n FROM credentials`).one().n);
  }

  /**
   * The seed's one dev-only step for its runtime token: the row is made by the production
   * createRuntimeToken, then its value is swapped for the seed's deterministic one (given as a
   * hash) so every seed call answers the same token (SPEC 11). A no-op once it holds that hash.
   */
  pinSeedToken(id: string, hash: string, preview: string): void {
    const ctx = this.#ctx();
    const row = ctx.sql.exec(`SELECT hash FROM tokens WHERE id = ? AND kind = 'rt' AND revoked_at IS NULL`, id).toArray()[0];
    if (!row) throw new AppError("not_found", `No live runtime token ${id}.`, { details: { field: "id" } });
    if (row.hash !== hash) ctx.sql.exec(`UPDATE tokens SET hash = ?, preview = ? WHERE id = ?`, hash, preview, id);
  }

  /** The sign-in page's "pick a seeded user": a sliding web session like GitHub sign-in's. */
  signIn(email: string) {
    return this.#host.asResult(async () => {
      const ctx = this.#ctx();
      const member = memberByEmail(ctx, email);
      if (!member) throw new AppError("not_found", "No such member.");
      return mintMemberToken(ctx, member.id, `${WEB_SESSION_TOKEN_NAME} (dev)`, WEB_SESSION_TTL_MS);
    });
  }

  /** The seed's sandbox workspace: installs it unless active, then its channels and bindings. */
  seedSlack(seed: DevSlackSeed): Promise<VaultResult<{ installed: boolean }>> {
    return this.#host.asResult(async () => {
      const ctx = this.#ctx();
      const parsed = DevSlackSeed.parse(seed);
      const route = routeKeyOf(parsed.install);
      const installed = needsInstall(ctx, route);
      if (installed) {
        const r = await installSlack(() => this.#host.context(), this.#host.env, parsed.install);
        if (r.status !== "active") throw new Error("the sandbox install did not take");
      }
      seedChannels(this.#host.context(), route, parsed);
      return { installed };
    });
  }
}
