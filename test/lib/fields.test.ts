import { describe, expect, it } from "vitest";
import { z } from "zod";
import { getApp } from "../../lib/catalog";
import { AppError } from "../../lib/errors";
import { appSummary, checkFields, previewOf, slugify } from "../../lib/fields";
import { escapeUnsafeChars, outsideText, safeText, unsafeCharIn } from "../../lib/schemas/common";
import { accountFrom, grantedScopes } from "../../lib/oauth";
import { Name } from "../../lib/schemas/credentials";

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

describe("safeText: names, labels and refs refuse control, bidi and lone-surrogate characters", () => {
  const bad: [string, string][] = [
    ["ESC", "work\u001b[31m"],
    ["BEL", "a\u0007"],
    ["NUL", "a\u0000b"],
    ["TAB", "a\tb"],
    ["newline", "a\nb"],
    ["CR", "a\rb"],
    ["DEL", "a\u007f"],
    ["C1 CSI", "a\u009b31m"],
    ["NEL", "a\u0085"],
    ["RLO", "invoice\u202egnp.exe"],
    ["LRE", "\u202aa"],
    ["LRI", "\u2066a"],
    ["PDI", "a\u2069"],
    ["LRM", "a\u200e"],
    ["RLM", "a\u200f"],
    ["ALM", "a\u061c"],
    ["lone high surrogate", "a\ud800"],
    ["lone low surrogate", "\udc00a"],
  ];
  it.each(bad)("refuses %s, naming the character", (_what, value) => {
    const r = Name.safeParse(value);
    expect(r.success).toBe(false);
    expect(r.error?.issues[0]?.message).toMatch(/^must not contain control characters, bidi controls or lone surrogates \(found U\+[0-9A-F]{4}\)$/);
    expect(unsafeCharIn(value)).toMatch(/^U\+[0-9A-F]{4}$/);
  });

  it("accepts ordinary Unicode text: accents, CJK, emoji (a surrogate pair), RTL letters, ZWJ", () => {
    for (const ok of ["Work (EU)", "Über Konto", "工作", "deploy 🚀", "עבודה", "👩‍💻 dev", "a-b_c.d@e"]) {
      expect(Name.safeParse(ok).success, ok).toBe(true);
      expect(unsafeCharIn(ok)).toBeNull();
    }
  });

  it("keeps the wrapped schema's own rules and type", () => {
    const label = safeText(z.string().min(2).max(5));
    expect(label.safeParse("a").success).toBe(false);
    expect(label.safeParse("abcdef").success).toBe(false);
    expect(label.parse("abc")).toBe("abc");
    expect(Name.parse("  trimmed  ")).toBe("trimmed");
  });

  it("escapeUnsafeChars writes JSON's \\uXXXX escape, so JSON text stays valid and decodes to the same value", () => {
    expect(escapeUnsafeChars("a\u001b[2Jb\u202e\nc", "\n")).toBe("a\\u001b[2Jb\\u202e\nc");
    const value = { name: "x\u001b]0;t\u0007\u0085\u202e\ud800" };
    const text = escapeUnsafeChars(JSON.stringify(value), "\n");
    expect(unsafeCharIn(text)).toBeNull();
    expect(JSON.parse(text)).toEqual(value);
  });
});

describe("a provider's text (account names, granted scopes): made safe to show, never refused", () => {
  const hostile = "evil\u001b]0;owned\u0007\u202e\nname";
  it("outsideText writes unsafe characters out and cuts to the limit on a code point, with an ellipsis", () => {
    expect(outsideText(hostile, 200)).toBe("evil\\u001b]0;owned\\u0007\\u202e\\u000aname");
    expect(unsafeCharIn(outsideText(hostile, 200))).toBeNull();
    const cut = outsideText("😀".repeat(300), 200);
    expect(Array.from(cut)).toHaveLength(200);
    expect(cut.endsWith("😀…")).toBe(true);
    expect(unsafeCharIn(cut)).toBeNull();
    expect(outsideText("Ada Lovelace", 200)).toBe("Ada Lovelace");
  });

  it("accountFrom and grantedScopes keep what a provider says within the name rules, the same way every time", () => {
    const identity = { source: "userinfo" as const, idPath: "sub", emailPath: "email", namePath: "name" };
    const account = accountFrom(identity, { sub: `id\u0000${"x".repeat(1000)}`, email: "bob\u202e@acme.test", name: `${hostile}${"a".repeat(5000)}` });
    for (const text of [account.id, account.email!, account.name!]) expect(unsafeCharIn(text)).toBeNull();
    expect(Array.from(account.name!).length).toBeLessThanOrEqual(200);
    expect(Array.from(account.id).length).toBeLessThanOrEqual(256);
    expect(accountFrom(identity, { sub: `id\u0000${"x".repeat(1000)}` }).id).toBe(account.id);
    const scopes = grantedScopes(["repo", "read\u001b[31m", "", ...Array.from({ length: 200 }, (_, i) => `s${i}`)]);
    expect(scopes.slice(0, 2)).toEqual(["repo", "read\\u001b[31m"]);
    expect(scopes).toHaveLength(100);
  });
});
