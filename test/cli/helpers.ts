import { spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, inject } from "vitest";

/** The stack and the bundle the global setup prepared. */
export const { baseUrl, seed, bin, adminToken } = inject("cli");
const tokenOf = (email: string) => seed.users.find((u) => u.email === email)!.token;
export const alice = tokenOf("alice@acme.test");
export const bob = tokenOf("bob@acme.test");
export const carol = tokenOf("carol@acme.test");
export const runtime = seed.runtime_token;

/** Every temp folder a Machine made; removed when the test file is done. */
const made: string[] = [];
export const tempDir = (prefix: string): string => {
  const dir = mkdtempSync(path.join(tmpdir(), prefix));
  made.push(dir);
  return dir;
};
afterAll(() => {
  for (const dir of made.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/** A short random tag, so tests that share the stack never share an app, workflow or name. */
export const tag = (): string => randomBytes(4).toString("hex");

export interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

export interface RunOptions {
  env?: Record<string, string | undefined>;
  input?: string;
  cwd?: string;
}

/** A running CLI whose stderr can be awaited (browser login and connect print a URL, then wait). */
export interface Running {
  child: ChildProcess;
  done: Promise<Run>;
  waitFor(re: RegExp): Promise<RegExpMatchArray>;
}

/**
 * One user's machine: its own config directory (XDG_CONFIG_HOME) and project folder, and an
 * environment with nothing of the outer shell's KEYSTROKE_* variables.
 */
export class Machine {
  readonly config = tempDir("ks-cli-config-");
  readonly project = tempDir("ks-cli-project-");
  readonly env: Record<string, string | undefined>;

  constructor(env: Record<string, string | undefined> = {}) {
    this.env = { PATH: process.env.PATH, HOME: this.config, XDG_CONFIG_HOME: this.config, KEYSTROKE_API_URL: baseUrl, KEYSTROKE_NO_BROWSER: "1", ...env };
  }

  start(args: string[], opts: RunOptions = {}): Running {
    const child = spawn(process.execPath, [bin, ...args], { cwd: opts.cwd ?? this.project, env: { ...this.env, ...opts.env } as NodeJS.ProcessEnv, stdio: ["pipe", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    const waiters: { re: RegExp; resolve: (m: RegExpMatchArray) => void }[] = [];
    child.stdout!.on("data", (d) => (stdout += String(d)));
    child.stderr!.on("data", (d) => {
      stderr += String(d);
      for (const w of [...waiters]) {
        const m = stderr.match(w.re);
        if (m) {
          waiters.splice(waiters.indexOf(w), 1);
          w.resolve(m);
        }
      }
    });
    child.stdin!.end(opts.input ?? "");
    const done = new Promise<Run>((resolve) => child.on("close", (code) => resolve({ code: code ?? -1, stdout, stderr })));
    return {
      child,
      done,
      waitFor: (re) =>
        new Promise((resolve, reject) => {
          const m = stderr.match(re);
          if (m) return resolve(m);
          waiters.push({ re, resolve });
          void done.then((r) => reject(new Error(`the CLI ended (${r.code}) before printing ${re}: ${r.stderr}`)));
        }),
    };
  }

  run(args: string[], opts: RunOptions = {}): Promise<Run> {
    return this.start(args, opts).done;
  }

  /** Runs with --json and answers the parsed stdout; fails the test on a non-zero exit. */
  async json<T = any>(args: string[], opts: RunOptions = {}): Promise<T> {
    const r = await this.run(["--json", ...args], opts);
    if (r.code !== 0) throw new Error(`keystroke ${args.join(" ")} exited ${r.code}: ${r.stderr}`);
    return JSON.parse(r.stdout) as T;
  }
}

/** A direct API call, for what the CLI does not do (the execution plane's events, approving a login). */
export async function http(method: string, pathname: string, body?: unknown, token?: string, headers: Record<string, string> = {}) {
  const res = await fetch(baseUrl + pathname, {
    method,
    headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...(body === undefined ? {} : { "content-type": "application/json" }), ...headers },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as any };
}

/** A browser login done over HTTP, as the approval page would: answers the CLI token. */
export async function apiLogin(approver: string, extra: Record<string, unknown> = {}) {
  const secret = randomBytes(32).toString("base64url");
  const created = await http("POST", "/v1/cli-logins", { org: seed.org.slug, ...extra }, secret);
  const approved = await http("POST", `/v1/cli-logins/${created.body.id}/approve`, { code: created.body.code }, approver);
  const poll = () => http("GET", `/v1/cli-logins/${created.body.id}`, undefined, secret);
  return { created, approved, secret, poll };
}

/** A web session (dev sign-in) for the pages a browser would use: a tiny cookie jar over fetch. */
export async function webSession(email: string) {
  const jar = new Map<string, string>();
  const cookie = () => [...jar].map(([k, v]) => `${k}=${v}`).join("; ");
  const request = async (method: string, pathname: string, form?: Record<string, string>) => {
    const res = await fetch(baseUrl + pathname, {
      method,
      redirect: "manual",
      headers: { cookie: cookie(), ...(form ? { "content-type": "application/x-www-form-urlencoded" } : {}) },
      body: form ? new URLSearchParams(form).toString() : undefined,
    });
    for (const c of res.headers.getSetCookie()) {
      const [pair] = c.split(";");
      const [k, v] = pair!.split("=");
      jar.set(k!, v ?? "");
    }
    return { status: res.status, location: res.headers.get("location"), text: await res.text() };
  };
  await request("GET", "/signin");
  const signed = await request("POST", "/signin", { csrf: jar.get("ks_csrf")!, email, next: "/apps" });
  if (signed.status !== 303) throw new Error(`dev sign-in answered ${signed.status}`);
  // Signed in, the CSRF value is bound to the session; the sign-in answer mirrors it in the cookie.
  return {
    request,
    get csrf() {
      return jar.get("ks_csrf")!;
    },
  };
}
