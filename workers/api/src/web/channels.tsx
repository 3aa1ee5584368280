import { Hono, type Context } from "hono";
import { fromZodError, type ErrorBody } from "../../../../lib/errors";
import { can } from "../../../../lib/permissions";
import { SLUG_PATTERN, type Scope } from "../../../../lib/schemas/common";
import { BindChannelBody, ChannelRef, ListenMode, type AvailableChannel, type ChannelBinding } from "../../../../lib/schemas/slack";
import type { ApiEnv } from "../http/vault";
import { Csrf, ErrorBanner, OkBanner, Page } from "../../../shared/layout";
import type { ChannelsPage } from "../../../../durable-objects/vault/pages";
import { act, doneBanner, FORM_EXPIRED, formOf, loadPage, navOf, pageValue, statusOf, text, webError, type WebSession } from "./pages";

/**
 * The agent channels panel (SPEC sections 7 and 9): the Slack channels bound to an agent, binding
 * one from the channels the bot is in (or its DMs), the listen mode, and unbinding. A binding
 * without a project is managed by org owners and admins, one with a project also by that
 * project's admins (the vault decides; the page shows only what `can` allows).
 */
export const channelPages = new Hono<ApiEnv>();
channelPages.onError(webError);

const scopeOf = (project: string | null): Scope => (project ? { type: "project", project } : { type: "org" });
const MODES: Record<string, string> = { mentions: "mentions only", all: "every message" };
const channelName = (b: { channel?: string; id?: string; name: string | null }) => {
  const id = b.channel ?? b.id ?? "";
  return id === "dm" ? "direct messages" : b.name ? `#${b.name}` : id;
};

/** Scopes a member may bind at: "" is the org (owners, admins), else a project they administer. */
function bindScopes(s: WebSession): string[] {
  return ["", ...s.projects].filter((p) => can(s.principal, "manage", scopeOf(p || null)));
}

const agentUrl = (agent: string, done?: string) => `/channels?agent=${encodeURIComponent(agent)}${done ? `&done=${done}` : ""}`;
const DONE: Record<string, string> = { bound: "Bound.", unbound: "Unbound.", mode: "Listen mode changed." };

function ModeSelect({ id, value }: { id: string; value?: string }) {
  return (
    <select id={id} name="mode">
      {ListenMode.options.map((m) => <option value={m} selected={value === m}>{MODES[m]}</option>)}
    </select>
  );
}

/** The page (one vault call: loadChannelsPage), with a banner. */
async function render(c: Context<ApiEnv>, agent: string, banner: { ok?: string | null; error?: ErrorBody | null } = {}, status = 200) {
  const loaded = await loadPage(c, (vault, token) => vault.loadChannelsPage(token, agent));
  return loaded instanceof Response ? loaded : show(c, loaded.s, loaded.page, agent, banner, status);
}

