#!/usr/bin/env node
// `npm run bench`: load benchmarks against the local stack, reported as ratios against baselines
// measured in the same run. Starts its own stack on a spare port with fresh state unless
// BENCH_URL points at a running one (which must be in dev mode). Writes bench/results.json.
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import autocannon from "autocannon";
import { slackBench } from "./slack.mjs";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const DURATION = Number(process.env.BENCH_SECONDS ?? 3);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
// Back-to-back (round trip, resolve) pairs after the rounds: the headline ratio's spread on this machine.
const PAIRS = Number(process.env.BENCH_PAIRS ?? 7);
// Enough connections to saturate the machine: throughput is compared where CPU, not latency, is the limit.
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 32);

// wrangler dev's local explorer and observability (on by default since wrangler 4.1xx) stream every
// call and every SQL statement of the stack as a trace span to a collector isolate that stores it,
// in the same workerd process: that cost is the dev tool's, not the product's, and it grew with
// the number of statements a route runs (bench/README.md, "Where the time goes"). The bench turns
// them off; BENCH_DEV_TRACING=1 keeps them, to measure what `npm run dev` feels like.
const DEV_TOOLING = process.env.BENCH_DEV_TRACING === "1" ? {} : { X_LOCAL_OBSERVABILITY: "false", X_LOCAL_EXPLORER: "false" };

async function startStack() {
  if (process.env.BENCH_URL) return { base: process.env.BENCH_URL, stop: () => {} };
  const dir = mkdtempSync(path.join(os.tmpdir(), "keystroke-bench-"));
  const seedFile = path.join(dir, "seed.json");
  const port = 8790 + Math.floor(Math.random() * 9);
  const child = spawn(process.execPath, [path.join(root, "scripts/dev.mjs")], {
    cwd: root,
    env: { ...process.env, PORT: String(port), KEYSTROKE_STATE_DIR: path.join(dir, "state"), KEYSTROKE_SEED_FILE: seedFile, KEYSTROKE_QUIET: "1", ...DEV_TOOLING },
    stdio: ["ignore", "ignore", "inherit"],
    detached: true,
  });
  const deadline = Date.now() + 150_000;
  while (!existsSync(seedFile)) {
    if (Date.now() > deadline || child.exitCode !== null) throw new Error("the local stack did not start");
    await new Promise((r) => setTimeout(r, 200));
  }
  return {
    base: `http://localhost:${port}`,
    stop: () => { try { process.kill(-child.pid, "SIGTERM"); } catch {} rmSync(dir, { recursive: true, force: true }); },
  };
}

// Management reads are limited per token (MANAGEMENT_LIMITER): the throughput rows spread their
// requests over this many of the owner's tokens, so they measure the vault, not the limiter.
const MEMBER_TOKENS = 64;
// The list page's query: 10 rows, all the small org has, so both orgs answer pages of the same size
// (the 2026-12-01 run used 50: 10 rows against 50). BENCH_LIST_QUERY="" measures the unpaged list
// of a build without paging.
const LIST_QUERY = process.env.BENCH_LIST_QUERY ?? "?limit=10";

async function benchOrg(base, slug, credentials, assignments) {
  const res = await fetch(`${base}/dev/bench-org`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ slug, credentials, assignments, member_tokens: MEMBER_TOKENS }) });
  if (!res.ok) throw new Error(`/dev/bench-org ${slug}: ${res.status} ${await res.text()}`);
  return res.json();
}

const resolveBody = (apps) => JSON.stringify({ consumer: { kind: "workflow", target: "bench", id: "step-1" }, requirements: apps.map((app) => ({ app })) });

function requestOf(opts) {
  const request = { url: opts.url, method: opts.method ?? "GET", headers: { ...(opts.token ? { authorization: `Bearer ${opts.token}` } : {}), ...(opts.body ? { "content-type": "application/json" } : {}) }, body: opts.body };
  if (!opts.tokens) return request;
  // Round robin over the given tokens, one per request.
  let n = 0;
  return { ...request, requests: [{ setupRequest: (req) => ({ ...req, headers: { ...req.headers, authorization: `Bearer ${opts.tokens[n++ % opts.tokens.length]}` } }) }] };
}

