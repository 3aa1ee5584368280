import { existsSync, mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { chromium, type BrowserContext, type ConsoleMessage, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";

/**
 * Issue 4's "done when", in a real browser: Debian's chromium driven by playwright-core against the
 * `npm run dev` stack that the e2e project starts (test/cli/global-setup.ts; `npm run test:e2e`). Alice signs in, connects the sandbox GitHub at
 * project support, the runtime resolves a working token; a denied consent stores nothing; the
 * callback URL replayed is rejected. Any console error the pages did not expect fails the test.
 */
const { baseUrl, seed } = inject("cli");
const alice = seed.users.find((u) => u.email === "alice@acme.test")!.token;
const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
const SHOTS = path.resolve(import.meta.dirname, "../../test-results/e2e/connect");

let context: BrowserContext;
let page: Page;
let userDataDir: string;
/** Console errors and uncaught page errors; `expected` matches the pages a step expects to answer 4xx. */
const consoleErrors: string[] = [];
const expected: ((url: URL) => boolean)[] = [];

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: apt-get install chromium (or set CHROMIUM_PATH)`);
  rmSync(SHOTS, { recursive: true, force: true });
  mkdirSync(SHOTS, { recursive: true });
  userDataDir = mkdtempSync(path.join(tmpdir(), "keystroke-chromium-"));
  context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: CHROMIUM,
    headless: true,
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
  });
  page = context.pages()[0] ?? (await context.newPage());
  page.on("console", (msg: ConsoleMessage) => {
    if (msg.type() !== "error") return;
    const at = msg.location().url;
    // A rejected page answers 4xx on purpose; chromium logs that as "Failed to load resource".
    if (URL.canParse(at) && expected.some((match) => match(new URL(at))) && /status of 4\d\d/.test(msg.text())) return;
    consoleErrors.push(`${at}: ${msg.text()}`);
  });
  page.on("pageerror", (e) => consoleErrors.push(`pageerror: ${e.message}`));
}, 60_000);

afterAll(async () => {
  await context?.close();
  if (userDataDir) rmSync(userDataDir, { recursive: true, force: true });
  expect(consoleErrors).toEqual([]);
});

let step = 0;
const shot = (name: string) => page.screenshot({ path: path.join(SHOTS, `${String(++step).padStart(2, "0")}-${name}.png`), fullPage: true });

async function api(method: string, p: string, token: string, body?: unknown) {
  const res = await fetch(baseUrl + p, { method, headers: { authorization: `Bearer ${token}`, ...(body ? { "content-type": "application/json" } : {}) }, body: body ? JSON.stringify(body) : undefined });
  return { status: res.status, body: (await res.json()) as any };
}
/** GitHub connections at project support (other e2e files share this stack, not this app and target). */
const githubCredentials = async () =>
  ((await api("GET", "/v1/credentials?app=github", alice)).body.credentials as any[]).filter((c) => c.ref.startsWith("github/project/support/"));

/** From the Apps page: a new connect session for github, project support ticked, on to the sandbox. */
async function continueToSandbox(): Promise<string> {
  // The link asks first (a GET starts nothing); its button posts and opens the new session's form.
  await page.goto(`${baseUrl}/connect?app=github`);
  await page.getByRole("button", { name: "Connect GitHub" }).click();
  await expect.poll(() => new URL(page.url()).pathname).toMatch(/^\/connect\/cs_[a-z2-7]{20}$/);
  const session = new URL(page.url()).pathname.split("/")[2]!;
  expect(await page.locator("h1").textContent()).toBe("Connect GitHub");
  // An owner's form starts at the whole organization (issue 11, item 16); this connection is for support only.
  await page.getByLabel("The whole organization").uncheck();
  await page.getByLabel("Project support").check();
  await shot("connect-form");
  await page.getByRole("button", { name: "Continue to GitHub" }).click();
  await page.waitForURL((u) => u.pathname === "/_sandbox/oauth/github/authorize");
  expect(await page.locator("h1").textContent()).toBe("GitHub (sandbox)");
  expect(new URL(page.url()).searchParams.get("redirect_uri")).toBe(`${baseUrl}/oauth/callback`);
  await shot("sandbox-consent");
  return session;
}

describe("connect GitHub in a browser", () => {
  let callbackUrl = "";

  it("alice signs in with her button on /signin", async () => {
    await page.goto(`${baseUrl}/signin`);
    await shot("signin");
    await page.getByRole("button", { name: /alice@acme\.test/ }).click();
    await page.waitForURL(`${baseUrl}/apps`);
    expect(await page.locator("h1").textContent()).toBe("Apps");
    const cookies = await context.cookies(baseUrl);
    expect(cookies.find((c) => c.name === "ks_session")).toMatchObject({ httpOnly: true, sameSite: "Lax" });
    await shot("apps-signed-in");
    expect(await githubCredentials()).toEqual([]);
  });

  it("connects the sandbox GitHub at project support and lands on Apps with the banner and the row", async () => {
    const session = await continueToSandbox();
    await page.getByLabel("Sign in to the sandbox as").fill("octo");
    const callback = page.waitForRequest((r) => new URL(r.url()).pathname === "/oauth/callback");
    await page.getByRole("button", { name: "Approve" }).click();
    callbackUrl = (await callback).url();
    expect(new URL(callbackUrl).searchParams.get("code")).toMatch(/^sbx_code_/);
    await page.waitForURL((u) => u.pathname === "/apps" && u.searchParams.get("connected") === session);

    const banner = page.getByRole("status");
    expect(await banner.textContent()).toContain("Connected github: github/project/support/default");
    const row = page.locator(`tr[data-ref="github/project/support/default"]`);
    expect(await row.count()).toBe(1);
    const cell = (label: string) => row.locator(`td[data-label="${label}"]`).innerText();
    expect(await cell("App")).toBe("github");
    expect(await cell("Scope")).toBe("project support");
    expect(await cell("Status")).toBe("active");
    expect(await cell("Account")).toMatch(/^octo(@sandbox\.test)?$/);
    await shot("apps-connected");

    expect((await api("GET", `/v1/connect-sessions/${session}`, alice)).body).toMatchObject({ status: "completed", error: null });
  });

  it("the runtime resolves it at project support to an access token that works at the provider", async () => {
    const res = await api("POST", "/v1/runtime/resolve", seed.runtime_token, {
      project: "support",
      consumer: { kind: "workflow", target: "support", id: "sync-issues" },
      requirements: [{ app: "github" }],
    });
    expect(res.status).toBe(200);
    const result = res.body.results[0];
    expect(result).toMatchObject({ ok: true, rule: "project", credential: { ref: "github/project/support/default", status: "active" } });
    const token = result.fields.accessToken as string;
    expect(token).toMatch(/^sbx_at_/);
    expect(Object.keys(result.fields)).toEqual(["accessToken"]);
    const who = await fetch(`${baseUrl}/_sandbox/oauth/github/userinfo`, { headers: { authorization: `Bearer ${token}` } });
    expect(who.status).toBe(200);
    expect(await who.json()).toMatchObject({ login: "octo", id: "sbx-octo" });
  });

  it("denying consent fails the session with a readable reason and stores nothing", async () => {
    const before = await githubCredentials();
    const session = await continueToSandbox();
    expected.push((u) => u.pathname === "/oauth/callback" && u.searchParams.get("error") === "access_denied");
    const denied = page.waitForResponse((r) => new URL(r.url()).pathname === "/oauth/callback");
    await page.getByRole("button", { name: "Deny" }).click();
    const res = await denied;
    expect(res.status()).toBe(400);
    await page.waitForLoadState();
    expect(await page.locator("h1").textContent()).toBe("The connection did not complete");
    expect(await page.getByRole("alert").textContent()).toContain("You declined access at github; nothing was stored.");
    await shot("consent-denied");

    const s = (await api("GET", `/v1/connect-sessions/${session}`, alice)).body;
    expect(s).toMatchObject({ status: "failed", error: "You declined access at github; nothing was stored." });
    expect(s.credentials).toBeUndefined();
    expect(await githubCredentials()).toEqual(before);
  });

  it("replaying the callback URL is rejected, and there is still exactly one credential", async () => {
    expect(callbackUrl).not.toBe("");
    expected.push((u) => u.href === callbackUrl);
    const res = await page.goto(callbackUrl);
    expect(res!.status()).toBe(400);
    expect(await page.getByRole("alert").textContent()).toContain("This sign-in link is unknown or was already used.");
    await shot("callback-replayed");
    const creds = await githubCredentials();
    expect(creds.map((c) => [c.ref, c.status])).toEqual([["github/project/support/default", "active"]]);
  });
});

describe("the org's own GitHub client (issue 14)", () => {
  const clientId = `acme-gh-${Date.now().toString(36)}`;
  const seen = async (step: string) =>
    ((await (await fetch(`${baseUrl}/_sandbox/oauth-clients-seen?app=github`)).json()) as { seen: { step: string; client_id: string | null }[] }).seen.filter((e) => e.step === step).map((e) => e.client_id);
  const platformClient = (enabled: boolean) =>
    fetch(`${baseUrl}/dev/platform-client`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ org_id: seed.org.id, app: "github", enabled }) });
  afterAll(async () => {
    await platformClient(true);
  });

  it("alice registers it on the app's settings page, which shows the redirect URI and never the secret", async () => {
    await page.goto(`${baseUrl}/apps/github/oauth-client`);
    expect(await page.locator("h1").textContent()).toBe("GitHub: OAuth client");
    expect(await page.getByTestId("redirect-uri").textContent()).toBe(`${baseUrl}/oauth/callback`);
    await page.getByLabel("Client ID").fill(clientId);
    await page.getByLabel(/^Client secret/).fill("acme-gh-secret-e2e");
    await page.getByRole("button", { name: "Save client" }).click();
    await page.waitForURL((u) => u.searchParams.get("done") === "saved");
    expect(await page.getByTestId("client-id").textContent()).toBe(clientId);
    expect(await page.getByTestId("connects-with").textContent()).toContain("the organization's own client");
    expect(await page.content()).not.toContain("acme-gh-secret-e2e");
    await shot("org-client-saved");
  });

  it("connecting uses that client id on authorize, token and refresh", async () => {
    // The next token lives 60 s, inside the 5-minute refresh window: the runtime's resolve refreshes it.
    await fetch(`${baseUrl}/_sandbox/oauth/config`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ next_access_token_ttl: 60 }) });
    const session = await continueToSandbox();
    expect(new URL(page.url()).searchParams.get("client_id")).toBe(clientId);
    await page.getByLabel("Sign in to the sandbox as").fill("orgclient");
    await page.getByRole("button", { name: "Approve" }).click();
    await page.waitForURL((u) => u.pathname === "/apps" && u.searchParams.get("connected") === session);
    const made = (await api("GET", `/v1/connect-sessions/${session}`, alice)).body;
    expect(made).toMatchObject({ status: "completed" });
    const ref = made.credentials[0].ref as string;
    const res = await api("POST", "/v1/runtime/resolve", seed.runtime_token, {
      project: "support",
      consumer: { kind: "workflow", target: "support", id: "org-client" },
      requirements: [{ app: "github", credential: ref }],
    });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body.results[0]).toMatchObject({ ok: true, credential: { ref } });
    expect((await seen("authorize")).at(-1)).toBe(clientId);
    expect((await seen("token")).at(-1)).toBe(clientId);
    expect((await seen("refresh")).at(-1)).toBe(clientId);
    await shot("org-client-connected");
  });

  it("with the org client removed and no platform client, connecting is refused with SPEC 13's message", async () => {
    await page.goto(`${baseUrl}/apps/github/oauth-client`);
    await page.getByRole("button", { name: "Remove client" }).click();
    await page.waitForURL((u) => u.searchParams.get("done") === "removed");
    expect((await platformClient(false)).status).toBe(200);
    expect(await (await page.goto(`${baseUrl}/apps/github/oauth-client`))!.text()).toContain("no client: connecting is refused until an org owner or admin adds one here");
    expected.push((u) => u.pathname === "/oauth/start");
    await page.goto(`${baseUrl}/connect?app=github`);
    await page.getByRole("button", { name: "Connect GitHub" }).click();
    await page.getByLabel("The whole organization").uncheck();
    await page.getByLabel("Project support").check();
    await page.getByRole("button", { name: "Continue to GitHub" }).click();
    await page.waitForURL((u) => u.pathname === "/oauth/start");
    const alert = await page.getByRole("alert").textContent();
    expect(alert).toContain("GitHub has no OAuth client in this organization, so it cannot be connected yet. An org owner or admin must add the organization's own client");
    expect(alert).toContain("/apps/github/oauth-client");
    await shot("no-client-refused");
  });
});

describe("a self-hosted GitLab the sandbox plays (issue 14)", () => {
  const base = `${baseUrl}/_sandbox/oauth/gitlab-sm`;
  const clientId = `acme-gl-${Date.now().toString(36)}`;
  afterAll(async () => {
    await api("DELETE", "/v1/apps/gitlab/oauth-client", alice);
  });

  it("connects through the endpoints an admin saved (dev mode allows the loopback sandbox) and resolves", async () => {
    const endpoints = { authorize_url: `${base}/oauth/authorize`, token_url: `${base}/oauth/token`, userinfo_url: `${base}/api/v4/user`, revoke_url: `${base}/oauth/revoke` };
    const saved = await api("PUT", "/v1/apps/gitlab/oauth-client", alice, { client_id: clientId, client_secret: "acme-gl-secret", endpoints });
    expect(saved.status, JSON.stringify(saved.body)).toBe(200);
    await page.goto(`${baseUrl}/connect?app=gitlab`);
    await page.getByRole("button", { name: "Connect GitLab" }).click();
    await expect.poll(() => new URL(page.url()).pathname).toMatch(/^\/connect\/cs_/);
    const session = new URL(page.url()).pathname.split("/")[2]!;
    await page.getByLabel("The whole organization").uncheck();
    await page.getByLabel("Project support").check();
    await page.getByRole("button", { name: "Continue to GitLab" }).click();
    await page.waitForURL((u) => u.pathname === "/_sandbox/oauth/gitlab-sm/oauth/authorize");
    expect(new URL(page.url()).searchParams.get("client_id")).toBe(clientId);
    await page.getByLabel("Sign in to the sandbox as").fill("selfhosted");
    await page.getByRole("button", { name: "Approve" }).click();
    await page.waitForURL((u) => u.pathname === "/apps" && u.searchParams.get("connected") === session);
    await shot("self-hosted-gitlab-connected");
    const ref = (await api("GET", `/v1/connect-sessions/${session}`, alice)).body.credentials[0].ref as string;
    const res = await api("POST", "/v1/runtime/resolve", seed.runtime_token, {
      project: "support",
      consumer: { kind: "workflow", target: "support", id: "self-hosted" },
      requirements: [{ app: "gitlab", credential: ref }],
    });
    expect(res.body.results[0]).toMatchObject({ ok: true, credential: { ref } });
    const who = await fetch(`${base}/api/v4/user`, { headers: { authorization: `Bearer ${res.body.results[0].fields.accessToken}` } });
    expect(await who.json()).toMatchObject({ username: "selfhosted" });
    const seen = ((await (await fetch(`${baseUrl}/_sandbox/oauth-clients-seen?app=gitlab-sm`)).json()) as { seen: { step: string; client_id: string }[] }).seen;
    expect(seen.filter((e) => e.client_id === clientId).map((e) => e.step)).toEqual(["authorize", "token"]);
  });
});
