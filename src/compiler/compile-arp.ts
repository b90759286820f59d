/**
 * ARP: requests are answered in the switch the requester is attached to, never flooded and never sent
 * to the controller. The request is rewritten into the reply in place and sent back out of the port it
 * came in on:
 *   eth_dst <- eth_src, eth_src <- target MAC, op <- reply, THA <- SHA, SHA <- target MAC,
 *   TPA <- SPA, SPA <- target IP.
 * Each switch with hosts answers for every known host (one flow per host per such switch). A request
 * for an unknown address is a table-miss drop (the pipeline declares ARP's miss as drop): with no
 * VPCs yet there is nobody else to ask, and dropping keeps the controller out of the ARP path.
 */
import { TABLE } from '../flow/index.js';
import { ARP_OP_REQUEST, ETH_TYPE_ARP } from '../net/packet/constants.js';
import { arpReplyActions } from './arp-reply.js';
import type { CompileStep } from './compile-step.js';
import { PRIORITY } from './priorities.js';

export const arpStep: CompileStep = {
  name: 'arp',
  host(ctx, host, emit) {
    // metadata 0 is the underlay: a VPC endpoint asking for the same address never hears a host.
    const request = { metadata: 0, ethType: ETH_TYPE_ARP, arpOp: ARP_OP_REQUEST, arpTpa: host.ip };
    const reply = arpReplyActions(host.mac, host.ip);
    for (const sw of ctx.hostSwitches) {
      emit(sw, { table: TABLE.ARP, priority: PRIORITY.ARP_REPLY, match: request, actions: reply });
    }
    // A host asking for its own address (gratuitous ARP, a probe for duplicates) must not hear
    // "someone has it": no answer.
    emit(host.attach.switch, {
      table: TABLE.ARP,
      priority: PRIORITY.ARP_SELF_DROP,
      match: { ...request, inPort: host.attach.port },
      actions: [],
    });
  },
};
