// The Slack group of `npm run bench`: acknowledgement latency of POST /slack/events for signed
// events while the (sandbox echo) agent takes 10 s per answer, next to the same worker's health
// route measured in the same window. Slack wants a 200 within 3 s; an ack must never wait for the
// agent, because delivery runs later from the vault's alarm. Also runnable alone:
//   node bench/slack.mjs http://localhost:8787      (a running `npm run dev` stack)
import { createHmac, randomBytes } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");

/** The dev signing secret: what scripts/dev.mjs gave the slack-events worker. */
function signingSecret() {
  for (const f of ["workers/slack-events/.dev.vars", "workers/slack-events/.dev.vars.example"]) {
    const p = path.join(root, f);
    if (!existsSync(p)) continue;
    const m = /^SLACK_SIGNING_SECRET=["']?([^"'\n]+)["']?$/m.exec(readFileSync(p, "utf8"));
    if (m) return m[1];
  }
  throw new Error("no SLACK_SIGNING_SECRET in workers/slack-events/.dev.vars(.example)");
}

/** A human message in the seeded #deploys (C0AB6CHAN1, mode all): each one a new thread, so a new agent run. */
function eventBody(i, runId) {
  const ts = `${1900000000 + i}.${runId}`;
  return JSON.stringify({
    token: "bench", team_id: "T0AB1CD2EF", api_app_id: "A0AB2AGNT7", type: "event_callback",
    event_id: `Ev0BENCH${runId}${String(i).padStart(4, "0")}`, event_time: Math.floor(Date.now() / 1000),
    event: { type: "message", user: "U0AB4HUMN1", text: `bench message ${i}`, ts, channel: "C0AB6CHAN1", event_ts: ts, channel_type: "channel", team: "T0AB1CD2EF" },
    authorizations: [{ enterprise_id: null, team_id: "T0AB1CD2EF", user_id: "U0AB3BOT01", is_bot: true, is_enterprise_install: false }],
  });
}

const pct = (xs, p) => {
  const s = [...xs].sort((a, b) => a - b);
  return Math.round(s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] * 10) / 10;
};

/** Runs `tasks` with `concurrency` in flight; answers each task's latency in ms. */
async function pool(tasks, concurrency) {
  const out = new Array(tasks.length);
  let next = 0;
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (next < tasks.length) {
      const i = next++;
      const t0 = performance.now();
      await tasks[i]();
      out[i] = performance.now() - t0;
    }
  }));
  return out;
}

export async function slackBench(base, { events = 200, agentDelayMs = 10_000, concurrency = 8 } = {}) {
  const secret = signingSecret();
  // Digits only: it goes into message timestamps. A new one per run, so reruns on one stack are new messages.
  const runId = String(randomBytes(4).readUInt32BE(0) % 1_000_000).padStart(6, "0");
  const setDelay = (ms) => fetch(`${base}/_sandbox/agent/config`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ delay_ms: ms }) });
  if (!(await setDelay(agentDelayMs)).ok) throw new Error("could not set the sandbox agent's delay");
  const before = (await (await fetch(`${base}/_sandbox/slack/messages`)).json()).messages.length;
  try {
    const post = (i) => async () => {
      const body = eventBody(i, runId);
      const ts = String(Math.floor(Date.now() / 1000));
      const sig = `v0=${createHmac("sha256", secret).update(`v0:${ts}:${body}`).digest("hex")}`;
      const res = await fetch(`${base}/slack/events`, { method: "POST", headers: { "content-type": "application/json", "x-slack-request-timestamp": ts, "x-slack-signature": sig }, body });
      const text = await res.text();
      if (res.status !== 200 || text !== '{"ok":true}') throw new Error(`slack event ${i}: ${res.status} ${text}`);
    };
    const health = async () => {
      const res = await fetch(`${base}/slack/health`);
      await res.text();
      if (res.status !== 200) throw new Error(`slack health: ${res.status}`);
    };
    // Interleaved in one pool, so both see the same load at the same time.
    const tasks = [];
    for (let i = 0; i < events; i++) tasks.push(post(i), health);
    const t0 = performance.now();
    const lat = await pool(tasks, concurrency);
    const seconds = (performance.now() - t0) / 1000;
    const ack = lat.filter((_, i) => i % 2 === 0);
    const hl = lat.filter((_, i) => i % 2 === 1);
    // The acks are done; the agent has barely started (10 s each), so few replies can be out yet.
    const repliesAtAck = (await (await fetch(`${base}/_sandbox/slack/messages`)).json()).messages.length - before;
    return {
      ack: { name: `Slack event ack (POST /slack/events), ${events} events, agent ${agentDelayMs / 1000} s/answer`, rps: Math.round(events / seconds), p50_ms: pct(ack, 50), p99_ms: pct(ack, 99), requests: events },
      health: { name: "slack-events health (GET /slack/health), same window", rps: Math.round(events / seconds), p50_ms: pct(hl, 50), p99_ms: pct(hl, 99), requests: events },
      repliesAtAck,
    };
  } finally {
    await setDelay(0).catch(() => undefined);
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const r = await slackBench(process.argv[2] ?? "http://localhost:8787");
  console.log(JSON.stringify(r, null, 2));
}