/**
 * Another client of the same org: `loops` loops that each walk GET /v1/credentials page by page
 * (next_cursor, then from the start again) with one member token until stopped. A 429 is waited
 * out (Retry-After, at most 1 s) as the CLI does. Answers the stop function, which resolves to the
 * pages read and the 429s seen.
 */
function listLoad(base, token, loops = 4) {
  let stopped = false;
  const seen = { pages: 0, limited: 0 };
  const loop = async () => {
    let cursor = null;
    while (!stopped) {
      const q = LIST_QUERY === "" ? "" : `?${new URLSearchParams({ limit: "100", ...(cursor ? { cursor } : {}) })}`;
      const res = await fetch(`${base}/v1/credentials${q}`, { headers: { authorization: `Bearer ${token}` } });
      if (res.status === 429) {
        seen.limited++;
        await res.arrayBuffer();
        await new Promise((r) => setTimeout(r, Math.min(1000, Number(res.headers.get("retry-after") ?? 1) * 1000)));
        continue;
      }
      if (!res.ok) throw new Error(`list load: ${res.status} ${await res.text()}`);
      const page = await res.json();
      seen.pages++;
      cursor = page.next_cursor ?? null;
    }
  };
  const running = Promise.all(Array.from({ length: loops }, loop));
  return async () => { stopped = true; await running; return seen; };
}

