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
  /** ARP: a host asking for its own address (gratuitous ARP) gets no answer. */
  ARP_SELF_DROP: 200,
  /** ARP: answer a request for a known host's address. */
  ARP_REPLY: 100,
  /** FORWARD: a known host's MAC -> next hop. */
  FORWARD_UNICAST: 100,
  /** FORWARD: broadcast and multicast destinations (ARP requests never get here): dropped, counted. */
  FORWARD_GROUP_DROP: 10,
  /**
   * FORWARD: unknown unicast is dropped by an explicit flow, not left to the table-miss: switches send
   * misses to the controller (scale from zero needs that), and this flow's counter explains the drop.
   */
  FORWARD_UNKNOWN_DROP: 0,
} as const;
