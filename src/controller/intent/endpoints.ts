/**
 * Endpoints: a function, container, host or storage node on a switch port, with its MAC and its
 * address in one subnet. MACs and addresses are allocated when not given.
 */
import { OvercastError, type ErrorCode, type ProblemDetail } from '../../errors/index.js';
import { ENDPOINT_KINDS, GATEWAY_MAC, type ElasticIp, type Endpoint, type EndpointKind, type Subnet } from '../../model/index.js';
import { formatCidr, formatIpv4, formatMac, isMac, isMulticastMac, parseIpv4, parseMac } from '../../net/index.js';
import { cidrOf, portKey } from '../store/intent-index.js';
import { idSeq } from '../store/intent-store.js';
import type { CommittedChange } from './changes.js';
import type { IntentContext, IntentDraft } from './context.js';
import type { Page, PageRequest } from './pagination.js';
import { checkEndpointGroups } from './security-groups.js';
import { collect } from './validation.js';
import { detachAllOf } from './volumes.js';

/** Allocated MACs: `06:xx:xx:xx:xx:xx` (locally administered, unicast), distinct from the demo hosts' `02:`. */
export const ENDPOINT_MAC_BASE = 0x060000000000;

export interface CreateEndpointInput {
  kind: EndpointKind;
  vpc: string;
  subnet: string;
  dpid: number;
  port: number;
  /** Default: a locally administered unicast MAC no one else holds. */
  mac?: string;
  /** Default: the subnet's lowest free address. */
  ip?: string;
  labels?: Record<string, string>;
  /** Security group ids; default: the VPC's default group. */
  securityGroups?: string[];
}
/** A move (either or both of dpid and port) and/or a relabel (labels are replaced whole). */
export interface UpdateEndpointInput {
  dpid?: number;
  port?: number;
  labels?: Record<string, string>;
  /** Replaces the endpoint's security groups whole. */
  securityGroups?: string[];
}
export interface EndpointFilter {
  vpc?: string;
  subnet?: string;
  kind?: EndpointKind;
  dpid?: number;
  /** Every given label must be present with this value. */
  labels?: Record<string, string>;
}

export class EndpointResource {
  constructor(private readonly ctx: IntentContext) {}

  get(id: string): Endpoint {
    const e = this.ctx.index.endpoints.get(id);
    if (!e) throw new OvercastError('OVC_ERR_ENDPOINT_NOT_FOUND', `no endpoint ${id}`, 'params.id');
    return e;
  }

  list(filter: EndpointFilter, page: PageRequest): Page<Endpoint> {
    const labels = Object.entries(filter.labels ?? {});
    return this.ctx.list(
      'endpoint',
      page,
      (e) =>
        (filter.vpc === undefined || e.vpcId === filter.vpc) &&
        (filter.subnet === undefined || e.subnetId === filter.subnet) &&
        (filter.kind === undefined || e.kind === filter.kind) &&
        (filter.dpid === undefined || e.dpid === filter.dpid) &&
        labels.every(([k, v]) => e.labels[k] === v),
    );
  }

  create(input: CreateEndpointInput): Promise<Endpoint> {
    return this.ctx.write((tx) => this.createIn(tx, input));
  }

