import type { Child } from "hono/jsx";

/** One small stylesheet: system fonts, calm colours, visible focus, usable at phone width. */
export const STYLES = `
:root { --fg:#1d2330; --muted:#5a6275; --bg:#f7f8fa; --card:#fff; --line:#dde1e8; --accent:#2f5bd3; --danger:#b42318; --ok:#067647; }
* { box-sizing: border-box; }
body { margin:0; font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color:var(--fg); background:var(--bg); }
header { display:flex; gap:1rem; align-items:center; padding:.75rem 1.25rem; background:var(--card); border-bottom:1px solid var(--line); flex-wrap:wrap; }
header .brand { font-weight:700; margin-right:auto; }
header a { color:var(--fg); text-decoration:none; }
header a[aria-current="page"] { color:var(--accent); font-weight:600; }
main { max-width: 60rem; margin: 1.5rem auto; padding: 0 1rem; }
h1 { font-size:1.4rem; margin:.2rem 0 1rem; }
.card { background:var(--card); border:1px solid var(--line); border-radius:8px; padding:1rem 1.25rem; margin-bottom:1rem; }
label { display:block; margin:.5rem 0 .2rem; font-weight:600; }
input[type=text], input[type=password], input[type=search], select { width:100%; max-width:28rem; padding:.45rem .6rem; border:1px solid var(--line); border-radius:6px; font:inherit; }
fieldset { border:1px solid var(--line); border-radius:6px; margin:.75rem 0; }
fieldset label { font-weight:400; display:flex; gap:.5rem; align-items:center; }
button, .button { display:inline-block; padding:.45rem .9rem; border-radius:6px; border:1px solid var(--accent); background:var(--accent); color:#fff; font:inherit; cursor:pointer; text-decoration:none; }
button.secondary, .button.secondary { background:#fff; color:var(--accent); }
button.danger { background:#fff; color:var(--danger); border-color:var(--danger); }
:focus-visible { outline:3px solid #f5b400; outline-offset:2px; }
.banner { padding:.6rem .9rem; border-radius:6px; margin-bottom:1rem; }
.banner.ok { background:#ecfdf3; color:var(--ok); border:1px solid #abefc6; }
.banner.error { background:#fef3f2; color:var(--danger); border:1px solid #fecdca; }
.fix { color:var(--muted); }
table { width:100%; border-collapse:collapse; background:var(--card); }
th, td { text-align:left; padding:.5rem; border-bottom:1px solid var(--line); vertical-align:top; }
.badge { display:inline-block; padding:0 .4rem; border-radius:4px; font-size:.8rem; background:#eef2ff; color:var(--accent); }
.muted { color:var(--muted); }
@media (max-width: 40rem) { table, thead, tbody, tr, th, td { display:block; } thead { display:none; } td { border:none; padding:.2rem .5rem; } tr { border-bottom:1px solid var(--line); padding:.5rem 0; } }
`;

export interface PageProps {
  title: string;
  nav?: { member: string | null; current?: string; csrf?: string };
  children?: Child;
}

const LINKS: [string, string][] = [["/apps", "Apps"], ["/assignments", "Assignments"], ["/channels", "Agent channels"], ["/api-keys", "API keys"], ["/audit", "Audit log"]];

export function Page({ title, nav, children }: PageProps) {
  return (
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <title>{title} · Keystroke</title>
        <link rel="stylesheet" href="/static/app.css" />
      </head>
      <body>
        <header>
          <span class="brand">Keystroke</span>
          {nav?.member
            ? LINKS.map(([href, label]) => (
                <a href={href} aria-current={nav.current === href ? "page" : undefined}>
                  {label}
                </a>
              ))
            : null}
          {nav?.member ? (
            <form method="post" action="/signout" style="margin:0">
              <input type="hidden" name="csrf" value={nav.csrf ?? ""} />
              <button class="secondary" type="submit">Sign out {nav.member}</button>
            </form>
          ) : null}
        </header>
        <main>{children}</main>
      </body>
    </html>
  );
}

export function ErrorBanner({ error }: { error: { message: string; fix?: string } | null | undefined }) {
  if (!error) return null;
  return (
    <div class="banner error" role="alert">
      <div>{error.message}</div>
      {error.fix ? <div class="fix">{error.fix}</div> : null}
    </div>
  );
}
