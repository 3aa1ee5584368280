import type { Child } from "hono/jsx";
import { fixForWeb, type Fixable } from "../../lib/fixes";

/**
 * The one small stylesheet of the web app: system fonts, calm colours with accessible contrast
 * (text and controls at least 4.5:1 on their background), a focus ring that is always visible on
 * keyboard focus, and tables that become stacked cards at phone width. No client build step.
 */
export const STYLES = `
:root { --fg:#1d2330; --muted:#555d70; --bg:#f7f8fa; --card:#fff; --line:#d5dae3; --accent:#2750c4; --accent-bg:#eef2ff; --danger:#b42318; --danger-bg:#fef3f2; --ok:#067647; --ok-bg:#ecfdf3; --warn:#93370d; --warn-bg:#fffaeb; }
* { box-sizing: border-box; }
html { -webkit-text-size-adjust: 100%; }
body { margin:0; font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color:var(--fg); background:var(--bg); }
a { color:var(--accent); }
.skip { position:absolute; left:-999px; top:0; background:var(--card); padding:.5rem; }
.skip:focus { left:.5rem; z-index:10; }
header { display:flex; gap:.4rem 1rem; align-items:center; padding:.6rem 1.25rem; background:var(--card); border-bottom:1px solid var(--line); flex-wrap:wrap; }
header .brand { font-weight:700; margin-right:auto; color:var(--fg); text-decoration:none; }
header nav { display:flex; gap:.2rem 1rem; flex-wrap:wrap; }
header nav a { color:var(--fg); text-decoration:none; padding:.2rem 0; border-bottom:2px solid transparent; }
header nav a:hover { border-bottom-color:var(--line); }
header nav a[aria-current="page"] { color:var(--accent); font-weight:600; border-bottom-color:var(--accent); }
header .who { display:flex; gap:.5rem; align-items:center; color:var(--muted); font-size:.9rem; }
main { max-width: 72rem; margin: 1.5rem auto; padding: 0 1rem; }
h1 { font-size:1.4rem; margin:.2rem 0 1rem; }
h2 { font-size:1.1rem; margin:1.5rem 0 .6rem; }
.head { display:flex; gap:1rem; align-items:center; justify-content:space-between; flex-wrap:wrap; margin-bottom:1rem; }
.head h1 { margin:0; }
.card { background:var(--card); border:1px solid var(--line); border-radius:8px; padding:1rem 1.25rem; margin-bottom:1rem; }
label { display:block; margin:.5rem 0 .2rem; font-weight:600; }
input[type=text], input[type=password], input[type=search], input[type=datetime-local], select { width:100%; max-width:28rem; padding:.45rem .6rem; border:1px solid #8a93a6; border-radius:6px; font:inherit; background:#fff; color:var(--fg); }
fieldset { border:1px solid var(--line); border-radius:6px; margin:.75rem 0; }
fieldset label { font-weight:400; display:flex; gap:.5rem; align-items:center; }
button, .button { display:inline-block; padding:.4rem .85rem; border-radius:6px; border:1px solid var(--accent); background:var(--accent); color:#fff; font:inherit; line-height:1.4; cursor:pointer; text-decoration:none; }
button:hover, .button:hover { filter:brightness(.92); }
button.secondary, .button.secondary { background:#fff; color:var(--accent); }
button.danger, .button.danger { background:#fff; color:var(--danger); border-color:var(--danger); }
button.danger.solid { background:var(--danger); color:#fff; }
button.small, .button.small { padding:.15rem .55rem; font-size:.85rem; }
:focus-visible { outline:3px solid #f5b400; outline-offset:2px; }
.banner { padding:.6rem .9rem; border-radius:6px; margin-bottom:1rem; }
.banner.ok { background:var(--ok-bg); color:var(--ok); border:1px solid #abefc6; }
.banner.error { background:var(--danger-bg); color:var(--danger); border:1px solid #fecdca; }
.banner.info { background:var(--accent-bg); color:var(--fg); border:1px solid #c7d2fe; }
.fix { color:var(--fg); margin-top:.2rem; }
.fix::before { content:"How to fix: "; font-weight:600; }
table { width:100%; border-collapse:collapse; background:var(--card); border:1px solid var(--line); border-radius:8px; }
th, td { text-align:left; padding:.5rem .6rem; border-bottom:1px solid var(--line); vertical-align:top; }
th { font-size:.85rem; color:var(--muted); font-weight:600; background:#fbfcfd; }
tr:last-child td { border-bottom:none; }
code { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size:.88em; background:#f1f3f7; padding:0 .25rem; border-radius:4px; overflow-wrap:anywhere; }
.badge { display:inline-block; padding:0 .45rem; border-radius:999px; font-size:.8rem; background:var(--accent-bg); color:var(--accent); border:1px solid #c7d2fe; white-space:nowrap; }
.badge.ok { background:var(--ok-bg); color:var(--ok); border-color:#abefc6; }
.badge.warn { background:var(--warn-bg); color:var(--warn); border-color:#fedf89; }
.badge.off { background:#f2f4f7; color:#475467; border-color:#d0d5dd; }
.badge.danger { background:var(--danger-bg); color:var(--danger); border-color:#fecdca; }
.muted { color:var(--muted); }
.small { font-size:.85rem; }
.actions { display:flex; gap:.35rem; flex-wrap:wrap; align-items:center; }
.actions form { margin:0; }
.actions select { width:auto; padding:.2rem .4rem; }
.actions label { display:inline; margin:0; }
form.inline { display:inline; margin:0; }
.filters { display:flex; gap:.5rem 1rem; flex-wrap:wrap; align-items:flex-end; }
.filters > div { min-width:10rem; flex:1 1 10rem; max-width:18rem; }
.filters label { margin-top:0; }
.filters .buttons { flex:0 0 auto; display:flex; gap:.5rem; align-items:center; padding-bottom:.1rem; }
.catalog { list-style:none; padding:0; margin:0; display:grid; grid-template-columns:repeat(auto-fill, minmax(16rem, 1fr)); gap:.75rem; }
.catalog li { background:var(--card); border:1px solid var(--line); border-radius:8px; padding:.8rem 1rem; display:flex; flex-direction:column; gap:.3rem; }
.catalog .name { font-weight:600; }
.catalog p { margin:0; flex:1; }
.secret-once { font-size:1rem; padding:.6rem .8rem; background:#fff; border:2px dashed var(--ok); border-radius:6px; display:block; word-break:break-all; user-select:all; }
.pager { display:flex; gap:1rem; margin-top:.75rem; }
dl.kv { display:grid; grid-template-columns:max-content 1fr; gap:.2rem 1rem; margin:0; }
dl.kv dt { color:var(--muted); }
dl.kv dd { margin:0; }
/* The pages carry no style attributes: CSP default-src 'self' refuses inline styles. */
.flush { margin:0; }
.card > h2:first-child { margin-top:0; }
.lead { font-weight:600; margin-bottom:.2rem; }
.filters > div.wide { max-width:28rem; flex-basis:20rem; }
.spaced { margin-top:.75rem; }
/* The audit log: action codes are read whole (credential.set_default); every other value
   (emails, refs, ids, JSON details) may wrap anywhere inside fixed columns, so nothing widens the
   table. Its seven columns stack into cards below 70rem, earlier than other tables. */
table.audit { table-layout:fixed; }
table.audit th:nth-child(1) { width:11rem; } table.audit th:nth-child(2) { width:14%; } table.audit th:nth-child(3) { width:12rem; }
table.audit th:nth-child(4) { width:5rem; } table.audit th:nth-child(5) { width:15%; } table.audit th:nth-child(6) { width:14%; }
table.audit td { overflow-wrap:anywhere; }
table.audit code.action { overflow-wrap:normal; word-break:normal; white-space:nowrap; }
@media (max-width: 70rem) {
  table.audit, table.audit thead, table.audit tbody, table.audit tr, table.audit th, table.audit td { display:block; }
  table.audit { border:none; background:transparent; }
  table.audit thead { position:absolute; left:-9999px; }
  table.audit tr { background:var(--card); border:1px solid var(--line); border-radius:8px; margin-bottom:.6rem; padding:.4rem 0; }
  table.audit td { border:none; padding:.2rem .75rem; }
  table.audit td[data-label]::before { content: attr(data-label) ": "; color:var(--muted); font-size:.85rem; }
}
@media (max-width: 44rem) {
  main { margin-top:1rem; }
  table, thead, tbody, tr, th, td { display:block; }
  table { border:none; background:transparent; }
  thead { position:absolute; left:-9999px; }
  tr { background:var(--card); border:1px solid var(--line); border-radius:8px; margin-bottom:.6rem; padding:.4rem 0; }
  td { border:none; padding:.2rem .75rem; }
  td[data-label]::before { content: attr(data-label) ": "; color:var(--muted); font-size:.85rem; }
  .filters > div { max-width:none; }
}
`;

