import { Hono } from "hono";
import { describe, expect, it } from "vitest";
import { AppError } from "../../lib/errors";
import { remedy } from "../../lib/fixes";
import { errorBodyOf, errorPage, pageStatus } from "../../workers/shared/error-page";

/** Issue 12, build 4: one error page for every browser-facing worker (workers/shared/error-page.tsx). */
describe("the shared error page", () => {
  const refusal = new AppError("unauthorized", "Your session ended.", remedy({ do: "sign_in" }));

  it("keeps a 4xx a 4xx, and words the fix for the web (a page link, never a CLI command)", async () => {
    const app = new Hono().get("/", (c) => errorPage(c, refusal.toBody(), { status: 500 }));
    const res = await app.request("/");
    expect(res.status).toBe(401);
    expect(res.headers.get("content-type")).toContain("text/html");
    const html = await res.text();
    expect(html).toContain("Your session ended.");
    expect(html).toContain('href="/signin"');
    expect(html).not.toContain("keystroke auth login");
    expect(html).toContain('href="/static/app.css"');
  });

  it("takes a more precise status of the same class, and never leaks what an unknown error says", () => {
    expect(pageStatus({ code: "upstream_error", message: "x" }, 400)).toBe(400);
    expect(pageStatus({ code: "invalid_request", message: "x" }, 413)).toBe(413);
    expect(pageStatus({ code: "not_found", message: "x" })).toBe(404);
    expect(errorBodyOf(new Error("db password is hunter2"))).toEqual({ code: "internal", message: "Something went wrong." });
  });
});
