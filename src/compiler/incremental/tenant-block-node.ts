/**
 * VNI blocks' owners: one per block (the top MPLS label, vpc-encoding.ts) that holds an active VPC.
 * Its flows admit the block's labelled frames on every up link port of every switch: pop the top
 * entry, metadata = the block's marker, goto TENANT, where each VPC's own flow matches its bottom
 * label. One flow per port per block in use (a fabric below 65,536 VPCs uses one block), instead of
 * one per port per VPC. It also owns the block's label group on every up link port, which load
 * balancers' buckets chain to (vpc-encoding.ts blockGroup).
 * Reads: which blocks hold an active VPC (every VPC touched re-counts its own), the up links (a new
 * topology recompiles every owner).
 */
import { TABLE, type FlowEntry } from '../../flow/index.js';
import { ETH_TYPE_MPLS } from '../../net/packet/constants.js';
import type { OwnerGroups } from '../compile-load-balancer.js';
import { OwnerFlows } from '../owner-flows.js';
import { tenantBlockCookie } from '../cookies.js';
import { PRIORITY } from '../priorities.js';
import type { FabricContext } from '../fabric-context.js';
import { blockGroup, blockLabel, blockMetadata, POP_BLOCK_LABEL, vniBlock } from '../vpc-encoding.js';
import type { CompileState } from './compile-state.js';
import type { EngineNode } from './engine-node.js';

/** A block's flows on every switch with up links, one per up link port (one object per port number). */
export function compileTenantBlockFlows(block: number, upLinkPorts: ReadonlyMap<number, readonly number[]>, cookie: number): OwnerFlows {
  const out = new OwnerFlows();
  const byPort = new Map<number, FlowEntry>();
  const label = blockLabel(block);
  const meta = Object.freeze(blockMetadata(block));
  for (const [dpid, ports] of upLinkPorts) {
    const flows: FlowEntry[] = [];
    for (const port of ports) {
      let flow = byPort.get(port);
      if (!flow) {
        flow = {
          table: TABLE.INGRESS,
          priority: PRIORITY.INGRESS_LINK_TENANT,
          match: { inPort: port, vlanVid: 0, ethType: ETH_TYPE_MPLS, mplsLabel: label, mplsBos: 0 },
          actions: [POP_BLOCK_LABEL],
          writeMetadata: meta,
          gotoTable: TABLE.TENANT,
          cookie,
        };
        byPort.set(port, flow);
      }
      flows.push(flow);
    }
    if (flows.length > 0) out.set(dpid, flows);
  }
  return out;
}

/** A block's label groups on every up link port (see vpc-encoding.ts blockGroup). */
export function compileTenantBlockGroups(block: number, upLinkPorts: ReadonlyMap<number, readonly number[]>, fabric: FabricContext, cookie: number): OwnerGroups {
  const out: OwnerGroups = new Map();
  for (const [dpid, ports] of upLinkPorts) {
    const slots = fabric.linkPortSlots.get(dpid);
    out.set(dpid, ports.map((port) => blockGroup(block, slots?.get(port) ?? 0, port, cookie)));
  }
  return out;
}

export function tenantBlockNode(state: CompileState): EngineNode {
  const s = state.intent;
  /** Each active VPC's block, and how many active VPCs each block holds. */
  const blockOf = new Map<string, number>();
  const members = new Map<number, number>();
  let counted = false;
  /** Re-counts one VPC; returns its block before and now (undefined: none, the VPC is dark or gone). */
  const recount = (vpcId: string): [number | undefined, number | undefined] => {
    const before = blockOf.get(vpcId);
    const vpc = s.activeVpc(vpcId);
    const now = vpc ? vniBlock(vpc.vni) : undefined;
    if (before === now) return [before, now];
    if (before !== undefined) {
      blockOf.delete(vpcId);
      const n = (members.get(before) ?? 1) - 1;
      if (n === 0) members.delete(before);
      else members.set(before, n);
    }
    if (now !== undefined) {
      blockOf.set(vpcId, now);
      members.set(now, (members.get(now) ?? 0) + 1);
    }
    return [before, now];
  };
  const countAll = () => {
    if (counted) return;
    counted = true;
    for (const id of s.vpcs.keys()) recount(id);
  };
  /** Up link ports per switch (sorted), for the current topology. */
  let ports: Map<number, number[]> | undefined;
  let portsOf: unknown;
  const upLinkPorts = (): Map<number, number[]> => {
    if (ports && portsOf === state.fabric) return ports;
    ports = new Map();
    for (const [name, links] of state.fabric.fabric.upLinks) {
      if (links.length > 0) ports.set(state.fabric.dpidOf.get(name) ?? 0, links.map((l) => l.port).sort((x, y) => x - y));
    }
    portsOf = state.fabric;
    return ports;
  };
  return {
    name: 'tenantBlock',
    ids: () => {
      countAll();
      return [...members.keys()].map(String);
    },
    vpcTouched(vpcId, dirty) {
      countAll();
      const [before, now] = recount(vpcId);
      if (before === now) return;
      if (before !== undefined) dirty.mark('tenantBlock', String(before));
      if (now !== undefined) dirty.mark('tenantBlock', String(now));
    },
    compile(id) {
      const block = Number(id);
      if (!members.has(block)) return undefined;
      const cookie = tenantBlockCookie(block);
      const ports = upLinkPorts();
      return {
        flows: compileTenantBlockFlows(block, ports, cookie),
        groups: compileTenantBlockGroups(block, ports, state.fabric, cookie),
        cookie,
        name: { kind: 'tenantBlock', name: id },
      };
    },
  };
}
