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
  /** A VPC endpoint's flows: port security, its ARP answers, routing and forwarding towards it. */
  ENDPOINT: 4,
  /** A subnet's flows: the distributed gateway's ARP answers. */
  SUBNET: 5,
  /** A VPC's own flows: admitting its labelled frames from links (TENANT), dropping routes to nowhere. */
  VPC: 6,
  /** An elastic IP's flows: ARP, DNAT and SNAT at the gateway, the egress path from its endpoint. */
  ELASTIC_IP: 7,
  /** A load balancer's flows and select groups: VIP ARP, VIP -> group, return SNAT; empty pool -> controller. */
  LOAD_BALANCER: 8,
  /** A gateway's (uplink's) own flows: admitting outside frames, answering ARP for its IP. */
  GATEWAY: 9,
  /** A VNI block's flows: admitting the labelled frames of its VPCs on every up link port (docs/vpc.md). */
  TENANT_BLOCK: 10,
  /** A volume's flows: the drops guarding its targets, replication between them (ACCESS). */
  VOLUME: 11,
  /** An attachment's flows: its endpoint's way to the volume's targets on the volume's ports (ACCESS). */
  ATTACHMENT: 12,
  /** A VPC's security-group rules: conjunctive-match results and their cidr and port clauses (docs/security-groups.md). */
  SECURITY_GROUP: 13,
  /** A network ACL's flows: its numbered rules and the default deny, for its subnet's endpoints. */
  NETWORK_ACL: 14,
  /** An attachment's mount translation at its endpoint's switch: the mount address's ARP, DNAT/SNAT to the targets. */
  MOUNT: 15,
  /** An attachment's mount translation at its targets' switches: the source address's ARP, the replies translated back. */
  MOUNT_RETURN: 16,
} as const;

export type CookieKind = keyof typeof COOKIE_KIND;

const ID_SPAN = 2 ** 48;
const KIND_COUNT = 32;

/** Selects the kind bits (for an OpenFlow cookie mask: "all flows of kind X"). */
export const COOKIE_KIND_MASK = (KIND_COUNT - 1) * ID_SPAN;

const encoder = new TextEncoder();
/** FNV-1a 64's offset basis, low 48 bits, as three 16-bit limbs (low first). */
const FNV_OFFSET_LIMBS = [0x2325, 0x8422, 0x9ce4] as const;

/**
 * FNV-1a 64-bit over the UTF-8 bytes of `name`, low 48 bits. The low 48 bits of a product depend only
 * on the low 48 bits of its factors, so three 16-bit limbs suffice (no BigInt: a full compile names
 * tens of thousands of owners). Prime 2^40 + 0x1b3: h * prime = h * 0x1b3 + (h << 40).
 */
export function ownerId48(name: string): number {
  let [h0, h1, h2] = FNV_OFFSET_LIMBS as readonly number[];
  let ascii = true;
  for (let i = 0; i < name.length && ascii; i++) ascii = name.charCodeAt(i) < 0x80;
  const bytes = ascii ? undefined : encoder.encode(name);
  const n = bytes ? bytes.length : name.length;
  for (let i = 0; i < n; i++) {
    h0 ^= bytes ? bytes[i] : name.charCodeAt(i);
    const t0 = h0 * 0x1b3;
    const t1 = h1 * 0x1b3 + (t0 >>> 16);
    const t2 = h2 * 0x1b3 + (h0 << 8) + (t1 >>> 16);
    h0 = t0 & 0xffff;
    h1 = t1 & 0xffff;
    h2 = t2 & 0xffff;
  }
  return h2 * 2 ** 32 + h1 * 2 ** 16 + h0;
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

export function endpointCookie(endpointId: string): number {
  return makeCookie('ENDPOINT', ownerId48(endpointId));
}

export function subnetCookie(subnetId: string): number {
  return makeCookie('SUBNET', ownerId48(subnetId));
}

export function vpcCookie(vpcId: string): number {
  return makeCookie('VPC', ownerId48(vpcId));
}

export function elasticIpCookie(id: string): number {
  return makeCookie('ELASTIC_IP', ownerId48(id));
}

export function loadBalancerCookie(id: string): number {
  return makeCookie('LOAD_BALANCER', ownerId48(id));
}

export function gatewayCookie(name: string): number {
  return makeCookie('GATEWAY', ownerId48(name));
}

export function volumeCookie(id: string): number {
  return makeCookie('VOLUME', ownerId48(id));
}

export function attachmentCookie(id: string): number {
  return makeCookie('ATTACHMENT', ownerId48(id));
}

/** An attachment's mount translation at its endpoint's switch (its owner is named after the attachment). */
export function mountCookie(attachmentId: string): number {
  return makeCookie('MOUNT', ownerId48(attachmentId));
}

/** An attachment's mount translation at its targets' switches. */
export function mountReturnCookie(attachmentId: string): number {
  return makeCookie('MOUNT_RETURN', ownerId48(attachmentId));
}

/** A VNI block's cookie: the block number itself is its id (0..255, no hash needed). */
export function tenantBlockCookie(block: number): number {
  return makeCookie('TENANT_BLOCK', block);
}

/** The security-group rules of the VPC `vpcId` (one owner per VPC: conjunctive matches share clauses). */
export function securityRulesCookie(vpcId: string): number {
  return makeCookie('SECURITY_GROUP', ownerId48(vpcId));
}

export function networkAclCookie(id: string): number {
  return makeCookie('NETWORK_ACL', ownerId48(id));
}

/** The owner kind a cookie names, or undefined for a cookie outside the scheme (e.g. 0). */
export function cookieKind(cookie: number): CookieKind | undefined {
  const k = Math.floor(cookie / ID_SPAN);
  return (Object.keys(COOKIE_KIND) as CookieKind[]).find((name) => COOKIE_KIND[name] === k);
}

export function cookieId(cookie: number): number {
  return cookie % ID_SPAN;
}
