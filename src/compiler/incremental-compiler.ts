/**
 * The incremental compiler (OVN's inc-proc-eng in spirit, small): intent + topology in, per-switch flow
 * tables out, kept current change by change. Every flow has exactly one owner (an endpoint, a subnet, a
 * VPC, or, for the underlay, the fabric, a link or a topology host); a change marks the owners whose
 * inputs it touched as dirty, each dirty owner is recompiled alone, and its new flows are compared with
 * its old ones: the per-switch delta is exactly what changed. fullCompile runs the same owners from
 * scratch, and the tests hold the two equal after random change sequences.
 *
 * What each owner reads (the dependency edges, all handled here):
 *   endpoint -> itself, its VPC (VNI, activity), its subnet (existence, CIDR), claims on its port, IP,
 *               MAC (rivals), subnet gateways at its IP, the VPC's presence, paths.
 *   subnet   -> itself, its VPC, rival subnets with the same gateway, the VPC's presence.
 *   VPC      -> itself, rival VPCs with the same VNI, its presence, paths and up links.
 * Presence = the switches with at least one active endpoint of the VPC. It only changes when an
 * endpoint lands on a new switch or leaves its last one; then the VPC's own, its subnets' and its
 * endpoints' flows are recompiled (they reach every present switch). Link up/down recompiles every
 * path-dependent owner (underlay, VPCs, endpoints); the delta still carries only flows that changed.
 */
import type { FlowEntry, GroupEntry, GroupMod } from '../flow/index.js';
import { flowKey, sameFlow, sameFlowBody, sameGroup } from '../flow/index.js';
import {
  linkId,
  setLinkUp,
  type ElasticIp,
  type Endpoint,
  type LoadBalancer,
  type Intent,
  type LinkSelector,
  type Subnet,
  type Topology,
  type Vpc,
} from '../model/index.js';
import { compileOwnerFlows, fabricOwners, ownerCookie, type Owner, type SwitchTables } from './compile-fabric.js';
import { compileEndpointFlows, compileSubnetFlows, compileVpcFlows, type OwnerFlows } from './compile-vpc-flows.js';
import { addSubnetHealthFlows } from './compile-health.js';
import { compileElasticIpFlows, compileGatewayFlows, type GatewayPort } from './compile-elastic-ip.js';
import { compileLoadBalancerFlows, type LbBackend, type LbOutside, type OwnerGroups } from './compile-load-balancer.js';
import { elasticIpCookie, endpointCookie, gatewayCookie, loadBalancerCookie, subnetCookie, vpcCookie } from './cookies.js';
import { createFabricContext, type FabricContext } from './fabric-context.js';
import { IntentState } from './intent-state.js';
import { prefixMask } from '../net/cidr.js';
import { OwnerRegistry, type OwnerName } from './owner-registry.js';
import { ServiceState } from './service-state.js';

export type IntentChange =
  | { kind: 'vpc'; op: 'add' | 'update'; vpc: Vpc }
  | { kind: 'vpc'; op: 'delete'; id: string }
  | { kind: 'subnet'; op: 'add' | 'update'; subnet: Subnet }
  | { kind: 'subnet'; op: 'delete'; id: string }
  | { kind: 'endpoint'; op: 'add' | 'update'; endpoint: Endpoint }
  | { kind: 'endpoint'; op: 'delete'; id: string }
  | { kind: 'elasticIp'; op: 'add' | 'update'; elasticIp: ElasticIp }
  | { kind: 'elasticIp'; op: 'delete'; id: string }
  | { kind: 'loadBalancer'; op: 'add' | 'update'; loadBalancer: LoadBalancer }
  | { kind: 'loadBalancer'; op: 'delete'; id: string }
  /** A link named by its id (`s1:2~s2:1`) or either end; throws OVC_ERR_TOPO_UNKNOWN_LINK if none. */
  | { kind: 'link'; op: 'up' | 'down'; link: LinkSelector }
  /** A whole new topology (switches, links, hosts): every owner is recompiled. */
  | { kind: 'topology'; topology: Topology };

/**
 * What one switch must change. `add` replaces any installed flow with the same flowKey (an OpenFlow
 * add does), and `remove` never names a flowKey that `add` names, so apply adds first, then removes
 * (make-before-break), and nothing is ever briefly missing.
 */
export interface SwitchDelta {
  add: readonly FlowEntry[];
  remove: readonly FlowEntry[];
  /** Load balancers' select groups: adds/modifies go before the flows, deletes after (the session orders them). */
  groupMods?: readonly GroupMod[];
}

/** A SwitchDelta while the engine fills it. */
interface PendingDelta {
  add: FlowEntry[];
  remove: FlowEntry[];
  groupMods?: GroupMod[];
}

export type TablesDelta = Map<number, SwitchDelta>;

export interface CompilerStats {
  owners: number;
  flows: number;
  /** Flows per switch, by dpid. */
  flowsPerSwitch: Map<number, number>;
}

