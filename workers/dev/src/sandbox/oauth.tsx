import { Hono, type Context } from "hono";
import { secureHeaders } from "hono/secure-headers";
import { getApp } from "../../../../lib/catalog";
import { Page, STYLES } from "../../../shared/layout";
import { githubAnswer, SANDBOX_CONNECTION, SandboxProvider, userinfo } from "./oauth-provider";
import { authAccepted, authorizeProblem, clientAuthOf, shapeOf } from "./provider-shapes";
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

/**
 * The consent page. The request must have the shape the provider's arctic class sends
 * (provider-shapes.ts: client id parameter, scope separator, PKCE, required parameters); any
 * other is refused with a 400 page, as a strict provider would.
 */
sandboxOAuth.get("/:slug/authorize", (c) => {
  const q = c.req.query();
  const slug = c.req.param("slug");
  const app = getApp(slug);
  const shape = shapeOf(slug);
  const problem = authorizeProblem(shape, q);
  if (problem) return c.text(`Sandbox ${slug}: ${problem}.`, 400);
  return c.html(
    <Page title={`Sandbox: authorize ${app?.name ?? slug}`}>
      <h1>{app?.name ?? slug} (sandbox)</h1>
      <div class="card">
        <p>
          <strong>Keystroke</strong> (client <code>{q[shape.clientParam]}</code>) asks for: <code>{q.scope || "no scopes"}</code>
        </p>
        <form method="post">
          {Object.entries(q).filter(([k]) => k !== "login" && k !== "decision").map(([k, v]) => <input type="hidden" name={k} value={v} />)}
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
  const slug = c.req.param("slug");
  const shape = shapeOf(slug);
  const problem = authorizeProblem(shape, f);
  if (problem) return c.text(`Sandbox ${slug}: ${problem}.`, 400);
  provider.see(slug, "authorize", { client_id: f[shape.clientParam] ?? null, scope: f.scope ?? "", pkce: Boolean(f.code_challenge) });
  const back = new URL(f.redirect_uri ?? "");
  if (f.state) back.searchParams.set("state", f.state);
  if (f.decision !== "approve") {
    back.searchParams.set("error", "access_denied");
    return c.redirect(back.toString(), 302);
  }
  const code = provider.authorize(
    { slug, clientId: f[shape.clientParam] ?? "", redirectUri: f.redirect_uri ?? "", challenge: f.code_challenge || null, scope: f.scope ?? "", login: /^[a-z0-9-]{1,30}$/.test(f.login ?? "") ? f.login! : "octo" },
    Date.now(),
  );
  back.searchParams.set("code", code);
  // Intuit names the company the member picked on the callback, not in the token answer.
  if (slug === "quickbooks") back.searchParams.set("realmId", SANDBOX_CONNECTION.realmId);
  return c.redirect(back.toString(), 302);
});

/** The token endpoint: refuses a client authenticated in another style than the provider's class uses. */
sandboxOAuth.post("/:slug/token", async (c) => {
  const slug = c.req.param("slug");
  const shape = shapeOf(slug);
  const form = new URLSearchParams(new TextDecoder().decode(await c.req.arrayBuffer()));
  const auth = clientAuthOf(shape, c.req.header("authorization"), form);
  const grant = form.get("grant_type");
  provider.see(slug, grant === "refresh_token" ? "refresh" : "token", { auth: auth.style, client_id: auth.clientId, code_verifier: form.has("code_verifier") });
  if (grant === "refresh_token" && hangRefresh) await park();
  const answer = !authAccepted(shape, auth) ? { status: 401, body: { error: "invalid_client", error_description: `expected client authentication: ${shape.auth}` } }
    : grant === "authorization_code" ? await provider.exchange(form, auth.clientId, Date.now())
    : grant === "refresh_token" ? provider.refresh(form, auth.clientId, Date.now())
    : { status: 400, body: { error: "unsupported_grant_type" } };
  const out = shape.errors === "github" ? githubAnswer(answer, grant) : answer;
  return c.json(out.body, out.status as 200);
});

sandboxOAuth.on(["GET", "POST"], "/:slug/userinfo", (c) => {
  provider.stats.userinfo++;
  const token = c.req.header("authorization")?.replace(/^Bearer /, "") ?? "";
  const family = provider.accountOf(token, Date.now());
  if (!family) return c.json({ error: "invalid_token" }, 401);
  return c.json(userinfo(family.login));
});

sandboxOAuth.post("/:slug/revoke", async (c) => {
  const form = new URLSearchParams(new TextDecoder().decode(await c.req.arrayBuffer()));
  provider.see(c.req.param("slug"), "revoke", { auth: clientAuthOf(shapeOf(c.req.param("slug")), c.req.header("authorization"), form).style });
  provider.revoke(form.get("token") ?? c.req.header("authorization")?.replace(/^Bearer /, "") ?? "");
  return c.body(null, 200);
});

/** Atlassian's accessible resources: the sites the access token reaches (the connect reads the first one's id). */
sandboxOAuth.get("/:slug/accessible-resources", (c) => {
  const token = c.req.header("authorization")?.replace(/^Bearer /, "") ?? "";
  if (!provider.accountOf(token, Date.now())) return c.json({ code: 401, message: "Unauthorized" }, 401);
  return c.json([{ id: SANDBOX_CONNECTION.cloud_id, url: "https://acme-sandbox.atlassian.net", name: "acme-sandbox", scopes: ["read:jira-work"], avatarUrl: "https://acme-sandbox.atlassian.net/avatar.png" }]);
});

/**
 * GitLab-shaped paths under any name, so a self-managed GitLab at base `/_sandbox/oauth/<name>`
 * can be tried in dev (SPEC section 13: an admin saves `<base>/oauth/authorize`, `/oauth/token`,
 * `/api/v4/user`, `/oauth/revoke`): each is answered by the sandbox's own route for that step.
 */
const forwardTo = (c: Context<{ Bindings: SandboxEnv }>, step: string) => {
  const url = new URL(c.req.url);
  return sandboxOAuth.fetch(new Request(`${url.origin}/${c.req.param("slug")}/${step}${url.search}`, c.req.raw), c.env);
};
sandboxOAuth.all("/:slug/oauth/:step{authorize|token|revoke}", (c) => forwardTo(c, c.req.param("step")));
sandboxOAuth.all("/:slug/api/v4/user", (c) => forwardTo(c, "userinfo"));
