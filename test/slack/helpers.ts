/// <reference types="vite/client" />
import { runDurableObjectAlarm } from "cloudflare:test";
import { env, exports } from "cloudflare:workers";
import { Hono } from "hono";
import { expect, vi } from "vitest";
import { signSlackBody } from "../../lib/slack/signature";
import { sandboxAgent } from "../../workers/dev/src/sandbox/agent";
import { sandboxSlack } from "../../workers/dev/src/sandbox/slack";
import { memorySandbox, type Fault } from "../../workers/dev/src/sandbox/slack-fake";
import { vaultOf, vaultSql } from "../api/helpers";

export { installSlackIn, seed, vaultOf, vaultSql } from "../api/helpers";
/** The in-process fake Slack (no SandboxStore binding in tests: memory). */
export const fakeSlack = {
  reset: () => memorySandbox.reset(),
  fault: (f: Fault) => memorySandbox.addFault(f),
};

/** The fixtures' signing secret (shared/fixtures/slack), configured as SLACK_SIGNING_SECRET for this project. */
export const SECRET = "fixture-signing-secret-0123456789abcdef";
export const PREVIOUS_SECRET = "previous-signing-secret-for-tests-0001";

/** shared/fixtures/slack/events, copied byte for byte (the signature vectors prove it). */
const raw = import.meta.glob("./fixtures/events/*.json", { query: "?raw", import: "default", eager: true }) as Record<string, string>;
export const FIXTURES: Record<string, string> = Object.fromEntries(Object.entries(raw).map(([k, v]) => [k.replace("./fixtures/events/", ""), v]));
export const VECTORS = JSON.parse(
  (import.meta.glob("./fixtures/signature_vectors.json", { query: "?raw", import: "default", eager: true }) as Record<string, string>)["./fixtures/signature_vectors.json"]!,
) as { signing_secret: string; timestamp: string; files: Record<string, string> };

export const fixture = (name: string) => {
  const body = FIXTURES[name];
  if (body === undefined) throw new Error(`no fixture ${name}`);
  return body;
};

export interface PostOptions {
  /** Unix seconds to sign at; default now. */
  at?: number;
  secret?: string;
  headers?: Record<string, string>;
  /** Override (or with null, omit) the signature / timestamp headers. */
  signature?: string | null;
  timestamp?: string | null;
}

/** Signs a body at the current time (or `at`) and posts it to the worker, as Slack does. */
export async function postEvent(body: string, opts: PostOptions = {}): Promise<{ status: number; body: any; text: string }> {
  const ts = String(opts.at ?? Math.floor(Date.now() / 1000));
  const signature = opts.signature !== undefined ? opts.signature : await signSlackBody(opts.secret ?? SECRET, ts, body);
  const headers: Record<string, string> = { "content-type": "application/json", ...opts.headers };
  if (opts.timestamp !== null) headers["x-slack-request-timestamp"] = opts.timestamp ?? ts;
  if (signature !== null) headers["x-slack-signature"] = signature;
  const res = await exports.default.fetch(new Request("http://localhost/slack/events", { method: "POST", headers, body }));
  const text = await res.text();
  let parsed: unknown = null;
  try { parsed = JSON.parse(text); } catch { /* not JSON */ }
  return { status: res.status, body: parsed, text };
}

/** The sandbox's fake Slack and echo agent, answering the vault's outbound calls in-process. */
const sandbox = new Hono();
sandbox.route("/_sandbox/slack", sandboxSlack);
sandbox.route("/_sandbox/agent", sandboxAgent);

export interface Outbound {
  /** Every outbound URL the code under test fetched, in order. */
  urls: string[];
  slackCalls: () => string[];
  agentCalls: () => { agent: string; session_id: string; text: string; thread_ts: string }[];
}

/**
 * Mocks globalThis.fetch (notes section 1.5: the DOs run in this isolate, so their calls are
 * seen too). The seed points the demo org at http://localhost:8787/_sandbox, which is served
 * here by the real sandbox apps; anything else is refused with 599.
 */
export function mockOutbound(intercept?: (req: Request) => Response | Promise<Response> | undefined): Outbound {
  const urls: string[] = [];
  const agent: { agent: string; session_id: string; text: string; thread_ts: string }[] = [];
  vi.spyOn(globalThis, "fetch").mockImplementation(async (input, init) => {
    const req = new Request(input as RequestInfo, init);
    urls.push(req.url);
    const custom = await intercept?.(req.clone());
    if (custom) return custom;
    const url = new URL(req.url);
    if (url.origin === "http://localhost:8787" && url.pathname.startsWith("/_sandbox/")) {
      const m = /^\/_sandbox\/agent\/agents\/([^/]+)\/messages$/.exec(url.pathname);
      if (m) {
        const b = (await req.clone().json()) as { session_id: string; text: string; thread_ts: string };
        agent.push({ agent: decodeURIComponent(m[1]!), session_id: b.session_id, text: b.text, thread_ts: b.thread_ts });
      }
      // With the test env: the echo agent checks the AGENT_RUNTIME_TOKEN bearer, as in dev.
      return sandbox.fetch(req, env);
    }
    return new Response("blocked by test", { status: 599 });
  });
  return {
    urls,
    slackCalls: () => urls.filter((u) => u.includes("/_sandbox/slack/api/")).map((u) => u.split("/_sandbox/slack/api/")[1]!),
    agentCalls: () => agent,
  };
}

/**
 * Runs the vault's alarm until no delivery is due or running (real alarms also fire in the
 * background; the inbox's claim makes each message run once either way).
 */
export async function drain(orgId: string, timeoutMs = 15_000): Promise<void> {
  const stub = vaultOf(orgId);
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    await runDurableObjectAlarm(stub);
    const [row] = await vaultSql(orgId, `SELECT COUNT(*) AS n FROM slack_inbox WHERE status = 'running' OR (status = 'pending' AND next_attempt_at <= ?)`, Date.now());
    if (Number(row!.n) === 0) return;
    if (Date.now() > deadline) throw new Error("the Slack inbox did not drain");
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** The fake Slack's recorded chat.postMessage calls, as GET /_sandbox/slack/messages answers them. */
export async function posted(): Promise<{ channel: string; thread_ts: string | null; text: string; ts: string }[]> {
  const res = await sandbox.fetch(new Request("http://localhost:8787/_sandbox/slack/messages"));
  const body = (await res.json()) as { messages: { channel: string; thread_ts: string | null; text: string; ts: string }[] };
  return body.messages;
}

export async function inbox(orgId: string) {
  return vaultSql(orgId, `SELECT id, channel_id, ts, thread_ts, session_id, status, attempts, last_error, event_id FROM slack_inbox ORDER BY id`);
}

export function expectAck(res: { status: number; body: any; text: string }): void {
  expect(res.status, res.text).toBe(200);
  expect(res.body, res.text).toEqual({ ok: true });
}