export interface IncrementalCompiler {
  /** Applies one change; returns the per-switch delta (switches without change are absent). */
  apply(change: IntentChange): TablesDelta;
  /** The current flows of every switch of the topology (possibly empty), as fresh arrays. */
  tables(): SwitchTables;
  /** The current flows of one switch (empty for an unknown dpid). */
  table(dpid: number): FlowEntry[];
  /** The current groups of every switch that has any. */
  groups(): Map<number, GroupEntry[]>;
  topology(): Topology;
  intent(): Intent;
  /** Which owner a cookie names. */
  describeCookie(cookie: number): OwnerName | undefined;
  stats(): CompilerStats;
}

interface OwnerRecord {
  cookie: number;
  flows: OwnerFlows;
  groups?: OwnerGroups;
}

/** One owner's freshly compiled flows. */
interface CompiledOwner {
  flows: OwnerFlows;
  groups?: OwnerGroups;
  cookie: number;
  name: OwnerName;
}

interface ElasticIpRecord {
  vpcId: string;
  /** Gateway switches serving it: the VPC counts as present there. */
  homes: string[];
}

interface EndpointRecord {
  vpcId: string;
  home: string;
}

const EMPTY_FLOWS: OwnerFlows = new Map();

/** A gateway with the public pool it serves. */
interface ServingGateway extends GatewayPort {
  pool: { network: number; prefixLength: number };
}

function underlayKey(owner: Owner): string {
  switch (owner.kind) {
    case 'fabric':
      return 'fabric';
    case 'link':
      return `l:${linkId(owner.link)}`;
    case 'host':
      return `h:${owner.host.name}`;
  }
}

function underlayName(owner: Owner): OwnerName {
  switch (owner.kind) {
    case 'fabric':
      return { kind: 'fabric', name: '' };
    case 'link':
      return { kind: 'link', name: linkId(owner.link) };
    case 'host':
      return { kind: 'host', name: owner.host.name };
  }
}

class Engine implements IncrementalCompiler {
  private topo!: Topology;
  private ctx!: FabricContext;
  private readonly state: IntentState;
  /** Every owner but endpoints, by key (`v:id`, `s:id`, ..., underlay keys). */
  private readonly owners = new Map<string, OwnerRecord>();
  /**
   * Endpoints' owners by endpoint id: 20,000 in a 1000-VPC compile, so they skip the prefixed key
   * (a fresh string to build and hash per lookup; the intent's own id strings keep their hash).
   */
  private readonly endpointOwners = new Map<string, OwnerRecord>();
  /**
   * Flows per switch, by dpid. The tables themselves are not kept: the owners' flows are the one
   * truth, and tables()/table() gather them (a per-switch Set of every flow cost a third of a
   * 1000-VPC full compile, only to be copied out again).
   */
  private readonly flowCounts = new Map<number, number>();
  private readonly registry = new OwnerRegistry();
  private underlay = new Map<string, Owner>();
  private dpidOf = new Map<string, number>();
  private nameOfDpid = new Map<number, string>();
  private readonly endpointRecords = new Map<string, EndpointRecord>();
  /** Per VPC: active endpoints per switch name. */
  private readonly presence = new Map<string, Map<string, number>>();
  /** Per VPC: its present switches sorted by dpid, names and dpids (cleared when presence or topology changes). */
  private readonly presentCache = new Map<string, { names: string[]; dpids: number[] }>();
  /** Per VPC, per home switch: the switches sending towards it and their ports. */
  private readonly towardsCache = new Map<string, Map<string, Map<number, number>>>();
  private delta: Map<number, PendingDelta> | undefined;
  private readonly services = new ServiceState();
  private readonly eipRecords = new Map<string, ElasticIpRecord>();
  /** Load balancers live behind their elastic IP, by LB id: where that makes their VPC present. */
  private readonly lbEipRecords = new Map<string, ElasticIpRecord>();
  private gateways: ServingGateway[] = [];
  private readonly groupTables = new Map<number, Map<number, GroupEntry>>();

  constructor(topology: Topology, intent: Intent) {
    this.state = new IntentState(topology, intent);
    for (const x of intent.elasticIps?.values() ?? []) this.services.putElasticIp(x);
    for (const lb of intent.loadBalancers?.values() ?? []) this.services.putLoadBalancer(lb);
    this.setTopology(topology);
    const dirty = new Set<string>(this.underlay.keys());
    for (const id of this.state.vpcs.keys()) dirty.add(`v:${id}`);
    for (const id of this.state.subnets.keys()) dirty.add(`s:${id}`);
    for (const g of this.gateways) dirty.add(`g:${g.name}`);
    for (const id of this.services.loadBalancers.keys()) dirty.add(`b:${id}`);
    this.run(dirty, new Set(this.state.endpoints.keys()), new Set(this.services.elasticIps.keys()));
  }

