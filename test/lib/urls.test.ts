import { describe, expect, it } from "vitest";
import { checkEndpointUrl, endpointUrlProblem } from "../../lib/urls";
import { AppError } from "../../lib/errors";

describe("endpoint URLs (SPEC section 13, used by webhooks and OAuth client endpoints)", () => {
  it.each([
    "https://hooks.example.com/keystroke",
    "https://example.com:8443/x?y=1",
    "https://8.8.8.8/hook",
    "https://[2606:4700::1111]/hook",
    "https://[64:ff9b::808:808]/hook", // NAT64 of a public address
    "https://[2002:808:808::1]/hook", // 6to4 of a public address
    "https://172.32.0.1/",
  ])("accepts %s", (u) => expect(endpointUrlProblem(u, false)).toBeNull());

  it.each([
    ["http://hooks.example.com/", "https"],
    ["ftp://hooks.example.com/", "https"],
    ["not a url", "absolute"],
    ["https://user:pw@hooks.example.com/", "user name"],
    ["https://localhost/hook", "localhost"],
    ["https://api.localhost/hook", "localhost"],
    ["https://127.0.0.1/", "loopback"],
    ["https://2130706433/", "loopback"], // 127.0.0.1 spelled as a number
    ["https://0x7f.1/", "loopback"],
    ["https://10.1.2.3/", "private"],
    ["https://172.16.0.1/", "private"],
    ["https://192.168.1.1/", "private"],
    ["https://169.254.169.254/latest/meta-data", "link-local"],
    ["https://100.64.0.1/", "private"],
    ["https://0.0.0.0/", "private"],
    ["https://[::1]/", "loopback"],
    ["https://[::]/", "loopback"],
    ["https://[fd00::1]/", "private"],
    ["https://[fe80::1]/", "link-local"],
    ["https://[::ffff:127.0.0.1]/", "loopback"],
    ["https://[::ffff:10.0.0.1]/", "private"],
    // IPv4 inside other IPv6 forms: compatible (written [::7f00:1]), NAT64 of the metadata address, 6to4, local-use NAT64.
    ["https://[::127.0.0.1]/", "loopback"],
    ["https://[64:ff9b::a9fe:a9fe]/", "link-local"],
    ["https://[64:ff9b::169.254.169.254]/", "link-local"],
    ["https://[2002:7f00:1::]/", "loopback"],
    ["https://[2002:c0a8:101::1]/", "private"],
    ["https://[64:ff9b:1::1]/", "private"],
    ["https://[fec0::1]/", "private"],
  ])("refuses %s", (u, word) => expect(endpointUrlProblem(u, false)).toContain(word));

  it("dev mode allows http and loopback, still not other private addresses", () => {
    expect(endpointUrlProblem("http://localhost:8787/_sandbox/webhooks/receive", true)).toBeNull();
    expect(endpointUrlProblem("http://127.0.0.1:9000/x", true)).toBeNull();
    expect(endpointUrlProblem("https://10.0.0.1/", true)).toContain("private");
  });

  it("checkEndpointUrl throws invalid_request naming the field", () => {
    try {
      checkEndpointUrl("http://example.com", "url", false);
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(AppError);
      expect((e as AppError).code).toBe("invalid_request");
      expect((e as AppError).details?.field).toBe("url");
    }
    expect(checkEndpointUrl("https://example.com", "url", false)).toBe("https://example.com");
  });
});
