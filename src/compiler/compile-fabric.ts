/**
 * The fabric compiler: a topology in, the underlay's flow tables (the proactive L2 fabric) out, per dpid.
 * Pure: same topology, same tables in the same order (whatever the declaration order), no I/O.
 *
 * The driver walks owners (the fabric, each link, each host) through the steps and stamps every flow
 * with its owner's cookie (./cookies.ts); compileOwnerFlows gives one owner's flows alone, the unit an
 * incremental recompute replaces.
 */
import type { FlowEntry } from '../flow/index.js';
import { linkId, type HostSpec, type LinkSpec, type Topology, type TopologyGraph } from '../model/index.js';
import { arpStep } from './compile-arp.js';
import { forwardStep } from './compile-forward.js';
import { ingressStep } from './compile-ingress.js';
import { tableMissStep } from './compile-table-miss.js';
import type { CompileStep, Emit } from './compile-step.js';
import { FABRIC_COOKIE, hostCookie, linkCookie } from './cookies.js';
import { createFabricContext, type FabricContext } from './fabric-context.js';

/** Flow tables per switch, keyed by dpid. */
export type SwitchTables = Map<number, FlowEntry[]>;

export const FABRIC_STEPS: readonly CompileStep[] = [ingressStep, arpStep, forwardStep, tableMissStep];

export type Owner = { kind: 'fabric' } | { kind: 'link'; link: LinkSpec } | { kind: 'host'; host: HostSpec };

export function ownerCookie(owner: Owner): number {
  switch (owner.kind) {
    case 'fabric':
      return FABRIC_COOKIE;
    case 'link':
      return linkCookie(linkId(owner.link));
    case 'host':
      return hostCookie(owner.host.name);
  }
}

function runOwner(ctx: FabricContext, owner: Owner, steps: readonly CompileStep[], into: SwitchTables): void {
  const cookie = ownerCookie(owner);
  const emit: Emit = (switchName, flow) => {
    const dpid = ctx.dpidOf.get(switchName);
    if (dpid === undefined) throw new Error(`compile step emitted a flow for unknown switch ${switchName}`);
    let flows = into.get(dpid);
    if (!flows) into.set(dpid, (flows = []));
    flows.push({ ...flow, cookie });
  };
  for (const step of steps) {
    if (owner.kind === 'fabric') step.fabric?.(ctx, emit);
    else if (owner.kind === 'link') step.link?.(ctx, owner.link, emit);
    else step.host?.(ctx, owner.host, emit);
  }
}

/**
 * The owners of a topology's flows in a canonical order (fabric, links by id, hosts by name), so
 * emission order, and with it each switch's flow order, does not depend on declaration order.
 */
export function fabricOwners(topology: Topology): Owner[] {
  const byName = <T>(name: (x: T) => string) => (x: T, y: T) => (name(x) < name(y) ? -1 : name(x) > name(y) ? 1 : 0);
  return [
    { kind: 'fabric' },
    ...[...topology.links].sort(byName(linkId)).map((link): Owner => ({ kind: 'link', link })),
    ...[...topology.hosts].sort(byName((h: HostSpec) => h.name)).map((host): Owner => ({ kind: 'host', host })),
  ];
}

/**
 * Table order, then priority (highest first), as a switch's table dump reads. Compiled lists are in
 * owner order instead (canonical, and free); sort a copy with this for display.
 */
export function compareFlows(x: FlowEntry, y: FlowEntry): number {
  return x.table - y.table || y.priority - x.priority;
}

/**
 * Every switch's flow tables for the L2 fabric of a checked topology (parseTopology and the model's
 * mutations return checked ones). Every switch has an entry, possibly empty. Pass the graph when the
 * caller already built it.
 */
export function compileFabric(topology: Topology, graph?: TopologyGraph): SwitchTables {
  const ctx = createFabricContext(topology, graph);
  const tables: SwitchTables = new Map(topology.switches.map((s) => [s.dpid, []]));
  for (const owner of fabricOwners(topology)) runOwner(ctx, owner, FABRIC_STEPS, tables);
  return tables;
}

/** The flows of one owner alone, per dpid (only switches where it has flows). */
export function compileOwnerFlows(ctx: FabricContext, owner: Owner): SwitchTables {
  const tables: SwitchTables = new Map();
  runOwner(ctx, owner, FABRIC_STEPS, tables);
  return tables;
}