  private setTopology(topology: Topology): void {
    this.topo = topology;
    this.ctx = createFabricContext(topology);
    this.state.setTopology(topology);
    this.dpidOf = new Map(topology.switches.map((s) => [s.name, s.dpid]));
    this.nameOfDpid = new Map(topology.switches.map((s) => [s.dpid, s.name]));
    for (const sw of topology.switches) if (!this.flowCounts.has(sw.dpid)) this.flowCounts.set(sw.dpid, 0);
    this.underlay = new Map(fabricOwners(topology).map((o) => [underlayKey(o), o]));
    this.gateways = (topology.gateways ?? [])
      .filter((g) => this.dpidOf.has(g.attach.switch))
      .map((g) => ({ name: g.name, dpid: this.dpidOf.get(g.attach.switch) ?? 0, port: g.attach.port, mac: g.mac, ip: g.ip, routerMac: g.routerMac, pool: g.publicPool }))
      .sort((x, y) => (x.name < y.name ? -1 : x.name > y.name ? 1 : 0));
    this.presentCache.clear();
    this.towardsCache.clear();
  }

  apply(change: IntentChange): TablesDelta {
    const delta = new Map<number, PendingDelta>();
    this.delta = delta;
    try {
      this.applyChange(change);
    } finally {
      this.delta = undefined;
    }
    // An add replaces a flow with the same identity: a remove of that identity would undo it.
    for (const [dpid, d] of delta) {
      if (d.add.length > 0 && d.remove.length > 0) {
        const added = new Set(d.add.map(flowKey));
        d.remove = d.remove.filter((f) => !added.has(flowKey(f)));
      }
      if (d.add.length === 0 && d.remove.length === 0 && (d.groupMods?.length ?? 0) === 0) delta.delete(dpid);
    }
    return delta;
  }

  private applyChange(change: IntentChange): void {
    const dirty = new Set<string>();
    const candidates = new Set<string>();
    const eips = new Set<string>();
    const s = this.state;
    const svc = this.services;
    const touchVpc = (id: string) => {
      dirty.add(`v:${id}`);
      for (const sid of s.subnetsByVpc.get(id) ?? []) dirty.add(`s:${sid}`);
      for (const eid of s.endpointsByVpc.get(id) ?? []) candidates.add(eid);
      for (const lb of svc.lbsByVpc.get(id) ?? []) dirty.add(`b:${lb}`);
    };
    switch (change.kind) {
      case 'vpc': {
        const id = change.op === 'delete' ? change.id : change.vpc.id;
        const affected = new Set<string>([id]);
        const old = s.vpcs.get(id);
        if (old) for (const v of s.vniClaimants(old.vni)) affected.add(v);
        if (change.op === 'delete') s.deleteVpc(id);
        else {
          s.putVpc(change.vpc);
          for (const v of s.vniClaimants(change.vpc.vni)) affected.add(v);
        }
        for (const v of affected) touchVpc(v);
        break;
      }
      case 'subnet': {
        const id = change.op === 'delete' ? change.id : change.subnet.id;
        const old = s.subnets.get(id);
        const touchGateway = (sub: Subnet) => {
          for (const sid of s.gatewayClaimants(sub.vpcId, sub.gateway)) dirty.add(`s:${sid}`);
          for (const eid of s.endpointsWithIp(sub.vpcId, sub.gateway)) candidates.add(eid);
        };
        dirty.add(`s:${id}`);
        for (const eid of s.endpointsBySubnet.get(id) ?? []) candidates.add(eid);
        if (old) touchGateway(old);
        if (change.op === 'delete') s.deleteSubnet(id);
        else {
          s.putSubnet(change.subnet);
          touchGateway(change.subnet);
        }
        break;
      }
      case 'endpoint': {
        const id = change.op === 'delete' ? change.id : change.endpoint.id;
        candidates.add(id);
        const old = s.endpoints.get(id);
        if (old) for (const r of s.endpointRivals(old)) candidates.add(r);
        if (change.op === 'delete') s.deleteEndpoint(id);
        else {
          s.putEndpoint(change.endpoint);
          for (const r of s.endpointRivals(change.endpoint)) candidates.add(r);
        }
        break;
      }
      case 'elasticIp': {
        const id = change.op === 'delete' ? change.id : change.elasticIp.id;
        eips.add(id);
        const old = svc.elasticIps.get(id);
        if (old) for (const r of svc.elasticIpRivals(old)) eips.add(r);
        if (change.op === 'delete') svc.deleteElasticIp(id);
        else {
          svc.putElasticIp(change.elasticIp);
          for (const r of svc.elasticIpRivals(change.elasticIp)) eips.add(r);
        }
        break;
      }
      case 'loadBalancer': {
        const id = change.op === 'delete' ? change.id : change.loadBalancer.id;
        dirty.add(`b:${id}`);
        const old = svc.loadBalancers.get(id);
        if (old) for (const r of svc.loadBalancerRivals(old)) dirty.add(`b:${r}`);
        if (change.op === 'delete') svc.deleteLoadBalancer(id);
        else {
          svc.putLoadBalancer(change.loadBalancer);
          for (const r of svc.loadBalancerRivals(change.loadBalancer)) dirty.add(`b:${r}`);
        }
        break;
      }
      case 'link':
      case 'topology': {
        const next = change.kind === 'link' ? setLinkUp(this.topo, change.link, change.op === 'up') : change.topology;
        if (next === this.topo) return;
        for (const key of this.underlay.keys()) dirty.add(key);
        for (const g of this.gateways) dirty.add(`g:${g.name}`);
        this.setTopology(next);
        for (const key of this.underlay.keys()) dirty.add(key);
        for (const g of this.gateways) dirty.add(`g:${g.name}`);
        for (const id of svc.elasticIps.keys()) eips.add(id);
        for (const id of this.eipRecords.keys()) eips.add(id);
        for (const id of svc.loadBalancers.keys()) dirty.add(`b:${id}`);
        for (const id of s.vpcs.keys()) dirty.add(`v:${id}`);
        for (const id of s.endpoints.keys()) candidates.add(id);
        // Ports may have changed hands; endpoints that went away must lose their flows too.
        for (const id of this.endpointRecords.keys()) candidates.add(id);
        break;
      }
    }
    this.run(dirty, candidates, eips);
  }

