/**
 * The cookie scheme: every flow's cookie names the owner it was compiled for, so a dump explains
 * itself and an incremental recompute replaces exactly one owner's flows.
 *
 *   cookie = kind * 2^48 + id        (53 bits: a safe integer; OpenFlow's upper 11 bits stay zero)
 *
 * kind (5 bits) is the owner's type; id (48 bits) is the owner's index within its kind: 0 for the
 * fabric singleton, else FNV-1a-64 of the owner's stable name, truncated to 48 bits (host name; link id
 * `s1:2~s2:1`). A hash, not a position, so adding or removing one host leaves every other host's
 * cookies alone. 48 bits keep collisions negligible (about 1e-6 at 20,000 owners of one kind).
 * A new kind is one line in COOKIE_KIND.
 */
export const COOKIE_KIND = {
  /** Infrastructure flows no single intent owns (the non-ARP broadcast/multicast drop). */
  FABRIC: 1,
  /** Flows that exist because a link is up (accepting frames from its ports). */
  LINK: 2,
  /** A host's flows: port security, its ARP answers, forwarding towards it. */
  HOST: 3,
} as const;

export type CookieKind = keyof typeof COOKIE_KIND;

const ID_SPAN = 2 ** 48;
const KIND_COUNT = 32;

/** Selects the kind bits (for an OpenFlow cookie mask: "all flows of kind X"). */
export const COOKIE_KIND_MASK = (KIND_COUNT - 1) * ID_SPAN;

const FNV64_OFFSET = 0xcbf29ce484222325n;
const FNV64_PRIME = 0x100000001b3n;
const MASK64 = (1n << 64n) - 1n;
const encoder = new TextEncoder();

/** FNV-1a 64-bit over the UTF-8 bytes of `name`, low 48 bits. Compile-time only, never per packet. */
export function ownerId48(name: string): number {
  let h = FNV64_OFFSET;
  for (const b of encoder.encode(name)) h = ((h ^ BigInt(b)) * FNV64_PRIME) & MASK64;
  return Number(h & ((1n << 48n) - 1n));
}

export function makeCookie(kind: CookieKind, id: number): number {
  return COOKIE_KIND[kind] * ID_SPAN + id;
}

export const FABRIC_COOKIE = makeCookie('FABRIC', 0);

export function hostCookie(hostName: string): number {
  return makeCookie('HOST', ownerId48(hostName));
}

export function linkCookie(linkId: string): number {
  return makeCookie('LINK', ownerId48(linkId));
}

/** The owner kind a cookie names, or undefined for a cookie outside the scheme (e.g. 0). */
export function cookieKind(cookie: number): CookieKind | undefined {
  const k = Math.floor(cookie / ID_SPAN);
  return (Object.keys(COOKIE_KIND) as CookieKind[]).find((name) => COOKIE_KIND[name] === k);
}

export function cookieId(cookie: number): number {
  return cookie % ID_SPAN;
}
