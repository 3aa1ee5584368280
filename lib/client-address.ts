/**
 * Client addresses for per-address limits (CLI login starts, issue 11). Pure: the caller reads the
 * address from the request (`CF-Connecting-IP`, set by Cloudflare and by `wrangler dev`).
 */

/** IPv6 as 8 groups of 16 bits, or null when it is not an IPv6 literal. */
function ipv6Groups(address: string): number[] | null {
  if (!/^[0-9a-f:.]+$/i.test(address) || !address.includes(":")) return null;
  let text = address;
  const v4 = /(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(text);
  if (v4) {
    const b = v4.slice(1).map(Number);
    if (b.some((x) => x > 255)) return null;
    text = `${text.slice(0, v4.index)}${((b[0]! << 8) | b[1]!).toString(16)}:${((b[2]! << 8) | b[3]!).toString(16)}`;
  }
  const halves = text.split("::");
  if (halves.length > 2) return null;
  const parse = (h: string) => (h === "" ? [] : h.split(":").map((g) => (/^[0-9a-f]{1,4}$/i.test(g) ? parseInt(g, 16) : NaN)));
  const head = parse(halves[0]!);
  const tail = halves.length === 2 ? parse(halves[1]!) : [];
  const missing = 8 - head.length - tail.length;
  if ((halves.length === 2 ? missing < 1 : missing !== 0) || [...head, ...tail].some(Number.isNaN)) return null;
  return [...head, ...Array<number>(Math.max(0, missing)).fill(0), ...tail];
}

/**
 * The key a client address is counted under: IPv4 as is; IPv6 by its /64, since one subscriber
 * usually holds a whole /64 and could otherwise rotate through it; IPv4-mapped IPv6 as IPv4.
 * No address (a request that did not come through Cloudflare) shares one key: limited, not free.
 */
export function addressKey(address: string | null | undefined): string {
  const a = (address ?? "").trim().toLowerCase();
  if (a === "") return "unknown";
  if (/^\d{1,3}(\.\d{1,3}){3}$/.test(a)) return a;
  const g = ipv6Groups(a);
  if (!g) return a.slice(0, 64);
  if (g.slice(0, 5).every((x) => x === 0) && g[5] === 0xffff) return `${g[6]! >> 8}.${g[6]! & 255}.${g[7]! >> 8}.${g[7]! & 255}`;
  return `${g.slice(0, 4).map((x) => x.toString(16)).join(":")}::/64`;
}
