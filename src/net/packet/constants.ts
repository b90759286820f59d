/** Protocol numbers and header sizes. Names match src/flow/packet-key.ts so flow can reuse these. */
export const ETH_TYPE_IPV4 = 0x0800;
export const ETH_TYPE_ARP = 0x0806;
export const ETH_TYPE_VLAN = 0x8100;
export const ETH_TYPE_QINQ = 0x88a8;
/** MPLS unicast and multicast (RFC 5332): a label stack of 4-byte entries follows the Ethernet header. */
export const ETH_TYPE_MPLS = 0x8847;
export const ETH_TYPE_MPLS_MULTICAST = 0x8848;

export const IP_PROTO_ICMP = 1;
export const IP_PROTO_TCP = 6;
export const IP_PROTO_UDP = 17;

export const ARP_OP_REQUEST = 1;
export const ARP_OP_REPLY = 2;

export const ICMP_ECHO_REPLY = 0;
export const ICMP_DEST_UNREACHABLE = 3;
export const ICMP_ECHO_REQUEST = 8;
export const ICMP_TIME_EXCEEDED = 11;

/** IPv4 flags (the top 3 bits of the flags/fragment-offset word). */
export const IPV4_FLAG_DF = 0x2;
export const IPV4_FLAG_MF = 0x1;

/** TCP flags as OpenFlow's 12-bit tcp_flags (NS is bit 8). */
export const TCP_FIN = 0x001;
export const TCP_SYN = 0x002;
export const TCP_RST = 0x004;
export const TCP_PSH = 0x008;
export const TCP_ACK = 0x010;
export const TCP_URG = 0x020;
export const TCP_ECE = 0x040;
export const TCP_CWR = 0x080;
export const TCP_NS = 0x100;

export const ETH_HEADER_LEN = 14;
export const VLAN_TAG_LEN = 4;
/** One MPLS label stack entry: label (20 bits), traffic class (3), bottom of stack (1), TTL (8). */
export const MPLS_LSE_LEN = 4;
export const ARP_PACKET_LEN = 28;
export const IPV4_MIN_HEADER_LEN = 20;
export const ICMP_HEADER_LEN = 8;
export const UDP_HEADER_LEN = 8;
export const TCP_MIN_HEADER_LEN = 20;
