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
import type { FlowEntry } from '../flow/index.js';
import { flowKey } from '../flow/index.js';
import {
  linkId,
  setLinkUp,
  type Endpoint,
  type Intent,
  type LinkSelector,
  type Subnet,
  type Topology,
  type Vpc,
} from '../model/index.js';
import { compileOwnerFlows, fabricOwners, ownerCookie, type Owner, type SwitchTables } from './compile-forwarding.js';
import { compileEndpointFlows, compileSubnetFlows, compileVpcFlows, type OwnerFlows } from './compile-vpc-flows.js';
import { endpointCookie, subnetCookie, vpcCookie } from './cookies.js';
import { createFabricContext, type FabricContext } from './fabric-context.js';
import { sameFlow } from './flow-equality.js';
import { IntentState } from './intent-state.js';
import { OwnerRegistry, type OwnerName } from './owner-registry.js';

export type IntentChange =
  | { kind: 'vpc'; op: 'add' | 'update'; vpc: Vpc }
  | { kind: 'vpc'; op: 'delete'; id: string }
  | { kind: 'subnet'; op: 'add' | 'update'; subnet: Subnet }
  | { kind: 'subnet'; op: 'delete'; id: string }
  | { kind: 'endpoint'; op: 'add' | 'update'; endpoint: Endpoint }
  | { kind: 'endpoint'; op: 'delete'; id: string }
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
  add: FlowEntry[];
  remove: FlowEntry[];
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
  topology(): Topology;
  intent(): Intent;
  /** Which owner a cookie names. */
  describeCookie(cookie: number): OwnerName | undefined;
  stats(): CompilerStats;
}

interface OwnerRecord {
  cookie: number;
  flows: OwnerFlows;
}

interface EndpointRecord {
  vpcId: string;
  home: string;
}