  private createIn(tx: IntentDraft, input: CreateEndpointInput): Endpoint {
    const { index } = this.ctx;
    const problems: ProblemDetail[] = [];
    const report = (code: ErrorCode, field: string, message: string) => problems.push({ code, message, field });
    if (!(ENDPOINT_KINDS as readonly string[]).includes(input.kind)) report('OVC_ERR_API_VALIDATION', 'body.kind', `kind must be one of ${ENDPOINT_KINDS.join(', ')}`);
    const vpc = index.vpcs.get(input.vpc);
    if (!vpc) report('OVC_ERR_VPC_NOT_FOUND', 'body.vpc', `no VPC ${input.vpc}`);
    let subnet = index.subnets.get(input.subnet);
    if (!subnet || (vpc && subnet.vpcId !== vpc.id)) {
      report('OVC_ERR_SUBNET_NOT_FOUND', 'body.subnet', `no subnet ${input.subnet} in VPC ${input.vpc}`);
      subnet = undefined;
    }
    this.checkPlacement(problems, input.dpid, input.port, undefined);
    let ip: number | undefined;
    if (input.ip !== undefined) {
      ip = collect(problems, () => parseIpv4(input.ip as string, 'body.ip'));
      if (ip !== undefined && subnet) this.checkIp(problems, subnet, ip);
    }
    let mac: number | undefined;
    if (input.mac !== undefined) {
      mac = collect(problems, () => parseMac(input.mac as string, 'body.mac'));
      if (mac !== undefined) this.checkMac(problems, mac);
    }
    const defaultId = vpc && index.defaultGroupOf.get(vpc.id);
    const groups = vpc && checkEndpointGroups(problems, index, vpc.id, input.securityGroups ?? (defaultId ? [defaultId] : []), 'body.securityGroups');
    if (problems.length > 0 || !vpc || !subnet || !groups) throw OvercastError.fromProblems(problems);
    const vpcId = subnet.vpcId;
    const address = ip ?? index.lowestFreeIp(subnet, (x) => index.isLoadBalancerVip(vpcId, x));
    if (address === undefined) throw new OvercastError('OVC_ERR_SUBNET_EXHAUSTED', `subnet ${subnet.id} (${formatCidr(cidrOf(subnet))}) has no free address`, 'body.subnet');
    const s = subnet;
    return tx.create('endpoint', (id) => ({
      id,
      kind: input.kind,
      vpcId: s.vpcId,
      subnetId: s.id,
      dpid: input.dpid,
      port: input.port,
      mac: mac ?? this.allocateMac(idSeq('endpoint', id) ?? 0),
      ip: address,
      labels: { ...(input.labels ?? {}) },
      securityGroups: groups,
    }));
  }

  update(id: string, input: UpdateEndpointInput): Promise<Endpoint> {
    return this.ctx.write((tx) => this.updateIn(tx, id, input));
  }

  private updateIn(tx: IntentDraft, id: string, input: UpdateEndpointInput): Endpoint {
    const before = this.get(id);
    const dpid = input.dpid ?? before.dpid;
    const port = input.port ?? before.port;
    const problems: ProblemDetail[] = [];
    if (dpid !== before.dpid || port !== before.port) this.checkPlacement(problems, dpid, port, id);
    const groups = input.securityGroups && checkEndpointGroups(problems, this.ctx.index, before.vpcId, input.securityGroups, 'body.securityGroups');
    if (problems.length > 0) throw OvercastError.fromProblems(problems);
    const after: Endpoint = { ...before, dpid, port, labels: input.labels ? { ...input.labels } : before.labels, ...(groups ? { securityGroups: groups } : {}) };
    const sameGroups = groups === undefined || (before.securityGroups !== undefined && groups.join() === before.securityGroups.join());
    if (dpid === before.dpid && port === before.port && sameLabels(before.labels, after.labels) && sameGroups) return before;
    tx.commit([{ kind: 'endpoint', op: 'update', before, after }]);
    return after;
  }

  /**
   * Deletes the endpoint; an elastic IP associated with it is disassociated and its volume attachments
   * detached in the same transaction. Refused while it is a volume's target.
   */
  delete(id: string): Promise<void> {
    return this.ctx.write((tx) => {
      const before = this.get(id);
      const volumes = [...this.ctx.index.volumeIdsOfTarget(id)];
      if (volumes.length > 0) throw new OvercastError('OVC_ERR_VOLUME_TARGET_IN_USE', `endpoint ${id} is a target of ${volumes.join(', ')}`, 'params.id');
      const freed = [...this.ctx.index.elasticIps.values()]
        .filter((x) => x.endpointId === id)
        .map((x): CommittedChange => ({ kind: 'elasticIp', op: 'update', before: x, after: { id: x.id, publicIp: x.publicIp } satisfies ElasticIp }));
      tx.commit([...freed, ...detachAllOf(this.ctx.index, id), { kind: 'endpoint', op: 'delete', before }]);
    });
  }

