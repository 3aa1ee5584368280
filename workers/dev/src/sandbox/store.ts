import { DurableObject } from "cloudflare:workers";
import { initialChannels, tsOf, type AgentCall, type Channel, type DelayConfig, type Fault, type PostedMessage, type SandboxState } from "./slack-fake";

/**
 * The sandbox's state in dev (never deployed): what the product posted to the fake Slack,
 * injected faults, the fake workspace's channels, and the echo agent's delays and calls. A
 * SQLite Durable Object of the dev worker, so a hot reload of `npm run dev` (any source change)
 * keeps it; it persists with the rest of the local state until DELETE /_sandbox/slack/messages.
 */
export class SandboxStore extends DurableObject<Record<string, never>> implements SandboxState {
  #sql: SqlStorage;

  constructor(ctx: DurableObjectState, env: Record<string, never>) {
    super(ctx, env);
    this.#sql = ctx.storage.sql;
    this.#sql.exec(`
      CREATE TABLE IF NOT EXISTS counters (k TEXT PRIMARY KEY, v INTEGER NOT NULL);
      CREATE TABLE IF NOT EXISTS messages (seq INTEGER PRIMARY KEY AUTOINCREMENT, channel TEXT NOT NULL, thread_ts TEXT, text TEXT NOT NULL, ts TEXT NOT NULL);
      CREATE TABLE IF NOT EXISTS faults (id INTEGER PRIMARY KEY AUTOINCREMENT, spec TEXT NOT NULL, times INTEGER NOT NULL);
      CREATE TABLE IF NOT EXISTS channels (id TEXT PRIMARY KEY, spec TEXT NOT NULL);
      CREATE TABLE IF NOT EXISTS agent_delays (agent TEXT PRIMARY KEY, delay_ms INTEGER NOT NULL);
      CREATE TABLE IF NOT EXISTS agent_calls (seq INTEGER PRIMARY KEY AUTOINCREMENT, call TEXT NOT NULL);
      CREATE TABLE IF NOT EXISTS snapshots (k TEXT PRIMARY KEY, v TEXT NOT NULL);
    `);
    if (this.#sql.exec(`SELECT COUNT(*) AS n FROM channels`).one().n === 0) this.#seedChannels();
  }

  #seedChannels() {
    for (const ch of initialChannels()) this.#sql.exec(`INSERT OR REPLACE INTO channels (id, spec) VALUES (?, ?)`, ch.id, JSON.stringify(ch));
  }

  async nextTs(nowMs: number): Promise<string> {
    const v = this.#sql.exec(`INSERT INTO counters (k, v) VALUES ('ts', 1) ON CONFLICT(k) DO UPDATE SET v = v + 1 RETURNING v`).one().v;
    return tsOf(nowMs, Number(v));
  }

  async record(m: Omit<PostedMessage, "ts">, nowMs: number): Promise<PostedMessage> {
    const posted = { ...m, ts: await this.nextTs(nowMs) };
    this.#sql.exec(`INSERT INTO messages (channel, thread_ts, text, ts) VALUES (?, ?, ?, ?)`, posted.channel, posted.thread_ts, posted.text, posted.ts);
    return posted;
  }

  async messages(channel?: string): Promise<PostedMessage[]> {
    const rows = channel
      ? this.#sql.exec(`SELECT channel, thread_ts, text, ts FROM messages WHERE channel = ? ORDER BY seq`, channel)
      : this.#sql.exec(`SELECT channel, thread_ts, text, ts FROM messages ORDER BY seq`);
    return rows.toArray().map((r) => ({ channel: String(r.channel), thread_ts: r.thread_ts === null ? null : String(r.thread_ts), text: String(r.text), ts: String(r.ts) }));
  }

  async reset(): Promise<void> {
    this.#sql.exec(`DELETE FROM messages; DELETE FROM faults; DELETE FROM channels; DELETE FROM agent_calls;`);
    this.#seedChannels();
  }

  async addFault(f: Fault): Promise<Fault[]> {
    this.#sql.exec(`INSERT INTO faults (spec, times) VALUES (?, ?)`, JSON.stringify(f), f.times);
    return this.#sql.exec(`SELECT spec, times FROM faults ORDER BY id`).toArray().map((r) => ({ ...(JSON.parse(String(r.spec)) as Fault), times: Number(r.times) }));
  }

  async takeFault(method: string): Promise<Fault | null> {
    for (const r of this.#sql.exec(`SELECT id, spec, times FROM faults ORDER BY id`).toArray()) {
      const f = JSON.parse(String(r.spec)) as Fault;
      if (f.method !== method) continue;
      const left = Number(r.times) - 1;
      if (left > 0) this.#sql.exec(`UPDATE faults SET times = ? WHERE id = ?`, left, r.id);
      else this.#sql.exec(`DELETE FROM faults WHERE id = ?`, r.id);
      return { ...f, times: left };
    }
    return null;
  }

  async channels(): Promise<Channel[]> {
    return this.#sql.exec(`SELECT spec FROM channels ORDER BY rowid`).toArray().map((r) => JSON.parse(String(r.spec)) as Channel);
  }

  async addChannel(ch: Channel): Promise<void> {
    this.#sql.exec(`INSERT OR IGNORE INTO channels (id, spec) VALUES (?, ?)`, ch.id, JSON.stringify(ch));
  }

  async agentDelay(agent: string): Promise<number> {
    const rows = this.#sql.exec(`SELECT agent, delay_ms FROM agent_delays WHERE agent IN (?, '*')`, agent).toArray();
    const own = rows.find((r) => r.agent === agent) ?? rows.find((r) => r.agent === "*");
    return own ? Number(own.delay_ms) : 0;
  }

  async setAgentDelay(delayMs: number, agent?: string): Promise<DelayConfig> {
    if (!agent) this.#sql.exec(`DELETE FROM agent_delays`);
    this.#sql.exec(`INSERT OR REPLACE INTO agent_delays (agent, delay_ms) VALUES (?, ?)`, agent ?? "*", delayMs);
    return this.delayConfig();
  }

  async delayConfig(): Promise<DelayConfig> {
    const rows = this.#sql.exec(`SELECT agent, delay_ms FROM agent_delays`).toArray();
    return {
      delay_ms: Number(rows.find((r) => r.agent === "*")?.delay_ms ?? 0),
      agents: Object.fromEntries(rows.filter((r) => r.agent !== "*").map((r) => [String(r.agent), Number(r.delay_ms)])),
    };
  }

  async recordAgentCall(call: AgentCall): Promise<void> {
    this.#sql.exec(`INSERT INTO agent_calls (call) VALUES (?)`, JSON.stringify(call));
    this.#sql.exec(`DELETE FROM agent_calls WHERE seq <= (SELECT MAX(seq) - 10000 FROM agent_calls)`);
  }

  async agentCalls(): Promise<AgentCall[]> {
    return this.#sql.exec(`SELECT call FROM agent_calls ORDER BY seq`).toArray().map((r) => JSON.parse(String(r.call)) as AgentCall);
  }

  /** A whole in-memory state (the OAuth provider's), kept so a restart of `npm run dev` forgets nothing. */
  async loadSnapshot(key: string): Promise<string | null> {
    const row = this.#sql.exec(`SELECT v FROM snapshots WHERE k = ?`, key).toArray()[0];
    return row ? String(row.v) : null;
  }

  async saveSnapshot(key: string, value: string): Promise<void> {
    this.#sql.exec(`INSERT INTO snapshots (k, v) VALUES (?, ?) ON CONFLICT(k) DO UPDATE SET v = excluded.v`, key, value);
  }
}
