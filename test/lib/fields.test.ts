import { describe, expect, it } from "vitest";
import { getApp } from "../../lib/catalog";
import { AppError } from "../../lib/errors";
import { appSummary, checkFields, previewOf, slugify } from "../../lib/fields";

const exa = getApp("exa")!;
const github = getApp("github")!;
const twilio = getApp("twilio")!;

describe("slugify", () => {
  it.each([
    ["Work (EU)", "work-eu"],
    ["work", "work"],
    ["  --Ops_team--  ", "ops_team"],
    ["Über Konto", "uber-konto"],
    ["x".repeat(80), "x".repeat(63)],
  ])("%s -> %s", (name, slug) => expect(slugify(name)).toBe(slug));

  it("answers null when nothing usable is left", () => {
    expect(slugify("!!!")).toBeNull();
    expect(slugify("")).toBeNull();
  });
});

describe("checkFields", () => {
  const opts = { partial: false, oauthFix: "connect it" };
  it("refuses OAuth apps with the caller's fix", () => {
    try {
      checkFields(github, { token: "x" }, opts);
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(AppError);
      expect((e as AppError).toBody()).toMatchObject({ code: "invalid_request", fix: "connect it", details: { field: "app" } });
    }
  });
  it("names an unknown field and a missing required one", () => {
    expect(() => checkFields(exa, { apiKey: "k", other: "x" }, opts)).toThrow(/has no field `other`/);
    expect(() => checkFields(twilio, { authToken: "t" }, opts)).toThrow(/needs the field `accountSid`/);
  });
  it("lets a rotation give a subset", () => {
    expect(() => checkFields(twilio, { authToken: "t" }, { ...opts, partial: true })).not.toThrow();
  });
});

describe("previewOf and appSummary", () => {
  it("masks the first secret field, never the non-secret ones", () => {
    expect(previewOf(twilio, { accountSid: "AC0123456789abcdef0123", authToken: "tok-0123456789abcdef0123" })).toBe("tok-…0123");
    expect(previewOf(github, { accessToken: "gho_0123456789abcdef0123" })).toBeNull();
  });
  it("summarises an app without provider internals", () => {
    const s = appSummary(github, 2);
    expect(s).toMatchObject({ slug: "github", kind: "oauth", fields: null, channel: false, connected: 2 });
    expect(JSON.stringify(s)).not.toContain("token");
  });
});