  /** Is (dpid, port) a port the endpoint `self` may take? */
  private checkPlacement(problems: ProblemDetail[], dpid: number, port: number, self: string | undefined): void {
    const { placement } = this.ctx;
    const ports = placement.portsByDpid.get(dpid);
    if (!ports) {
      problems.push({ code: 'OVC_ERR_ENDPOINT_UNKNOWN_SWITCH', message: `no switch with dpid ${dpid}`, field: 'body.dpid' });
      return;
    }
    if (!ports.has(port)) {
      problems.push({ code: 'OVC_ERR_ENDPOINT_UNKNOWN_PORT', message: `switch ${placement.switchByDpid.get(dpid)?.name} has no port ${port}`, field: 'body.port' });
      return;
    }
    const key = portKey(dpid, port);
    const topoUse = placement.usedPorts.get(key);
    const owner = this.ctx.index.portOwner.get(key);
    if (topoUse !== undefined || (owner !== undefined && owner !== self)) {
      problems.push({ code: 'OVC_ERR_ENDPOINT_PORT_IN_USE', message: `port ${port} of dpid ${dpid} carries ${topoUse ?? `endpoint ${owner}`}`, field: 'body.port' });
    }
  }

  private checkIp(problems: ProblemDetail[], subnet: Subnet, ip: number): void {
    const cidr = cidrOf(subnet);
    const at = `${formatIpv4(ip)} in subnet ${subnet.id} (${formatCidr(cidr)})`;
    if (!cidr.contains(ip)) problems.push({ code: 'OVC_ERR_ENDPOINT_IP_OUTSIDE_SUBNET', message: `${formatIpv4(ip)} is not inside subnet ${subnet.id} (${formatCidr(cidr)})`, field: 'body.ip' });
    else if (cidr.hostIndex(ip) < 0) problems.push({ code: 'OVC_ERR_ENDPOINT_IP_RESERVED', message: `${at} is the network or broadcast address`, field: 'body.ip' });
    else if (ip === subnet.gateway) problems.push({ code: 'OVC_ERR_ENDPOINT_IP_TAKEN', message: `${at} is the gateway`, field: 'body.ip' });
    else {
      const owner = this.ctx.index.ipOwner(subnet.id, ip);
      if (owner) problems.push({ code: 'OVC_ERR_ENDPOINT_IP_TAKEN', message: `${at} belongs to endpoint ${owner}`, field: 'body.ip' });
    }
  }

  private checkMac(problems: ProblemDetail[], mac: number): void {
    if (mac === 0 || isMulticastMac(mac)) {
      problems.push({ code: 'OVC_ERR_NET_BAD_MAC', message: `${formatMac(mac)} is not a unicast address`, field: 'body.mac' });
    } else if (this.macTaken(mac)) {
      const owner = this.ctx.index.macOwner.get(mac);
      problems.push({ code: 'OVC_ERR_ENDPOINT_MAC_TAKEN', message: `${formatMac(mac)} belongs to ${owner ? `endpoint ${owner}` : 'a topology host or the gateway'}`, field: 'body.mac' });
    }
  }

  private macTaken(mac: number): boolean {
    return mac === GATEWAY_MAC || this.ctx.index.macOwner.has(mac) || this.ctx.placement.hostMacs.has(mac);
  }

  /** From the endpoint's own number, so allocation is deterministic; skips MACs someone chose by hand. */
  private allocateMac(seq: number): number {
    for (let mac = ENDPOINT_MAC_BASE + seq; isMac(mac); mac++) {
      if (!this.macTaken(mac)) return mac;
    }
    throw new Error('no free MAC left');
  }
}

function sameLabels(x: Readonly<Record<string, string>>, y: Readonly<Record<string, string>>): boolean {
  const kx = Object.keys(x);
  return kx.length === Object.keys(y).length && kx.every((k) => y[k] === x[k]);
}
