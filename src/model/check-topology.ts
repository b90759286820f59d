/**
 * The value rules of a topology, checked on the typed value so that parsed files and pure mutations
 * obey the same rules. Every problem is reported, each with its code and field path.
 */
import type { ProblemDetail } from '../errors/index.js';
import { isMac, isMulticastMac } from '../net/mac.js';
import { isIpv4 } from '../net/ipv4.js';
import { cidrContaining } from '../net/cidr.js';
import { formatPortRef, MAX_PORT_NUMBER, NAME_PATTERN, type PortRef, type Topology } from './topology.js';

/** Where each element sits in its source, so problems name the field the user wrote. */
export interface TopologyPaths {
  switches: string[];
  links: { self: string; a: string; b: string }[];
  hosts: string[];
  gateways?: string[];
}

export function defaultPaths(t: Topology): TopologyPaths {
  return {
    switches: t.switches.map((_, i) => `switches[${i}]`),
    links: t.links.map((_, i) => ({ self: `links[${i}]`, a: `links[${i}].a`, b: `links[${i}].b` })),
    hosts: t.hosts.map((_, i) => `hosts[${i}]`),
    gateways: (t.gateways ?? []).map((_, i) => `gateways[${i}]`),
  };
}

export function checkTopology(t: Topology, paths: TopologyPaths = defaultPaths(t)): ProblemDetail[] {
  const problems: ProblemDetail[] = [];
  const report = (code: ProblemDetail['code'], field: string, message: string) => problems.push({ code, message, field });

  if (typeof t.name !== 'string' || t.name.length === 0) report('OVC_ERR_TOPO_SCHEMA', 'name', 'the topology needs a name');

  const names = new Map<string, string>();
  const claimName = (name: string, field: string) => {
    if (!NAME_PATTERN.test(name)) {
      report('OVC_ERR_TOPO_SCHEMA', field, `bad name "${name}": letters, digits, _ . - (no ":")`);
      return;
    }
    const first = names.get(name);
    if (first !== undefined) report('OVC_ERR_TOPO_DUPLICATE_NAME', field, `name "${name}" is already used at ${first}`);
    else names.set(name, field);
  };

  // Ports each switch declares, for link and host endpoint checks.
  const portsOf = new Map<string, Set<number>>();
  const dpids = new Map<number, string>();
  t.switches.forEach((sw, i) => {
    const at = paths.switches[i];
    claimName(sw.name, `${at}.name`);
    if (!Number.isSafeInteger(sw.dpid) || sw.dpid < 1) {
      report('OVC_ERR_TOPO_SCHEMA', `${at}.dpid`, `dpid must be a positive integer below 2^53, not ${sw.dpid}`);
    } else {
      const first = dpids.get(sw.dpid);
      if (first !== undefined) report('OVC_ERR_TOPO_DUPLICATE_DPID', `${at}.dpid`, `dpid ${sw.dpid} is already used by ${first}`);
      else dpids.set(sw.dpid, sw.name);
    }
    const ports = new Set<number>();
    sw.ports.forEach((p, j) => {
      const field = `${at}.ports[${j}]`;
      if (!Number.isInteger(p.number) || p.number < 1 || p.number > MAX_PORT_NUMBER) {
        report('OVC_ERR_TOPO_SCHEMA', field, `port number must be an integer 1..${MAX_PORT_NUMBER}, not ${p.number}`);
      } else if (ports.has(p.number)) {
        report('OVC_ERR_TOPO_DUPLICATE_PORT', field, `switch ${sw.name} declares port ${p.number} twice`);
      } else ports.add(p.number);
    });
    if (!portsOf.has(sw.name)) portsOf.set(sw.name, ports);
  });

  // Each port carries at most one link or host.
  const used = new Map<string, string>();
  const usePort = (ref: PortRef, field: string): void => {
    const ports = portsOf.get(ref.switch);
    if (!ports) {
      report('OVC_ERR_TOPO_UNKNOWN_SWITCH', field, `no switch named "${ref.switch}"`);
      return;
    }
    if (!ports.has(ref.port)) {
      report('OVC_ERR_TOPO_UNKNOWN_PORT', field, `switch ${ref.switch} has no port ${ref.port}`);
      return;
    }
    const key = formatPortRef(ref);
    const first = used.get(key);
    if (first !== undefined) report('OVC_ERR_TOPO_PORT_IN_USE', field, `port ${key} is already used at ${first}`);
    else used.set(key, field);
  };

  t.links.forEach((link, i) => {
    const at = paths.links[i];
    if (typeof link.up !== 'boolean') report('OVC_ERR_TOPO_SCHEMA', `${at.self}.up`, 'up must be true or false');
    if (link.a.switch === link.b.switch && link.a.port === link.b.port) {
      report('OVC_ERR_TOPO_SELF_LINK', at.self, `link joins ${formatPortRef(link.a)} to itself`);
      usePort(link.a, at.a);
      return;
    }
    usePort(link.a, at.a);
    usePort(link.b, at.b);
  });

  const macs = new Map<number, string>();
  const ips = new Map<number, string>();
  t.hosts.forEach((h, i) => {
    const at = paths.hosts[i];
    claimName(h.name, `${at}.name`);
    if (!isMac(h.mac) || h.mac === 0 || isMulticastMac(h.mac)) {
      report('OVC_ERR_NET_BAD_MAC', `${at}.mac`, 'a host MAC must be a non-zero unicast 48-bit address');
    } else {
      const first = macs.get(h.mac);
      if (first !== undefined) report('OVC_ERR_TOPO_DUPLICATE_MAC', `${at}.mac`, `MAC already used by host ${first}`);
      else macs.set(h.mac, h.name);
    }
    const ipProblem = hostAddressProblem(h.ip, h.prefixLength);
    if (ipProblem) {
      report(ipProblem.code, `${at}.ip`, ipProblem.message);
    } else {
      const first = ips.get(h.ip);
      if (first !== undefined) report('OVC_ERR_TOPO_DUPLICATE_IP', `${at}.ip`, `IP already used by host ${first}`);
      else ips.set(h.ip, h.name);
    }
    usePort(h.attach, `${at}.attach`);
  });

  (t.gateways ?? []).forEach((g, i) => {
    const at = paths.gateways?.[i] ?? `gateways[${i}]`;
    claimName(g.name, `${at}.name`);
    for (const key of ['mac', 'routerMac'] as const) {
      if (!isMac(g[key]) || g[key] === 0 || isMulticastMac(g[key])) report('OVC_ERR_NET_BAD_MAC', `${at}.${key}`, `${key} must be a non-zero unicast 48-bit address`);
    }
    const ipProblem = hostAddressProblem(g.ip, g.prefixLength);
    if (ipProblem) report(ipProblem.code, `${at}.ip`, ipProblem.message);
    const pool = g.publicPool;
    if (!isIpv4(pool.network) || !Number.isInteger(pool.prefixLength) || pool.prefixLength < 1 || pool.prefixLength > 32) {
      report('OVC_ERR_NET_BAD_CIDR', `${at}.publicPool`, 'publicPool must be a CIDR a.b.c.d/len');
    }
    usePort(g.attach, `${at}.attach`);
  });
  return problems;
}

/** A host address must be a usable address of its prefix: not 0.0.0.0, not the network or broadcast. */
function hostAddressProblem(ip: number, prefixLength: number): Pick<ProblemDetail, 'code' | 'message'> | undefined {
  if (!isIpv4(ip) || ip === 0) return { code: 'OVC_ERR_NET_BAD_IPV4', message: 'not a usable IPv4 host address' };
  if (!Number.isInteger(prefixLength) || prefixLength < 0 || prefixLength > 32) {
    return { code: 'OVC_ERR_NET_BAD_CIDR', message: `prefix length must be 0..32, not ${prefixLength}` };
  }
  if (cidrContaining(ip, prefixLength).hostIndex(ip) < 0) {
    return { code: 'OVC_ERR_NET_BAD_CIDR', message: `the network or broadcast address of its /${prefixLength} is not a host address` };
  }
  return undefined;
}