async function measure(name, request, seconds, background) {
  const stop = background ? background() : null;
  let r;
  try {
    r = await autocannon({ ...request, connections: CONNECTIONS, duration: seconds });
  } finally {
    if (stop) await stop();
  }
  const bad = r.non2xx + r.errors + r.timeouts;
  if (bad > 0) throw new Error(`${name}: ${bad} failed requests of ${r.requests.total}`);
  return { rps: r.requests.average, p50: r.latency.p50, p99: r.latency.p99, total: r.requests.total };
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const ratio = (a, b) => Math.round((a / b) * 100) / 100;

/**
 * Every scenario runs in each of several rounds, in turn, and reports its median round: drift
 * (warming caches, other load on the machine) then touches every scenario alike.
 */
async function runAll(scenarios) {
  const samples = Object.fromEntries(Object.keys(scenarios).map((k) => [k, []]));
  for (const [key, s] of Object.entries(scenarios)) await measure(s.name, requestOf(s), 1, s.background); // warm-up
  const entries = Object.entries(scenarios);
  for (let round = 0; round < ROUNDS; round++) {
    // Each round starts one scenario later, so no scenario always follows the same neighbour.
    for (let i = 0; i < entries.length; i++) {
      const [key, s] = entries[(i + round) % entries.length];
      samples[key].push(await measure(s.name, requestOf(s), DURATION, s.background));
    }
  }
  const rows = {};
  for (const [key, s] of Object.entries(scenarios)) {
    const xs = samples[key];
    rows[key] = { name: s.name, rps: Math.round(median(xs.map((x) => x.rps))), p50_ms: median(xs.map((x) => x.p50)), p99_ms: median(xs.map((x) => x.p99)), requests: xs.reduce((n, x) => n + x.total, 0) };
    console.error(`  ${s.name.padEnd(40)} ${String(rows[key].rps).padStart(6)} req/s  p50 ${rows[key].p50_ms} ms  p99 ${rows[key].p99_ms} ms`);
  }
  return rows;
}

/**
 * The headline ratio again, from back-to-back pairs (the round trip and the resolve one after the
 * other, the order alternating): its median and range show how much of a single run's ratio is
 * this machine's noise (bench/README.md, "Third pass").
 */
async function pairedRatios(baseline, subject, pairs) {
  const ratios = [];
  for (let i = 0; i < pairs; i++) {
    const order = i % 2 === 0 ? [baseline, subject] : [subject, baseline];
    const [a, b] = [await measure(order[0].name, requestOf(order[0]), DURATION), await measure(order[1].name, requestOf(order[1]), DURATION)];
    const [base, sub] = i % 2 === 0 ? [a, b] : [b, a];
    ratios.push(sub.rps / base.rps);
  }
  return { median: median(ratios), min: Math.min(...ratios), max: Math.max(...ratios), pairs };
}

const stack = await startStack();
try {
  const started = Date.now();
  console.error(`bench: stack at ${stack.base}; filling orgs...`);
  const small = await benchOrg(stack.base, "bench-small", 10, 10);
  const large = await benchOrg(stack.base, "bench-large", 10_000, 100_000);
  console.error(`bench: orgs ready in ${((Date.now() - started) / 1000).toFixed(1)} s; ${ROUNDS} rounds of ${DURATION} s per scenario, ${CONNECTIONS} connections`);

  const resolve = (token, apps) => ({ url: `${stack.base}/v1/runtime/resolve`, method: "POST", token, body: resolveBody(apps) });
  // The ref looked up: exa's one org credential (the same decision in both orgs), found by a filtered list.
  const refOf = async (org) => {
    const res = await fetch(`${stack.base}/v1/credentials?app=exa&scope=org`, { headers: { authorization: `Bearer ${org.owner_token}` } });
    const ref = (await res.json()).credentials?.[0]?.ref;
    if (!ref) throw new Error(`no exa org credential to look up (${res.status})`);
    return encodeURIComponent(ref);
  };
  const [smallRef, largeRef] = [await refOf(small), await refOf(large)];
  const rows = await runAll({
    noop: { name: "no-op route (GET /health)", url: `${stack.base}/health` },
    vault: { name: "one vault round trip (GET /v1/ping)", url: `${stack.base}/v1/ping`, token: small.runtime_token },
    // The same round trip carrying the resolve's body: the transport floor of any POST (bench/README.md).
    vaultPost: { name: "vault round trip, resolve's body (POST /v1/ping)", url: `${stack.base}/v1/ping`, method: "POST", token: small.runtime_token, body: resolveBody(["exa"]) },
    explain1: { name: "explain, 1 requirement (no audit)", url: `${stack.base}/v1/resolve/explain`, method: "POST", token: small.owner_token, body: resolveBody(["exa"]) },
    resolve1: { name: "resolve, 1 requirement", ...resolve(small.runtime_token, ["exa"]) },
    resolve3: { name: "resolve, 3 requirements", ...resolve(small.runtime_token, ["exa", "openai", "anthropic"]) },
    resolveLarge: { name: "resolve, org of 10k creds, 100k assignments", ...resolve(large.runtime_token, ["exa"]) },
    refSmall: { name: "credential by ref, org of 10 creds", url: `${stack.base}/v1/credentials/${smallRef}`, tokens: small.member_tokens },
    refLarge: { name: "credential by ref, org of 10k creds", url: `${stack.base}/v1/credentials/${largeRef}`, tokens: large.member_tokens },
    listSmall: { name: "list page, org of 10 creds", url: `${stack.base}/v1/credentials${LIST_QUERY}`, tokens: small.member_tokens },
    listLarge: { name: "list page, org of 10k creds", url: `${stack.base}/v1/credentials${LIST_QUERY}`, tokens: large.member_tokens },
    resolveUnderList: { name: "resolve, 10k org, while a member lists", ...resolve(large.runtime_token, ["exa"]), background: () => listLoad(stack.base, large.owner_token) },
  });

  const paired = await pairedRatios(
    { name: "one vault round trip (GET /v1/ping)", url: `${stack.base}/v1/ping`, token: small.runtime_token },
    { name: "resolve, 1 requirement", ...resolve(small.runtime_token, ["exa"]) },
    PAIRS,
  );
  const range = (x) => `${ratio(x.median, 1)} (${ratio(x.min, 1)}-${ratio(x.max, 1)} over ${x.pairs} pairs)`;
  console.error(`  resolve / round trip in back-to-back pairs: ${range(paired)}`);

  // Slack: acknowledgement latency while the agent takes 10 s per answer, beside the same worker's health route.
  const slack = await slackBench(stack.base, { events: 200, agentDelayMs: 10_000, concurrency: CONNECTIONS });
  rows.slackAck = slack.ack;
  rows.slackHealth = slack.health;
  console.error(`  ${slack.ack.name}: p50 ${slack.ack.p50_ms} ms, p99 ${slack.ack.p99_ms} ms (health p50 ${slack.health.p50_ms}, p99 ${slack.health.p99_ms}); replies out at ack end: ${slack.repliesAtAck}`);

  const checks = [
    { name: "resolve (1 req) / vault round trip, throughput", value: ratio(rows.resolve1.rps, rows.vault.rps), target: ">= 0.9", pass: rows.resolve1.rps / rows.vault.rps >= 0.9 },
    { name: "10-cred org / 10k-cred org, throughput", value: ratio(rows.resolve1.rps, rows.resolveLarge.rps), target: "<= 1.2", pass: rows.resolve1.rps / rows.resolveLarge.rps <= 1.2 },
    { name: "ref lookup: 10-cred org / 10k-cred org, throughput", value: ratio(rows.refSmall.rps, rows.refLarge.rps), target: "<= 1.2", pass: rows.refSmall.rps / rows.refLarge.rps <= 1.2 },
    { name: "list page: 10-cred org / 10k-cred org, throughput", value: ratio(rows.listSmall.rps, rows.listLarge.rps), target: "<= 1.2", pass: rows.listLarge.rps > 0 && rows.listSmall.rps / rows.listLarge.rps <= 1.2 },
    // A scenario where no request finished within a round (the unpaged 10k list) counts as missed.
    { name: "resolve p99 while a member lists / resolve p99 alone (10k org)", value: ratio(rows.resolveUnderList.p99_ms, rows.resolveLarge.p99_ms), target: "<= 1.5", pass: rows.resolveUnderList.requests > 0 && rows.resolveUnderList.p99_ms / rows.resolveLarge.p99_ms <= 1.5 },
    { name: "resolve with audit / explain without, throughput", value: ratio(rows.resolve1.rps, rows.explain1.rps), target: ">= 0.5", pass: rows.resolve1.rps / rows.explain1.rps >= 0.5 },
    { name: "resolve (1 req) / vault round trip, back-to-back pairs: median (range)", value: range(paired), target: "(info)", pass: true },
    { name: "resolve (1 req) / POST round trip with its body, throughput", value: ratio(rows.resolve1.rps, rows.vaultPost.rps), target: "(info)", pass: true },
    { name: "POST round trip / GET round trip, throughput", value: ratio(rows.vaultPost.rps, rows.vault.rps), target: "(info)", pass: true },
    { name: "resolve 3 reqs / resolve 1 req, throughput", value: ratio(rows.resolve3.rps, rows.resolve1.rps), target: "(info)", pass: true },
    { name: "vault round trip / no-op, throughput", value: ratio(rows.vault.rps, rows.noop.rps), target: "(info)", pass: true },
    { name: "Slack ack p99 while the agent takes 10 s (ms; Slack allows 3000)", value: rows.slackAck.p99_ms, target: "<= 1000", pass: rows.slackAck.p99_ms <= 1000 },
    { name: "Slack ack p50 / slack-events health p50", value: ratio(rows.slackAck.p50_ms, rows.slackHealth.p50_ms), target: "(info)", pass: true },
  ];
  const cpu = os.cpus();
  const results = {
    date: new Date().toISOString(),
    machine: { cpu: cpu[0]?.model ?? "unknown", cores: cpu.length, memory_gib: Math.round(os.totalmem() / 2 ** 30), node: process.version, platform: `${os.platform()} ${os.release()}` },
    settings: { seconds_per_round: DURATION, rounds: ROUNDS, pairs: PAIRS, connections: CONNECTIONS, dev_tracing: process.env.BENCH_DEV_TRACING === "1" },
    rows: Object.values(rows),
    ratios: checks,
    seconds_total: Math.round((Date.now() - started) / 1000),
  };
  writeFileSync(path.join(root, "bench/results.json"), JSON.stringify(results, null, 2) + "\n");

  console.log(`\n| scenario | req/s | p50 ms | p99 ms |\n|---|---:|---:|---:|`);
  for (const r of results.rows) console.log(`| ${r.name} | ${r.rps} | ${r.p50_ms} | ${r.p99_ms} |`);
  console.log(`\n| ratio | value | target | |\n|---|---:|---|---|`);
  for (const c of checks) console.log(`| ${c.name} | ${c.value} | ${c.target} | ${c.pass ? "ok" : "MISSED"} |`);
  console.log(`\n${results.date}, ${results.machine.cpu}, ${results.machine.cores} cores, ${results.machine.memory_gib} GiB, Node ${results.machine.node}; ${results.seconds_total} s`);
  process.exitCode = checks.every((c) => c.pass) ? 0 : 1;
} finally {
  stack.stop();
}
