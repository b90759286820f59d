/**
 * The in-switch ARP responder's rewrite: a request becomes the reply in place and goes back out of the
 * port it came in on, so no flow per requester is needed:
 *   eth_dst <- eth_src, eth_src <- target MAC, op <- reply, THA <- SHA, SHA <- target MAC,
 *   TPA <- SPA, SPA <- target IP.
 */
import { copyField, output, PORT, setField, type Action } from '../flow/index.js';
import { ARP_OP_REPLY } from '../net/packet/constants.js';

export function arpReplyActions(mac: number, ip: number): Action[] {
  // Order matters: each copy reads a field before the set that overwrites it.
  return [
    copyField('ethSrc', 'ethDst'),
    setField('ethSrc', mac),
    setField('arpOp', ARP_OP_REPLY),
    copyField('arpSha', 'arpTha'),
    setField('arpSha', mac),
    copyField('arpSpa', 'arpTpa'),
    setField('arpSpa', ip),
    output(PORT.IN_PORT),
  ];
}
