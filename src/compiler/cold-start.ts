/**
 * Scale from zero: a load balancer with an empty pool sends its VIP's packets to the controller under
 * its own cookie. This maps such a packet-in's cookie back to the function whose instance would take
 * it, for the packet hold's classify (src/controller/packet-hold.ts).
 */
import type { Intent } from '../model/index.js';
import { formatIpv4 } from '../net/ipv4.js';
import { cookieKind } from './cookies.js';
import type { OwnerName } from './owner-registry.js';

/**
 * The function key (`<vpcId>/<function>`) of a load balancer's cold-pool packet-in, or undefined when
 * the cookie names no load balancer.
 */
export function coldFunctionOfCookie(cookie: number, describeCookie: (cookie: number) => OwnerName | undefined, intent: Intent): string | undefined {
  if (cookieKind(cookie) !== 'LOAD_BALANCER') return undefined;
  const owner = describeCookie(cookie);
  if (!owner || owner.kind !== 'loadBalancer') return undefined;
  const lb = intent.loadBalancers?.get(owner.name);
  return lb ? functionKey(lb.vpcId, lb.function) : undefined;
}

/** How a function is named to the packet hold: functions are per VPC. */
export function functionKey(vpcId: string, fn: string): string {
  return `${vpcId}/${fn}`;
}

/** The same as a packet hold target: the function key plus the VPC and VIP for the activation event. */
export function coldTargetOfCookie(
  cookie: number,
  describeCookie: (cookie: number) => OwnerName | undefined,
  intent: Intent,
): { functionKey: string; vpcId: string; vip: string } | undefined {
  if (cookieKind(cookie) !== 'LOAD_BALANCER') return undefined;
  const owner = describeCookie(cookie);
  const lb = owner?.kind === 'loadBalancer' ? intent.loadBalancers?.get(owner.name) : undefined;
  return lb ? { functionKey: functionKey(lb.vpcId, lb.function), vpcId: lb.vpcId, vip: formatIpv4(lb.vip) } : undefined;
}
