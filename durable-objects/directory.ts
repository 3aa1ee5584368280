import { DurableObject } from "cloudflare:workers";
import { z } from "zod";
import { newOrgId } from "../lib/tokens";
import type { Env } from "../workers/api/src/env";
import { migrate, type Migration } from "./vault/schema";

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
];

const OrgRow = z.object({ id: z.string(), slug: z.string(), name: z.string() });
export type DirectoryOrg = z.infer<typeof OrgRow>;

export class Directory extends DurableObject<Env> {
  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    void ctx.blockConcurrencyWhile(async () => migrate(ctx.storage, DIRECTORY_MIGRATIONS));
  }

  /** Creates the org if its slug is free; answers the existing one otherwise (idempotent). */
  async ensureOrg(slug: string, name: string): Promise<DirectoryOrg & { created: boolean }> {
    const sql = this.ctx.storage.sql;
    const existing = sql.exec(`SELECT id, slug, name FROM orgs WHERE slug = ?`, slug).toArray()[0];
    if (existing) return { ...OrgRow.parse(existing), created: false };
    const id = newOrgId();
    sql.exec(`INSERT INTO orgs (id, slug, name, created_at) VALUES (?, ?, ?, ?)`, id, slug, name, Date.now());
    return { id, slug, name, created: true };
  }

  async orgBySlug(slug: string): Promise<DirectoryOrg | null> {
    const row = this.ctx.storage.sql.exec(`SELECT id, slug, name FROM orgs WHERE slug = ?`, slug).toArray()[0];
    return row ? OrgRow.parse(row) : null;
  }

  async addUser(email: string, orgId: string): Promise<void> {
    this.ctx.storage.sql.exec(`INSERT OR IGNORE INTO users (email, org_id) VALUES (?, ?)`, email.toLowerCase(), orgId);
  }

  async orgsOfUser(email: string): Promise<DirectoryOrg[]> {
    return this.ctx.storage.sql
      .exec(`SELECT o.id, o.slug, o.name FROM users u JOIN orgs o ON o.id = u.org_id WHERE u.email = ? ORDER BY o.slug`, email.toLowerCase())
      .toArray()
      .map((r) => OrgRow.parse(r));
  }
}
