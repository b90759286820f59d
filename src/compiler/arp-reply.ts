/**
 * The in-switch ARP responder's rewrite: a request becomes the reply in place and goes back out of the
 * port it came in on, so no flow per requester is needed:
 *   eth_dst <- eth_src, eth_src <- target MAC, op <- reply, THA <- SHA, SHA <- target MAC,
 *   TPA <- SPA, SPA <- target IP.
 */
import { copyField, output, PORT, setField, type Action } from '../flow/index.js';
import { GATEWAY_MAC } from '../model/index.js';
import { ARP_OP_REPLY } from '../net/packet/constants.js';
import { ActionListMemo, sharedSetField } from './shared-actions.js';

// Actions are immutable values: the constant ones are shared by every responder flow (a 1000-VPC
// compile makes tens of thousands of these lists).
const ETH_SRC_TO_DST = copyField('ethSrc', 'ethDst');
const OP_REPLY = setField('arpOp', ARP_OP_REPLY);
const SHA_TO_THA = copyField('arpSha', 'arpTha');
const SPA_TO_TPA = copyField('arpSpa', 'arpTpa');
const BACK_OUT = output(PORT.IN_PORT);
/** The distributed gateway's answers (subnet gateways, load balancers' VIPs): one list per IP. */
const gatewayReplies = new ActionListMemo();

function replyActions(mac: number, ip: number): Action[] {
  // Order matters: each copy reads a field before the set that overwrites it.
  const setMac = setField('ethSrc', mac);
  return [ETH_SRC_TO_DST, setMac, OP_REPLY, SHA_TO_THA, setField('arpSha', mac), SPA_TO_TPA, sharedSetField('arpSpa', ip), BACK_OUT];
}

export function arpReplyActions(mac: number, ip: number): Action[] {
  return mac === GATEWAY_MAC ? gatewayReplies.get(ip, () => replyActions(mac, ip)) : replyActions(mac, ip);
}
