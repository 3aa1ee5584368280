import { describe, expect, it } from "vitest";
import { AppError } from "../../lib/errors";
import { findRefMatches, formatRef, matchRef, NOT_FOUND_FIX, parseRef, refToString } from "../../lib/refs";
import type { CandidateCredential, Scope } from "../../lib/resolve";

const ID = "cred_abcdefghijklmnopqrst";

function cred(id: string, app: string, scope: Scope, slug = "work", extra: Partial<CandidateCredential> = {}): CandidateCredential {
  return { id, app, slug, name: slug, scope, default: false, status: "active", ...extra };
}

function thrown(f: () => unknown): AppError {
  try {
    f();
  } catch (e) {
    if (e instanceof AppError) return e;
    throw e;
  }
  throw new Error("expected an AppError");
}

describe("parseRef", () => {
  it.each([
    ["work", { slug: "work" }],
    ["org/work", { scope: "org", slug: "work" }],
    ["user/work", { scope: "user", slug: "work" }],
    ["project/support/work", { scope: { project: "support" }, slug: "work" }],
    ["linear/work", { app: "linear", slug: "work" }],
    ["linear/org/work", { app: "linear", scope: "org", slug: "work" }],
    ["linear/user/work", { app: "linear", scope: "user", slug: "work" }],
    ["linear/project/support/work", { app: "linear", scope: { project: "support" }, slug: "work" }],
    [ID, { id: ID }],
    // A lone scope word has nothing else to be but a slug; after an app it is still the slug.
    ["org", { slug: "org" }],
    ["project", { slug: "project" }],
    ["linear/project", { app: "linear", slug: "project" }],
    ["org/user", { scope: "org", slug: "user" }],
    ["project/org/work", { scope: { project: "org" }, slug: "work" }],
    ["a_b-9", { slug: "a_b-9" }],
  ])("parses %s", (raw, want) => {
    expect(parseRef(raw)).toEqual(want);
  });

  it("treats strings that only look like ids as slugs", () => {
    expect(parseRef("cred_abc")).toEqual({ slug: "cred_abc" });
    // '1' and '8' are not base32 (a-z2-7).
    expect(parseRef("cred_abcdefghijklmnopq18")).toEqual({ slug: "cred_abcdefghijklmnopq18" });
  });

  it.each([
    ["", "is empty"],
    ["a/b/c/d/e", "has 5 segments"],
    ["linear/project/support/work/x", "has 5 segments"],
    ["project/work", "without a project"],
    ["linear/project/work", "without a project"],
    ["project/support/work/x", "too many segments after `project`"],
    ["org/a/b", "too many segments after `org`"],
    ["linear/user/a/b", "too many segments after `user`"],
    ["linear/foo/work", "not a scope"],
    ["Work", "slug that is not valid"],
    ["-work", "slug that is not valid"],
    ["work space", "slug that is not valid"],
    ["x".repeat(64), "slug that is not valid"],
    ["Linear/work", "app that is not a valid slug"],
    ["project/Support/work", "project that is not a valid slug"],
    ["linear//work", "empty segment"],
    ["/work", "empty segment"],
    ["work/", "empty segment"],
  ])("rejects %j", (raw, why) => {
    const e = thrown(() => parseRef(raw));
    expect(e.code).toBe("invalid_request");
    expect(e.message).toContain(why);
    expect(e.details).toEqual({ field: "credential" });
    expect(e.httpStatus).toBe(400);
  });

  it("names the field it was given and never echoes the input", () => {
    const secret = "sk-LIVE-Abc123/xyz";
    const e = thrown(() => parseRef(secret, "ref"));
    expect(e.details).toEqual({ field: "ref" });
    expect(e.message.startsWith("ref ")).toBe(true);
    expect(e.message).not.toContain("LIVE");
  });

  it("accepts a 63-character slug", () => {
    expect(parseRef("a".repeat(63))).toEqual({ slug: "a".repeat(63) });
  });
});

describe("formatRef and refToString", () => {
  it("formats every scope fully qualified", () => {
    expect(formatRef(cred(ID, "linear", { type: "org" }))).toBe("linear/org/work");
    expect(formatRef(cred(ID, "linear", { type: "user", user: "m1" }))).toBe("linear/user/work");
    expect(formatRef(cred(ID, "linear", { type: "project", project: "support" }))).toBe("linear/project/support/work");
  });

  it.each(["work", "org/work", "user/work", "project/p/work", "linear/work", "linear/org/work", "linear/project/p/work", ID])(
    "round-trips %s through refToString",
    (raw) => {
      expect(refToString(parseRef(raw))).toBe(raw);
    },
  );
});

