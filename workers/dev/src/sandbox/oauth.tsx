import { Hono } from "hono";
import { getApp } from "../../../../lib/catalog";
import { Page, STYLES } from "../../../api/src/web/layout";
import { SandboxProvider, userinfo } from "./oauth-provider";
import type { SandboxEnv } from "./slack-fake";

/** `/_sandbox/oauth/*`: the fake OAuth2 provider every catalog app points at in dev. */
export const provider = new SandboxProvider();
export const sandboxOAuth = new Hono<{ Bindings: SandboxEnv }>();

/**
 * Memory is the working copy; the SandboxStore (dev only; absent in tests) holds a snapshot, read
 * once per isolate and written after every request that may have changed something.
 */
let restored = false;
sandboxOAuth.use("*", async (c, next) => {
  const store = c.env?.SANDBOX?.getByName("sandbox");
  if (store && !restored) {
    const saved = await store.loadSnapshot("oauth");
    if (saved && !restored) provider.restore(saved);
    restored = true;
  }
  await next();
  if (store && c.req.method !== "GET") await store.saveSnapshot("oauth", provider.snapshot());
});

sandboxOAuth.get("/static/app.css", (c) => c.body(STYLES, 200, { "content-type": "text/css" }));

sandboxOAuth.get("/stats", (c) => c.json(provider.stats));
/** Test control: `{next_access_token_ttl: seconds}` for the next token issued. */
sandboxOAuth.post("/config", async (c) => {
  const body = (await c.req.json().catch(() => ({}))) as { next_access_token_ttl?: unknown };
  if (typeof body.next_access_token_ttl === "number") provider.nextAccessTtl = body.next_access_token_ttl;
  return c.json({ next_access_token_ttl: provider.nextAccessTtl });
});

sandboxOAuth.get("/:slug/authorize", (c) => {
  const q = c.req.query();
  const app = getApp(c.req.param("slug"));
  const hidden = ["client_id", "redirect_uri", "state", "code_challenge", "code_challenge_method", "scope"];
  return c.html(
    <Page title={`Sandbox: authorize ${app?.name ?? c.req.param("slug")}`}>
      <h1>{app?.name ?? c.req.param("slug")} (sandbox)</h1>
      <div class="card">
        <p>
          <strong>Keystroke</strong> (client <code>{q.client_id}</code>) asks for: <code>{q.scope || "no scopes"}</code>
        </p>
        <form method="post">
          {hidden.map((k) => (q[k] !== undefined ? <input type="hidden" name={k} value={q[k]} /> : null))}
          <label for="login">Sign in to the sandbox as</label>
          <input id="login" type="text" name="login" value="octo" pattern="[a-z0-9\-]{1,30}" />
          <p>
            <button type="submit" name="decision" value="approve">Approve</button>{" "}
            <button class="danger" type="submit" name="decision" value="deny">Deny</button>
          </p>
        </form>
      </div>
    </Page>,
  );
});

sandboxOAuth.post("/:slug/authorize", async (c) => {
  const f = (await c.req.parseBody()) as Record<string, string>;
  const back = new URL(f.redirect_uri ?? "");
  if (f.state) back.searchParams.set("state", f.state);
  if (f.decision !== "approve") {
    back.searchParams.set("error", "access_denied");
    return c.redirect(back.toString(), 302);
  }
  const code = provider.authorize(
    { slug: c.req.param("slug"), clientId: f.client_id ?? "", redirectUri: f.redirect_uri ?? "", challenge: f.code_challenge || null, scope: f.scope ?? "", login: /^[a-z0-9-]{1,30}$/.test(f.login ?? "") ? f.login! : "octo" },
    Date.now(),
  );
  back.searchParams.set("code", code);
  return c.redirect(back.toString(), 302);
});

sandboxOAuth.post("/:slug/token", async (c) => {
  const form = new URLSearchParams(await c.req.text());
  const basic = c.req.header("authorization")?.match(/^Basic (.+)$/)?.[1];
  const clientId = basic ? atob(basic).split(":")[0]! : form.get("client_id");
  const grant = form.get("grant_type");
  const answer = grant === "authorization_code" ? await provider.exchange(form, clientId, Date.now())
    : grant === "refresh_token" ? provider.refresh(form, Date.now())
    : { status: 400, body: { error: "unsupported_grant_type" } };
  return c.json(answer.body, answer.status as 200);
});

sandboxOAuth.on(["GET", "POST"], "/:slug/userinfo", (c) => {
  provider.stats.userinfo++;
  const token = c.req.header("authorization")?.replace(/^Bearer /, "") ?? "";
  const family = provider.accountOf(token, Date.now());
  if (!family) return c.json({ error: "invalid_token" }, 401);
  return c.json(userinfo(family.login));
});

sandboxOAuth.post("/:slug/revoke", async (c) => {
  const form = new URLSearchParams(await c.req.text());
  provider.revoke(form.get("token") ?? c.req.header("authorization")?.replace(/^Bearer /, "") ?? "");
  return c.body(null, 200);
});