/** The site icon, served by the workers next to the stylesheet (a data: URL would break CSP img-src 'self'). */
export const ICON_PATH = "/static/icon.svg";
export const ICON = `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 16 16"><rect width="16" height="16" rx="3" fill="#2750c4"/><path d="M5 3.5v9M5 8l5-4.5M6.6 6.6 10.5 12.5" stroke="#fff" stroke-width="1.8" fill="none" stroke-linecap="round"/></svg>`;

export interface PageProps {
  title: string;
  nav?: { member: string | null; role?: string; current?: string; csrf?: string };
  children?: Child;
}

const LINKS: [string, string][] = [
  ["/apps", "Apps"],
  ["/catalog", "Connect an app"],
  ["/assignments", "Assignments"],
  ["/channels", "Agent channels"],
  ["/members", "Members"],
  ["/api-keys", "API keys"],
  ["/projects", "Projects"],
  ["/runtime-tokens", "Runtime tokens"],
  ["/webhooks", "Webhooks"],
  ["/tokens", "My tokens"],
  ["/audit", "Audit log"],
];

export function Page({ title, nav, children }: PageProps) {
  return (
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <title>{title} · Keystroke</title>
        <link rel="icon" href={ICON_PATH} />
        <link rel="stylesheet" href="/static/app.css" />
      </head>
      <body>
        <a class="skip" href="#main">Skip to content</a>
        <header>
          <a class="brand" href="/apps">Keystroke</a>
          {nav?.member ? (
            <nav aria-label="Main">
              {LINKS.map(([href, label]) => (
                <a href={href} aria-current={nav.current === href ? "page" : undefined}>
                  {label}
                </a>
              ))}
            </nav>
          ) : null}
          {nav?.member ? (
            <div class="who">
              <span data-testid="who">
                {nav.member}
                {nav.role ? ` (${nav.role})` : ""}
              </span>
              <a class="small" href="/orgs">Switch org</a>
              <form method="post" action="/signout" class="flush">
                <input type="hidden" name="csrf" value={nav.csrf ?? ""} />
                <button class="secondary small" type="submit">Sign out</button>
              </form>
            </div>
          ) : null}
        </header>
        <main id="main">{children}</main>
      </body>
    </html>
  );
}