describe("matchRef", () => {
  const orgWork = cred("cred_aaaaaaaaaaaaaaaaaaaa", "linear", { type: "org" });
  const supportWork = cred("cred_bbbbbbbbbbbbbbbbbbbb", "linear", { type: "project", project: "support" });
  const mine = cred("cred_cccccccccccccccccccc", "linear", { type: "user", user: "m1" });
  const theirs = cred("cred_dddddddddddddddddddd", "linear", { type: "user", user: "m2" });
  const ghWork = cred("cred_eeeeeeeeeeeeeeeeeeee", "github", { type: "org" });
  const revoked = cred("cred_ffffffffffffffffffff", "linear", { type: "org" }, "old", { status: "revoked" });
  const all = [orgWork, supportWork, mine, theirs, ghWork, revoked];

  it("finds a qualified reference", () => {
    expect(matchRef(parseRef("linear/org/work"), all, { user: "m1" })).toBe(orgWork);
    expect(matchRef(parseRef("project/support/work"), all, { user: "m1" })).toBe(supportWork);
    expect(matchRef(parseRef("github/work"), all, {})).toBe(ghWork);
  });

  it("user refs mean the context user's credential, never another user's", () => {
    expect(matchRef(parseRef("user/work"), all, { user: "m1" })).toBe(mine);
    expect(matchRef(parseRef("user/work"), all, { user: "m2" })).toBe(theirs);
    expect(thrown(() => matchRef(parseRef("user/work"), all, {})).code).toBe("not_found");
    expect(thrown(() => matchRef({ id: theirs.id }, all, { user: "m1" })).code).toBe("not_found");
  });

  it("matches by id, revoked included", () => {
    expect(matchRef({ id: revoked.id }, all, {})).toBe(revoked);
    expect(matchRef(parseRef("old"), all, {})).toBe(revoked);
  });

  it("restricts to the context app", () => {
    expect(matchRef(parseRef("org/work"), all, { app: "github" })).toBe(ghWork);
    const e = thrown(() => matchRef(parseRef("linear/org/work"), all, { app: "github" }));
    expect(e.code).toBe("not_found");
    expect(e.message).toBe("No github credential matches `linear/org/work`");
  });

  it("not_found names the reference and suggests the list command", () => {
    const e = thrown(() => matchRef(parseRef("linear/home"), all, { user: "m1" }));
    expect(e.code).toBe("not_found");
    expect(e.message).toBe("No credential matches `linear/home`");
    expect(e.fix).toBe(NOT_FOUND_FIX);
    expect(e.fix).toContain("keystroke credentials list");
    expect(e.details).toEqual({ field: "credential" });
  });

  it("several matches: invalid_request listing the candidates and a qualified example", () => {
    const e = thrown(() => matchRef(parseRef("work"), [supportWork, orgWork], { app: "linear", field: "ref" }));
    expect(e.code).toBe("invalid_request");
    expect(e.message).toBe("`work` matches 2 credentials: linear/org/work, linear/project/support/work");
    expect(e.fix).toBe("use a qualified reference such as linear/org/work");
    expect(e.details).toEqual({ field: "ref", candidates: ["linear/org/work", "linear/project/support/work"] });
  });

  it("an app-qualified slug can still be ambiguous across scopes, and the user's own counts", () => {
    const e = thrown(() => matchRef(parseRef("linear/work"), all, { user: "m1" }));
    expect(e.details).toEqual({
      field: "credential",
      candidates: ["linear/org/work", "linear/project/support/work", "linear/user/work"],
    });
  });

  it("suggests the id when the qualified form itself repeats", () => {
    const twin = cred("cred_gggggggggggggggggggg", "linear", { type: "org" }, "work", { status: "revoked" });
    const e = thrown(() => matchRef(parseRef("linear/org/work"), [twin, orgWork], {}));
    expect(e.fix).toBe(`use a qualified reference such as ${orgWork.id}`);
  });

  it("findRefMatches returns the same sorted list whatever the input order", () => {
    const a = findRefMatches(parseRef("work"), all, { user: "m1" });
    const b = findRefMatches(parseRef("work"), [...all].reverse(), { user: "m1" });
    expect(a).toEqual([ghWork, orgWork, supportWork, mine]);
    expect(b).toEqual(a);
  });
});
