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
import { copyField, output, PORT, setField, TABLE } from '../flow/index.js';
import { ARP_OP_REPLY, ARP_OP_REQUEST, ETH_TYPE_ARP } from '../net/packet/constants.js';
import type { CompileStep } from './compile-step.js';
import { PRIORITY } from './priorities.js';

export const arpStep: CompileStep = {
  name: 'arp',
  host(ctx, host, emit) {
    const request = { ethType: ETH_TYPE_ARP, arpOp: ARP_OP_REQUEST, arpTpa: host.ip };
    // Order matters: each copy reads a field before the set that overwrites it.
    const reply = [
      copyField('ethSrc', 'ethDst'),
      setField('ethSrc', host.mac),
      setField('arpOp', ARP_OP_REPLY),
      copyField('arpSha', 'arpTha'),
      setField('arpSha', host.mac),
      copyField('arpSpa', 'arpTpa'),
      setField('arpSpa', host.ip),
      output(PORT.IN_PORT),
    ];
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