  /** Re-decides the candidates' activity and homes, updates presence, then recompiles every dirty owner. */
  private run(dirty: Set<string>, candidates: Set<string>, eips: Set<string> = new Set()): void {
    const presenceChanged = new Set<string>();
    const dirtyEndpoints = new Set<string>(candidates);
    const { lbsByVpc, eipsByEndpoint, lbsByEip } = this.services;
    for (const id of candidates) {
      const e = this.state.endpoints.get(id);
      const before = this.endpointRecords.get(id);
      // Load balancer pools and elastic IPs follow their endpoints (old and new VPC alike).
      if (lbsByVpc.size > 0) {
        for (const vpcId of [e?.vpcId, before?.vpcId]) {
          if (vpcId !== undefined) for (const lb of lbsByVpc.get(vpcId) ?? []) dirty.add(`b:${lb}`);
        }
      }
      if (eipsByEndpoint.size > 0) for (const x of eipsByEndpoint.get(id) ?? []) eips.add(x);
      const home = e ? this.state.endpointHome(e)?.name : undefined;
      if (before && e && home !== undefined && before.vpcId === e.vpcId && before.home === home) continue;
      if (before) {
        if (this.leave(before.vpcId, before.home)) presenceChanged.add(before.vpcId);
        this.endpointRecords.delete(id);
      }
      if (e && home !== undefined) {
        if (this.enter(e.vpcId, home)) presenceChanged.add(e.vpcId);
        this.endpointRecords.set(id, { vpcId: e.vpcId, home });
      }
    }
    if (lbsByEip.size > 0) for (const id of eips) for (const lb of lbsByEip.get(id) ?? []) dirty.add(`b:${lb}`);
    for (const key of dirty) {
      if (!key.startsWith('b:')) continue;
      const id = key.slice(2);
      const before = this.lbEipRecords.get(id);
      const now = this.loadBalancerPlacement(id);
      if (before && now && before.vpcId === now.vpcId && before.homes.join() === now.homes.join()) continue;
      if (before) {
        for (const h of before.homes) if (this.leave(before.vpcId, h)) presenceChanged.add(before.vpcId);
        this.lbEipRecords.delete(id);
      }
      if (now) {
        for (const h of now.homes) if (this.enter(now.vpcId, h)) presenceChanged.add(now.vpcId);
        this.lbEipRecords.set(id, now);
      }
    }
    for (const id of eips) {
      dirty.add(`x:${id}`);
      const before = this.eipRecords.get(id);
      const now = this.elasticIpPlacement(id);
      if (before && now && before.vpcId === now.vpcId && before.homes.join() === now.homes.join()) continue;
      if (before) {
        for (const h of before.homes) if (this.leave(before.vpcId, h)) presenceChanged.add(before.vpcId);
        this.eipRecords.delete(id);
      }
      if (now) {
        for (const h of now.homes) if (this.enter(now.vpcId, h)) presenceChanged.add(now.vpcId);
        this.eipRecords.set(id, now);
      }
    }
    for (const vpcId of presenceChanged) {
      for (const lb of this.services.lbsByVpc.get(vpcId) ?? []) dirty.add(`b:${lb}`);
      this.presentCache.delete(vpcId);
      this.towardsCache.delete(vpcId);
      dirty.add(`v:${vpcId}`);
      for (const sid of this.state.subnetsByVpc.get(vpcId) ?? []) dirty.add(`s:${sid}`);
      for (const eid of this.state.endpointsByVpc.get(vpcId) ?? []) dirtyEndpoints.add(eid);
    }
    for (const key of dirty) this.replaceOwner(this.owners, key, this.compileOwner(key));
    for (const id of dirtyEndpoints) this.replaceOwner(this.endpointOwners, id, this.compileEndpoint(id));
  }

