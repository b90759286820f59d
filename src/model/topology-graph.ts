/**
 * The topology as a graphology graph: switches and hosts are nodes (keyed by name), links and host
 * attachments are edges carrying their port numbers. Parallel links between two switches are allowed
 * (a multigraph). Lookups the compiler and controller make per packet-in or per switch (host by MAC,
 * what is on a port) go through an index built once with the graph, never by scanning it.
 */
import { MultiUndirectedGraph } from 'graphology';
import {
  formatPortRef,
  linkId,
  type HostSpec,
  type LinkSpec,
  type PortRef,
  type PortSpec,
  type SwitchSpec,
  type Topology,
} from './topology.js';

export type TopologyNode = { kind: 'switch'; switch: SwitchSpec } | { kind: 'host'; host: HostSpec };

export type TopologyEdge =
  | { kind: 'link'; id: string; link: LinkSpec }
  | { kind: 'attachment'; host: string; at: PortRef };

/** What is on the other side of a switch port. */
export type Neighbour =
  | { kind: 'switch'; switch: string; port: number; up: boolean; linkId: string }
  | { kind: 'host'; host: HostSpec };

export interface TopologyIndex {
  switchByName: ReadonlyMap<string, SwitchSpec>;
  switchByDpid: ReadonlyMap<number, SwitchSpec>;
  hostByName: ReadonlyMap<string, HostSpec>;
  hostByMac: ReadonlyMap<number, HostSpec>;
  hostByIp: ReadonlyMap<number, HostSpec>;
  /** Keyed by `switch:port`. */
  onPort: ReadonlyMap<string, Neighbour>;
}

export interface TopologyGraphAttributes {
  name: string;
  topology: Topology;
  index: TopologyIndex;
}

export type TopologyGraph = MultiUndirectedGraph<TopologyNode, TopologyEdge, TopologyGraphAttributes>;

export function indexTopology(t: Topology): TopologyIndex {
  const onPort = new Map<string, Neighbour>();
  for (const link of t.links) {
    const id = linkId(link);
    onPort.set(formatPortRef(link.a), { kind: 'switch', switch: link.b.switch, port: link.b.port, up: link.up, linkId: id });
    onPort.set(formatPortRef(link.b), { kind: 'switch', switch: link.a.switch, port: link.a.port, up: link.up, linkId: id });
  }
  for (const host of t.hosts) onPort.set(formatPortRef(host.attach), { kind: 'host', host });
  return {
    switchByName: new Map(t.switches.map((s) => [s.name, s])),
    switchByDpid: new Map(t.switches.map((s) => [s.dpid, s])),
    hostByName: new Map(t.hosts.map((h) => [h.name, h])),
    hostByMac: new Map(t.hosts.map((h) => [h.mac, h])),
    hostByIp: new Map(t.hosts.map((h) => [h.ip, h])),
    onPort,
  };
}

/** Builds the graph of a checked topology (parseTopology and the mutations return checked ones). */
export function buildTopologyGraph(t: Topology): TopologyGraph {
  const graph: TopologyGraph = new MultiUndirectedGraph<TopologyNode, TopologyEdge, TopologyGraphAttributes>({ allowSelfLoops: true });
  graph.replaceAttributes({ name: t.name, topology: t, index: indexTopology(t) });
  for (const sw of t.switches) graph.addNode(sw.name, { kind: 'switch', switch: sw });
  for (const host of t.hosts) graph.addNode(host.name, { kind: 'host', host });
  for (const link of t.links) {
    const id = linkId(link);
    graph.addUndirectedEdgeWithKey(id, link.a.switch, link.b.switch, { kind: 'link', id, link });
  }
  for (const host of t.hosts) {
    graph.addUndirectedEdgeWithKey(`${host.name}@${formatPortRef(host.attach)}`, host.name, host.attach.switch, {
      kind: 'attachment',
      host: host.name,
      at: host.attach,
    });
  }
  return graph;
}

export function topologyOf(graph: TopologyGraph): Topology {
  return graph.getAttribute('topology');
}

function indexOf(graph: TopologyGraph): TopologyIndex {
  return graph.getAttribute('index');
}

export function getSwitch(graph: TopologyGraph, name: string): SwitchSpec | undefined {
  return indexOf(graph).switchByName.get(name);
}

export function switchByDpid(graph: TopologyGraph, dpid: number): SwitchSpec | undefined {
  return indexOf(graph).switchByDpid.get(dpid);
}

/** The ports a switch declares, in declaration order; empty for an unknown switch. */
export function switchPorts(graph: TopologyGraph, switchName: string): readonly PortSpec[] {
  return getSwitch(graph, switchName)?.ports ?? [];
}

/** What a switch port is connected to: another switch's port (over a link, up or down), a host, or nothing. */
export function neighbourOnPort(graph: TopologyGraph, switchName: string, port: number): Neighbour | undefined {
  return indexOf(graph).onPort.get(`${switchName}:${port}`);
}

export function hostByName(graph: TopologyGraph, name: string): HostSpec | undefined {
  return indexOf(graph).hostByName.get(name);
}

export function hostByMac(graph: TopologyGraph, mac: number): HostSpec | undefined {
  return indexOf(graph).hostByMac.get(mac);
}

export function hostByIp(graph: TopologyGraph, ip: number): HostSpec | undefined {
  return indexOf(graph).hostByIp.get(ip);
}

/** Hosts attached to a switch, in topology order. */
export function hostsOnSwitch(graph: TopologyGraph, switchName: string): HostSpec[] {
  return topologyOf(graph).hosts.filter((h) => h.attach.switch === switchName);
}

/** Links with an end on this switch, each as (local port, far end), sorted by local port. */
export function switchLinks(graph: TopologyGraph, switchName: string): { port: number; link: LinkSpec; far: PortRef }[] {
  const out: { port: number; link: LinkSpec; far: PortRef }[] = [];
  if (!graph.hasNode(switchName)) return out;
  graph.forEachEdge(switchName, (_key, attrs) => {
    if (attrs.kind !== 'link') return;
    const { link } = attrs;
    if (link.a.switch === switchName) out.push({ port: link.a.port, link, far: link.b });
    if (link.b.switch === switchName) out.push({ port: link.b.port, link, far: link.a });
  });
  return out.sort((x, y) => x.port - y.port);
}
