/**
 * The topology value: switches, the links between their ports, and the hosts attached to ports.
 * Plain, immutable data (addresses as numbers, see src/net), produced by parseTopology or by the pure
 * mutations in ./mutate-topology.ts. Graph views and queries are derived from it (./topology-graph.ts).
 */

/** The highest physical port number (OpenFlow 1.3 OFPP_MAX); numbers above it are reserved ports. */
export const MAX_PORT_NUMBER = 0xffffff00;

/** Switch and host names: no `:` (it separates switch from port in `s1:2`) and no spaces. */
export const NAME_PATTERN = /^[A-Za-z_][A-Za-z0-9_.-]*$/;

export interface PortSpec {
  readonly number: number;
  readonly name?: string;
}

export interface SwitchSpec {
  readonly name: string;
  /** Datapath id: a positive safe integer, unique in the topology. */
  readonly dpid: number;
  readonly ports: readonly PortSpec[];
}

/** One port of one switch, `s1:2` in topology files. */
export interface PortRef {
  readonly switch: string;
  readonly port: number;
}

export interface LinkSpec {
  readonly a: PortRef;
  readonly b: PortRef;
  /** Administrative/operational state: a down link carries no traffic and no path uses it. */
  readonly up: boolean;
}

export interface HostSpec {
  readonly name: string;
  /** 48-bit unicast MAC as a number (src/net/mac.ts). */
  readonly mac: number;
  /** IPv4 address as a uint32 (src/net/ipv4.ts). */
  readonly ip: number;
  /** The prefix length of the host's subnet (`10.0.0.1/24` -> 24). */
  readonly prefixLength: number;
  readonly attach: PortRef;
}

/**
 * An uplink to the outside network (docs/elastic-ip.md): a switch port, the gateway's own MAC and IP
 * on that network, the MAC every outbound frame is addressed to (the outside router, or the one
 * outside host of a lab), and the public addresses elastic IPs are allocated from.
 */
export interface GatewaySpec {
  readonly name: string;
  readonly attach: PortRef;
  readonly mac: number;
  readonly ip: number;
  readonly prefixLength: number;
  readonly routerMac: number;
  readonly publicPool: { readonly network: number; readonly prefixLength: number };
}

export interface Topology {
  readonly name: string;
  readonly switches: readonly SwitchSpec[];
  readonly links: readonly LinkSpec[];
  readonly hosts: readonly HostSpec[];
  /** Uplinks; absent in topologies without an outside network (every file before elastic IPs). */
  readonly gateways?: readonly GatewaySpec[];
}

export function formatPortRef(ref: PortRef): string {
  return `${ref.switch}:${ref.port}`;
}

export function samePortRef(x: PortRef, y: PortRef): boolean {
  return x.switch === y.switch && x.port === y.port;
}

/**
 * A link's stable identity, independent of the order its ends were written in: the two ends sorted,
 * `s1:2~s2:1`. Used as the graph edge key and as the link's cookie owner name.
 */
export function linkId(link: Pick<LinkSpec, 'a' | 'b'>): string {
  const a = formatPortRef(link.a);
  const b = formatPortRef(link.b);
  return comparePortRefs(link.a, link.b) <= 0 ? `${a}~${b}` : `${b}~${a}`;
}

/** Orders port references by switch name, then port number. */
export function comparePortRefs(x: PortRef, y: PortRef): number {
  if (x.switch !== y.switch) return x.switch < y.switch ? -1 : 1;
  return x.port - y.port;
}

/** Does the link have an end on this port? Returns the other end, or undefined. */
export function otherEnd(link: Pick<LinkSpec, 'a' | 'b'>, at: PortRef): PortRef | undefined {
  if (samePortRef(link.a, at)) return link.b;
  if (samePortRef(link.b, at)) return link.a;
  return undefined;
}