  /** The gateways whose pool holds a public address, by name. */
  private servingGateways(publicIp: number): ServingGateway[] {
    return this.gateways.filter((g) => {
      const mask = prefixMask(g.pool.prefixLength);
      return ((publicIp & mask) >>> 0) === ((g.pool.network & mask) >>> 0);
    });
  }

  /**
   * Where traffic for the outside leaves: by the nearest serving gateway, decided switch by switch.
   * Every switch with a serving gateway is an exit (its first gateway by name translates there); any
   * other switch on the way from `sources` sends towards ITS nearest exit (fewest hops; ties to the
   * exit of the first gateway by name), so the paths of several sources (an LB's backends) agree
   * wherever they meet, each hop is closer to an exit than the last, and an exit cut off by links
   * down is never chosen while another is reachable. Cloud VPCs do the same (traffic leaves by the
   * closest internet gateway); before, everything left by the first gateway by name.
   */
  private routesToExits(gateways: readonly ServingGateway[], sources: Iterable<number>): { exits: GatewayPort[]; transit: Map<number, number> } {
    const exitAt = new Map<string, GatewayPort>();
    for (const g of gateways) {
      const name = this.nameOfDpid.get(g.dpid);
      if (name !== undefined && !exitAt.has(name)) exitAt.set(name, g);
    }
    const transit = new Map<number, number>();
    for (const dpid of sources) {
      let at = this.nameOfDpid.get(dpid);
      while (at !== undefined && !exitAt.has(at) && !transit.has(this.dpidOf.get(at) ?? 0)) {
        let best: string | undefined;
        let bestHops = Infinity;
        for (const exit of exitAt.keys()) {
          const n = this.hopsBetween(at, exit);
          if (n !== undefined && n < bestHops) {
            best = exit;
            bestHops = n;
          }
        }
        const hop = best === undefined ? undefined : this.ctx.nextHopsTo(best).get(at);
        if (!hop) break;
        transit.set(this.dpidOf.get(at) ?? 0, hop.outPort);
        at = hop.next;
      }
    }
    return { exits: [...exitAt.values()], transit };
  }

  /** Hops from one switch to another along the shortest paths, or undefined when links down part them. */
  private hopsBetween(from: string, to: string): number | undefined {
    const hops = this.ctx.nextHopsTo(to);
    let n = 0;
    for (let at = from; at !== to; n++) {
      const hop = hops.get(at);
      if (!hop || n > this.nameOfDpid.size) return undefined;
      at = hop.next;
    }
    return n;
  }

  /** Where a live elastic IP makes its VPC present (its gateways' switches), or undefined when it is not live. */
  private elasticIpPlacement(id: string): ElasticIpRecord | undefined {
    const x = this.services.elasticIps.get(id);
    if (!x || !this.services.elasticIpHolds(x) || x.endpointId === undefined) return undefined;
    const rec = this.endpointRecords.get(x.endpointId);
    if (!rec) return undefined;
    const gws = this.servingGateways(x.publicIp);
    if (gws.length === 0) return undefined;
    const homes = [...new Set(gws.map((g) => this.nameOfDpid.get(g.dpid) ?? ''))].sort();
    return { vpcId: rec.vpcId, homes };
  }

  /** Where a load balancer live behind its elastic IP makes its VPC present (its gateways' switches). */
  private loadBalancerPlacement(id: string): ElasticIpRecord | undefined {
    const lb = this.services.loadBalancers.get(id);
    const x = lb ? this.services.loadBalancerElasticIp(lb) : undefined;
    if (!lb || !x) return undefined;
    const gws = this.servingGateways(x.publicIp);
    if (gws.length === 0) return undefined;
    const homes = [...new Set(gws.map((g) => this.nameOfDpid.get(g.dpid) ?? ''))].sort();
    return { vpcId: lb.vpcId, homes };
  }

  /** Returns true when the VPC appeared on a new switch. */
  private enter(vpcId: string, home: string): boolean {
    let at = this.presence.get(vpcId);
    if (!at) this.presence.set(vpcId, (at = new Map()));
    const n = at.get(home) ?? 0;
    at.set(home, n + 1);
    return n === 0;
  }

  /** Returns true when the VPC left a switch. */
  private leave(vpcId: string, home: string): boolean {
    const at = this.presence.get(vpcId);
    const n = at?.get(home) ?? 0;
    if (!at || n === 0) return false;
    if (n > 1) {
      at.set(home, n - 1);
      return false;
    }
    at.delete(home);
    if (at.size === 0) this.presence.delete(vpcId);
    return true;
  }

