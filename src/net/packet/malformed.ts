/**
 * What a parser returns instead of throwing: which layer failed and why. Parsers never throw on
 * input bytes; the datapath counts a MalformedFrame under `drops_total{reason}` and drops the frame.
 */
export type MalformedReason =
  /** The buffer ends before the header (or the length it announces) does. */
  | 'truncated'
  /** IPv4 version field is not 4. */
  | 'bad-version'
  /** A header-length field is below the minimum (IPv4 IHL < 5, TCP data offset < 5). */
  | 'bad-header-length'
  /** A length field is smaller than its own header (IPv4 total length, UDP length). */
  | 'bad-length'
  /** Well-formed but not a variant we handle (ARP other than Ethernet/IPv4). */
  | 'unsupported';

export type PacketLayer = 'ethernet' | 'arp' | 'ipv4' | 'icmp' | 'udp' | 'tcp';

export interface MalformedFrame {
  readonly malformed: MalformedReason;
  readonly layer: PacketLayer;
}

export function malformed(layer: PacketLayer, reason: MalformedReason): MalformedFrame {
  return { malformed: reason, layer };
}

/** Narrow a parse result: `if (isMalformed(r)) { count(r.malformed); return; }`. */
export function isMalformed(result: object): result is MalformedFrame {
  return 'malformed' in result;
}
