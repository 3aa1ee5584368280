import { randomBytes } from "node:crypto";
import { chromium, type Browser, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";

/**
 * Issue 13 "Done when", in a real browser on the dev stack: alice invites dave as a builder of
 * `support`; dave signs in through the sandbox playing GitHub with that email, accepts, sees
 * support's credentials and not growth's; alice removes dave; his session, CLI token and API key
 * stop working at once and his user credential is revoked.
 */
const { baseUrl, seed } = inject("cli");
const alice = seed.users.find((u) => u.email === "alice@acme.test")!.token;
const ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"];
const tag = Math.random().toString(36).slice(2, 8);
const dave = `dave-${tag}@acme.test`;

let browser: Browser;
beforeAll(async () => {
  browser = await chromium.launch({ executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium", args: ARGS });
});
afterAll(async () => {
  await browser?.close();
});

async function api(method: string, p: string, token: string, body?: unknown): Promise<{ status: number; body: any }> {
  const res = await fetch(baseUrl + p, { method, headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { "content-type": "application/json" }) }, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : null };
}

async function newPage(): Promise<Page> {
  const context = await browser.newContext({ baseURL: baseUrl });
  return context.newPage();
}

describe("an invitation end to end", () => {
  it("invite, sign in with the invited email, accept, see only the project's credentials, be removed", async () => {
    const setOne = (slug: string, project: string) => api("POST", "/v1/credentials", alice, { app: "exa", slug, fields: { apiKey: `exa-${tag}-0123456789abcdef` }, targets: [{ type: "project", project }] });
    expect((await setOne(`sup-${tag}`, "support")).status).toBe(200);
    expect((await setOne(`gro-${tag}`, "growth")).status).toBe(200);

    // alice, signed in with the dev picker, invites dave from the Members page.
    const a = await newPage();
    await a.goto("/members");
    await a.getByRole("button", { name: /alice@acme\.test/ }).click();
    await a.waitForURL((u) => u.pathname === "/members");
    await a.fill("#i-email", dave);
    await a.selectOption("#i-role", "builder");
    await a.getByLabel("support").check();
    await a.getByRole("button", { name: "Create invitation" }).click();
    const link = (await a.locator("#invitation-link").textContent())!.trim();
    expect(link).toContain("/invitations/");

    // dave opens the link signed out: sign-in (the sandbox plays GitHub), then back to accept.
    const d = await newPage();
    await d.goto(link);
    await d.waitForURL((u) => u.pathname === "/signin");
    await d.getByRole("link", { name: "Sign in with GitHub" }).click();
    await d.fill("#login", `dave-${tag}`);
    await d.fill("#email", dave);
    await d.getByRole("button", { name: "Authorize" }).click();
    await d.waitForURL((u) => u.pathname.startsWith("/invitations/"));
    await d.getByRole("button", { name: "Accept the invitation" }).click();
    await d.waitForURL((u) => u.pathname === "/apps");
    const apps = await d.content();
    expect(apps).toContain(`sup-${tag}`);
    expect(apps).not.toContain(`gro-${tag}`);

    // dave makes an API key (shown once) and a credential of his own with it.
    await d.goto("/api-keys");
    await d.fill("#k-name", "dave script");
    await d.getByRole("button", { name: "Create key" }).click();
    const key = (await d.locator("#new-key-value").textContent())!.trim();
    const mine = await api("POST", "/v1/credentials", key, { app: "exa", slug: `mine-${tag}`, fields: { apiKey: `exa-${tag}-fedcba9876543210` }, targets: [{ type: "user" }] });
    expect(mine.status).toBe(200);

    // dave signs a CLI in (what `keystroke auth login` does): he approves it in his browser with the code.
    const secret = randomBytes(32).toString("base64url");
    const started = await fetch(`${baseUrl}/v1/cli-logins`, { method: "POST", headers: { authorization: `Bearer ${secret}`, "content-type": "application/json" }, body: JSON.stringify({ org: "acme", client: "dave laptop" }) });
    expect(started.status).toBe(201);
    const login = (await started.json()) as { id: string; url: string; code: string };
    await d.goto(login.url);
    await d.getByLabel("Code shown in your terminal").fill(login.code);
    await d.getByRole("button", { name: "Approve" }).click();
    await expect.poll(() => d.getByRole("status").textContent()).toContain("the CLI is signed in");
    const cliToken = (await api("GET", `/v1/cli-logins/${login.id}`, secret)).body.token as string;
    expect((await api("GET", "/v1/me", cliToken)).body.member.email).toBe(dave);

    // alice removes dave, after the confirmation.
    await a.goto("/members");
    await a.getByRole("button", { name: `Remove ${dave}` }).click();
    await a.getByTestId("confirm-remove").getByRole("button", { name: `Remove ${dave}` }).click();
    await a.waitForURL((u) => u.search.includes("done=removed"));
    expect(await a.content()).not.toContain(`data-member="${dave}"`);

    await d.goto("/apps");
    await d.waitForURL((u) => u.pathname === "/signin");
    expect((await api("GET", "/v1/me", key)).status).toBe(401);
    expect((await api("GET", "/v1/me", cliToken)).status).toBe(401);
    const cred = await api("GET", `/v1/credentials/${mine.body.credentials[0].id}`, alice);
    expect(cred.body.status).toBe("revoked");
  });
});