  /** Switches (names) where the VPC has active endpoints, by dpid. */
  private presentSwitches(vpcId: string): string[] {
    return this.present(vpcId).names;
  }

  private presentDpids(vpcId: string): number[] {
    return this.present(vpcId).dpids;
  }

  private present(vpcId: string): { names: string[]; dpids: number[] } {
    let cached = this.presentCache.get(vpcId);
    if (!cached) {
      const at = this.presence.get(vpcId);
      const names = at ? [...at.keys()].sort((x, y) => (this.dpidOf.get(x) ?? 0) - (this.dpidOf.get(y) ?? 0)) : [];
      cached = { names, dpids: names.map((n) => this.dpidOf.get(n) ?? 0) };
      this.presentCache.set(vpcId, cached);
    }
    return cached;
  }

  /**
   * The switches on the paths from every switch where the VPC is present to `home`, each with its port
   * towards `home` (home itself excluded). Paths are hop-by-hop consistent (src/model/paths.ts), so a
   * walk stops where it meets one already walked.
   */
  private towards(vpcId: string, home: string): Map<number, number> {
    let perHome = this.towardsCache.get(vpcId);
    if (!perHome) this.towardsCache.set(vpcId, (perHome = new Map()));
    let out = perHome.get(home);
    if (out) return out;
    out = new Map<number, number>();
    const seen = new Set<string>();
    const hops = this.ctx.nextHopsTo(home);
    for (const from of this.presentSwitches(vpcId)) {
      let at = from;
      while (at !== home && !seen.has(at)) {
        const hop = hops.get(at);
        if (!hop) break; // cut off from home: nothing to forward
        seen.add(at);
        out.set(this.dpidOf.get(at) ?? 0, hop.outPort);
        at = hop.next;
      }
    }
    perHome.set(home, out);
    return out;
  }

  private compileOwner(key: string): CompiledOwner | undefined {
    const kind = key.slice(0, 2);
    const id = key.slice(2);
    const s = this.state;
    if (kind === 'g:') {
      const g = this.gateways.find((x) => x.name === id);
      if (!g) return undefined;
      const cookie = gatewayCookie(id);
      return { flows: compileGatewayFlows(g, cookie), cookie, name: { kind: 'gateway', name: id } };
    }
    if (kind === 'x:') return this.compileElasticIp(id);
    if (kind === 'b:') return this.compileLoadBalancer(id);
    if (kind === 's:') {
      const subnet = s.subnets.get(id);
      if (!subnet || !s.subnetActive(subnet)) return undefined;
      const vpc = s.activeVpc(subnet.vpcId);
      if (!vpc) return undefined;
      const cookie = subnetCookie(id);
      const present = this.presentDpids(vpc.id);
      const flows = addSubnetHealthFlows(compileSubnetFlows(subnet, vpc.vni, present, cookie), subnet, vpc.vni, present, cookie);
      return { flows, cookie, name: { kind: 'subnet', name: id } };
    }
    if (kind === 'v:') {
      const vpc = s.activeVpc(id);
      if (!vpc) return undefined;
      const present = this.presentSwitches(id);
      const span = new Set<string>(present);
      for (const home of present) {
        for (const dpid of this.towards(id, home).keys()) span.add(this.nameOfDpid.get(dpid) ?? '');
      }
      const linkPorts = new Map<number, number[]>();
      for (const name of span) {
        const ports = (this.ctx.fabric.upLinks.get(name) ?? []).map((l) => l.port).sort((x, y) => x - y);
        if (ports.length > 0) linkPorts.set(this.dpidOf.get(name) ?? 0, ports);
      }
      const cookie = vpcCookie(id);
      return { flows: compileVpcFlows({ vni: vpc.vni, presentDpids: this.presentDpids(id), linkPorts }, cookie), cookie, name: { kind: 'vpc', name: id } };
    }
    const owner = this.underlay.get(key);
    if (!owner) return undefined;
    return { flows: compileOwnerFlows(this.ctx, owner), cookie: ownerCookie(owner), name: underlayName(owner) };
  }

  private compileEndpoint(id: string): CompiledOwner | undefined {
    const s = this.state;
    const rec = this.endpointRecords.get(id);
    const e = s.endpoints.get(id);
    if (!rec || !e) return undefined;
    const vpc = s.activeVpc(e.vpcId);
    const subnet = s.subnets.get(e.subnetId);
    if (!vpc || !subnet) return undefined;
    const cookie = endpointCookie(id);
    const flows = compileEndpointFlows(
      {
        endpoint: e,
        subnet,
        vni: vpc.vni,
        homeDpid: e.dpid,
        presentDpids: this.presentDpids(e.vpcId),
        towards: this.towards(e.vpcId, rec.home),
      },
      cookie,
    );
    return { flows, cookie, name: { kind: 'endpoint', name: id } };
  }

