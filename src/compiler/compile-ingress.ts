/**
 * INGRESS: port security. A host port admits only frames carrying the host's own MAC and, for IPv4
 * and ARP, its own IP (and ARP sender MAC): ARP requests go to the ARP responder, the rest to
 * forwarding. Everything else from a host port (spoofed addresses, IPv6, LLDP, DHCP from 0.0.0.0) hits
 * the host's low-priority drop, whose counter says "port security". Frames from link ports go to
 * forwarding. Ports with neither a host nor an up link match nothing: table-miss drop.
 */
import { TABLE } from '../flow/index.js';
import { ARP_OP_REQUEST, ETH_TYPE_ARP, ETH_TYPE_IPV4, ETH_TYPE_MPLS } from '../net/packet/constants.js';
import type { CompileStep } from './compile-step.js';
import { PRIORITY } from './priorities.js';

/** Where admitted underlay traffic other than ARP requests goes next (VPC traffic passes ACCESS and ROUTE first: compile-vpc-flows.ts). */
const AFTER_INGRESS = TABLE.FORWARD;

export const ingressStep: CompileStep = {
  name: 'ingress',
  host(_ctx, host, emit) {
    const { switch: sw, port } = host.attach;
    // Untagged and not MPLS (the port-security matches name IPv4 and ARP): a frame from a host must
    // never look like fabric traffic (a label stack is how a VPC travels between switches,
    // docs/vpc.md); anything else falls to the host's drop.
    const own = { inPort: port, vlanVid: 0, ethSrc: host.mac };
    const ownArp = { ...own, ethType: ETH_TYPE_ARP, arpSpa: host.ip, arpSha: host.mac };
    emit(sw, {
      table: TABLE.INGRESS,
      priority: PRIORITY.INGRESS_HOST_ARP_REQUEST,
      match: { ...ownArp, arpOp: ARP_OP_REQUEST },
      actions: [],
      gotoTable: TABLE.ARP,
    });
    emit(sw, { table: TABLE.INGRESS, priority: PRIORITY.INGRESS_HOST_ALLOW, match: ownArp, actions: [], gotoTable: AFTER_INGRESS });
    emit(sw, {
      table: TABLE.INGRESS,
      priority: PRIORITY.INGRESS_HOST_ALLOW,
      match: { ...own, ethType: ETH_TYPE_IPV4, ipv4Src: host.ip },
      actions: [],
      gotoTable: AFTER_INGRESS,
    });
    emit(sw, { table: TABLE.INGRESS, priority: PRIORITY.INGRESS_HOST_SPOOF_DROP, match: { inPort: port }, actions: [] });
  },
  link(_ctx, link, emit) {
    // A down link admits nothing: frames that still trickle in are table-miss drops.
    if (!link.up) return;
    for (const end of [link.a, link.b]) {
      // Untagged frames are the underlay; MPLS ones belong to a VPC (a block flow above this one,
      // incremental/tenant-block-node.ts) or are dropped here; tagged ones miss and drop.
      emit(end.switch, {
        table: TABLE.INGRESS,
        priority: PRIORITY.INGRESS_LINK_MPLS_DROP,
        match: { inPort: end.port, ethType: ETH_TYPE_MPLS },
        actions: [],
      });
      emit(end.switch, {
        table: TABLE.INGRESS,
        priority: PRIORITY.INGRESS_LINK,
        match: { inPort: end.port, vlanVid: 0 },
        actions: [],
        gotoTable: AFTER_INGRESS,
      });
    }
  },
};
