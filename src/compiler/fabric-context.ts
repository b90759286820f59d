/**
 * What every compile step reads: the topology, its graph, and the routing view, computed once per
 * compile and shared. Next hops are computed per destination switch on first use.
 */
import { buildFabric, buildTopologyGraph, nextHopsTo, type Fabric, type NextHop, type Topology, type TopologyGraph } from '../model/index.js';

export interface FabricContext {
  readonly topology: Topology;
  readonly graph: TopologyGraph;
  readonly fabric: Fabric;
  readonly dpidOf: ReadonlyMap<string, number>;
  /** Switch names by dpid. */
  readonly switchNameOf: ReadonlyMap<number, string>;
  /** Switches with at least one host attached (where host-facing flows go). */
  readonly hostSwitches: ReadonlySet<string>;
  /**
   * Every link port of each switch (up or down), by dpid: its position in the switch's link ports
   * sorted by number. Stable while links go down and up; a group id per link port uses it.
   */
  readonly linkPortSlots: ReadonlyMap<number, ReadonlyMap<number, number>>;
  /** Next hop of each switch towards `dstSwitch`; absent for `dstSwitch` itself and for switches that cannot reach it. */
  nextHopsTo(dstSwitch: string): ReadonlyMap<string, NextHop>;
}

export function createFabricContext(topology: Topology, graph: TopologyGraph = buildTopologyGraph(topology)): FabricContext {
  const fabric = buildFabric(graph);
  const memo = new Map<string, Map<string, NextHop>>();
  const dpidOf = new Map(topology.switches.map((s) => [s.name, s.dpid]));
  const linkPorts = new Map<number, number[]>();
  for (const l of topology.links) {
    for (const end of [l.a, l.b]) {
      const dpid = dpidOf.get(end.switch);
      if (dpid === undefined) continue;
      let ports = linkPorts.get(dpid);
      if (!ports) linkPorts.set(dpid, (ports = []));
      ports.push(end.port);
    }
  }
  const linkPortSlots = new Map<number, Map<number, number>>();
  for (const [dpid, ports] of linkPorts) linkPortSlots.set(dpid, new Map([...new Set(ports)].sort((x, y) => x - y).map((p, i) => [p, i])));
  return {
    topology,
    graph,
    fabric,
    dpidOf,
    switchNameOf: new Map(topology.switches.map((s) => [s.dpid, s.name])),
    hostSwitches: new Set(topology.hosts.map((h) => h.attach.switch)),
    linkPortSlots,
    nextHopsTo(dstSwitch) {
      let hops = memo.get(dstSwitch);
      if (!hops) {
        hops = nextHopsTo(fabric, dstSwitch);
        memo.set(dstSwitch, hops);
      }
      return hops;
    },
  };
}