  private compileElasticIp(id: string): { flows: OwnerFlows; cookie: number; name: OwnerName } | undefined {
    const x = this.services.elasticIps.get(id);
    if (!x || !this.eipRecords.has(id) || x.endpointId === undefined) return undefined;
    const e = this.state.endpoints.get(x.endpointId);
    const vpc = e ? this.state.activeVpc(e.vpcId) : undefined;
    if (!e || !vpc) return undefined;
    const gateways = this.servingGateways(x.publicIp);
    const { exits, transit } = this.routesToExits(gateways, [e.dpid]);
    const cookie = elasticIpCookie(id);
    const flows = compileElasticIpFlows({ publicIp: x.publicIp, endpoint: e, vni: vpc.vni, vpcCidr: vpc.cidr, gateways, exits, transit }, cookie);
    return { flows, cookie, name: { kind: 'elasticIp', name: id } };
  }

  private compileLoadBalancer(id: string): { flows: OwnerFlows; groups: OwnerGroups; cookie: number; name: OwnerName } | undefined {
    const lb = this.services.loadBalancers.get(id);
    if (!lb || !this.services.loadBalancerHolds(lb)) return undefined;
    const vpc = this.state.activeVpc(lb.vpcId);
    if (!vpc) return undefined;
    const unhealthy = new Set(lb.unhealthy);
    const members: LbBackend[] = [];
    for (const eid of [...(this.state.endpointsByVpc.get(lb.vpcId) ?? [])].sort()) {
      const e = this.state.endpoints.get(eid);
      const rec = this.endpointRecords.get(eid);
      if (!e || !rec || rec.vpcId !== lb.vpcId || e.labels.function !== lb.function) continue;
      members.push({ endpoint: e, homeDpid: e.dpid });
    }
    const pool = members.filter((b) => !unhealthy.has(b.endpoint.id));
    const cookie = loadBalancerCookie(id);
    const eip = this.lbEipRecords.has(id) ? this.services.loadBalancerElasticIp(lb) : undefined;
    let outside: LbOutside | undefined;
    if (eip) {
      const gateways = this.servingGateways(eip.publicIp);
      const { exits, transit } = this.routesToExits(
        gateways,
        members.map((b) => b.homeDpid),
      );
      outside = { publicIp: eip.publicIp, vpcCidr: vpc.cidr, gateways, exits, transit };
    }
    const out = compileLoadBalancerFlows(
      {
        lb,
        vni: vpc.vni,
        presentDpids: this.presentDpids(lb.vpcId),
        portTowards: (from, to) => {
          const toName = this.nameOfDpid.get(to);
          const fromName = this.nameOfDpid.get(from);
          if (toName === undefined || fromName === undefined) return undefined;
          return this.ctx.nextHopsTo(toName).get(fromName)?.outPort;
        },
        pool,
        members,
        outside,
      },
      cookie,
    );
    return { ...out, cookie, name: { kind: 'loadBalancer', name: id } };
  }

  /** Replaces an owner's groups on every switch and records group-mods for the difference. */
  private diffGroups(before: OwnerGroups | undefined, after: OwnerGroups | undefined): void {
    const dpids = new Set<number>([...(before?.keys() ?? []), ...(after?.keys() ?? [])]);
    for (const dpid of dpids) {
      const old = new Map((before?.get(dpid) ?? []).map((g) => [g.groupId, g]));
      const fresh = after?.get(dpid) ?? [];
      let table = this.groupTables.get(dpid);
      if (!table) this.groupTables.set(dpid, (table = new Map()));
      const mods: GroupMod[] = [];
      for (const g of fresh) {
        const prev = old.get(g.groupId);
        old.delete(g.groupId);
        if (prev && sameGroup(prev, g)) continue;
        table.set(g.groupId, g);
        mods.push({ command: prev ? 'modify' : 'add', group: g });
      }
      for (const g of old.values()) {
        table.delete(g.groupId);
        mods.push({ command: 'delete', group: g });
      }
      if (table.size === 0) this.groupTables.delete(dpid);
      const d = mods.length > 0 ? this.deltaFor(dpid) : undefined;
      if (d) (d.groupMods ??= []).push(...mods);
    }
  }

  /** Installs an owner's fresh flows in place of its old ones (in `owners`, under `key`), recording the delta. */
  private replaceOwner(owners: Map<string, OwnerRecord>, key: string, fresh: CompiledOwner | undefined): void {
    const old = owners.get(key);
    const oldFlows = old?.flows ?? EMPTY_FLOWS;
    const newFlows = fresh?.flows ?? EMPTY_FLOWS;
    let kept: OwnerFlows;
    if (!old) {
      // A new owner (every owner of a full compile): its flows go in as they are.
      kept = newFlows;
      for (const [dpid, flows] of newFlows) this.diffSwitch(dpid, undefined, flows);
    } else {
      kept = new Map();
      for (const [dpid, flows] of newFlows) kept.set(dpid, this.diffSwitch(dpid, oldFlows.get(dpid), flows));
    }
    for (const [dpid, flows] of oldFlows) if (!newFlows.has(dpid)) this.diffSwitch(dpid, flows, []);
    if (old?.groups || fresh?.groups) this.diffGroups(old?.groups, fresh?.groups);
    if (old && (!fresh || old.cookie !== fresh.cookie)) this.registry.delete(old.cookie);
    if (fresh && kept.size > 0) {
      owners.set(key, fresh.groups ? { cookie: fresh.cookie, flows: kept, groups: fresh.groups } : { cookie: fresh.cookie, flows: kept });
      this.registry.set(fresh.cookie, fresh.name);
    } else {
      owners.delete(key);
      if (fresh) this.registry.delete(fresh.cookie);
    }
  }

