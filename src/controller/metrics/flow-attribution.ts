/**
 * Which metric a flow's counters feed. Every flow's cookie names its owner (the compiler's cookie
 * registry), and the owner's flows play known parts: an endpoint's ingress flows count what it sends,
 * its EGRESS flow on its own switch what it receives; a load balancer's flows into its select
 * group count requests to the VIP, its return flows (matching one backend's address) that backend's
 * answers; an elastic IP's DNAT flows count inbound, its SNAT exits outbound; a flow with no action
 * and no next table is a drop. Pure: the flow, the switch it is on and the intent in, targets out.
 */
import type { OwnerName } from '../../compiler/index.js';
import { TABLE, tableName, type FlowEntry } from '../../flow/index.js';
import type { Endpoint, Intent } from '../../model/index.js';

export type FlowTarget =
  | { kind: 'endpoint'; id: string; direction: 'sent' | 'received' | 'dropped' }
  | { kind: 'drop'; reason: string }
  | { kind: 'loadBalancer'; id: string }
  | { kind: 'backend'; loadBalancer: string; endpoint: string }
  | { kind: 'elasticIp'; id: string; direction: 'in' | 'out' };

export interface AttributionContext {
  describeCookie(cookie: number): OwnerName | undefined;
  intent: Intent;
}

/** Owner kinds as label values (snake case, as Prometheus labels usually are). */
const KIND_LABEL: Record<OwnerName['kind'], string> = {
  fabric: 'fabric',
  link: 'link',
  host: 'host',
  endpoint: 'endpoint',
  subnet: 'subnet',
  vpc: 'vpc',
  elasticIp: 'elastic_ip',
  loadBalancer: 'load_balancer',
  gateway: 'gateway',
  tenantBlock: 'tenant_block',
  volume: 'volume',
  attachment: 'attachment',
  securityGroup: 'security_group',
  networkAcl: 'network_acl',
};

export function isDropFlow(f: FlowEntry): boolean {
  return f.actions.length === 0 && f.gotoTable === undefined;
}

/**
 * A drop flow's reason: `<table>_miss` for a table's priority-0 miss flow, else `<table>_<owner kind>`
 * (`ingress_endpoint`: a frame an endpoint's port security refused). At most tables x owner kinds values.
 */
export function dropReason(f: FlowEntry, owner: OwnerName | undefined): string {
  const table = tableName(f.table).toLowerCase();
  if (f.priority === 0) return `${table}_miss`;
  return `${table}_${owner ? KIND_LABEL[owner.kind] : 'unknown'}`;
}

/** Endpoints by VPC and address, built once per intent snapshot (snapshots are immutable). */
const byAddress = new WeakMap<Intent, Map<string, Endpoint>>();

function endpointAt(intent: Intent, vpcId: string, ip: number): Endpoint | undefined {
  let index = byAddress.get(intent);
  if (!index) {
    index = new Map();
    for (const e of intent.endpoints.values()) index.set(`${e.vpcId}/${e.ip}`, e);
    byAddress.set(intent, index);
  }
  return index.get(`${vpcId}/${ip}`);
}

function sets(f: FlowEntry, field: 'ipv4Src' | 'ipv4Dst'): boolean {
  return f.actions.some((a) => a.type === 'setField' && a.field === field);
}

/**
 * An elastic IP's outbound translation: at the switch where the traffic enters, NAT_LB rewrites the
 * source to the public address and hands the packet to FORWARD towards the exit (docs/elastic-ip.md).
 */
function isSnat(f: FlowEntry): boolean {
  return f.table === TABLE.NAT_LB && f.gotoTable === TABLE.FORWARD && sets(f, 'ipv4Src');
}

/** What the counters of `flow` on switch `dpid` count; empty when nothing watched. */
export function attributeFlow(flow: FlowEntry, dpid: number, ctx: AttributionContext): FlowTarget[] {
  const owner = ctx.describeCookie(flow.cookie);
  const out: FlowTarget[] = [];
  const drop = isDropFlow(flow);
  if (drop) out.push({ kind: 'drop', reason: dropReason(flow, owner) });
  if (!owner || owner.name === '') return out;
  switch (owner.kind) {
    case 'endpoint': {
      const e = ctx.intent.endpoints.get(owner.name);
      if (!e || e.dpid !== dpid) return out;
      if (flow.table === TABLE.INGRESS) out.push({ kind: 'endpoint', id: e.id, direction: drop ? 'dropped' : 'sent' });
      // EGRESS outputs what reaches the endpoint, from its own switch and from links alike.
      else if (flow.table === TABLE.EGRESS && flow.actions.some((a) => a.type === 'output' && a.port === e.port)) {
        out.push({ kind: 'endpoint', id: e.id, direction: 'received' });
      }
      return out;
    }
    case 'loadBalancer': {
      const lb = ctx.intent.loadBalancers?.get(owner.name);
      if (!lb) return out;
      const outside = lb.elasticIpId;
      if (flow.actions.some((a) => a.type === 'group')) {
        out.push({ kind: 'loadBalancer', id: lb.id });
        // Behind an elastic IP, the gateway's DNAT straight into the group is that address's inbound.
        if (outside !== undefined && sets(flow, 'ipv4Dst')) out.push({ kind: 'elasticIp', id: outside, direction: 'in' });
      } else if (flow.table === TABLE.NAT_LB && typeof flow.match.ipv4Src === 'number' && sets(flow, 'ipv4Src')) {
        const backend = endpointAt(ctx.intent, lb.vpcId, flow.match.ipv4Src);
        if (backend) out.push({ kind: 'backend', loadBalancer: lb.id, endpoint: backend.id });
        if (outside !== undefined && isSnat(flow)) out.push({ kind: 'elasticIp', id: outside, direction: 'out' });
      }
      return out;
    }
    case 'elasticIp': {
      if (flow.table === TABLE.NAT_LB && sets(flow, 'ipv4Dst')) out.push({ kind: 'elasticIp', id: owner.name, direction: 'in' });
      else if (isSnat(flow)) out.push({ kind: 'elasticIp', id: owner.name, direction: 'out' });
      return out;
    }
    default:
      return out;
  }
}
