import { describe, expect, it } from "vitest";
import { addressKey } from "../../lib/client-address";

describe("addressKey (the rate-limit key of CLI login starts)", () => {
  it("keeps IPv4, folds IPv6 to its /64 and IPv4-mapped IPv6 to IPv4", () => {
    expect(addressKey("203.0.113.7")).toBe("203.0.113.7");
    expect(addressKey("2001:db8:1:2:aaaa::1")).toBe("2001:db8:1:2::/64");
    expect(addressKey("2001:DB8:1:2:ffff:ffff:ffff:fffe")).toBe("2001:db8:1:2::/64");
    expect(addressKey("2001:db8::1")).toBe("2001:db8:0:0::/64");
    expect(addressKey("::ffff:198.51.100.9")).toBe("198.51.100.9");
    expect(addressKey("::1")).toBe("0:0:0:0::/64");
  });

  it("gives requests without an address one shared key, and bounds junk", () => {
    expect(addressKey(null)).toBe("unknown");
    expect(addressKey("  ")).toBe("unknown");
    expect(addressKey("x".repeat(500))).toHaveLength(64);
  });
});
