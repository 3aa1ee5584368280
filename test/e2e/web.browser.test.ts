import { mkdirSync, rmSync } from "node:fs";
import path from "node:path";
import { chromium, type Browser, type BrowserContext, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";

/**
 * The web app in a real browser (Debian's chromium through playwright-core) against the local
 * stack of test/cli/global-setup.ts: every page of SPEC section 7 as alice (owner) and carol
 * (builder). Each page is saved as a screenshot under test-results/web/, and the browser console
 * must stay free of errors on every page.
 */
const { baseUrl, seed } = inject("cli");
const alice = seed.users.find((u) => u.email === "alice@acme.test")!.token;
const SHOTS = path.resolve(import.meta.dirname, "../../test-results/web");
const ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"];

let browser: Browser;
const consoleErrors: string[] = [];
const contexts: BrowserContext[] = [];

async function newPage(): Promise<Page> {
  const context = await browser.newContext({ baseURL: baseUrl, viewport: { width: 1280, height: 900 } });
  contexts.push(context);
  const page = await context.newPage();
  page.on("console", (m) => {
    if (m.type() === "error") consoleErrors.push(`${page.url()}: ${m.text()}`);
  });
  page.on("pageerror", (e) => consoleErrors.push(`${page.url()}: ${e.message}`));
  return page;
}

let shotNo = 0;
async function shot(page: Page, name: string): Promise<void> {
  shotNo++;
  await page.screenshot({ path: path.join(SHOTS, `${String(shotNo).padStart(2, "0")}-${name}.png`), fullPage: true });
}

async function signIn(page: Page, email: string, next = "/apps"): Promise<void> {
  await page.goto(next);
  await expect.poll(() => new URL(page.url()).pathname).toBe("/signin");
  await page.getByRole("button", { name: new RegExp(email.replace(".", "\\.")) }).click();
  await page.waitForURL((u) => u.pathname === next);
  expect(await page.getByTestId("who").textContent()).toContain(email);
}

const row = (page: Page, ref: string) => page.locator(`tr[data-ref="${ref}"]`);

async function api(method: string, p: string, token: string, body?: unknown): Promise<{ status: number; body: any }> {
  const res = await fetch(baseUrl + p, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { "content-type": "application/json" }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : null };
}

const suffix = Math.random().toString(36).slice(2, 8);
const NAME = `Search ${suffix}`;
const SLUG = `search-${suffix}`;
const SUPPORT = `exa/project/support/${SLUG}`;
const GROWTH = `exa/project/growth/${SLUG}`;

describe("the web app in a browser", () => {
  let page: Page;

  beforeAll(async () => {
    rmSync(SHOTS, { recursive: true, force: true });
    mkdirSync(SHOTS, { recursive: true });
    browser = await chromium.launch({ executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium", args: ARGS });
    page = await newPage();
  });

  afterAll(async () => {
    for (const c of contexts) await c.close();
    await browser?.close();
  });

  it("signs in (dev mode: pick a seeded user)", async () => {
    await page.goto("/apps");
    await expect.poll(() => new URL(page.url()).pathname).toBe("/signin");
    await shot(page, "signin");
    await signIn(page, "alice@acme.test");
    await expect(page.locator("h1").textContent()).resolves.toBe("Apps");
    await shot(page, "apps");
  });

  it("connects an API-key app at two selected projects: two rows appear", async () => {
    await page.goto("/catalog");
    await shot(page, "catalog");
    await page.getByLabel("Search apps").fill("exa");
    await page.getByRole("button", { name: "Search" }).click();
    await page.waitForURL(/\/catalog\?search=exa/);
    // A form button, not a link: starting a connect session is a POST (issue 11, item 13).
    await page.getByRole("button", { name: "Connect Exa" }).click();
    await page.waitForURL(/\/connect\/cs_/);
    // An owner's form starts at the widest scope; she picks two projects instead.
    await expect(page.getByLabel("The whole organization").isChecked()).resolves.toBe(true);
    await page.getByLabel("The whole organization").uncheck();
    await page.getByLabel("Project support").check();
    await page.getByLabel("Project growth").check();
    await page.getByLabel("Name (optional)").fill(NAME);
    await page.locator('input[name="field.apiKey"]').fill(`exa-live-${suffix}-0123456789abcdef`);
    await shot(page, "connect-exa");
    await page.getByRole("button", { name: "Save" }).click();
    await page.waitForURL(/\/apps\?connected=cs_/);
    await expect(page.getByRole("status").first().textContent()).resolves.toContain("Connected exa");
    await expect(row(page, SUPPORT).count()).resolves.toBe(1);
    await expect(row(page, GROWTH).count()).resolves.toBe(1);
    // The filters: app and scope (GET query), answered by the vault's own filter.
    await page.getByLabel("App", { exact: true }).selectOption("exa");
    await page.getByLabel("Scope").selectOption("project:growth");
    await page.getByRole("button", { name: "Filter" }).click();
    await page.waitForURL(/scope=project%3Agrowth/);
    await expect(page.locator("tbody tr").count()).resolves.toBe(1);
    await expect(row(page, GROWTH).count()).resolves.toBe(1);
    await shot(page, "apps-filtered");
    // Usable at phone width: the table becomes stacked cards, every action still reachable.
    await page.setViewportSize({ width: 390, height: 844 });
    await expect(row(page, GROWTH).getByRole("link", { name: /^Rotate/ }).isVisible()).resolves.toBe(true);
    await shot(page, "apps-phone");
    await page.setViewportSize({ width: 1280, height: 900 });
  });

  it("renames a credential (display name and slug)", async () => {
    await page.goto("/apps?app=exa");
    await row(page, SUPPORT).getByRole("link", { name: "Rename" }).click();
    await page.waitForURL(/\/rename$/);
    await shot(page, "rename");
    await page.getByLabel("Display name").fill("Support search");
    await page.getByLabel(/^Slug/).fill(`support-${suffix}`);
    await page.getByRole("button", { name: "Save" }).click();
    await page.waitForURL(/done=renamed/);
    const renamed = row(page, `exa/project/support/support-${suffix}`);
    await expect(renamed.textContent()).resolves.toContain("Support search");
    await expect(row(page, SUPPORT).count()).resolves.toBe(0);
  });

  it("sets a default", async () => {
    await page.goto("/apps?app=exa");
    await expect(row(page, GROWTH).getByTestId("default-badge").count()).resolves.toBe(0);
    await row(page, GROWTH).getByRole("button", { name: "Set default" }).click();
    await page.waitForURL(/done=default/);
    await expect(row(page, GROWTH).getByTestId("default-badge").count()).resolves.toBe(1);
    await expect(row(page, GROWTH).getByRole("button", { name: "Set default" }).count()).resolves.toBe(0);
  });

  it("rotates a manual secret: the preview changes, the id and default stay", async () => {
    await page.goto("/apps?app=exa");
    const id = await row(page, GROWTH).getAttribute("data-id");
    const before = await row(page, GROWTH).locator("td[data-label=Preview]").textContent();
    await row(page, GROWTH).getByRole("link", { name: "Rotate" }).click();
    await page.waitForURL(/\/rotate$/);
    await shot(page, "rotate");
    await page.locator('input[name="field.apiKey"]').fill(`exa-rotated-${suffix}-zyxw9876`);
    await page.getByRole("button", { name: "Rotate" }).click();
    await page.waitForURL(/done=rotated/);
    const after = await row(page, GROWTH).locator("td[data-label=Preview]").textContent();
    expect(after).not.toBe(before);
    expect(after).toContain("9876");
    await expect(row(page, GROWTH).getAttribute("data-id")).resolves.toBe(id);
    await expect(row(page, GROWTH).getByTestId("default-badge").count()).resolves.toBe(1);
    expect(await page.content()).not.toContain(`exa-rotated-${suffix}-zyxw9876`);
  });

  it("revokes after a confirmation page", async () => {
    const ref = `exa/project/support/support-${suffix}`;
    await page.goto("/apps?app=exa");
    await row(page, ref).getByRole("link", { name: "Revoke" }).click();
    await page.waitForURL(/\/revoke$/);
    await expect(page.locator("h1").textContent()).resolves.toContain(ref);
    await shot(page, "revoke-confirm");
    await page.getByRole("button", { name: `Revoke ${ref}` }).click();
    await page.waitForURL(/done=revoked/);
    await expect(row(page, ref).locator("td[data-label=Status]").textContent()).resolves.toContain("revoked");
    await expect(row(page, ref).locator("button, a.button").count()).resolves.toBe(0);
  });

  it("shows a key the provider refused with its reason and last error; 'Needs attention' lists only those (issue 15)", async () => {
    // Through the API, as a deploy script would: the sandbox's probe refuses any key containing `invalid`.
    const bad = await api("POST", "/v1/credentials", alice, { app: "exa", slug: `refused-${suffix}`, fields: { apiKey: `exa-invalid-${suffix}-0123456789` } });
    expect(bad.status).toBe(200);
    expect(bad.body.credentials[0]).toMatchObject({ status: "invalid", status_reason: "probe_unauthorized" });
    const good = await api("POST", "/v1/credentials", alice, { app: "exa", slug: `works-${suffix}`, fields: { apiKey: `exa-good-${suffix}-0123456789` } });
    expect(good.body.credentials[0]).toMatchObject({ status: "active", last_error: null });
    const badRef = `exa/org/refused-${suffix}`;
    const goodRef = `exa/org/works-${suffix}`;

    await page.goto("/apps?app=exa");
    const status = row(page, badRef).locator("td[data-label=Status]");
    await expect(status.locator("[data-status=invalid]").textContent()).resolves.toBe("invalid");
    await expect(status.getByTestId("status-reason").textContent()).resolves.toContain("the provider refused the key");
    await expect(status.getByTestId("last-error").textContent()).resolves.toContain("The provider refused the key (HTTP 401)");
    await expect(row(page, goodRef).locator("[data-status=active]").count()).resolves.toBe(1);
    await expect(row(page, goodRef).getByTestId("last-error").count()).resolves.toBe(0);
    await shot(page, "apps-health");

    await page.getByLabel("Needs attention").check();
    await page.getByRole("button", { name: "Filter" }).click();
    await page.waitForURL(/attention=true/);
    await expect(row(page, badRef).count()).resolves.toBe(1);
    await expect(row(page, goodRef).count()).resolves.toBe(0);
    const statuses = await page.locator("tbody tr td[data-label=Status] [data-status]").evaluateAll((els) => els.map((e) => e.getAttribute("data-status")));
    expect(statuses.length).toBeGreaterThan(0);
    expect(statuses.every((st) => st !== "revoked")).toBe(true);
    await expect(page.getByLabel("Needs attention").isChecked()).resolves.toBe(true);
    await shot(page, "apps-needs-attention");

    // The row's Check button asks the provider again: still refused, and the page says it checked.
    await row(page, badRef).getByRole("button", { name: `Check ${badRef}` }).click();
    await page.waitForURL(/done=checked/);
    await expect(page.getByRole("status").first().textContent()).resolves.toContain(`Checked ${badRef}`);
    await expect(row(page, badRef).locator("[data-status=invalid]").count()).resolves.toBe(1);
  });

  it("shows what each consumer resolves to, with the rule; assigns and unassigns", async () => {
    const runtime = seed.runtime_token;
    for (const step of ["search", "summarize"]) {
      const r = await api("POST", "/v1/runtime/events", runtime, { type: "step_completed", workflow: `digest-${suffix}`, step, run_id: `run-${suffix}` });
      expect(r.status, JSON.stringify(r.body)).toBe(200);
    }
    await page.goto("/assignments");
    await shot(page, "assignments");
    await page.getByLabel("Kind", { exact: true }).selectOption("workflow");
    await page.getByLabel("Workflow, agent or poll", { exact: true }).fill(`digest-${suffix}`);
    await page.getByLabel("Runs in project").selectOption("growth");
    await page.getByLabel("Also explain app").fill("exa");
    await page.getByRole("button", { name: "Show" }).click();
    await page.waitForURL(/kind=workflow/);
    const cell = (consumer: string, col: string) => page.locator(`tr[data-consumer="${consumer}"][data-app="exa"] td[data-label="${col}"]`);
    // No pin: both steps get the project's default.
    await expect(cell("summarize", "Rule").locator("code").textContent()).resolves.toBe("project");
    await expect(cell("summarize", "Resolves to").locator("code").textContent()).resolves.toBe(GROWTH);
    // Pin the step `search` to that credential: its rule becomes the assignment.
    await page.getByLabel("Consumer", { exact: true }).selectOption("search");
    await page.getByLabel("Credential").selectOption({ label: `${GROWTH} (default)` });
    await page.getByRole("button", { name: "Assign" }).click();
    await page.waitForURL(/done=assigned/);
    await expect(cell("search", "Rule").locator("code").textContent()).resolves.toBe("assignment");
    await expect(cell("search", "Rule").textContent()).resolves.toContain("assigned to this consumer");
    await expect(cell("summarize", "Rule").locator("code").textContent()).resolves.toBe("project");
    await shot(page, "assignments-workflow");
    await page.getByRole("button", { name: "Unassign exa from search" }).click();
    await page.waitForURL(/done=unassigned/);
    await expect(cell("search", "Rule").locator("code").textContent()).resolves.toBe("project");
  });

  it("binds and unbinds a channel on the agent channels panel", async () => {
    const agent = `web-agent-${suffix}`;
    await page.goto("/channels");
    await expect(page.locator("body").textContent()).resolves.toContain("deploy-helper");
    await shot(page, "channels");
    await page.getByLabel("Agent", { exact: true }).fill(agent);
    await page.getByRole("button", { name: "Open" }).click();
    await page.waitForURL(/agent=web-agent/);
    await expect(page.getByTestId("no-bindings").count()).resolves.toBe(1);
    await page.getByLabel("Channel").selectOption("dm");
    await page.getByLabel("Listen to").selectOption("all");
    await page.getByRole("button", { name: "Bind" }).click();
    await page.waitForURL(/done=bound/);
    const bound = page.locator('tr[data-channel="dm"]');
    await expect(bound.locator("td[data-label='Listens to']").textContent()).resolves.toBe("every message");
    await shot(page, "channels-agent");
    // Listen mode: bind again with the other mode.
    await bound.getByLabel("Mode").selectOption("mentions");
    await bound.getByRole("button", { name: "Save" }).click();
    await page.waitForURL(/done=mode/);
    await expect(page.locator('tr[data-channel="dm"] td[data-label="Listens to"]').textContent()).resolves.toBe("mentions only");
    await page.getByRole("button", { name: "Unbind direct messages" }).click();
    await page.waitForURL(/done=unbound/);
    await expect(page.getByTestId("no-bindings").count()).resolves.toBe(1);
    const list = await api("GET", "/v1/channels", alice);
    expect(list.body.channels.some((b: { agent: string }) => b.agent === agent)).toBe(false);
  });

  it("creates an API key: shown once, then only its preview", async () => {
    await page.goto("/api-keys");
    await page.getByLabel("Name").fill(`e2e script ${suffix}`);
    await page.getByRole("button", { name: "Create key" }).click();
    const key = (await page.locator("#new-key-value").textContent())!;
    expect(key).toMatch(/^ks_key_/);
    await shot(page, "api-key-created");
    await page.goto("/api-keys");
    const html = await page.content();
    expect(html).not.toContain(key);
    const listed = page.locator("tr", { hasText: `e2e script ${suffix}` });
    const preview = (await listed.locator("td[data-label=Key]").textContent())!;
    expect(preview.length).toBeLessThan(key.length);
    expect(key.endsWith(preview.replace(/^.*…/, ""))).toBe(true);
    await shot(page, "api-keys");
    // The key works as alice, until it is revoked here.
    expect((await api("GET", "/v1/me", key)).body.member.email).toBe("alice@acme.test");
    await listed.getByRole("button", { name: `Revoke key e2e script ${suffix}` }).click();
    await page.waitForURL(/done=revoked/);
    await expect(page.locator("tr", { hasText: `e2e script ${suffix}` }).locator("td[data-label=Status]").textContent()).resolves.toBe("revoked");
    expect((await api("GET", "/v1/me", key)).status).toBe(401);
  });

  it("filters the audit log by action and by credential", async () => {
    await page.goto("/audit");
    await shot(page, "audit");
    // At phone width the rows stack: nothing scrolls sideways (not even a detail with a long slug
    // that has no break opportunity), and action codes stay whole.
    const long = await api("POST", "/v1/credentials", alice, { app: "exa", slug: `a_long_slug_with_underscores_that_never_breaks_${suffix}`, fields: { apiKey: `exa-long-${suffix}-0123456789abcdef` }, targets: [{ type: "project", project: "support" }] });
    expect(long.status).toBe(200);
    await page.reload();
    await page.setViewportSize({ width: 390, height: 844 });
    await expect(page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth)).resolves.toBe(true);
    const action = page.locator("tbody tr code.action").first();
    await expect(action.evaluate((el) => el.getClientRects().length)).resolves.toBe(1);
    await shot(page, "audit-phone");
    await page.setViewportSize({ width: 1280, height: 900 });
    await page.getByLabel("Action").fill("credential.revoke");
    await page.getByRole("button", { name: "Filter" }).click();
    await page.waitForURL(/action=credential\.revoke/);
    const actions = await page.locator("tbody tr").evaluateAll((rows) => rows.map((r) => r.getAttribute("data-action")));
    expect(actions.length).toBeGreaterThan(0);
    expect(new Set(actions)).toEqual(new Set(["credential.revoke"]));
    await shot(page, "audit-filtered");
    await page.goto("/audit");
    await page.getByLabel("Credential").selectOption({ label: GROWTH });
    await page.getByRole("button", { name: "Filter" }).click();
    await page.waitForURL(/credential=/);
    const growth = await page.locator("tbody tr").evaluateAll((rows) => rows.map((r) => r.getAttribute("data-action")));
    expect(growth).toEqual(expect.arrayContaining(["credential.create", "credential.set_default", "credential.rotate"]));
    expect(growth).not.toContain("credential.revoke");
    // Time: nothing happened after 2099.
    await page.getByLabel("Since (UTC)").fill("2099-01-01T00:00");
    await page.getByRole("button", { name: "Filter" }).click();
    await page.waitForURL(/since=2099/);
    await expect(page.locator("tbody tr").count()).resolves.toBe(0);
    await expect(page.locator("main").textContent()).resolves.toContain("No entry matches these filters.");
  });

  it("shows a builder (carol) no admin actions", async () => {
    const carol = await newPage();
    await signIn(carol, "carol@acme.test");
    await expect(carol.getByTestId("who").textContent()).resolves.toContain("(builder)");
    // She sees org and support credentials, masked, with no action that would change them.
    await expect(carol.locator("tbody tr").count()).resolves.toBeGreaterThan(0);
    await expect(row(carol, GROWTH).count()).resolves.toBe(0);
    // Row actions are named "<action> <ref>" for screen readers; none may be there.
    const adminAction = /^(Rename|Set default|Rotate|Reconnect|Revoke)\b/;
    await expect(carol.getByRole("button", { name: adminAction }).count()).resolves.toBe(0);
    await expect(carol.getByRole("link", { name: adminAction }).count()).resolves.toBe(0);
    // Issue 15: the one form a builder gets is Check (who may see a credential may ask whether it works).
    await expect(carol.locator("td[data-label=Actions] a").count()).resolves.toBe(0);
    const forms = await carol.locator("td[data-label=Actions] form").count();
    await expect(carol.locator("td[data-label=Actions] form button").evaluateAll((bs) => bs.every((b) => /^Check /.test(b.getAttribute("aria-label") ?? "")))).resolves.toBe(true);
    await expect(carol.getByRole("button", { name: /^Check / }).count()).resolves.toBe(forms);
    await shot(carol, "apps-builder");
    await carol.goto("/channels?agent=deploy-helper");
    await expect(carol.locator('tr[data-channel="C0AB6CHAN1"]').count()).resolves.toBe(1);
    await expect(carol.getByRole("button", { name: /Unbind|Bind|Save/ }).count()).resolves.toBe(0);
    await expect(carol.locator("body").textContent()).resolves.toContain("Only org owners and admins");
    await shot(carol, "channels-builder");
    await carol.goto("/audit");
    await expect(carol.getByLabel("Actor").count()).resolves.toBe(0);
    await shot(carol, "audit-builder");
    await carol.goto("/api-keys");
    await expect(carol.locator("th", { hasText: "Member" }).count()).resolves.toBe(0);
  });

  it("refuses a form post without the CSRF token (403) and changes nothing", async () => {
    const request = page.context().request;
    const before = (await api("GET", "/v1/api-keys", alice)).body.api_keys.length;
    const missing = await request.post("/api-keys", { form: { name: "no csrf" }, maxRedirects: 0 });
    expect(missing.status()).toBe(403);
    expect(await missing.text()).toContain("This form expired or did not come from this site");
    const wrong = await request.post("/api-keys", { form: { name: "wrong csrf", csrf: "0".repeat(32) }, maxRedirects: 0 });
    expect(wrong.status()).toBe(403);
    expect((await api("GET", "/v1/api-keys", alice)).body.api_keys.length).toBe(before);
    const id = (await api("GET", `/v1/credentials/${encodeURIComponent(GROWTH)}`, alice)).body.id;
    const revoke = await request.post(`/apps/${id}/revoke`, { form: {}, maxRedirects: 0 });
    expect(revoke.status()).toBe(403);
    expect((await api("GET", `/v1/credentials/${encodeURIComponent(GROWTH)}`, alice)).body.status).toBe("active");
  });

  it("kept the browser console free of errors on every page", () => {
    expect(consoleErrors).toEqual([]);
    expect(shotNo).toBeGreaterThanOrEqual(15);
  });
});
