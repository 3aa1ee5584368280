import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { AppError } from "../../lib/errors";
import {
  ORG_ID_PATTERN,
  TOKEN_KINDS,
  constantTimeEqual,
  deterministicToken,
  hashToken,
  isOrgId,
  newId,
  newOrgId,
  newToken,
  parseToken,
  tokenPreview,
  type TokenKind,
} from "../../lib/tokens";

const SHAPE = /^ks_(user|key|rt)_[a-z0-9]{1,40}_[a-z2-7]{52}$/;
const kindArb = fc.constantFrom(...TOKEN_KINDS);
const orgArb = fc.stringMatching(/^[a-z0-9]{1,40}$/);

describe("newToken / parseToken", () => {
  it("makes tokens of the documented shape", () => {
    for (const kind of TOKEN_KINDS) {
      const t = newToken(kind, "oabc");
      expect(t).toMatch(SHAPE);
      expect(t.startsWith(`ks_${kind}_oabc_`)).toBe(true);
      expect(t.split("_")).toHaveLength(4);
      expect(t.split("_")[3]).toHaveLength(52);
    }
  });

  it("is random", () => {
    const seen = new Set(Array.from({ length: 200 }, () => newToken("key", "o1")));
    expect(seen.size).toBe(200);
  });

  it("always parses back to its kind and org (property)", () => {
    fc.assert(
      fc.property(kindArb, orgArb, (kind, orgId) => {
        const t = newToken(kind, orgId);
        expect(t).toMatch(SHAPE);
        expect(parseToken(t)).toEqual({ kind, orgId });
      }),
      { numRuns: 500 },
    );
  });

  it("never throws on arbitrary strings (property)", () => {
    fc.assert(
      fc.property(fc.string({ unit: "binary", maxLength: 200 }), (s) => {
        const r = parseToken(s);
        expect(r === null || SHAPE.test(s)).toBe(true);
      }),
      { numRuns: 2000 },
    );
    // Non-strings from untyped callers (headers parsed loosely, JSON bodies).
    for (const v of [undefined, null, 42, {}, []]) expect(parseToken(v as unknown as string)).toBeNull();
  });

  it("rejects near-miss shapes (property: mutating one char of a token)", () => {
    fc.assert(
      fc.property(kindArb, orgArb, fc.nat(), fc.constantFrom("_", "A", "=", "1", "8", " ", "-", "é"), (kind, org, pos, ch) => {
        const t = newToken(kind, org);
        const i = pos % t.length;
        const mutated = t.slice(0, i) + ch + t.slice(i + 1);
        const r = parseToken(mutated);
        // Either still a valid token (e.g. org char swapped for a digit) or rejected; never a wrong split.
        if (r !== null) expect(mutated).toMatch(SHAPE);
      }),
      { numRuns: 1000 },
    );
  });

  it("rejects malformed tokens", () => {
    const good = newToken("rt", "oabc");
    const rand = good.split("_")[3]!;
    const bad = [
      "",
      "ks",
      "ks_",
      `ks_rt_oabc`,
      `ks_rt_oabc_`,
      `ks_rt__${rand}`,
      `ks_admin_oabc_${rand}`,
      `KS_rt_oabc_${rand}`,
      `ks_RT_oabc_${rand}`,
      `ks_rt_OABC_${rand}`,
      `ks_rt_o_bc_${rand}`,
      `ks_rt_o-bc_${rand}`,
      `ks_rt_${"a".repeat(41)}_${rand}`,
      `ks_rt_oabc_${rand.slice(1)}`,
      `ks_rt_oabc_${rand}a`,
      `ks_rt_oabc_${rand.toUpperCase()}`,
      `ks_rt_oabc_${rand.slice(0, -1)}b`, // non-zero padding bits
      `ks_rt_oabc_${rand.slice(0, -2)}1a`,
      `ks_rt_oabc_${rand.slice(0, -2)}==`,
      ` ${good}`,
      `${good} `,
      `${good}\n`,
      `Bearer ${good}`,
      `xs_rt_oabc_${rand}`,
      `ks_rt_oabc_${rand}_x`,
    ];
    for (const s of bad) expect(parseToken(s), s).toBeNull();
    expect(parseToken(good)).toEqual({ kind: "rt", orgId: "oabc" });
    expect(parseToken(`ks_rt_${"a".repeat(40)}_${rand}`)).toEqual({ kind: "rt", orgId: "a".repeat(40) });
  });

  it("refuses a bad kind or org id", () => {
    expect(() => newToken("key", "o_1")).toThrow(AppError);
    expect(() => newToken("key", "")).toThrow(AppError);
    expect(() => newToken("key", "O1")).toThrow(AppError);
    expect(() => newToken("key", "a".repeat(41))).toThrow(AppError);
    expect(() => newToken("admin" as TokenKind, "o1")).toThrow(AppError);
  });
});

