import { credentialAad, seal } from "../../lib/crypto";
import { newId } from "../../lib/tokens";
import type { VaultContext } from "./context";

/** Dev/bench only: fills an org with many credentials and assignments without 100,000 HTTP calls. */
export interface BulkLoadSpec {
  credentials: number;
  assignments: number;
  /** Apps the credentials are spread over, round robin. */
  apps: string[];
  projects: string[];
  createdBy: string;
}

export async function bulkLoad(ctx: VaultContext, spec: BulkLoadSpec): Promise<{ credentials: number; assignments: number }> {
  const creds: { id: string; app: string; scopeType: string; scopeId: string; slug: string; sealed: string }[] = [];
  for (let i = 0; i < spec.credentials; i++) {
    const app = spec.apps[i % spec.apps.length]!;
    const id = newId("cred");
    // With projects, spread over them; without, at the org. Slugs are unique per app + scope.
    const project = spec.projects.length ? spec.projects[i % spec.projects.length]! : null;
    creds.push({
      id, app, scopeType: project ? "project" : "org", scopeId: project ?? "", slug: `bulk-${i}-${id.slice(-6)}`,
      sealed: await seal(ctx.ring, ctx.orgId, `bulk-secret-${i}-${crypto.randomUUID()}`, credentialAad(ctx.orgId, id, "apiKey")),
    });
  }
  const CHUNK = 500;
  for (let start = 0; start < creds.length; start += CHUNK) {
    ctx.storage.transactionSync(() => {
      for (const c of creds.slice(start, start + CHUNK)) {
        ctx.sql.exec(
          `INSERT INTO credentials (id, app, slug, name, scope_type, scope_id, kind, status, preview, created_by, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, 'api_key', 'active', '…', ?, ?, ?)`,
          c.id, c.app, c.slug, c.slug, c.scopeType, c.scopeId, spec.createdBy, ctx.now, ctx.now,
        );
        ctx.sql.exec(`INSERT INTO secret_fields (credential_id, field, sealed) VALUES (?, 'apiKey', ?)`, c.id, c.sealed);
      }
    });
  }
  for (let start = 0; start < spec.assignments; start += CHUNK) {
    ctx.storage.transactionSync(() => {
      for (let i = start; i < Math.min(spec.assignments, start + CHUNK); i++) {
        const c = creds[i % creds.length]!;
        ctx.sql.exec(
          `INSERT OR IGNORE INTO assignments (kind, target, consumer, app, credential_id, created_by, created_at) VALUES ('workflow', ?, ?, ?, ?, ?, ?)`,
          `wf-${i % 1000}`, `step-${Math.floor(i / 1000)}`, c.app, c.id, spec.createdBy, ctx.now,
        );
      }
    });
  }
  return { credentials: creds.length, assignments: spec.assignments };
}
