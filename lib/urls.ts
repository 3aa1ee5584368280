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

/** The eight 16-bit groups of an IPv6 literal (as the URL parser writes it, or with a dotted tail), or null. */
function ipv6Groups(v6: string): number[] | null {
  let text = v6;
  const tail: number[] = [];
  const dotted = /^(.*:)(\d{1,3}(?:\.\d{1,3}){3})$/.exec(text);
  if (dotted) {
    const q = ipv4(dotted[2]!);
    if (!q) return null;
    tail.push((q[0]! << 8) | q[1]!, (q[2]! << 8) | q[3]!);
    text = dotted[1]!.endsWith("::") ? dotted[1]! : dotted[1]!.slice(0, -1);
  }
  const halves = text.split("::");
  if (halves.length > 2) return null;
  const parse = (part: string) => (part === "" ? [] : part.split(":").map((g) => (/^[0-9a-f]{1,4}$/.test(g) ? parseInt(g, 16) : NaN)));
  const head = parse(halves[0]!);
  const rest = [...(halves.length === 2 ? parse(halves[1]!) : []), ...tail];
  if ([...head, ...rest].some(Number.isNaN)) return null;
  if (halves.length === 1) return head.length + rest.length === 8 ? [...head, ...rest] : null;
  const gap = 8 - head.length - rest.length;
  return gap >= 1 ? [...head, ...new Array<number>(gap).fill(0), ...rest] : null;
}

/**
 * A literal IPv4 or bracketed IPv6 address that is loopback, private, link-local or unspecified,
 * also when an IPv6 form carries an IPv4 address inside: mapped (::ffff:a.b.c.d), compatible
 * (::a.b.c.d, which the parser writes as ::7f00:1), NAT64 (64:ff9b::/96; 64:ff9b:1::/48 is
 * local-use) and 6to4 (2002::/16). An IPv6 literal that cannot be read is refused too.
 */
export function isPrivateAddress(host: string): boolean {
  const v4 = ipv4(host);
  if (v4) return privateV4(v4);
  if (!host.startsWith("[")) return false;
  const g = ipv6Groups(host.slice(1, -1));
  if (!g) return true;
  const inner = (hi: number, lo: number) => privateV4([hi >> 8, hi & 255, lo >> 8, lo & 255]);
  const zeroUpTo = (n: number) => g.slice(0, n).every((x) => x === 0);
  // ::, ::1 (0.0.0.x, "this network") and every compatible or mapped address: the IPv4 inside.
  if (zeroUpTo(5) && (g[5] === 0 || g[5] === 0xffff)) return inner(g[6]!, g[7]!);
  if (g[0] === 0x64 && g[1] === 0xff9b) return g[2] === 1 || (g.slice(2, 6).every((x) => x === 0) ? inner(g[6]!, g[7]!) : false);
  if (g[0] === 0x2002) return inner(g[1]!, g[2]!);
  const first = g[0]!;
  // Unique local, link-local, the old site-local, multicast.
  return (first & 0xfe00) === 0xfc00 || (first & 0xffc0) === 0xfe80 || (first & 0xffc0) === 0xfec0 || (first & 0xff00) === 0xff00;
}
