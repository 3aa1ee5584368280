import { env, exports } from "cloudflare:workers";
import { seedDemo, type SeedAnswer } from "../../workers/dev/src/seed";

export type Seed = SeedAnswer & { alice: string; bob: string; carol: string; runtime: string };

/** The demo org of SPEC section 11 (idempotent), with each user's token at hand. */
export async function seed(): Promise<Seed> {
  const answer = await seedDemo(env, "http://localhost:8787");
  const tokenOf = (email: string) => answer.users.find((u) => u.email === email)!.token;
  return { ...answer, alice: tokenOf("alice@acme.test"), bob: tokenOf("bob@acme.test"), carol: tokenOf("carol@acme.test"), runtime: answer.runtime_token };
}

export interface CallOptions {
  token?: string;
  body?: unknown;
  rawBody?: string;
  headers?: Record<string, string>;
}

/** One HTTP call into the api worker, as a client would make it. */
export async function call(method: string, path: string, opts: CallOptions = {}): Promise<{ status: number; body: any; text: string }> {
  const headers: Record<string, string> = { ...opts.headers };
  if (opts.token) headers.authorization = `Bearer ${opts.token}`;
  let body: string | undefined = opts.rawBody;
  if (opts.body !== undefined) {
    body = JSON.stringify(opts.body);
    headers["content-type"] ??= "application/json";
  }
  const res = await exports.default.fetch(new Request(`http://localhost${path}`, { method, headers, body }));
  const text = await res.text();
  let parsed: unknown = null;
  try { parsed = text ? JSON.parse(text) : null; } catch { parsed = null; }
  return { status: res.status, body: parsed, text };
}

export function vaultOf(orgId: string) {
  return env.VAULT.get(env.VAULT.idFromName(orgId));
}
