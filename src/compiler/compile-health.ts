/**
 * Health probes' return path (docs/load-balancing.md, "Health probes"). The controller probes a load
 * balancer's backends with ICMP echo requests from the backend's subnet gateway (its IP, GATEWAY_MAC),
 * sent as packet-outs on the backend's own switch. The backend answers towards the gateway, so the
 * reply enters the pipeline at that same switch like any routed frame and would end in ROUTE's "to the
 * gateway MAC for nobody" drop. One flow per subnet, on every switch where its VPC is present, hands
 * such replies to the controller instead:
 *   ROUTE  metadata = vni, eth_dst = GATEWAY_MAC, ip_dst = the subnet's gateway, ICMP echo reply -> controller
 * The flow belongs to the subnet (its cookie): it exists exactly where and while the gateway's ARP
 * answers do. Echo requests to the gateway stay dropped: only replies (which only probes provoke) rise.
 */
import { TABLE, toController, type Action, type FlowEntry } from '../flow/index.js';
import { GATEWAY_MAC, type Subnet } from '../model/index.js';
import { ETH_TYPE_IPV4, ICMP_ECHO_REPLY, IP_PROTO_ICMP } from '../net/packet/constants.js';
import type { OwnerFlows } from './owner-flows.js';
import { PRIORITY } from './priorities.js';

/** The reply's action list: one frozen list for every subnet's flow. */
const TO_CONTROLLER: Action[] = Object.freeze([Object.freeze(toController())]) as Action[];

/** The flow that lifts echo replies addressed to a subnet's gateway to the controller. */
export function healthReplyFlow(subnet: Subnet, vni: number, cookie: number): FlowEntry {
  return {
    table: TABLE.ROUTE,
    priority: PRIORITY.ROUTE_HEALTH_REPLY,
    match: { metadata: vni, ethDst: GATEWAY_MAC, ethType: ETH_TYPE_IPV4, ipv4Dst: subnet.gateway, ipProto: IP_PROTO_ICMP, icmpType: ICMP_ECHO_REPLY },
    actions: TO_CONTROLLER,
    cookie,
  };
}

/**
 * Adds the subnet's health-reply flow to `into` (the subnet owner's flows) on every present switch.
 * Lists are read-only: each is replaced by a copy with the flow appended, and a list shared by several
 * switches stays shared (one copy for all of them).
 */
export function addSubnetHealthFlows(into: OwnerFlows, subnet: Subnet, vni: number, presentDpids: readonly number[], cookie: number): OwnerFlows {
  if (presentDpids.length === 0) return into;
  const flow = healthReplyFlow(subnet, vni, cookie);
  let shared: FlowEntry[] | undefined;
  const alone: FlowEntry[] = [flow];
  let withFlow = alone;
  for (const dpid of presentDpids) {
    const flows = into.get(dpid);
    if (flows === undefined) into.set(dpid, alone);
    else {
      if (flows !== shared) {
        shared = flows;
        withFlow = flows.concat(alone);
      }
      into.set(dpid, withFlow);
    }
  }
  return into;
}
