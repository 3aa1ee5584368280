import { existsSync, mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { chromium, type BrowserContext, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";

/**
 * Issue 8's "done when", end to end: an agent calls connect_app over MCP (the official client,
 * over HTTP against `npm run dev`), a person follows the link in chromium and completes an
 * API-key connect, and connect_status then reports the new credential, masked.
 */
const { baseUrl, seed } = inject("cli");
const bob = seed.users.find((u) => u.email === "bob@acme.test")!.token;
const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
const SHOTS = path.resolve(import.meta.dirname, "../../test-results/e2e/mcp");
const SECRET = "tvly-mcp-browser-0123456789abcdef";

let context: BrowserContext;
let page: Page;
let userDataDir: string;
let client: Client;
const consoleErrors: string[] = [];

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: apt-get install chromium (or set CHROMIUM_PATH)`);
  mkdirSync(SHOTS, { recursive: true });
  userDataDir = mkdtempSync(path.join(tmpdir(), "keystroke-chromium-mcp-"));
  context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: CHROMIUM,
    headless: true,
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
  });
  page = context.pages()[0] ?? (await context.newPage());
  page.on("console", (m) => m.type() === "error" && consoleErrors.push(m.text()));
  page.on("pageerror", (e) => consoleErrors.push(e.message));
  client = new Client({ name: "e2e-agent", version: "1.0.0" });
  await client.connect(new StreamableHTTPClientTransport(new URL(`${baseUrl}/mcp`), { requestInit: { headers: { authorization: `Bearer ${bob}` } } }));
}, 60_000);

afterAll(async () => {
  await client?.close();
  await context?.close();
  if (userDataDir) rmSync(userDataDir, { recursive: true, force: true });
  expect(consoleErrors).toEqual([]);
});

describe("connect_app link followed in a browser", () => {
  it("completes an API-key connect and connect_status reports the new credential", async () => {
    const started = await client.callTool({ name: "connect_app", arguments: { app: "tavily", name: "Agent search" } });
    expect(started.isError).toBeFalsy();
    const { url, session_id } = started.structuredContent as { url: string; session_id: string };
    expect(url).toBe(`${baseUrl}/connect/${session_id}`);

    // The person opens the link: not signed in yet, so sign-in first, then back to the link.
    await page.goto(url);
    await page.waitForURL((u) => u.pathname === "/signin");
    await page.getByRole("button", { name: /bob@acme\.test/ }).click();
    await page.waitForURL(url);
    expect(await page.locator("h1").textContent()).toBe("Connect Tavily");
    await page.getByLabel("The whole organization").check();
    await page.getByLabel("API key").fill(SECRET);
    await page.screenshot({ path: path.join(SHOTS, "01-connect-form.png"), fullPage: true });

    const pending = await client.callTool({ name: "connect_status", arguments: { session_id } });
    expect(pending.structuredContent).toMatchObject({ status: "pending" });

    await page.getByRole("button", { name: "Save" }).click();
    await page.waitForURL((u) => u.pathname === "/apps" && u.searchParams.get("connected") === session_id);
    await page.screenshot({ path: path.join(SHOTS, "02-apps-banner.png"), fullPage: true });
    expect(await page.getByRole("status").textContent()).toContain("tavily/org/agent-search");

    const done = await client.callTool({ name: "connect_status", arguments: { session_id } });
    expect(done.structuredContent).toMatchObject({ status: "completed", app: "tavily", credentials: [{ ref: "tavily/org/agent-search", status: "active" }] });
    const listed = await client.callTool({ name: "list_credentials", arguments: { app: "tavily" } });
    expect(JSON.stringify([done, listed])).not.toContain(SECRET);
  });
});
