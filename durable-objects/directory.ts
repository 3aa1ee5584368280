import { DurableObject } from "cloudflare:workers";
import { z } from "zod";
import { routeKvKey } from "../lib/slack/routing";
import { newOrgId } from "../lib/tokens";
import type { VaultEnv } from "./env";
import { migrate, type Migration } from "./migrations";

/**
 * The one global Directory (named "global"): org slugs, which orgs a person belongs to, and
 * Slack routes. Written rarely (sign-up, org creation, Slack install); hot reads go through KV.
 */
const DIRECTORY_MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: "orgs, users, slack routes",
    sql: `
  CREATE TABLE orgs (id TEXT PRIMARY KEY, slug TEXT NOT NULL UNIQUE, name TEXT NOT NULL, created_at INTEGER NOT NULL);
  CREATE TABLE users (email TEXT NOT NULL, org_id TEXT NOT NULL REFERENCES orgs(id), PRIMARY KEY (email, org_id));
  CREATE TABLE slack_routes (route_key TEXT PRIMARY KEY, org_id TEXT NOT NULL REFERENCES orgs(id), created_at INTEGER NOT NULL);
  `,
  },
  {
    version: 2,
    name: "pending invitations index",
    // An index of each vault's open invitations, so /orgs lists a person's with no vault call. The
    // vault is the authority (secret hash, projects, accept/revoke); this holds no secret.
    sql: `
  CREATE TABLE invitations (id TEXT PRIMARY KEY, org_id TEXT NOT NULL REFERENCES orgs(id), email TEXT NOT NULL, role TEXT NOT NULL, expires_at INTEGER NOT NULL);
  CREATE INDEX invitations_by_email ON invitations (email);
  `,
  },
];

const PendingRow = z.object({ id: z.string(), email: z.string(), role: z.string(), expires_at: z.number(), org_id: z.string(), slug: z.string(), name: z.string() });
export interface PendingInvitation { id: string; email: string; role: string; expiresAt: number; org: DirectoryOrg }

const OrgRow = z.object({ id: z.string(), slug: z.string(), name: z.string() });
export type DirectoryOrg = z.infer<typeof OrgRow>;

export class Directory extends DurableObject<VaultEnv> {
  constructor(ctx: DurableObjectState, env: VaultEnv) {
    super(ctx, env);
    void ctx.blockConcurrencyWhile(async () => migrate(ctx.storage, DIRECTORY_MIGRATIONS));
  }

  /** Creates the org if its slug is free; answers the existing one otherwise (idempotent). */
  async ensureOrg(slug: string, name: string): Promise<DirectoryOrg & { created: boolean }> {
    // Minted before the read, so no await sits between the read and the insert.
    const id = await newOrgId(this.env.ORG_ID_KEY);
    const sql = this.ctx.storage.sql;
    const existing = sql.exec(`SELECT id, slug, name FROM orgs WHERE slug = ?`, slug).toArray()[0];
    if (existing) return { ...OrgRow.parse(existing), created: false };
    sql.exec(`INSERT INTO orgs (id, slug, name, created_at) VALUES (?, ?, ?, ?)`, id, slug, name, Date.now());
    return { id, slug, name, created: true };
  }

  /**
   * Gives back the slug of an org whose creation failed before it was usable (org-creation.ts):
   * its row and whatever was linked to it. Only a just-claimed org is released: one with a Slack
   * route is left alone.
   */
  async releaseOrg(id: string): Promise<void> {
    const sql = this.ctx.storage.sql;
    if (sql.exec(`SELECT 1 FROM slack_routes WHERE org_id = ?`, id).toArray().length > 0) return;
    this.ctx.storage.transactionSync(() => {
      sql.exec(`DELETE FROM invitations WHERE org_id = ?`, id);
      sql.exec(`DELETE FROM users WHERE org_id = ?`, id);
      sql.exec(`DELETE FROM orgs WHERE id = ?`, id);
    });
  }

  async orgBySlug(slug: string): Promise<DirectoryOrg | null> {
    const row = this.ctx.storage.sql.exec(`SELECT id, slug, name FROM orgs WHERE slug = ?`, slug).toArray()[0];
    return row ? OrgRow.parse(row) : null;
  }

  async addUser(email: string, orgId: string): Promise<void> {
    this.ctx.storage.sql.exec(`INSERT OR IGNORE INTO users (email, org_id) VALUES (?, ?)`, email.toLowerCase(), orgId);
  }

  /** Offboarding: sign-in no longer finds the org for this person (the vault removed the member). */
  async removeUser(email: string, orgId: string): Promise<void> {
    this.ctx.storage.sql.exec(`DELETE FROM users WHERE email = ? AND org_id = ?`, email.toLowerCase(), orgId);
  }

  /** Every person and their orgs: the dev sign-in's picker. */
  async allUsers(): Promise<{ email: string; org: DirectoryOrg }[]> {
    return this.ctx.storage.sql
      .exec(`SELECT u.email, o.id, o.slug, o.name FROM users u JOIN orgs o ON o.id = u.org_id ORDER BY o.slug, u.email`)
      .toArray()
      .map((r) => ({ email: String(r.email), org: OrgRow.parse(r) }));
  }

  async orgsOfUser(email: string): Promise<DirectoryOrg[]> {
    return this.ctx.storage.sql
      .exec(`SELECT o.id, o.slug, o.name FROM users u JOIN orgs o ON o.id = u.org_id WHERE u.email = ? ORDER BY o.slug`, email.toLowerCase())
      .toArray()
      .map((r) => OrgRow.parse(r));
  }

