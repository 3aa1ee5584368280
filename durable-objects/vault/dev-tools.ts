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
import { setDevPlatformClient } from "./oauth-clients";
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

  /** Switches the platform's (sandbox) OAuth client of one app off or on, to try "no client at all" (SPEC 13). */
  setPlatformClient(app: string, on: boolean): void {
    setDevPlatformClient(this.#ctx(), app, on);
  }

  /** Bulk rows for the 10,000-credential benchmark. */
  bulkLoad(spec: BulkLoadSpec) {
    return bulkLoad(this.#ctx(), spec);
  }

  /** How many credentials the org holds (the benchmark fills an org once). */
  countCredentials(): number {
    return Number(this.#ctx().sql.exec(`SELECT COUNT(*) AS n FROM credentials`).one().n);
  }

  /** The seed's one dev-only step for its tokens: pinSeedTokenRow below. */
  pinSeedToken(id: string, hash: string, preview: string): void {
    pinSeedTokenRow(this.#ctx().sql, id, hash, preview);
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

/** The name of every member token the seed pinned (never renewed as a web session, kept by `auth logout`). */
export const SEED_TOKEN_NAME = "dev seed";

/**
 * The seed's tokens are made by the production operations (a member's by accepting their
 * invitation, which signs them in; the runtime token by createRuntimeToken); then this swaps the
 * row's value for the seed's deterministic one (given as a hash), so every seed call answers the
 * same tokens (SPEC 11). A member token also becomes the seed's kind: named SEED_TOKEN_NAME and
 * never expiring, as the demo's tokens always were. A dead row (revoked, expired) that held the
 * value before gives it up, so the seed can replace a token that stopped working. Exported for
 * the test projects, whose vault runs with DEV_MODE off. A no-op once the row holds that hash.
 */
export function pinSeedTokenRow(sql: SqlStorage, id: string, hash: string, preview: string, now = Date.now()): void {
  const row = sql.exec(`SELECT kind, hash FROM tokens WHERE id = ? AND kind IN ('user', 'rt') AND revoked_at IS NULL AND (expires_at IS NULL OR expires_at > ?)`, id, now).toArray()[0];
  if (!row) throw new AppError("not_found", `No live member or runtime token ${id}.`, { details: { field: "id" } });
  if (row.hash === hash) return;
  const holder = sql.exec(`SELECT id, revoked_at, expires_at FROM tokens WHERE hash = ?`, hash).toArray()[0];
  if (holder && holder.revoked_at === null && (holder.expires_at === null || Number(holder.expires_at) > now)) {
    throw new AppError("conflict", "A live token already holds the seed's value.", { details: { field: "hash" } });
  }
  // No SHA-256 hex equals "retired:…", so the dead row keeps its history and matches no token.
  if (holder) sql.exec(`UPDATE tokens SET hash = ? WHERE id = ?`, `retired:${String(holder.id)}`, holder.id);
  if (row.kind === "user") sql.exec(`UPDATE tokens SET hash = ?, preview = ?, name = ?, expires_at = NULL WHERE id = ?`, hash, preview, SEED_TOKEN_NAME, id);
  else sql.exec(`UPDATE tokens SET hash = ?, preview = ? WHERE id = ?`, hash, preview, id);
}
