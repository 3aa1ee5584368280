import { describe, expect, it } from "vitest";
import { AppError } from "../../lib/errors";
import { originAllowed, platformOrigin } from "../../lib/origin";

/** Issue 11, item 7: links and MCP's Origin check come from configuration, never the request's Host. */
describe("platformOrigin", () => {
  it("is PUBLIC_URL's origin whatever the request's Host says", () => {
    expect(platformOrigin({ PUBLIC_URL: "https://ks.example.com/" }, "http://rebind.attacker.example/v1/connect")).toBe("https://ks.example.com");
    expect(platformOrigin({ PUBLIC_URL: "https://ks.example.com", DEV_MODE: "true" }, "http://localhost:8787/x")).toBe("https://ks.example.com");
  });

  it("falls back to the request's origin only in dev mode, and refuses to guess in production", () => {
    expect(platformOrigin({ DEV_MODE: "true" }, "http://localhost:9887/x")).toBe("http://localhost:9887");
    expect(() => platformOrigin({}, "http://rebind.attacker.example/x")).toThrow(AppError);
    expect(() => platformOrigin({ PUBLIC_URL: "not a url" }, "http://localhost/x")).toThrow(/PUBLIC_URL/);
  });

  it("answers 503 naming PUBLIC_URL when it is unset or malformed: a deployment fault, not a 500 (issue 13 build 7)", () => {
    for (const env of [{}, { PUBLIC_URL: "not a url" }]) {
      const e = (() => { try { platformOrigin(env, "http://x.example/y"); } catch (err) { return err as AppError; } })();
      expect(e?.httpStatus).toBe(503);
      expect(e?.details).toEqual({ settings: ["PUBLIC_URL"] });
    }
  });
});

describe("originAllowed", () => {
  const prod = { PUBLIC_URL: "https://ks.example.com" };
  it("accepts the configured origin only", () => {
    expect(originAllowed(prod, "https://ks.example.com")).toBe(true);
    for (const o of ["http://ks.example.com", "https://ks.example.com:444", "https://evil.example", "http://localhost:8787", "null", "", "https://ks.example.com.evil.example"]) {
      expect(originAllowed(prod, o), o).toBe(false);
    }
  });

  it("in dev mode also accepts loopback origins on any port, nothing else", () => {
    const dev = { PUBLIC_URL: "http://localhost:8787", DEV_MODE: "true" };
    for (const o of ["http://localhost:8787", "http://localhost:3000", "http://127.0.0.1:9887", "http://[::1]:8787"]) expect(originAllowed(dev, o), o).toBe(true);
    for (const o of ["http://rebind.attacker.example:8787", "http://localhost.attacker.example", "http://127.0.0.2:8787", "file://", "null"]) expect(originAllowed(dev, o), o).toBe(false);
  });
});