function show(c: Context<ApiEnv>, s: WebSession, page: ChannelsPage, agent: string, banner: { ok?: string | null; error?: ErrorBody | null }, status: number) {
  const list = pageValue(page.list);
  const installed = (list.value?.installations.length ?? 0) > 0;
  const bindings = list.value?.channels ?? [];
  const agents = [...new Set(bindings.map((b) => b.agent))].sort();
  const mine = agent ? bindings.filter((b) => b.agent === agent) : [];
  const scopes = bindScopes(s);
  // The vault loads these only when an agent is chosen and the member can bind somewhere (bindScopes).
  const available = agent && installed && scopes.length && page.available ? pageValue(page.available) : null;
  const choices: AvailableChannel[] = (available?.value?.channels ?? []).filter((ch) => ch.bindable && ch.binding?.agent !== agent)
    // Free channels first: moving a channel away from another agent is the exception.
    .sort((a, b) => Number(a.binding !== null) - Number(b.binding !== null));
  const canConnect = can(s.principal, "manage", { type: "org" });
  return c.html(
    <Page title={agent ? `Agent channels · ${agent}` : "Agent channels"} nav={navOf(s, "/channels")}>
      <h1>Agent channels{agent ? <>: <code>{agent}</code></> : null}</h1>
      <OkBanner message={banner.ok} />
      <ErrorBanner error={banner.error} />
      <ErrorBanner error={list.error} />
      {list.value && !installed ? (
        <div class="card">
          <p>Slack is not connected to this organization, so no channel can be bound yet.</p>
          {canConnect ? <a class="button" href="/connect?app=slack">Connect Slack</a> : <p class="muted">Ask an org owner or admin to connect Slack.</p>}
        </div>
      ) : null}
      <form method="get" action="/channels" class="card filters" aria-label="Choose an agent">
        <div>
          <label for="c-agent">Agent</label>
          <input id="c-agent" type="text" name="agent" value={agent} list="known-agents" placeholder="e.g. deploy-helper" required />
          <datalist id="known-agents">{agents.map((a) => <option value={a} />)}</datalist>
        </div>
        <div class="buttons"><button type="submit">Open</button></div>
      </form>

      {!agent && list.value ? (
        <>
          <h2>Agents with channels</h2>
          {agents.length ? (
            <table>
              <thead><tr><th>Agent</th><th>Channels</th></tr></thead>
              <tbody>
                {agents.map((a) => (
                  <tr>
                    <td data-label="Agent"><a href={agentUrl(a)}>{a}</a></td>
                    <td data-label="Channels">{bindings.filter((b) => b.agent === a).map((b) => channelName(b)).join(", ")}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          ) : (
            <p class="muted">No channel is bound to an agent yet. Open an agent above to bind one.</p>
          )}
        </>
      ) : null}

      {agent && list.value ? (
        <>
          <h2>Bound channels</h2>
          {mine.length ? (
            <table>
              <thead><tr><th>Channel</th><th>Listens to</th><th>Project</th><th>Status</th><th>Actions</th></tr></thead>
              <tbody>{mine.map((b) => <BindingRow s={s} b={b} />)}</tbody>
            </table>
          ) : (
            <p class="muted" data-testid="no-bindings">No channel is bound to {agent}.</p>
          )}

          {installed ? (
            <>
              <h2>Bind a channel</h2>
              {scopes.length === 0 ? (
                <p class="muted">Only org owners and admins, or admins of a project, can bind channels.</p>
              ) : (
                <>
                  <ErrorBanner error={available?.error} />
                  {choices.length ? (
                    <form method="post" action="/channels/bind" class="card">
                      <Csrf value={s.csrf} />
                      <input type="hidden" name="agent" value={agent} />
                      <label for="b-channel">Channel</label>
                      <select id="b-channel" name="channel" required>
                        {choices.map((ch) => (
                          <option value={ch.id}>
                            {channelName(ch)}
                            {ch.is_private ? " (private)" : ""}
                            {ch.binding ? ` (bound to ${ch.binding.agent}; moves it)` : ""}
                          </option>
                        ))}
                      </select>
                      <label for="b-mode">Listen to</label>
                      <ModeSelect id="b-mode" value="mentions" />
                      <label for="b-project">Owned by</label>
                      <select id="b-project" name="project">
                        {scopes.map((p) => <option value={p}>{p ? `project ${p}` : "the org"}</option>)}
                      </select>
                      <p><button type="submit">Bind</button></p>
                    </form>
                  ) : available?.value ? (
                    <div class="card">
                      <p>No other channel can be bound. The bot can listen only in channels it is in.</p>
                      <p class="fix">Invite the bot in Slack (<code>/invite @bot</code>), then reload this page.</p>
                    </div>
                  ) : null}
                </>
              )}
            </>
          ) : null}
        </>
      ) : null}
    </Page>,
    status as 200,
  );
}

function BindingRow({ s, b }: { s: WebSession; b: ChannelBinding }) {
  const manage = can(s.principal, "manage", scopeOf(b.project));
  return (
    <tr data-channel={b.channel}>
      <td data-label="Channel"><strong>{channelName(b)}</strong> <span class="muted small">{b.channel === "dm" ? "" : b.channel}</span></td>
      <td data-label="Listens to">{MODES[b.mode]}</td>
      <td data-label="Project">{b.project ?? <span class="muted">org</span>}</td>
      <td data-label="Status">
        {b.status === "active" ? <span class="badge ok">active</span> : <span class="badge warn">paused{b.paused_reason ? `: ${b.paused_reason}` : ""}</span>}
      </td>
      <td data-label="Actions">
        {manage ? (
          <div class="actions">
            <form method="post" action="/channels/bind" class="actions">
              <Csrf value={s.csrf} />
              <input type="hidden" name="agent" value={b.agent} />
              <input type="hidden" name="channel" value={b.channel} />
              <input type="hidden" name="project" value={b.project ?? ""} />
              <input type="hidden" name="change" value="mode" />
              <label class="small flush" for={`m-${b.channel}`}>Mode</label>
              <ModeSelect id={`m-${b.channel}`} value={b.mode} />
              <button class="secondary small" type="submit">Save</button>
            </form>
            <form method="post" action="/channels/unbind">
              <Csrf value={s.csrf} />
              <input type="hidden" name="agent" value={b.agent} />
              <input type="hidden" name="channel" value={b.channel} />
              <button class="danger small" type="submit" aria-label={`Unbind ${channelName(b)}`}>Unbind</button>
            </form>
          </div>
        ) : (
          <span class="muted small">view only</span>
        )}
      </td>
    </tr>
  );
}

function agentOf(raw: string | undefined): { agent: string; error: ErrorBody | null } {
  const agent = (raw ?? "").trim();
  if (agent && !SLUG_PATTERN.test(agent)) return { agent: "", error: { code: "invalid_request", message: `\`${agent}\` is not a valid agent slug.`, fix: "Use 1-63 characters of a-z, 0-9, '_' or '-'." } };
  return { agent, error: null };
}

channelPages.get("/channels", async (c) => {
  const { agent, error } = agentOf(c.req.query("agent"));
  return render(c, agent, { ok: doneBanner(DONE, c.req.query("done")), error }, error ? 400 : 200);
});

channelPages.post("/channels/bind", async (c) => {
  const form = await formOf(c);
  if (!form) return render(c, "", { error: FORM_EXPIRED }, 403);
  const { agent, error } = agentOf(text(form, "agent"));
  if (error || !agent) return render(c, "", { error: error ?? { code: "invalid_request", message: "Name the agent." } }, 400);
  const project = text(form, "project");
  const body = BindChannelBody.safeParse({ channel: text(form, "channel"), agent, mode: text(form, "mode") || undefined, ...(project ? { project } : {}) });
  if (!body.success) {
    const error = fromZodError(body.error, { fallback: "form", say: (f, problem) => ({ message: `The ${f} ${problem}.`, fix: "Pick a channel and a mode from the lists." }) });
    return render(c, agent, { error: error.toBody() }, 400);
  }
  const r = await act(c, (vault, token) => vault.bindChannel(token, body.data));
  if (r instanceof Response) return r;
  if (!r.ok) return render(c, agent, { error: r.error }, statusOf(r.error));
  return c.redirect(agentUrl(agent, text(form, "change") === "mode" ? "mode" : "bound"), 303);
});

channelPages.post("/channels/unbind", async (c) => {
  const form = await formOf(c);
  if (!form) return render(c, "", { error: FORM_EXPIRED }, 403);
  const { agent } = agentOf(text(form, "agent"));
  const channel = ChannelRef.safeParse(text(form, "channel"));
  if (!channel.success) return render(c, agent, { error: { code: "invalid_request", message: "The unbind form names no channel.", fix: "Reload the page and try again." } }, 400);
  const r = await act(c, (vault, token) => vault.unbindChannel(token, channel.data));
  if (r instanceof Response) return r;
  if (!r.ok) return render(c, agent, { error: r.error }, statusOf(r.error));
  return c.redirect(agent ? agentUrl(agent, "unbound") : "/channels?done=unbound", 303);
});
