import { Hono } from "hono";
import type { ApiEnv } from "../http/vault";
import { Csrf, ErrorBanner, Page } from "../../../shared/layout";
import { loadPage, navOf, pageValue } from "./pages";
import { isAdmin } from "../../../../lib/permissions";

/** "Connect an app": the searchable catalog (and the org's custom apps), leading into the connect flow. */
export const catalogPages = new Hono<ApiEnv>();

catalogPages.get("/catalog", async (c) => {
  const search = (c.req.query("search") ?? "").slice(0, 100);
  const loaded = await loadPage(c, (vault, token) => vault.loadCatalogPage(token, search || undefined));
  if (loaded instanceof Response) return loaded;
  const { s } = loaded;
  const r = pageValue(loaded.page.apps);
  const apps = r.value?.apps ?? [];
  return c.html(
    <Page title="Connect an app" nav={navOf(s, "/catalog")}>
      <h1>Connect an app</h1>
      <form method="get" action="/catalog" class="card filters" role="search" aria-label="Search the catalog">
        <div class="wide">
          <label for="search">Search apps</label>
          <input id="search" type="search" name="search" value={search} placeholder="e.g. linear, openai, email" />
        </div>
        <div class="buttons">
          <button type="submit">Search</button>
          {search ? <a href="/catalog">Show all</a> : null}
        </div>
      </form>
      <ErrorBanner error={r.error} />
      {r.value ? (
        <p class="muted" role="status">{apps.length === 1 ? "1 app" : `${apps.length} apps`}{search ? ` match “${search}”` : ""}.</p>
      ) : null}
      {apps.length ? (
        <ul class="catalog">
          {apps.map((a) => (
            <li data-app={a.slug}>
              <span class="name">{a.name} <span class="muted small">{a.slug}</span></span>
              <span>
                <span class="badge off">{a.kind === "oauth" ? "OAuth" : "API key"}</span> <span class="muted small">{a.category}</span>
                {a.connected ? <> <span class="badge ok">{a.connected} connected</span></> : null}
              </span>
              <p class="small">{a.description}</p>
              {/* A post, not a link: starting a connect session changes state (the CSRF value guards it). */}
              <form method="post" action="/connect" class="flush">
                <Csrf value={s.csrf} />
                <input type="hidden" name="app" value={a.slug} />
                <button type="submit" class="small" aria-label={`Connect ${a.name}`}>Connect</button>
              </form>
              {a.kind === "oauth" && !a.channel && isAdmin(s.principal) ? <a class="small" href={`/apps/${encodeURIComponent(a.slug)}/oauth-client`} aria-label={`${a.name} OAuth client`}>OAuth client</a> : null}
            </li>
          ))}
        </ul>
      ) : r.value ? (
        <div class="card">
          <p>No app matches “{search}”.</p>
          <p class="muted">A service that is not in the catalog can still be stored as a custom app, with any fields it needs: from the command-line tool or through the API (<code>POST /v1/credentials</code>).</p>
        </div>
      ) : null}
    </Page>,
  );
});
