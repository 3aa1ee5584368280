import { z } from "zod";
import { deterministicToken, hashToken, tokenPreview } from "../../../lib/tokens";
import type { SeedEnv } from "./seed";

export const BenchOrgBody = z.strictObject({
  slug: z.string().regex(/^[a-z0-9][a-z0-9-]{0,30}$/),
  credentials: z.number().int().min(1).max(20_000),
  assignments: z.number().int().min(0).max(200_000),
  /** Extra owner tokens, so load spread over many tokens is not the per-token limit's (MANAGEMENT_LIMITER). */
  member_tokens: z.number().int().min(0).max(128).default(0),
});

export const RESOLVED_APPS = ["exa", "openai", "anthropic"];
const APPS = ["exa", "openai", "anthropic", "stripe", "resend", "tavily", "groq", "mistral", "cohere", "pinecone"];

/**
 * Dev only: an org for the benchmarks, filled in bulk. exa, openai and anthropic each have exactly
 * one org credential, so a resolve of them makes the same decision in a small and a large org.
 */
export async function createBenchOrg(env: SeedEnv, body: z.infer<typeof BenchOrgBody>) {
  const door = env.VAULT_DOOR;
  const org = await door.ensureOrg(body.slug, `Bench ${body.slug}`);
  const runtime = await deterministicToken("rt", org.id, env.DEV_SEED_SECRET, "bench-runtime");
  const owner = await deterministicToken("user", org.id, env.DEV_SEED_SECRET, "bench-owner");
  const members = await Promise.all(Array.from({ length: body.member_tokens }, (_, i) => deterministicToken("user", org.id, env.DEV_SEED_SECRET, `bench-owner-${i}`)));
  const projects = Array.from({ length: 20 }, (_, i) => ({ slug: `p${i}`, name: `Project ${i}`, members: [] }));
  await door.provision(org.id, {
    org: { id: org.id, slug: org.slug, name: org.name },
    members: [{ email: "owner@bench.test", name: "Owner", role: "owner" }],
    projects,
    tokens: [
      { hash: await hashToken(runtime), preview: tokenPreview(runtime), kind: "rt", email: null, name: "bench runtime", expires_at: null },
      { hash: await hashToken(owner), preview: tokenPreview(owner), kind: "user", email: "owner@bench.test", name: "bench owner", expires_at: null },
      ...(await Promise.all(members.map(async (t, i) => ({ hash: await hashToken(t), preview: tokenPreview(t), kind: "user" as const, email: "owner@bench.test", name: `bench owner ${i}`, expires_at: null })))),
    ],
  });
  // Only fill once: the org is reused by later runs against the same state.
  if ((await door.countCredentials(org.id)) === 0) {
    // One org credential for each of the three resolved apps; the bulk goes to projects, over every app.
    await door.bulkLoad(org.id, { credentials: 3, assignments: 0, apps: RESOLVED_APPS, projects: [], createdBy: "bench" });
    if (body.credentials > 3) {
      await door.bulkLoad(org.id, { credentials: body.credentials - 3, assignments: body.assignments, apps: APPS, projects: projects.map((p) => p.slug), createdBy: "bench" });
    }
  }
  return { org: org.id, runtime_token: runtime, owner_token: owner, member_tokens: members };
}
