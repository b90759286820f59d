/**
 * The topology as the store keeps it: the topology file's own JSON form (JSON is YAML), so reading it
 * back goes through parseTopology and every rule of a topology file is checked again on load.
 */
import { parseTopology, type Topology } from '../../model/index.js';
import { formatIpv4, formatMac } from '../../net/index.js';

export function encodeTopologyDocument(t: Topology): string {
  return JSON.stringify({
    name: t.name,
    switches: t.switches.map((s) => ({ name: s.name, dpid: s.dpid, ports: s.ports.map((p) => (p.name === undefined ? { number: p.number } : { number: p.number, name: p.name })) })),
    links: t.links.map((l) => ({ a: { switch: l.a.switch, port: l.a.port }, b: { switch: l.b.switch, port: l.b.port }, up: l.up })),
    hosts: t.hosts.map((h) => ({ name: h.name, mac: formatMac(h.mac), ip: `${formatIpv4(h.ip)}/${h.prefixLength}`, attach: { switch: h.attach.switch, port: h.attach.port } })),
  });
}

export function decodeTopologyDocument(doc: string): Topology {
  return parseTopology(doc, '<intent store topology>');
}
