/**
 * What the incremental compiler takes (one intent or topology change at a time) and gives (per-switch
 * deltas, the current tables). The engine (./engine.ts) implements it; ../incremental-compiler.ts
 * builds one.
 */
import type { Attachment, ElasticIp, Endpoint, Intent, LinkSelector, LoadBalancer, NetworkAcl, SecurityGroup, Subnet, Topology, Volume, Vpc } from '../../model/index.js';
import type { FlowEntry, GroupEntry, GroupMod, MeterEntry, MeterMod } from '../../flow/index.js';
import type { SwitchTables } from '../compile-fabric.js';
import type { OwnerName } from '../owner-registry.js';

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
  | { kind: 'volume'; op: 'add' | 'update'; volume: Volume }
  | { kind: 'volume'; op: 'delete'; id: string }
  | { kind: 'attachment'; op: 'add' | 'update'; attachment: Attachment }
  | { kind: 'attachment'; op: 'delete'; id: string }
  | { kind: 'securityGroup'; op: 'add' | 'update'; securityGroup: SecurityGroup }
  | { kind: 'securityGroup'; op: 'delete'; id: string }
  | { kind: 'networkAcl'; op: 'add' | 'update'; networkAcl: NetworkAcl }
  | { kind: 'networkAcl'; op: 'delete'; id: string }
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
  /** Attachments' meters: adds/modifies go before the flows, deletes after (the session orders them). */
  meterMods?: readonly MeterMod[];
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
  /** The current meters of every switch that has any. */
  meters(): Map<number, MeterEntry[]>;
  topology(): Topology;
  intent(): Intent;
  /** Which owner a cookie names. */
  describeCookie(cookie: number): OwnerName | undefined;
  stats(): CompilerStats;
}
