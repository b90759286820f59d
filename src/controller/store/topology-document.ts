/**
 * The topology as the store keeps it: the topology file's own JSON form, so reading it back goes
 * through the file's decoder and every rule of a topology file is checked again on load. (JSON.parse,
 * not the YAML parser: a 20k-port topology loads in milliseconds instead of seconds.)
 */
import { OvercastError } from '../../errors/index.js';
import { checkTopology, decodeTopology, type Topology } from '../../model/index.js';
import { formatIpv4, formatMac } from '../../net/index.js';

export function encodeTopologyDocument(t: Topology): string {
  return JSON.stringify({
    name: t.name,
    switches: t.switches.map((s) => ({ name: s.name, dpid: s.dpid, ports: s.ports.map((p) => (p.name === undefined ? { number: p.number } : { number: p.number, name: p.name })) })),
    links: t.links.map((l) => ({ a: { switch: l.a.switch, port: l.a.port }, b: { switch: l.b.switch, port: l.b.port }, up: l.up })),
    hosts: t.hosts.map((h) => ({ name: h.name, mac: formatMac(h.mac), ip: `${formatIpv4(h.ip)}/${h.prefixLength}`, attach: { switch: h.attach.switch, port: h.attach.port } })),
    ...(t.gateways === undefined
      ? {}
      : {
          gateways: t.gateways.map((g) => ({
            name: g.name,
            attach: { switch: g.attach.switch, port: g.attach.port },
            mac: formatMac(g.mac),
            ip: `${formatIpv4(g.ip)}/${g.prefixLength}`,
            routerMac: formatMac(g.routerMac),
            publicPool: `${formatIpv4(g.publicPool.network)}/${g.publicPool.prefixLength}`,
          })),
        }),
  });
}

export function decodeTopologyDocument(doc: string): Topology {
  const decoded = decodeTopology(JSON.parse(doc));
  const problems = [...decoded.problems, ...checkTopology(decoded.topology, decoded.paths)];
  if (problems.length > 0) throw OvercastError.fromProblems(problems);
  return decoded.topology;
}
