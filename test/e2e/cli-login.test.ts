import { existsSync } from "node:fs";
import { chromium, type Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Machine, seed } from "../cli/helpers";

/**
 * `keystroke auth login` completed by a person in a real browser: Debian's chromium, driven by
 * playwright-core, signs in on the dev sign-in page, types the code the terminal shows and approves. Run by
 * `npm run test:e2e` (needs /usr/bin/chromium: `apt-get install chromium`).
 */
const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
let browser: Browser;

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: apt-get install chromium (or set CHROMIUM_PATH)`);
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
  });
});

afterAll(async () => {
  await browser?.close();
});

describe("keystroke auth login, approved in chromium", () => {
  it("signs the CLI in as the member who approved the code", async () => {
    const m = new Machine();
    const login = m.start(["auth", "login", "--org", "acme"]);
    const [, url, code] = await login.waitFor(/(http:\/\/\S+\/cli-login\/\S+)\s+Code: (\S+)/);

    const page = await browser.newPage();
    // Not signed in yet: the page sends the browser to sign in and back.
    await page.goto(url!);
    await page.waitForURL(/\/signin\?next=/);
    await page.getByRole("button", { name: /alice@acme\.test/ }).click();
    await page.waitForURL(/\/cli-login\//);
    // The page never shows the code: the member types what the terminal printed.
    expect(await page.content()).not.toContain(code!);
    await expect.poll(() => page.getByTestId("login-origin").textContent()).toMatch(/Label.*@.*Started.*From address.*keystroke-cli \(node/s);
    await page.screenshot({ path: "test-results/e2e/cli-login-approve.png", fullPage: true }).catch(() => {});
    await page.getByLabel("Code shown in your terminal").fill("WRON-GCOD");
    await page.getByRole("button", { name: "Approve" }).click();
    await expect.poll(() => page.getByRole("alert").textContent()).toContain("4 tries left");
    await page.getByLabel("Code shown in your terminal").fill(code!);
    await page.getByRole("button", { name: "Approve" }).click();
    await expect.poll(() => page.getByRole("status").textContent()).toContain("the CLI is signed in");
    await page.screenshot({ path: "test-results/e2e/cli-login.png" }).catch(() => {});

    const r = await login.done;
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe(`Signed in to acme at ${seed.api_url} as alice@acme.test (owner).\n`);
    expect(await m.json(["auth", "status"])).toMatchObject({ member: { email: "alice@acme.test" }, token: { kind: "user", source: "config" } });

    // The login was single use: the page now says so.
    await page.goto(url!);
    await expect.poll(() => page.getByRole("alert").textContent()).toContain("does not exist, has expired or was already used");
    await page.close();
  });

  it("tells the CLI when the member denies it", async () => {
    const m = new Machine();
    const login = m.start(["auth", "login", "--org", "acme"]);
    const [, url] = await login.waitFor(/(http:\/\/\S+\/cli-login\/\S+)\s+Code: (\S+)/);
    const page = await browser.newPage();
    await page.goto(url!);
    await page.getByRole("button", { name: /carol@acme\.test/ }).click();
    await page.getByRole("button", { name: "Deny" }).click();
    await expect.poll(() => page.getByRole("status").textContent()).toContain("Denied");
    expect(await login.done).toMatchObject({ code: 1, stderr: expect.stringContaining("The login was denied in the browser.") });
    await page.close();
  });
});
