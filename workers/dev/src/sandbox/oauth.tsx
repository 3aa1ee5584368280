import { Hono } from "hono";
import { secureHeaders } from "hono/secure-headers";
import { getApp } from "../../../../lib/catalog";
import { Page, STYLES } from "../../../shared/layout";
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
// The platform's page headers, except form-action: a provider's consent form posts, then
// redirects back to the platform's callback (another origin when the sandbox is configured so).
sandboxOAuth.use("*", secureHeaders({ contentSecurityPolicy: { defaultSrc: ["'self'"], frameAncestors: ["'none'"] }, referrerPolicy: "same-origin", xFrameOptions: "DENY" }));
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

/**
 * Fault switch (memory only): `POST /_sandbox/oauth/faults {hang_refresh: true}` makes every
 * refresh_token grant wait unanswered, as a provider that hangs; `{hang_refresh: false}` answers
 * the parked ones (their refresh happens then) and every later one at once. With
 * `answer_after_ms` a parked grant is also answered on its own after that long (a slow provider).
 */
let hangRefresh = false;
let answerAfterMs: number | null = null;
const parked: (() => void)[] = [];
sandboxOAuth.post("/faults", async (c) => {
  const body = (await c.req.json().catch(() => ({}))) as { hang_refresh?: unknown; answer_after_ms?: unknown };
  if (typeof body.hang_refresh === "boolean") {
    hangRefresh = body.hang_refresh;
    answerAfterMs = typeof body.answer_after_ms === "number" && body.answer_after_ms > 0 ? body.answer_after_ms : null;
    if (!hangRefresh) for (const go of parked.splice(0)) go();
  }
  return c.json({ hang_refresh: hangRefresh, answer_after_ms: answerAfterMs, parked: parked.length });
});

function park(): Promise<void> {
  return new Promise<void>((go) => {
    const release = () => {
      const i = parked.indexOf(release);
      if (i >= 0) parked.splice(i, 1);
      go();
    };
    parked.push(release);
    if (answerAfterMs !== null) setTimeout(release, answerAfterMs);
  });
}

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
  if (grant === "refresh_token" && hangRefresh) await park();
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
