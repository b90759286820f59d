/**
 * Flow priorities of the fabric, all in one place so the order within each table reads at a glance.
 * Within a table, flows that can match the same packet never share a priority.
 */
export const PRIORITY = {
  /** INGRESS: a host's own ARP request (checked source MAC/IP) goes to the ARP responder. */
  INGRESS_HOST_ARP_REQUEST: 200,
  /** INGRESS: a host's other traffic with its own source MAC and IP (IPv4, ARP replies) goes on. */
  INGRESS_HOST_ALLOW: 100,
  /** INGRESS: anything from a link port goes on (the fabric trusts its own switches). */
  INGRESS_LINK: 100,
  /** INGRESS: the rest from a host port is spoofed or unsupported: dropped, counted per host. */
  INGRESS_HOST_SPOOF_DROP: 1,
  /** INGRESS: a VPC endpoint's own ARP request (checked source MAC/IP, untagged) -> VPC metadata, ARP. */
  INGRESS_ENDPOINT_ARP_REQUEST: 200,
  /** INGRESS: a VPC endpoint's own untagged IPv4 -> VPC metadata, on through ACCESS/ROUTE/FORWARD. */
  INGRESS_ENDPOINT_ALLOW: 100,
  /** INGRESS: a link port's frame tagged with a VPC's VLAN id -> pop the tag, VPC metadata, FORWARD. */
  INGRESS_LINK_VPC: 100,
  /** INGRESS: the rest from an endpoint port (spoofed, tagged, other ethertypes): dropped, counted per endpoint. */
  INGRESS_ENDPOINT_SPOOF_DROP: 1,
  /** ARP: a host asking for its own address (gratuitous ARP) gets no answer. */
  ARP_SELF_DROP: 200,
  /** ARP: answer a request for a known host's address. */
  ARP_REPLY: 100,
  /** ARP (VPC): an endpoint asking for its own address gets no answer. */
  VPC_ARP_SELF_DROP: 200,
  /** ARP (VPC): answer a request from the subnet for an endpoint's or the gateway's address. */
  VPC_ARP_REPLY: 100,
  /** ROUTE: to the gateway MAC, for an endpoint's IP: rewrite MACs, decrement TTL, forward. */
  ROUTE_ENDPOINT: 100,
  /** ROUTE: to the gateway MAC for no endpoint of the VPC: dropped, counted under the VPC. */
  ROUTE_NOWHERE_DROP: 10,
  /** FORWARD: a known host's (metadata 0) or endpoint's (metadata vni) MAC -> next hop. */
  FORWARD_UNICAST: 100,
  /** FORWARD: broadcast and multicast destinations (ARP requests never get here): dropped, counted. */
  FORWARD_GROUP_DROP: 10,
  /**
   * FORWARD: unknown unicast is dropped by an explicit flow, not left to the table-miss: switches send
   * misses to the controller (scale from zero needs that), and this flow's counter explains the drop.
   */
  FORWARD_UNKNOWN_DROP: 0,
} as const;
