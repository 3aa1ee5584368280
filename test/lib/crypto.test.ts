import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { AppError } from "../../lib/errors";
import {
  credentialAad,
  generateKeyringEntry,
  needsReseal,
  open,
  parseKeyring,
  reseal,
  seal,
  sealedKeyId,
} from "../../lib/crypto";

const K1 = generateKeyringEntry("k1");
const K2 = generateKeyringEntry("k2");
const ORG = "oabc123";
const AAD = credentialAad(ORG, "cred_x", "api_key");

function b64Of(entry: string): string {
  return entry.slice(entry.indexOf(":") + 1);
}

async function rejectsToOpen(p: Promise<unknown>): Promise<void> {
  const err = await p.then(
    () => null,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(AppError);
  expect((err as AppError).code).toBe("internal");
  expect((err as AppError).message).toBe("sealed value could not be opened");
}

/** Flips one bit of the decoded ciphertext and re-encodes it, so only the tag check can catch it. */
function flipCtByte(sealed: string, index: number): string {
  const parts = sealed.split(".");
  const ct = parts[3]!;
  const bin = atob(ct.replace(/-/g, "+").replace(/_/g, "/") + "=".repeat((4 - (ct.length % 4)) % 4));
  const bytes = Uint8Array.from(bin, (c) => c.charCodeAt(0));
  bytes[index % bytes.length]! ^= 0x01;
  parts[3] = btoa(String.fromCharCode(...bytes)).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  return parts.join(".");
}

describe("parseKeyring", () => {
  it("takes the first entry as active and keeps all keys", () => {
    const ring = parseKeyring(`${K2},${K1}`);
    expect(ring.active).toBe("k2");
    expect([...ring.keys.keys()]).toEqual(["k2", "k1"]);
    expect(ring.keys.get("k1")!.length).toBe(32);
  });

  it("tolerates surrounding whitespace (a secret pasted with a newline)", () => {
    expect(parseKeyring(` ${K1} \n`).active).toBe("k1");
    expect(parseKeyring(`${K2} , ${K1}`).keys.size).toBe(2);
  });

  const short = `k1:${btoa("x".repeat(16))}`;
  const long = `k1:${btoa("x".repeat(33))}`;
  const cases: Array<[string, string]> = [
    ["empty", ""],
    ["blank", "   "],
    ["bare key without id", b64Of(K1)],
    ["bad base64", `k1:${b64Of(K1).slice(0, -2)}!!`],
    ["base64 missing padding", `k1:${b64Of(K1).replace(/=+$/, "")}`],
    ["key too short", short],
    ["key too long", long],
    ["duplicate id", `${K1},${K1}`],
    ["duplicate id, different key", `${K1},${generateKeyringEntry("k1")}`],
    ["uppercase id", K1.replace("k1:", "K1:")],
    ["id too long", K1.replace("k1:", "k12345678901234567:")],
    ["empty id", K1.replace("k1:", ":")],
    ["id with underscore", K1.replace("k1:", "k_1:")],
    ["trailing comma", `${K1},`],
    ["empty key", "k1:"],
  ];
  for (const [name, raw] of cases) {
    it(`rejects ${name} without echoing key material`, () => {
      let err: unknown;
      try {
        parseKeyring(raw);
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(AppError);
      const e = err as AppError;
      expect(e.code).toBe("internal");
      expect(e.message).toMatch(/^VAULT_KEYS is malformed/);
      for (const secret of [b64Of(K1), b64Of(K1).slice(0, 12), b64Of(short), b64Of(long)]) {
        expect(e.message).not.toContain(secret);
        expect(JSON.stringify(e.toBody())).not.toContain(secret);
      }
    });
  }
});

describe("generateKeyringEntry", () => {
  it("makes a parseable, random entry", () => {
    const a = generateKeyringEntry("k9");
    expect(a).toMatch(/^k9:[A-Za-z0-9+/]{43}=$/);
    expect(parseKeyring(a).keys.get("k9")!.length).toBe(32);
    expect(generateKeyringEntry("k9")).not.toBe(a);
  });

  it("rejects a bad id", () => {
    expect(() => generateKeyringEntry("K9")).toThrow(AppError);
    expect(() => generateKeyringEntry("")).toThrow(AppError);
  });
});

describe("seal / open", () => {
  const ring = parseKeyring(`${K1}`);

  it("round trips, including unicode and empty strings", async () => {
    for (const value of ["sk-live-123", "", "päss🔑word", "\uFEFFbom-first", "x".repeat(100_000)]) {
      const sealed = await seal(ring, ORG, value, AAD);
      expect(sealed).toMatch(/^v1\.k1\.[A-Za-z0-9_-]{16}\.[A-Za-z0-9_-]+$/);
      expect(await open(ring, ORG, sealed, AAD)).toBe(value);
    }
  });

  it("round trips arbitrary strings (property)", async () => {
    await fc.assert(
      fc.asyncProperty(fc.string({ unit: "grapheme" }), fc.string(), async (value, field) => {
        const aad = credentialAad(ORG, "cred_p", field);
        expect(await open(ring, ORG, await seal(ring, ORG, value, aad), aad)).toBe(value);
      }),
      { numRuns: 50 },
    );
  });

  it("uses a fresh IV each time", async () => {
    const a = await seal(ring, ORG, "same", AAD);
    const b = await seal(ring, ORG, "same", AAD);
    expect(a).not.toBe(b);
    expect(a.split(".")[2]).not.toBe(b.split(".")[2]);
  });

  it("does not leak the plaintext into the sealed string", async () => {
    const sealed = await seal(ring, ORG, "sk-live-plaintext", AAD);
    expect(sealed).not.toContain("plaintext");
  });

  it("rejects the wrong org", async () => {
    const sealed = await seal(ring, ORG, "secret", AAD);
    await rejectsToOpen(open(ring, "oother", sealed, AAD));
  });

  it("rejects the wrong aad (credential or field swapped)", async () => {
    const sealed = await seal(ring, ORG, "secret", AAD);
    await rejectsToOpen(open(ring, ORG, sealed, credentialAad(ORG, "cred_y", "api_key")));
    await rejectsToOpen(open(ring, ORG, sealed, credentialAad(ORG, "cred_x", "client_secret")));
  });

  it("rejects any flipped ciphertext or tag byte", async () => {
    const sealed = await seal(ring, ORG, "secret value", AAD);
    const ctLen = 12 + 16;
    for (let i = 0; i < ctLen; i++) await rejectsToOpen(open(ring, ORG, flipCtByte(sealed, i), AAD));
  });

  it("rejects a flipped IV", async () => {
    const sealed = await seal(ring, ORG, "secret", AAD);
    const parts = sealed.split(".");
    const iv = parts[2]!;
    parts[2] = (iv[0] === "A" ? "B" : "A") + iv.slice(1);
    await rejectsToOpen(open(ring, ORG, parts.join("."), AAD));
  });

  it("rejects an unknown kid", async () => {
    const sealed = await seal(ring, ORG, "secret", AAD);
    await rejectsToOpen(open(parseKeyring(K2), ORG, sealed, AAD));
    await rejectsToOpen(open(ring, ORG, sealed.replace("v1.k1.", "v1.k3."), AAD));
  });

  it("rejects a same-named kid with different key material (no stale cache hit)", async () => {
    const sealed = await seal(ring, ORG, "secret", AAD);
    const other = parseKeyring(generateKeyringEntry("k1"));
    await rejectsToOpen(open(other, ORG, sealed, AAD));
    expect(await open(parseKeyring(K1), ORG, sealed, AAD)).toBe("secret");
  });

  it("rejects malformed sealed strings", async () => {
    const good = await seal(ring, ORG, "secret", AAD);
    const [, , iv, ct] = good.split(".") as [string, string, string, string];
    const bad = [
      "",
      "v1",
      "v1.k1",
      `v2.k1.${iv}.${ct}`,
      `v1.K1.${iv}.${ct}`,
      `v1.k1.${iv}.${ct}.x`,
      `v1.k1.${iv}.`,
      `v1.k1..${ct}`,
      `v1.k1.${iv.slice(1)}.${ct}`,
      `v1.k1.${iv}.${ct.slice(0, 10)}`,
      `v1.k1.${iv}.${ct}=`,
      `v1.k1.${iv}.${ct}+`,
      ` ${good}`,
    ];
    for (const s of bad) await rejectsToOpen(open(ring, ORG, s, AAD));
  });

  it("never throws anything but the one AppError on arbitrary input (property)", async () => {
    await fc.assert(
      fc.asyncProperty(fc.string(), async (s) => {
        await rejectsToOpen(open(ring, ORG, s, AAD));
      }),
      { numRuns: 200 },
    );
  });
});

describe("rotation", () => {
  it("opens k1 values after rotating to k2, reseals them, and loses them once k1 is dropped", async () => {
    const old = parseKeyring(K1);
    const sealed = await seal(old, ORG, "rotate me", AAD);
    expect(sealedKeyId(sealed)).toBe("k1");
    expect(needsReseal(old, sealed)).toBe(false);

    const rotated = parseKeyring(`${K2},${K1}`);
    expect(await open(rotated, ORG, sealed, AAD)).toBe("rotate me");
    expect(needsReseal(rotated, sealed)).toBe(true);

    const moved = await reseal(rotated, ORG, sealed, AAD);
    expect(sealedKeyId(moved)).toBe("k2");
    expect(needsReseal(rotated, moved)).toBe(false);
    expect(await open(rotated, ORG, moved, AAD)).toBe("rotate me");
    expect(await reseal(rotated, ORG, moved, AAD)).toBe(moved);

    const dropped = parseKeyring(K2);
    expect(await open(dropped, ORG, moved, AAD)).toBe("rotate me");
    await rejectsToOpen(open(dropped, ORG, sealed, AAD));
  });

  it("reseal refuses a value it cannot open rather than sealing garbage", async () => {
    const sealed = await seal(parseKeyring(K1), ORG, "x", AAD);
    await rejectsToOpen(reseal(parseKeyring(`${K2},${K1}`), ORG, sealed, "wrong aad"));
  });

  it("sealedKeyId rejects a malformed value", () => {
    expect(() => sealedKeyId("nope")).toThrow(AppError);
  });
});

describe("credentialAad", () => {
  it("binds org, credential and field", () => {
    expect(credentialAad("o1", "cred_a", "api_key")).toBe("o1|cred_a|api_key");
  });
});
