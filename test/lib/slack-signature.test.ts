/// <reference types="vite/client" />
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { signSlackBody, verifySlackSignature } from "../../lib/slack/signature";

// The copies of shared/fixtures/slack (test/slack/fixtures), as text: the files are ASCII, so
// encoding them back gives their exact bytes.
const files = import.meta.glob("../slack/fixtures/**/*.json", { query: "?raw", import: "default", eager: true }) as Record<string, string>;
const text = (name: string) => files[`../slack/fixtures/${name}`]!;
const vectors = JSON.parse(text("signature_vectors.json"));
const enc = new TextEncoder();
const bytes = (name: string) => enc.encode(text(name));

describe("Slack v0 signatures", () => {
  it("match Slack's documented vector", async () => {
    const v = vectors.slack_docs_vector;
    expect(await signSlackBody(v.signing_secret, v.timestamp, v.body)).toBe(v.expected_signature);
    expect(await verifySlackSignature({ body: enc.encode(v.body), timestamp: v.timestamp, signature: v.expected_signature }, [v.signing_secret], Number(v.timestamp))).toEqual({ ok: true });
  });

  it("verify every fixture file's published signature over its exact bytes", async () => {
    for (const [file, signature] of Object.entries(vectors.files as Record<string, string>)) {
      const check = await verifySlackSignature({ body: bytes(file), timestamp: vectors.timestamp, signature }, [vectors.signing_secret], Number(vectors.timestamp));
      expect(check, file).toEqual({ ok: true });
    }
  });

  it("hold for 300 s either way and not a second more", async () => {
    const body = bytes("events/message_channel.json");
    const ts = vectors.timestamp;
    const sig = vectors.files["events/message_channel.json"];
    const at = (offset: number) => verifySlackSignature({ body, timestamp: ts, signature: sig }, [vectors.signing_secret], Number(ts) + offset);
    expect(await at(300)).toEqual({ ok: true });
    expect(await at(-300)).toEqual({ ok: true });
    expect(await at(301)).toEqual({ ok: false, reason: "stale_timestamp" });
    expect(await at(-301)).toEqual({ ok: false, reason: "stale_timestamp" });
  });

  it("try the previous secret after the current one, and need at least one", async () => {
    const body = bytes("events/app_mention.json");
    const ts = vectors.timestamp;
    const sig = vectors.files["events/app_mention.json"];
    const now = Number(ts);
    expect(await verifySlackSignature({ body, timestamp: ts, signature: sig }, ["new-secret", vectors.signing_secret], now)).toEqual({ ok: true });
    expect(await verifySlackSignature({ body, timestamp: ts, signature: sig }, ["new-secret", ""], now)).toEqual({ ok: false, reason: "mismatch" });
    expect(await verifySlackSignature({ body, timestamp: ts, signature: sig }, ["", ""], now)).toEqual({ ok: false, reason: "no_secret" });
  });

  it("refuse missing or malformed headers before any HMAC", async () => {
    const body = enc.encode("{}");
    const secret = ["s"];
    expect(await verifySlackSignature({ body, timestamp: null, signature: "v0=" + "a".repeat(64) }, secret, 0)).toEqual({ ok: false, reason: "missing_headers" });
    expect(await verifySlackSignature({ body, timestamp: "1", signature: undefined }, secret, 1)).toEqual({ ok: false, reason: "missing_headers" });
    expect(await verifySlackSignature({ body, timestamp: "1.5", signature: "v0=" + "a".repeat(64) }, secret, 1)).toEqual({ ok: false, reason: "bad_timestamp" });
    expect(await verifySlackSignature({ body, timestamp: "1", signature: "v1=" + "a".repeat(64) }, secret, 1)).toEqual({ ok: false, reason: "bad_format" });
    expect(await verifySlackSignature({ body, timestamp: "1", signature: "v0=" + "A".repeat(64) }, secret, 1)).toEqual({ ok: false, reason: "bad_format" });
    expect(await verifySlackSignature({ body, timestamp: "1", signature: "v0=" + "a".repeat(63) }, secret, 1)).toEqual({ ok: false, reason: "bad_format" });
  });

  it("are sign/verify inverses, and any changed byte fails (property)", async () => {
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ minLength: 1, maxLength: 200 }), fc.string({ minLength: 1, maxLength: 40 }), fc.nat(), async (body, secret, i) => {
        const ts = "1767225600";
        const sig = await signSlackBody(secret, ts, body);
        expect(await verifySlackSignature({ body, timestamp: ts, signature: sig }, [secret], 1767225600)).toEqual({ ok: true });
        const changed = body.slice();
        changed[i % changed.length] = (changed[i % changed.length]! + 1) % 256;
        expect((await verifySlackSignature({ body: changed, timestamp: ts, signature: sig }, [secret], 1767225600)).ok).toBe(false);
      }),
      { numRuns: 50 },
    );
  });
});
