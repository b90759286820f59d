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
  /** INGRESS: a link port's MPLS frame whose top label is a VNI block in use -> pop it, block metadata, TENANT. */
  INGRESS_LINK_TENANT: 150,
  /** INGRESS: any other MPLS frame from a link port (an unknown block): dropped, counted under the link. */
  INGRESS_LINK_MPLS_DROP: 110,
  /** INGRESS: the rest from an endpoint port (spoofed, tagged, other ethertypes): dropped, counted per endpoint. */
  INGRESS_ENDPOINT_SPOOF_DROP: 1,
  /** INGRESS (uplink): an ARP request from the outside network -> uplink metadata, ARP. */
  INGRESS_UPLINK_ARP_REQUEST: 200,
  /** INGRESS (uplink): IPv4 addressed to the gateway's MAC -> uplink metadata, NAT_LB. */
  INGRESS_UPLINK_IPV4: 100,
  /** INGRESS (uplink): to a load balancer's public IP, protocol and port -> ip_dst = VIP, its VPC's metadata, NAT_LB. */
  INGRESS_UPLINK_LB: 150,
  /** INGRESS (uplink): anything else from the outside: dropped, counted under the gateway. */
  INGRESS_UPLINK_DROP: 1,
  /** TENANT: block metadata, a VPC's bottom label, a destination MAC -> popped and out there, or on towards it. */
  TENANT_UNICAST: 100,
  /** ARP (uplink): answer for the gateway's IP and for associated public IPs with the gateway's MAC. */
  UPLINK_ARP_REPLY: 100,
  /** ARP (VPC): answer for a load balancer's VIP with the gateway MAC (above subnet answers: a VIP is no endpoint's). */
  LB_ARP_REPLY: 150,
  /** NAT_LB (uplink): public IP -> the endpoint's private IP, into its VPC. */
  EIP_DNAT: 100,
  /** NAT_LB: VIP/protocol/port -> the load balancer's select group (or the controller when the pool is empty). */
  LB_VIP: 200,
  /** NAT_LB: a backend's reply from its service port -> source rewritten back to the VIP. */
  LB_RETURN: 150,
  /** NAT_LB: an LB with an elastic IP: a backend's reply to a client inside the VPC: as LB_RETURN (routed). */
  LB_RETURN_BYPASS: 170,
  /** NAT_LB: an LB with an elastic IP: a backend's reply via the gateway MAC elsewhere: VIP, then towards the uplink. */
  LB_RETURN_OUT: 160,
  /** NAT_LB: an endpoint with an elastic IP talking inside its VPC: routed as usual, no SNAT. */
  EIP_SNAT_BYPASS: 120,
  /** NAT_LB: an endpoint with an elastic IP talking via the gateway MAC to the outside: towards the uplink. */
  EIP_SNAT: 110,
  /** FORWARD: an elastic IP's egress frames (addressed to its pseudo MAC): SNAT at the gateway, or on towards it. */
  EIP_EGRESS: 100,
  /** ARP (VPC): answer for a volume's mount address (client's switch) or an attachment's source address (targets' switches). */
  MOUNT_ARP_REPLY: 160,
  /** NAT_LB: an attached endpoint to its mount address on a volume port -> source and destination translated to a target. */
  MOUNT_DNAT: 210,
  /** NAT_LB: a target's reply to an attachment's source address from a volume port -> translated back to the mount address. */
  MOUNT_RETURN: 180,
  /**
   * ROUTE: the storage VPC's metadata, from an attachment's source address to its mount address (set
   * by MOUNT_DNAT) -> the attachment's select group (above ROUTE_ENDPOINT: the mount address may be a
   * storage endpoint's own).
   */
  MOUNT_GROUP: 150,
  /** ACCESS: replication between the targets of one volume (anything, from one target to another) -> on. */
  ACCESS_REPLICA: 210,
  /** ACCESS: an attached endpoint to a target of its volume on one of the volume's ports (TCP or UDP) -> on. */
  ACCESS_ATTACHED: 200,
  /** ACCESS: anything else to a volume's target: dropped, counted under the volume. */
  ACCESS_TARGET_DROP: 100,
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
  /** ROUTE: an ICMP echo reply to a subnet's gateway IP (a health probe's answer) -> the controller. */
  ROUTE_HEALTH_REPLY: 50,
  /** ROUTE: to the gateway MAC for no endpoint of the VPC: dropped, counted under the VPC. */
  ROUTE_NOWHERE_DROP: 10,
  /** FORWARD: a known host's (metadata 0) or endpoint's (metadata vni) MAC -> next hop. */
  FORWARD_UNICAST: 100,
  /** FORWARD: broadcast and multicast destinations (ARP requests never get here): dropped, counted. */
  FORWARD_GROUP_DROP: 10,
  /** EGRESS: a metered volume's reply (from a target or a mount address, a volume port) to an attached endpoint -> its meter, out of its port. */
  EGRESS_VOLUME_REPLY: 110,
  /** EGRESS: metadata vni, an endpoint's MAC -> out of its port. */
  EGRESS_ENDPOINT: 100,
  /** SG_INGRESS_COMMIT: a volume's reply as EGRESS_VOLUME_REPLY -> its qos's second meter, on (below SG_COMMIT: a reply is no new connection). */
  VOLUME_REPLY_SECOND_METER: 50,
  /** NAT_LB: an attached endpoint to a target on a volume port -> its qos's second meter, on (below LB_RETURN, above EIP_SNAT_BYPASS, which route it on too). */
  VOLUME_SECOND_METER: 140,
  /** ACL_EGRESS/ACL_INGRESS: rule number n of a network ACL is ACL_RULE_BASE - n (lowest number first). */
  ACL_RULE_BASE: 40_000,
  /** ACL_EGRESS/ACL_INGRESS: IPv4 from (to) a subnet with an ACL that no rule matched: denied. */
  ACL_DEFAULT_DENY: 10,
  /** SG_EGRESS: a filtered endpoint's ICMP echo reply to its subnet's gateway (a health probe's answer), untracked. */
  SG_HEALTH_REPLY: 400,
  /** SG_*: a packet conntrack calls invalid (a stray TCP segment, say), to or from a filtered endpoint: dropped. */
  SG_INVALID_DROP: 300,
  /** SG_*: an ICMP error about a tracked connection (+rel): passes. */
  SG_RELATED: 290,
  /** SG_*: a rule with nothing to match but its direction (any protocol, anywhere), or the gateway's health probes. */
  SG_ALLOW_DIRECT: 250,
  /** SG_*: clauses and results of conjunctive matches for rules naming a cidr or anywhere. */
  SG_CONJ_CIDR: 210,
  /** SG_*: clauses and results of conjunctive matches for rules naming a group. */
  SG_CONJ_GROUP: 200,
  /** SG_*: a tracked packet of a filtered endpoint no rule allowed: dropped, counted under the endpoint. */
  SG_DROP: 100,
  /** SG_*: IPv4 from (SG_EGRESS) or to (SG_INGRESS) a filtered endpoint: through conntrack in its zone, then this table again. */
  SG_TRACK: 50,
  /** SG_*_COMMIT: a new connection of a filtered endpoint that its SG table allowed: committed in its zone. */
  SG_COMMIT: 100,
  /**
   * Every table: the miss behaviour PIPELINE declares (drop, go to the next table, or the controller)
   * as an explicit lowest-priority flow. Switches differ in what a bare miss does (OpenFlow 1.3 drops,
   * the softswitch asks the controller), so nothing is left to it, and the flow's counter explains it.
   */
  TABLE_MISS: 0,
} as const;
