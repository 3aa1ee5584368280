import { AppError } from "./errors";

/**
 * The rule for every URL an org configures for the platform to call (SPEC section 13: OAuth
 * endpoints; section 14: webhook endpoints): `https`, no credentials in it, and no `localhost` or
 * literal loopback, private, link-local or unspecified address, so a configured URL cannot point
 * the platform at itself or at the network it runs in. Dev mode allows `http` and loopback hosts
 * (the dev stack runs on this machine). Checked when saved. Pure: the caller says whether it is dev.
 *
 * A hostname that merely resolves to a private address is not caught here (no DNS in lib/); the
 * platform's outbound fetch on Workers cannot reach private networks anyway.
 */

/** Why `raw` is refused, or null when it is fine. */
export function endpointUrlProblem(raw: string, dev: boolean): string | null {
  let u: URL;
  try {
    u = new URL(raw);
  } catch {
    return "must be an absolute URL (https://...)";
  }
  if (u.protocol !== "https:" && !(dev && u.protocol === "http:")) return "must be an https URL";
  if (u.username || u.password) return "must not carry a user name or password";
  // WHATWG parsing already turned 0x7f.1, 2130706433 and friends into dotted IPv4.
  const host = u.hostname.toLowerCase().replace(/\.$/, "");
  if (dev && isLoopback(host)) return null;
  if (host === "localhost" || host.endsWith(".localhost")) return "must not name localhost";
  if (isPrivateAddress(host)) return "must not name a loopback, private or link-local address";
  return null;
}

/** The same rule, as the SPEC section 10 error naming `field`. Answers the URL as given. */
export function checkEndpointUrl(raw: string, field: string, dev: boolean): string {
  const problem = endpointUrlProblem(raw, dev);
  if (problem) {
    throw new AppError("invalid_request", `The URL ${problem}.`, {
      fix: "Use a public https URL, for example https://hooks.example.com/keystroke.",
      details: { field },
    });
  }
  return raw;
}

function isLoopback(host: string): boolean {
  return host === "localhost" || host.endsWith(".localhost") || host === "[::1]" || /^127\.\d+\.\d+\.\d+$/.test(host);
}

function ipv4(host: string): number[] | null {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(host);
  if (!m) return null;
  const parts = m.slice(1).map(Number);
  return parts.every((n) => n <= 255) ? parts : null;
}

function privateV4([a, b]: number[]): boolean {
  return (
    a === 0 || // "this network", 0.0.0.0
    a === 10 ||
    a === 127 ||
    (a === 100 && b! >= 64 && b! <= 127) || // carrier-grade NAT
    (a === 169 && b === 254) || // link-local, cloud metadata
    (a === 172 && b! >= 16 && b! <= 31) ||
    (a === 192 && b === 168) ||
    a! >= 224 // multicast and reserved
  );
}

/** A literal IPv4 or bracketed IPv6 address that is loopback, private, link-local or unspecified. */
export function isPrivateAddress(host: string): boolean {
  const v4 = ipv4(host);
  if (v4) return privateV4(v4);
  if (!host.startsWith("[")) return false;
  const v6 = host.slice(1, -1);
  if (v6 === "::" || v6 === "::1") return true;
  // IPv4-mapped (::ffff:a.b.c.d, which URL writes as ::ffff:xxxx:xxxx): judge the IPv4 inside.
  const mapped = /^::ffff:([0-9a-f]{1,4}):([0-9a-f]{1,4})$/.exec(v6);
  if (mapped) {
    const hi = parseInt(mapped[1]!, 16);
    const lo = parseInt(mapped[2]!, 16);
    return privateV4([hi >> 8, hi & 255, lo >> 8, lo & 255]);
  }
  const first = parseInt(v6.split(":")[0] || "0", 16);
  return (first & 0xfe00) === 0xfc00 || (first & 0xffc0) === 0xfe80 || (first & 0xff00) === 0xff00; // unique local, link-local, multicast
}
