/**
 * Pure topology mutations: each takes a topology and returns a new, checked one (the input is never
 * changed), or throws an OvercastError listing every problem the change would cause. The controller
 * applies these to its current topology and recompiles; rebuild the graph with buildTopologyGraph.
 */
import { OvercastError } from '../errors/index.js';
import { checkTopology } from './check-topology.js';
import { formatPortRef, linkId, otherEnd, type HostSpec, type LinkSpec, type PortRef, type SwitchSpec, type Topology } from './topology.js';

/** Throws when the topology breaks a rule; returns it otherwise. */
export function assertTopology(t: Topology): Topology {
  const problems = checkTopology(t);
  if (problems.length > 0) throw OvercastError.fromProblems(problems);
  return t;
}

export function addSwitch(t: Topology, sw: SwitchSpec): Topology {
  return assertTopology({ ...t, switches: [...t.switches, sw] });
}

/** Removes a switch together with its links and the hosts attached to it (they would dangle). */
export function removeSwitch(t: Topology, name: string): Topology {
  if (!t.switches.some((s) => s.name === name)) {
    throw new OvercastError('OVC_ERR_TOPO_UNKNOWN_SWITCH', `no switch named "${name}"`, 'switch');
  }
  return {
    ...t,
    switches: t.switches.filter((s) => s.name !== name),
    links: t.links.filter((l) => l.a.switch !== name && l.b.switch !== name),
    hosts: t.hosts.filter((h) => h.attach.switch !== name),
  };
}

export function addLink(t: Topology, a: PortRef, b: PortRef, up = true): Topology {
  return assertTopology({ ...t, links: [...t.links, { a, b, up }] });
}

/** A link named by its id (`s1:2~s2:1`, see linkId) or by either of its ends. */
export type LinkSelector = string | PortRef;

function findLink(t: Topology, which: LinkSelector): number {
  const i = t.links.findIndex((l) => (typeof which === 'string' ? linkId(l) === which : otherEnd(l, which) !== undefined));
  if (i < 0) {
    const name = typeof which === 'string' ? which : formatPortRef(which);
    throw new OvercastError('OVC_ERR_TOPO_UNKNOWN_LINK', `no link ${typeof which === 'string' ? '' : 'on '}${name}`, 'link');
  }
  return i;
}

export function removeLink(t: Topology, which: LinkSelector): Topology {
  const i = findLink(t, which);
  return { ...t, links: t.links.filter((_, j) => j !== i) };
}

/** Link up/down: the link stays in the topology (its ports stay taken) but no path uses it while down. */
export function setLinkUp(t: Topology, which: LinkSelector, up: boolean): Topology {
  const i = findLink(t, which);
  if (t.links[i].up === up) return t;
  const link: LinkSpec = { ...t.links[i], up };
  return { ...t, links: t.links.map((l, j) => (j === i ? link : l)) };
}

export function addHost(t: Topology, host: HostSpec): Topology {
  return assertTopology({ ...t, hosts: [...t.hosts, host] });
}

export function removeHost(t: Topology, name: string): Topology {
  if (!t.hosts.some((h) => h.name === name)) {
    throw new OvercastError('OVC_ERR_TOPO_UNKNOWN_HOST', `no host named "${name}"`, 'host');
  }
  return { ...t, hosts: t.hosts.filter((h) => h.name !== name) };
}