  /**
   * A platform user's orgs (SPEC section 12, /orgs): every org one of their verified emails belongs
   * to, with the email that matched (the one their web session there is for). One read.
   */
  async orgsOfEmails(emails: string[]): Promise<{ email: string; org: DirectoryOrg }[]> {
    const wanted = [...new Set(emails.map((e) => e.toLowerCase()))].slice(0, 20);
    if (wanted.length === 0) return [];
    const seen = new Set<string>();
    return this.ctx.storage.sql
      .exec(`SELECT u.email, o.id, o.slug, o.name FROM users u JOIN orgs o ON o.id = u.org_id WHERE u.email IN (${wanted.map(() => "?").join(", ")}) ORDER BY o.slug, u.email`, ...wanted)
      .toArray()
      .map((r) => ({ email: String(r.email), org: OrgRow.parse(r) }))
      // The first matching email per org: one row per org.
      .filter((r) => !seen.has(r.org.id) && seen.add(r.org.id) !== undefined);
  }

  /** The /orgs page in one read: the person's orgs and their unexpired pending invitations. */
  async loadOrgsPage(emails: string[]): Promise<{ orgs: { email: string; org: DirectoryOrg }[]; invitations: PendingInvitation[] }> {
    const wanted = [...new Set(emails.map((e) => e.toLowerCase()))].slice(0, 20);
    if (wanted.length === 0) return { orgs: [], invitations: [] };
    return { orgs: await this.orgsOfEmails(wanted), invitations: this.#pending(wanted, null) };
  }

  #pending(emails: string[], id: string | null): PendingInvitation[] {
    return this.ctx.storage.sql
      .exec(
        `SELECT i.id, i.email, i.role, i.expires_at, o.id AS org_id, o.slug, o.name FROM invitations i JOIN orgs o ON o.id = i.org_id
         WHERE i.email IN (${emails.map(() => "?").join(", ")}) AND i.expires_at > ?${id ? " AND i.id = ?" : ""} ORDER BY o.slug, i.expires_at`,
        ...emails, Date.now(), ...(id ? [id] : []),
      )
      .toArray()
      .map((raw) => {
        const r = PendingRow.parse(raw);
        return { id: r.id, email: r.email, role: r.role, expiresAt: r.expires_at, org: { id: r.org_id, slug: r.slug, name: r.name } };
      });
  }

  /** One pending invitation of these emails by id (the /orgs accept form finds its org here). */
  async pendingInvitation(emails: string[], id: string): Promise<PendingInvitation | null> {
    const wanted = [...new Set(emails.map((e) => e.toLowerCase()))].slice(0, 20);
    return wanted.length ? (this.#pending(wanted, id)[0] ?? null) : null;
  }

  /** Written by the vault after it made an invitation. */
  async indexInvitation(inv: { id: string; orgId: string; email: string; role: string; expiresAt: number }): Promise<void> {
    this.ctx.storage.sql.exec(
      `INSERT OR REPLACE INTO invitations (id, org_id, email, role, expires_at) VALUES (?, ?, ?, ?, ?)`,
      inv.id, inv.orgId, inv.email.toLowerCase(), inv.role, inv.expiresAt,
    );
  }

  /** Revoked: that one; accepted: every one of that email in the org (the vault revoked the rest). */
  async dropInvitations(orgId: string, by: { id: string } | { email: string }): Promise<void> {
    if ("id" in by) this.ctx.storage.sql.exec(`DELETE FROM invitations WHERE org_id = ? AND id = ?`, orgId, by.id);
    else this.ctx.storage.sql.exec(`DELETE FROM invitations WHERE org_id = ? AND email = ?`, orgId, by.email.toLowerCase());
  }

  // ---- slack routes (team:<id> | enterprise:<id> -> org) ----
  // The Directory is the authority and the only writer of their KV cache (slack-route:*): it
  // writes KV after its own row changes, and re-fills it when a reader's KV miss asks here.
  // Everyone else only reads KV (docs/storage.md).

  #routeOwner(routeKey: string): string | null {
    const row = this.ctx.storage.sql.exec(`SELECT org_id FROM slack_routes WHERE route_key = ?`, routeKey).toArray()[0];
    return row ? String(row.org_id) : null;
  }

  /** The org a Slack installation routes to, or null. Asked on a KV miss, so a hit re-fills KV. */
  async slackRoute(routeKey: string): Promise<string | null> {
    const orgId = this.#routeOwner(routeKey);
    if (orgId) await this.env.ROUTES.put(routeKvKey(routeKey), orgId);
    return orgId;
  }

  /** Claims a route for an org; refuses (answering the owner) when another org holds it. */
  async claimSlackRoute(routeKey: string, orgId: string): Promise<{ ok: true } | { ok: false; orgId: string }> {
    const owner = this.#routeOwner(routeKey);
    if (owner !== null && owner !== orgId) return { ok: false, orgId: owner };
    if (owner === null) this.ctx.storage.sql.exec(`INSERT INTO slack_routes (route_key, org_id, created_at) VALUES (?, ?, ?)`, routeKey, orgId, Date.now());
    await this.env.ROUTES.put(routeKvKey(routeKey), orgId);
    return { ok: true };
  }

  /**
   * Releases a route only if this org still holds it (an uninstall must not drop a newer owner's
   * route). KV then follows the row: gone when no org holds the route, the owner's when one does.
   */
  async releaseSlackRoute(routeKey: string, orgId: string): Promise<boolean> {
    const deleted = this.ctx.storage.sql.exec(`DELETE FROM slack_routes WHERE route_key = ? AND org_id = ? RETURNING route_key`, routeKey, orgId).toArray();
    const owner = this.#routeOwner(routeKey);
    if (owner === null) await this.env.ROUTES.delete(routeKvKey(routeKey));
    else await this.env.ROUTES.put(routeKvKey(routeKey), owner);
    return deleted.length > 0;
  }
}
