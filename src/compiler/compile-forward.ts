/**
 * The fabric's FORWARD step (compile-fabric.ts runs it): per destination host MAC, every switch that
 * can reach the host's switch sends towards it along the shortest path (deterministic next hops,
 * src/model/paths.ts); the host's own switch sends it out of the host's port. Unknown unicast
 * destinations hit FORWARD's miss flow (a drop, compile-table-miss.ts). Broadcast and multicast other
 * than ARP requests (which INGRESS sent to the responder) are dropped by an explicit fabric flow, so
 * their counter tells them apart from unknown unicast: there is no flooding in Overcast.
 */
import { output, TABLE } from '../flow/index.js';
import type { CompileStep } from './compile-step.js';
import { PRIORITY } from './priorities.js';

/** The I/G bit of a MAC address: set for broadcast and multicast. */
const GROUP_BIT = 0x010000000000;

export const forwardStep: CompileStep = {
  name: 'forward',
  host(ctx, host, emit) {
    // Underlay only (metadata 0): a VPC frame addressed to a host's MAC must not reach it.
    const match = { metadata: 0, ethDst: host.mac };
    const home = host.attach.switch;
    emit(home, { table: TABLE.FORWARD, priority: PRIORITY.FORWARD_UNICAST, match, actions: [output(host.attach.port)] });
    for (const [sw, hop] of ctx.nextHopsTo(home)) {
      emit(sw, { table: TABLE.FORWARD, priority: PRIORITY.FORWARD_UNICAST, match, actions: [output(hop.outPort)] });
    }
  },
  fabric(ctx, emit) {
    for (const sw of ctx.topology.switches) {
      emit(sw.name, {
        table: TABLE.FORWARD,
        priority: PRIORITY.FORWARD_GROUP_DROP,
        match: { ethDst: { value: GROUP_BIT, mask: GROUP_BIT } },
        actions: [],
      });
    }
  },
};
