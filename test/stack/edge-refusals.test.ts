import { readdirSync, readFileSync } from "node:fs";
import { request } from "node:http";
import path from "node:path";
import { DatabaseSync } from "node:sqlite";
import { describe, expect, inject, it } from "vitest";
import { newOrgId, newToken } from "../../lib/tokens";
import { ROOT } from "../support/start-stack";

/** Issue 11, items 4 and 7, against the real `npm run dev`: what the edge refuses before any vault. */
const { baseUrl, seed, stateDir } = inject("stack");
const alice = seed.users.find((u) => u.email === "alice@acme.test")!.token;
const port = Number(new URL(baseUrl).port);

/** One file per Durable Object instance (wrangler's --persist-to layout: v3/do/<script>-<class>/<id>.sqlite). */
function sqliteFiles(dir = stateDir): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile() && e.name.endsWith(".sqlite"))
    .map((e) => path.join(e.parentPath, e.name));
}

function forgedOrgIds(n: number): string[] {
  const b32 = "abcdefghijklmnopqrstuvwxyz234567";
  return Array.from({ length: n }, () => "o" + Array.from(crypto.getRandomValues(new Uint8Array(31)), (b) => b32[b & 31]).join(""));
}

/** A raw HTTP request with a Host of our choosing (fetch may not set Host), to 127.0.0.1:<port>. */
function rawRequest(method: string, pathname: string, host: string, headers: Record<string, string> = {}): Promise<{ status: number; body: any }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: "127.0.0.1", port, method, path: pathname, headers: { host, ...headers } }, (res) => {
      let text = "";
      res.on("data", (d) => (text += String(d)));
      res.on("end", () => {
        let body: unknown = null;
        try { body = JSON.parse(text); } catch {}
        resolve({ status: res.statusCode ?? 0, body });
      });
    });
    req.on("error", reject);
    req.end();
  });
}

describe("forged org ids write nothing (item 4)", () => {
  it("20 forged tokens, CLI-login ids, session cookies and OAuth states leave the state directory without a new file", async () => {
    const before = sqliteFiles();
    expect(before.length).toBeGreaterThan(0);
    for (const org of forgedOrgIds(20)) {
      const token = newToken("user", org);
      const me = await fetch(`${baseUrl}/v1/me`, { headers: { authorization: `Bearer ${token}` } });
      expect(me.status).toBe(401);
      expect((await me.json()).error.code).toBe("unauthorized");
      const login = `cli_${org}_${"a".repeat(20)}`;
      const poll = await fetch(`${baseUrl}/v1/cli-logins/${login}`, { headers: { authorization: `Bearer ${"A".repeat(43)}` } });
      expect(poll.status).toBe(404);
      expect((await poll.json()).error.code).toBe("not_found");
      const details = await fetch(`${baseUrl}/v1/cli-logins/${login}/details`, { headers: { authorization: `Bearer ${alice}` } });
      expect(details.status).toBe(404);
      const page = await fetch(`${baseUrl}/apps`, { headers: { cookie: `ks_session=${token}` }, redirect: "manual" });
      expect(page.status).toBe(303);
      const callback = await fetch(`${baseUrl}/oauth/callback?state=${org}.x&code=y`, { headers: { cookie: `ks_session=${token}` }, redirect: "manual" });
      expect(callback.status).toBe(401);
    }
    expect(sqliteFiles()).toEqual(before);
  });

  it("vaultStub is the only way into a vault: no worker or Durable Object addresses VAULT itself", () => {
    const offenders: string[] = [];
    for (const dir of ["workers", "durable-objects"]) {
      for (const e of readdirSync(path.join(ROOT, dir), { recursive: true, withFileTypes: true })) {
        if (!e.isFile() || !/\.tsx?$/.test(e.name)) continue;
        const file = path.relative(ROOT, path.join(e.parentPath, e.name));
        if (file === path.join("durable-objects", "vault-stub.ts")) continue;
        if (/\bVAULT\.(get|idFromName|idFromString|getByName)\(/.test(readFileSync(path.join(ROOT, file), "utf8"))) offenders.push(file);
      }
    }
    expect(offenders).toEqual([]);
  });

  it("an id with a genuine tag that was never provisioned answers 401 and gets no schema", async () => {
    // The stack's own ORG_ID_KEY (scripts/dev.mjs keeps it in .dev.vars): past the first line of
    // defence, to the second. workerd itself creates an empty database for any instance touched
    // (a 4 KB file with their bookkeeping, whatever the class does); the vault adds no table and no row to it.
    const key = /^ORG_ID_KEY="?([^"\n]+)"?$/m.exec(readFileSync(path.join(ROOT, ".dev.vars"), "utf8"))![1]!;
    const org = await newOrgId(key);
    const before = sqliteFiles();
    const me = await fetch(`${baseUrl}/v1/me`, { headers: { authorization: `Bearer ${newToken("user", org)}` } });
    expect(me.status).toBe(401);
    expect((await me.json()).error.code).toBe("unauthorized");
    for (const file of sqliteFiles().filter((f) => !before.includes(f))) {
      const db = new DatabaseSync(file, { readOnly: true });
      const names = db.prepare(`SELECT name FROM sqlite_master`).all().map((r) => String(r.name));
      db.close();
      // workerd's and miniflare's own bookkeeping (_cf_*, __miniflare_*) aside.
      expect(names.filter((n) => !/^(_cf_|__miniflare)/.test(n))).toEqual([]);
    }
  });
});

describe("DNS rebinding (item 7): the gateway answers only loopback Hosts on its port", () => {
  it("refuses a foreign Host on /dev/seed (no tokens, nothing re-pointed) and on every other path", async () => {
    for (const [method, p] of [["POST", "/dev/seed"], ["GET", "/health"], ["GET", "/v1/me"], ["POST", "/mcp"], ["GET", "/oauth/health"], ["GET", "/_sandbox/agent/calls"], ["GET", "/signin"]] as const) {
      for (const host of [`rebind.attacker.example:${port}`, "rebind.attacker.example", `localhost:${port + 1}`, `127.0.0.2:${port}`]) {
        const r = await rawRequest(method, p, host, { authorization: `Bearer ${alice}` });
        expect([p, host, r.status]).toEqual([p, host, 403]);
        expect(r.body).toMatchObject({ error: { code: "forbidden", details: { field: "host" } } });
        expect(JSON.stringify(r.body)).not.toContain("ks_");
      }
    }
    for (const host of [`localhost:${port}`, `127.0.0.1:${port}`]) {
      const r = await rawRequest("POST", "/dev/seed", host);
      expect(r.status).toBe(200);
      // The seed's URLs are the configured origin, whatever the (allowed) Host said.
      expect(r.body.api_url).toBe(baseUrl);
      expect(r.body).toEqual(seed);
    }
  });
});
