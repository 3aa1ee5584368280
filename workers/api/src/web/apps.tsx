import { Hono } from "hono";
import type { Credential } from "../../../../lib/schemas/credentials";
import { publicUrl, type ApiEnv } from "../http/vault";
import { ErrorBanner, Page } from "./layout";
import { pageValue, requireSession } from "./pages";

/** The Apps page: one row per credential instance. */
export const appsPages = new Hono<ApiEnv>();

const scopeText = (c: Credential) => (c.scope.type === "org" ? "org" : c.scope.type === "project" ? `project ${c.scope.project}` : "user");

appsPages.get("/", (c) => c.redirect("/apps", 303));

appsPages.get("/apps", async (c) => {
  const s = await requireSession(c);
  if (s instanceof Response) return s;
  const list = pageValue(await s.vault.listCredentials(s.token, {}));
  const connected = c.req.query("connected");
  const session = connected ? await s.vault.getConnectSession(s.token, connected, publicUrl(c)) : null;
  return c.html(
    <Page title="Apps" nav={{ member: s.email, current: "/apps", csrf: s.csrf }}>
      <h1>Apps</h1>
      {session?.ok && session.value.status === "completed" ? (
        <div class="banner ok" role="status">
          Connected {session.value.app}: {(session.value.credentials ?? []).map((x) => x.ref).join(", ")}
        </div>
      ) : null}
      {session?.ok && session.value.status === "failed" ? <ErrorBanner error={{ message: session.value.error ?? "The connection failed." }} /> : null}
      {list.value ? (
        <table>
          <thead>
            <tr><th>App</th><th>Name</th><th>Scope</th><th>Status</th><th>Account</th><th>Preview</th><th>Last used</th></tr>
          </thead>
          <tbody>
            {list.value.credentials.map((x) => (
              <tr data-ref={x.ref}>
                <td>{x.app}</td>
                <td>{x.name} <span class="muted">({x.slug})</span> {x.default ? <span class="badge">default</span> : null}</td>
                <td>{scopeText(x)}</td>
                <td>{x.status}</td>
                <td>{x.account ? x.account.name ?? x.account.email ?? x.account.id : ""}</td>
                <td><code>{x.preview ?? ""}</code></td>
                <td>{x.last_used_at ?? "never"}</td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : (
        <ErrorBanner error={list.error} />
      )}
    </Page>,
  );
});
