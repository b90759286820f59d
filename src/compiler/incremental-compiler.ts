/**
 * The incremental compiler (OVN's inc-proc-eng in spirit, small): intent + topology in, per-switch flow
 * tables out, kept current change by change. Every flow has exactly one owner; a change marks the
 * owners whose inputs it touched as dirty, each dirty owner is recompiled alone, and its new flows are
 * compared with its old ones: the per-switch delta is exactly what changed. fullCompile runs the same
 * owners from scratch, and the tests hold the two equal after random change sequences.
 *
 * The engine (incremental/engine.ts) knows no owner kind. Each kind is one node in its own file,
 * registered below: what it compiles, which changes touch its owners, and, for endpoints, elastic IPs
 * and load balancers, where it makes its VPC present (incremental/presence.ts). A new kind of intent
 * (an IntentChange variant) is a new node file and one line in NODES. Security groups and network ACLs
 * (securityGroupNode, networkAclNode) own their rules' flows; an endpoint's own security flows are the
 * endpoint's.
 */
import type { Intent, Topology } from '../model/index.js';
import type { SwitchTables } from './compile-fabric.js';
import { CompileState } from './incremental/compile-state.js';
import type { IncrementalCompiler } from './incremental/contract.js';
import { Engine } from './incremental/engine.js';
import type { EngineNode } from './incremental/engine-node.js';
import { elasticIpNode } from './incremental/elastic-ip-node.js';
import { endpointNode } from './incremental/endpoint-node.js';
import { gatewayNode } from './incremental/gateway-node.js';
import { attachmentNode } from './incremental/attachment-node.js';
import { loadBalancerNode } from './incremental/load-balancer-node.js';
import { mountNode, mountReturnNode } from './incremental/mount-node.js';
import { networkAclNode } from './incremental/network-acl-node.js';
import { securityGroupNode } from './incremental/security-group-node.js';
import { subnetNode } from './incremental/subnet-node.js';
import { tenantBlockNode } from './incremental/tenant-block-node.js';
import { underlayNode } from './incremental/underlay-node.js';
import { volumeNode } from './incremental/volume-node.js';
import { vpcNode } from './incremental/vpc-node.js';

export type { CompilerStats, IncrementalCompiler, IntentChange, SwitchDelta, TablesDelta } from './incremental/contract.js';

/**
 * Every node, in the order the engine runs them. Placement nodes come after the nodes whose placement
 * they read: elastic IPs and load balancers follow their endpoints, load balancers their elastic IP.
 */
const NODES: readonly ((state: CompileState) => EngineNode)[] = [
  underlayNode,
  gatewayNode,
  vpcNode,
  tenantBlockNode,
  subnetNode,
  endpointNode,
  elasticIpNode,
  loadBalancerNode,
  volumeNode,
  attachmentNode,
  mountNode,
  mountReturnNode,
  securityGroupNode,
  networkAclNode,
];

export function createIncrementalCompiler(topology: Topology, intent: Intent): IncrementalCompiler {
  const state = new CompileState(topology, intent);
  return new Engine(
    state,
    NODES.map((node) => node(state)),
  );
}

/** Every switch's flow tables for the topology's own hosts and the intent, from scratch. */
export function fullCompile(topology: Topology, intent: Intent): SwitchTables {
  return createIncrementalCompiler(topology, intent).tables();
}