describe("deterministicToken", () => {
  it("is stable, well-formed and differs per label, kind, org and secret", async () => {
    const a = await deterministicToken("user", "odev", "seed-secret", "alice");
    expect(a).toMatch(SHAPE);
    expect(parseToken(a)).toEqual({ kind: "user", orgId: "odev" });
    expect(await deterministicToken("user", "odev", "seed-secret", "alice")).toBe(a);
    const others = await Promise.all([
      deterministicToken("user", "odev", "seed-secret", "bob"),
      deterministicToken("key", "odev", "seed-secret", "alice"),
      deterministicToken("user", "odev2", "seed-secret", "alice"),
      deterministicToken("user", "odev", "other-secret", "alice"),
    ]);
    for (const o of others) expect(o.split("_")[3]).not.toBe(a.split("_")[3]);
  });

  it("matches HMAC-SHA256 of kind:org:label in base32", async () => {
    const key = await crypto.subtle.importKey("raw", new TextEncoder().encode("s"), { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
    const mac = new Uint8Array(await crypto.subtle.sign("HMAC", key, new TextEncoder().encode("rt:o1:x")));
    // Independent base32 via bit string.
    const bits = Array.from(mac, (b) => b.toString(2).padStart(8, "0")).join("").padEnd(260, "0");
    const expected = bits.match(/.{5}/g)!.map((c) => "abcdefghijklmnopqrstuvwxyz234567"[parseInt(c, 2)]).join("");
    expect(await deterministicToken("rt", "o1", "s", "x")).toBe(`ks_rt_o1_${expected}`);
  });

  it("refuses an empty secret", async () => {
    await expect(deterministicToken("user", "o1", "", "x")).rejects.toBeInstanceOf(AppError);
  });
});

describe("hashToken", () => {
  it("is lowercase hex SHA-256", async () => {
    expect(await hashToken("abc")).toBe("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    const t = newToken("key", "o1");
    const h = await hashToken(t);
    expect(h).toMatch(/^[0-9a-f]{64}$/);
    expect(await hashToken(t)).toBe(h);
    expect(await hashToken(newToken("key", "o1"))).not.toBe(h);
  });
});

describe("tokenPreview", () => {
  it("shows kind and last 4 only", () => {
    const t = newToken("key", "oabc");
    const p = tokenPreview(t);
    expect(p).toBe(`ks_key_…${t.slice(-4)}`);
    expect(p).not.toContain("oabc");
  });

  it("shows nothing of a non-token", () => {
    expect(tokenPreview("sk-live-very-secret-value")).toBe("…");
    expect(tokenPreview("")).toBe("…");
  });
});

describe("constantTimeEqual", () => {
  it("compares strings", () => {
    expect(constantTimeEqual("", "")).toBe(true);
    expect(constantTimeEqual("abc", "abc")).toBe(true);
    expect(constantTimeEqual("abc", "abd")).toBe(false);
    expect(constantTimeEqual("abc", "ab")).toBe(false);
    expect(constantTimeEqual("ab", "abc")).toBe(false);
    expect(constantTimeEqual("", "a")).toBe(false);
    expect(constantTimeEqual("a\u0000", "a")).toBe(false);
  });

  it("agrees with === (property)", () => {
    fc.assert(
      fc.property(fc.string(), fc.string(), (a, b) => {
        expect(constantTimeEqual(a, b)).toBe(a === b);
        expect(constantTimeEqual(a, a)).toBe(true);
      }),
    );
  });
});

describe("ids", () => {
  it("newId is prefix + _ + 20 base32 chars", () => {
    const id = newId("cred");
    expect(id).toMatch(/^cred_[a-z2-7]{20}$/);
    expect(newId("cred")).not.toBe(id);
    expect(() => newId("")).toThrow(AppError);
    expect(() => newId("Cred")).toThrow(AppError);
  });

  it("newOrgId is o + 15 random + 16 tag base32 chars and fits in a token", async () => {
    const seen = new Set<string>();
    for (let i = 0; i < 200; i++) {
      const org = await newOrgId(ORG_KEY);
      expect(org).toMatch(/^o[a-z2-7]{31}$/);
      expect(ORG_ID_PATTERN.test(org)).toBe(true);
      expect(parseToken(newToken("rt", org))).toEqual({ kind: "rt", orgId: org });
      seen.add(org);
    }
    expect(seen.size).toBe(200);
  });
});

const ORG_KEY = "unit-test-org-id-key-0123456789abcdef";

describe("isOrgId: org ids are verifiable without any lookup (issue 11, item 4)", () => {
  it("accepts what newOrgId minted under the same key, and only under that key", async () => {
    const org = await newOrgId(ORG_KEY);
    expect(await isOrgId(ORG_KEY, org)).toBe(true);
    expect(await isOrgId(`${ORG_KEY}-other`, org)).toBe(false);
  });

  it("refuses forged ids: random well-formed ones, old untagged ones, a changed character", async () => {
    const org = await newOrgId(ORG_KEY);
    const flip = (s: string, i: number) => s.slice(0, i) + (s[i] === "a" ? "b" : "a") + s.slice(i + 1);
    for (const forged of [
      "oaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", // the right shape, a made-up tag
      "oabcdefghijklmnop", // the untagged shape of ids minted before tags
      flip(org, 3), // the random part changed
      flip(org, org.length - 1), // the tag changed
      org.slice(0, -1), org + "a", org.toUpperCase(), "", "acme",
    ]) {
      expect(await isOrgId(ORG_KEY, forged), forged).toBe(false);
    }
    await fc.assert(fc.asyncProperty(fc.stringMatching(/^o[a-z2-7]{31}$/), async (id) => !(await isOrgId(ORG_KEY, id))), { numRuns: 200 });
  });

  it("refuses to work without a key of 32+ characters (a misconfiguration, not a forged id)", async () => {
    const org = await newOrgId(ORG_KEY);
    for (const key of [undefined, "", "short"]) {
      await expect(newOrgId(key)).rejects.toThrow(/ORG_ID_KEY/);
      await expect(isOrgId(key, org)).rejects.toThrow(/ORG_ID_KEY/);
    }
  });
});
