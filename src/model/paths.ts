/**
 * Shortest paths between switches over links that are up, hop count as the metric.
 *
 * Deterministic and hop-by-hop consistent: distances come from a BFS rooted at the DESTINATION
 * (graphology-shortest-path), and at every switch the next hop is the up link towards a neighbour one
 * hop closer, ties broken by the neighbour's dpid, then the local port number. So the next hop depends
 * only on (switch, destination): a path from any switch is the suffix of the paths through it, which is
 * what per-switch forwarding tables need (no loops, no black holes, same answer on every recompute).
 */
import { UndirectedGraph } from 'graphology';
import { singleSourceLength } from 'graphology-shortest-path/unweighted.js';
import { switchLinks, topologyOf, type TopologyGraph } from './topology-graph.js';

export interface NextHop {
  /** The port of this switch to send on. */
  outPort: number;
  /** The neighbour switch and the port the frame arrives on there. */
  next: string;
  nextInPort: number;
}

export interface PathHop extends NextHop {
  switch: string;
}

export interface SwitchPath {
  /** Switch names from source to destination, both included. */
  switches: string[];
  hops: PathHop[];
}

interface UpLink {
  port: number;
  far: string;
  farPort: number;
  farDpid: number;
}

/** The precomputed routing view of a topology graph: the switch graph of up links. */
export interface Fabric {
  view: UndirectedGraph;
  /** Up links of each switch, sorted by (neighbour dpid, local port): the tie-break order. */
  upLinks: Map<string, UpLink[]>;
}

export function buildFabric(graph: TopologyGraph): Fabric {
  const t = topologyOf(graph);
  const dpidOf = new Map(t.switches.map((s) => [s.name, s.dpid]));
  const view = new UndirectedGraph();
  const upLinks = new Map<string, UpLink[]>();
  for (const sw of t.switches) view.addNode(sw.name);
  for (const sw of t.switches) {
    const links: UpLink[] = [];
    for (const { port, link, far } of switchLinks(graph, sw.name)) {
      // A cable looped back to the same switch is never on a shortest path.
      if (!link.up || far.switch === sw.name) continue;
      links.push({ port, far: far.switch, farPort: far.port, farDpid: dpidOf.get(far.switch) ?? 0 });
      view.mergeEdge(sw.name, far.switch);
    }
    links.sort((x, y) => x.farDpid - y.farDpid || x.port - y.port);
    upLinks.set(sw.name, links);
  }
  return { view, upLinks };
}

/** Hop distances of every switch that can reach `to`. */
export function distancesTo(fabric: Fabric, to: string): Record<string, number> {
  return fabric.view.hasNode(to) ? singleSourceLength(fabric.view, to) : {};
}

function chooseNextHop(fabric: Fabric, at: string, dist: Record<string, number>): NextHop | undefined {
  const d = dist[at];
  if (d === undefined || d === 0) return undefined;
  for (const l of fabric.upLinks.get(at) ?? []) {
    if (dist[l.far] === d - 1) return { outPort: l.port, next: l.far, nextInPort: l.farPort };
  }
  return undefined;
}

/**
 * Next hops of every switch towards `to`: a map from switch name to its next hop. `to` itself and
 * switches that cannot reach it are absent.
 */
export function nextHopsTo(fabric: Fabric, to: string): Map<string, NextHop> {
  const dist = distancesTo(fabric, to);
  const out = new Map<string, NextHop>();
  for (const at of Object.keys(dist)) {
    const hop = chooseNextHop(fabric, at, dist);
    if (hop) out.set(at, hop);
  }
  return out;
}

/**
 * The shortest path from one switch to another over up links, or null when there is none (or either
 * switch is unknown). From a switch to itself: one switch, no hops.
 */
export function shortestPath(graph: TopologyGraph, fromSwitch: string, toSwitch: string, fabric = buildFabric(graph)): SwitchPath | null {
  const dist = distancesTo(fabric, toSwitch);
  if (dist[fromSwitch] === undefined) return null;
  const path: SwitchPath = { switches: [fromSwitch], hops: [] };
  let at = fromSwitch;
  while (at !== toSwitch) {
    const hop = chooseNextHop(fabric, at, dist);
    if (!hop) return null; // unreachable by construction: every switch with d > 0 has a closer neighbour
    path.hops.push({ switch: at, ...hop });
    path.switches.push(hop.next);
    at = hop.next;
  }
  return path;
}