  /**
   * Replaces an owner's flows on one switch and records the difference. Returns the list to keep: old
   * objects where nothing changed (stable identity for the controller), new ones elsewhere.
   */
  private diffSwitch(dpid: number, before: FlowEntry[] | undefined, after: FlowEntry[]): FlowEntry[] {
    const old = before ?? [];
    if (old.length === after.length && old.every((f, i) => sameFlow(f, after[i]))) return old;
    this.flowCounts.set(dpid, (this.flowCounts.get(dpid) ?? 0) + after.length - old.length);
    const d = this.deltaFor(dpid);
    if (old.length === 0) {
      if (d) for (const f of after) d.add.push(f);
      return after;
    }
    const oldByKey = new Map<string, FlowEntry>();
    for (const f of old) oldByKey.set(flowKey(f), f);
    const kept: FlowEntry[] = [];
    for (const f of after) {
      const k = flowKey(f);
      const prev = oldByKey.get(k);
      if (prev && sameFlowBody(prev, f)) {
        kept.push(prev);
        oldByKey.delete(k);
      } else {
        kept.push(f);
        d?.add.push(f);
      }
    }
    if (d) for (const f of oldByKey.values()) d.remove.push(f);
    return kept;
  }

  private deltaFor(dpid: number): PendingDelta | undefined {
    if (!this.delta) return undefined;
    let d = this.delta.get(dpid);
    if (!d) this.delta.set(dpid, (d = { add: [], remove: [] }));
    return d;
  }

  tables(): SwitchTables {
    // Pre-sized from the counts: growing 100,000-flow arrays push by push costs more than the walk.
    const out: SwitchTables = new Map();
    const slots = new Map<number, { flows: FlowEntry[]; n: number }>();
    for (const sw of this.topo.switches) {
      const flows = new Array<FlowEntry>(this.flowCounts.get(sw.dpid) ?? 0);
      out.set(sw.dpid, flows);
      slots.set(sw.dpid, { flows, n: 0 });
    }
    const gather = (flows: FlowEntry[], dpid: number): void => {
      const slot = slots.get(dpid);
      if (!slot) return;
      const into = slot.flows;
      let n = slot.n;
      for (let i = 0; i < flows.length; i++) into[n++] = flows[i];
      slot.n = n;
    };
    for (const owner of this.owners.values()) owner.flows.forEach(gather);
    for (const owner of this.endpointOwners.values()) owner.flows.forEach(gather);
    return out;
  }

  table(dpid: number): FlowEntry[] {
    const out: FlowEntry[] = [];
    for (const owners of [this.owners, this.endpointOwners]) {
      for (const owner of owners.values()) {
        const flows = owner.flows.get(dpid);
        if (flows) for (const f of flows) out.push(f);
      }
    }
    return out;
  }

  groups(): Map<number, GroupEntry[]> {
    const out = new Map<number, GroupEntry[]>();
    for (const [dpid, t] of this.groupTables) out.set(dpid, [...t.values()]);
    return out;
  }

  topology(): Topology {
    return this.topo;
  }

  intent(): Intent {
    return {
      vpcs: new Map(this.state.vpcs),
      subnets: new Map(this.state.subnets),
      endpoints: new Map(this.state.endpoints),
      elasticIps: new Map(this.services.elasticIps),
      loadBalancers: new Map(this.services.loadBalancers),
    };
  }

  describeCookie(cookie: number): OwnerName | undefined {
    return this.registry.describe(cookie);
  }

  stats(): CompilerStats {
    const flowsPerSwitch = new Map<number, number>();
    let flows = 0;
    for (const [dpid, n] of this.flowCounts) {
      flowsPerSwitch.set(dpid, n);
      flows += n;
    }
    return { owners: this.owners.size + this.endpointOwners.size, flows, flowsPerSwitch };
  }
}

export function createIncrementalCompiler(topology: Topology, intent: Intent): IncrementalCompiler {
  return new Engine(topology, intent);
}

/** Every switch's flow tables for the topology's own hosts and the intent, from scratch. */
export function fullCompile(topology: Topology, intent: Intent): SwitchTables {
  return createIncrementalCompiler(topology, intent).tables();
}