/** An error in the page. The fix is worded for the web (lib/fixes): a page link, never a CLI command. */
export function ErrorBanner({ error }: { error: ({ message: string } & Fixable) | null | undefined }) {
  if (!error) return null;
  return (
    <div class="banner error" role="alert">
      <div>{error.message}</div>
      <FixLine error={error} />
    </div>
  );
}

/** The "How to fix" line of an error, with the page that does it when there is one. */
export function FixLine({ error, small }: { error: Fixable; small?: boolean }) {
  const fix = fixForWeb(error);
  if (!fix) return null;
  return (
    <div class={small ? "small fix" : "fix"}>
      {fix.text}
      {fix.href ? <> <a href={fix.href}>{fix.link}</a></> : null}
    </div>
  );
}

export function OkBanner({ message }: { message: string | null | undefined }) {
  if (!message) return null;
  return (
    <div class="banner ok" role="status">
      {message}
    </div>
  );
}

/** A CSRF field for every form (double submit, see session.ts). */
export function Csrf({ value }: { value: string }) {
  return <input type="hidden" name="csrf" value={value} />;
}

/** ISO time as people read it, in UTC, inside a <time> element that keeps the exact value. */
export function When({ at, never = "never" }: { at: string | null | undefined; never?: string }) {
  if (!at) return <span class="muted">{never}</span>;
  const text = at.replace("T", " ").replace(/:\d\d(\.\d+)?Z$/, " UTC");
  return <time datetime={at}>{text}</time>;
}