const EMPTY_FLOWS: OwnerFlows = new Map();

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
  private readonly owners = new Map<string, OwnerRecord>();
  private readonly switchTables = new Map<number, Set<FlowEntry>>();
  private readonly registry = new OwnerRegistry();
  private underlay = new Map<string, Owner>();
  private dpidOf = new Map<string, number>();
  private nameOfDpid = new Map<number, string>();
  private readonly endpointRecords = new Map<string, EndpointRecord>();
  /** Per VPC: active endpoints per switch name. */
  private readonly presence = new Map<string, Map<string, number>>();
  private readonly presentCache = new Map<string, number[]>();
  /** Per VPC, per home switch: the switches sending towards it and their ports. */
  private readonly towardsCache = new Map<string, Map<string, Map<number, number>>>();
  private delta: TablesDelta | undefined;

  constructor(topology: Topology, intent: Intent) {
    this.state = new IntentState(topology, intent);
    this.setTopology(topology);
    const dirty = new Set<string>(this.underlay.keys());
    for (const id of this.state.vpcs.keys()) dirty.add(`v:${id}`);
    for (const id of this.state.subnets.keys()) dirty.add(`s:${id}`);
    this.run(dirty, new Set(this.state.endpoints.keys()));
  }

  private setTopology(topology: Topology): void {
    this.topo = topology;
    this.ctx = createFabricContext(topology);
    this.state.setTopology(topology);
    this.dpidOf = new Map(topology.switches.map((s) => [s.name, s.dpid]));
    this.nameOfDpid = new Map(topology.switches.map((s) => [s.dpid, s.name]));
    for (const sw of topology.switches) if (!this.switchTables.has(sw.dpid)) this.switchTables.set(sw.dpid, new Set());
    this.underlay = new Map(fabricOwners(topology).map((o) => [underlayKey(o), o]));
    this.presentCache.clear();
    this.towardsCache.clear();
  }

  apply(change: IntentChange): TablesDelta {
    const delta: TablesDelta = new Map();
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
      if (d.add.length === 0 && d.remove.length === 0) delta.delete(dpid);
    }
    return delta;
  }

  private applyChange(change: IntentChange): void {
    const dirty = new Set<string>();
    const candidates = new Set<string>();
    const s = this.state;
    const touchVpc = (id: string) => {
      dirty.add(`v:${id}`);
      for (const sid of s.subnetsByVpc.get(id) ?? []) dirty.add(`s:${sid}`);
      for (const eid of s.endpointsByVpc.get(id) ?? []) candidates.add(eid);
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
      case 'link':
      case 'topology': {
        const next = change.kind === 'link' ? setLinkUp(this.topo, change.link, change.op === 'up') : change.topology;
        if (next === this.topo) return;
        for (const key of this.underlay.keys()) dirty.add(key);
        this.setTopology(next);
        for (const key of this.underlay.keys()) dirty.add(key);
        for (const id of s.vpcs.keys()) dirty.add(`v:${id}`);
        for (const id of s.endpoints.keys()) candidates.add(id);
        // Ports may have changed hands; endpoints that went away must lose their flows too.
        for (const id of this.endpointRecords.keys()) candidates.add(id);
        break;
      }
    }
    this.run(dirty, candidates);
  }

  /** Re-decides the candidates' activity and homes, updates presence, then recompiles every dirty owner. */
  private run(dirty: Set<string>, candidates: Set<string>): void {
    const presenceChanged = new Set<string>();
    for (const id of candidates) {
      dirty.add(`e:${id}`);
      const e = this.state.endpoints.get(id);
      const home = e ? this.state.endpointHome(e)?.name : undefined;
      const before = this.endpointRecords.get(id);
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
    for (const vpcId of presenceChanged) {
      this.presentCache.delete(vpcId);
      this.towardsCache.delete(vpcId);
      dirty.add(`v:${vpcId}`);
      for (const sid of this.state.subnetsByVpc.get(vpcId) ?? []) dirty.add(`s:${sid}`);
      for (const eid of this.state.endpointsByVpc.get(vpcId) ?? []) dirty.add(`e:${eid}`);
    }
    for (const key of dirty) this.recompile(key);
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
    const at = this.presence.get(vpcId);
    if (!at) return [];
    return [...at.keys()].sort((x, y) => (this.dpidOf.get(x) ?? 0) - (this.dpidOf.get(y) ?? 0));
  }

  private presentDpids(vpcId: string): number[] {
    let dpids = this.presentCache.get(vpcId);
    if (!dpids) {
      dpids = this.presentSwitches(vpcId).map((n) => this.dpidOf.get(n) ?? 0);
      this.presentCache.set(vpcId, dpids);
    }
    return dpids;
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

  private compileOwner(key: string): { flows: OwnerFlows; cookie: number; name: OwnerName } | undefined {
    const kind = key.slice(0, 2);
    const id = key.slice(2);
    const s = this.state;
    if (kind === 'e:') {
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
    if (kind === 's:') {
      const subnet = s.subnets.get(id);
      if (!subnet || !s.subnetActive(subnet)) return undefined;
      const vpc = s.activeVpc(subnet.vpcId);
      if (!vpc) return undefined;
      const cookie = subnetCookie(id);
      return { flows: compileSubnetFlows(subnet, vpc.vni, this.presentDpids(vpc.id), cookie), cookie, name: { kind: 'subnet', name: id } };
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

  private recompile(key: string): void {
    const old = this.owners.get(key);
    const fresh = this.compileOwner(key);
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
    if (old && (!fresh || old.cookie !== fresh.cookie)) this.registry.delete(old.cookie);
    if (fresh && kept.size > 0) {
      this.owners.set(key, { cookie: fresh.cookie, flows: kept });
      this.registry.set(fresh.cookie, fresh.name);
    } else {
      this.owners.delete(key);
      if (fresh) this.registry.delete(fresh.cookie);
    }
  }

  /**
   * Replaces an owner's flows on one switch and records the difference. Returns the list to keep: old
   * objects where nothing changed (stable identity for the controller), new ones elsewhere.
   */
  private diffSwitch(dpid: number, before: FlowEntry[] | undefined, after: FlowEntry[]): FlowEntry[] {
    let table = this.switchTables.get(dpid);
    if (!table) this.switchTables.set(dpid, (table = new Set()));
    const old = before ?? [];
    if (old.length === after.length && old.every((f, i) => sameFlow(f, after[i]))) return old;
    const d = this.deltaFor(dpid);
    if (old.length === 0) {
      for (const f of after) table.add(f);
      d?.add.push(...after);
      return after;
    }
    const oldByKey = new Map<string, FlowEntry>();
    for (const f of old) oldByKey.set(flowKey(f), f);
    const kept: FlowEntry[] = [];
    for (const f of after) {
      const k = flowKey(f);
      const prev = oldByKey.get(k);
      if (prev && sameFlow(prev, f)) {
        kept.push(prev);
        oldByKey.delete(k);
      } else {
        kept.push(f);
        table.add(f);
        d?.add.push(f);
      }
    }
    for (const f of oldByKey.values()) {
      table.delete(f);
      d?.remove.push(f);
    }
    return kept;
  }

  private deltaFor(dpid: number): SwitchDelta | undefined {
    if (!this.delta) return undefined;
    let d = this.delta.get(dpid);
    if (!d) this.delta.set(dpid, (d = { add: [], remove: [] }));
    return d;
  }

  tables(): SwitchTables {
    const out: SwitchTables = new Map();
    for (const sw of this.topo.switches) out.set(sw.dpid, this.table(sw.dpid));
    return out;
  }

  table(dpid: number): FlowEntry[] {
    return [...(this.switchTables.get(dpid) ?? [])];
  }

  topology(): Topology {
    return this.topo;
  }

  intent(): Intent {
    return { vpcs: new Map(this.state.vpcs), subnets: new Map(this.state.subnets), endpoints: new Map(this.state.endpoints) };
  }

  describeCookie(cookie: number): OwnerName | undefined {
    return this.registry.describe(cookie);
  }

  stats(): CompilerStats {
    const flowsPerSwitch = new Map<number, number>();
    let flows = 0;
    for (const [dpid, t] of this.switchTables) {
      flowsPerSwitch.set(dpid, t.size);
      flows += t.size;
    }
    return { owners: this.owners.size, flows, flowsPerSwitch };
  }
}

export function createIncrementalCompiler(topology: Topology, intent: Intent): IncrementalCompiler {
  return new Engine(topology, intent);
}

/** Every switch's flow tables for the topology's own hosts and the intent, from scratch. */
export function fullCompile(topology: Topology, intent: Intent): SwitchTables {
  return createIncrementalCompiler(topology, intent).tables();
}
