import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { MAX_REVEALED, maskSecret } from "../../lib/mask";

describe("maskSecret", () => {
  it("keeps a short separator prefix and the last 4 for long secrets", () => {
    expect(maskSecret("sk-proj-abcdefghijklmnopa1b2")).toBe("sk-…a1b2");
    expect(maskSecret("ghp_abcdefghijklmnopqrstuvwxyz12")).toBe("ghp_…yz12");
    expect(maskSecret("sk_live_abcdefghijklmnop9876")).toBe("sk_…9876");
    expect(maskSecret("_abcdefghijklmnopqrstu")).toBe("_…rstu");
  });

  it("falls back to the first 3 chars when there is no early separator", () => {
    expect(maskSecret("AKIAabcdefghijklmnop")).toBe("AKI…mnop"); // exactly 20
    expect(maskSecret("abcdefghijklmnopqrstuvwxyz")).toBe("abc…wxyz");
    // A separator past the 8-char budget would reveal too much: "xoxb-" + 4 = 9.
    expect(maskSecret("xoxb-1234567890-abcdefghij")).toBe("xox…ghij");
    expect(maskSecret("github_pat_11ABCDEFG0abcdefghijklmnop")).toBe("git…mnop");
  });

  it("shows only the last 2 for 12..19 chars", () => {
    expect(maskSecret("abcdefghijkl")).toBe("…kl"); // 12
    expect(maskSecret("sk-abcdefghijklmnop")).toBe("…op"); // 19
  });

  it("shows nothing for under 12 chars", () => {
    expect(maskSecret("")).toBe("…");
    expect(maskSecret("a")).toBe("…");
    expect(maskSecret("abcdefghijk")).toBe("…"); // 11
  });

  it("counts code points and never splits a surrogate pair", () => {
    // 12 code points, 24 UTF-16 units: the 12..19 rule, not the >= 20 rule.
    const emoji = "🔑".repeat(11) + "🎉";
    expect(maskSecret(emoji)).toBe("…🔑🎉");
    // 11 code points but 22 units: still too short to show anything.
    expect(maskSecret("🔑".repeat(11))).toBe("…");
    const long = "ключ-" + "я".repeat(14) + "😀abc";
    expect(maskSecret(long)).toBe("клю…😀abc");
    expect(maskSecret("é-" + "x".repeat(20))).toBe("é-…xxxx");
  });

  it("reveals at most 8 chars, only from the secret's two ends (property)", () => {
    // Units include separators and the ellipsis itself, so a secret cannot fake the preview's shape.
    const unit = fc.constantFrom("a", "Z", "9", "-", "_", "é", "🔑", "…");
    fc.assert(
      fc.property(fc.string({ unit, maxLength: 60 }), (s) => {
        const cps = Array.from(s);
        const p = Array.from(maskSecret(s));
        if (cps.length < 12) {
          expect(p.join("")).toBe("…");
          return;
        }
        const tail = cps.length < 20 ? 2 : 4;
        const head = p.length - 1 - tail; // chars before the ellipsis
        expect(p[head]).toBe("…");
        expect(p.slice(0, head)).toEqual(cps.slice(0, head));
        expect(p.slice(head + 1)).toEqual(cps.slice(-tail));
        expect(head + tail).toBeLessThanOrEqual(MAX_REVEALED);
        if (cps.length < 20) expect(head).toBe(0);
        else expect(head === 3 || (head <= 4 && ["-", "_"].includes(cps[head - 1]!))).toBe(true);
        // No lone surrogate: with the u flag, only unpaired surrogates match \p{Cs}.
        expect(/\p{Cs}/u.test(maskSecret(s))).toBe(false);
      }),
      { numRuns: 2000 },
    );
  });

  it("never reveals more than 8 chars of arbitrary full-unicode strings (property)", () => {
    fc.assert(
      fc.property(fc.string({ unit: "grapheme", maxLength: 80 }), (s) => {
        const p = maskSecret(s);
        expect(Array.from(p).length - 1).toBeLessThanOrEqual(MAX_REVEALED);
        expect(p).toContain("…");
      }),
      { numRuns: 2000 },
    );
  });
});
