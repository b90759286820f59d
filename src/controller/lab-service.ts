/**
 * The controller's lab routes: it knows every lab host's control address from the lab plan, so a ping
 * from one host to another is one REST call (`overcast lab ping h1 h4`).
 */
import type { Topology } from '../model/index.js';
import { shortestPath, buildTopologyGraph, hostByName } from '../model/index.js';
import { OvercastError } from '../errors/index.js';
import { formatIpv4, formatMac } from '../net/index.js';

export interface LabHostAddress {
  name: string;
  control: { host: string; port: number };
}

export interface LabPingResult {
  from: string;
  to: string;
  sent: number;
  received: number;
  replies: { seq: number; rttMs: number; ttl: number }[];
  path: string[];
}

export function createLabService(topology: Topology, hosts: LabHostAddress[]) {
  const graph = buildTopologyGraph(topology);
  const control = new Map(hosts.map((h) => [h.name, h.control]));
  const must = (name: string, field: string) => {
    const spec = hostByName(graph, name);
    const addr = control.get(name);
    if (!spec || !addr) throw new OvercastError('OVC_ERR_LAB_UNKNOWN_HOST', `no lab host named ${name}`, field);
    return { spec, addr };
  };
  return {
    hosts: () =>
      topology.hosts.map((h) => {
        const c = control.get(h.name);
        return { name: h.name, mac: formatMac(h.mac), ip: `${formatIpv4(h.ip)}/${h.prefixLength}`, control: c ? `http://${c.host}:${c.port}` : '' };
      }),
    async ping(from: string, to: string, count: number, timeoutMs: number): Promise<LabPingResult> {
      const src = must(from, 'body.from');
      const dst = must(to, 'body.to');
      const res = await fetch(`http://${src.addr.host}:${src.addr.port}/ping`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ dst: formatIpv4(dst.spec.ip), count, timeoutMs }),
      });
      if (!res.ok) throw new Error(`host ${from} answered HTTP ${res.status}`);
      const outcome = (await res.json()) as Omit<LabPingResult, 'from' | 'to' | 'path'>;
      const p = shortestPath(graph, src.spec.attach.switch, dst.spec.attach.switch);
      // Ports along the way: host -> s1:in ... sN:out -> host.
      const path = [from];
      if (p) {
        let inPort = src.spec.attach.port;
        for (const hop of p.hops) {
          path.push(`${hop.switch}(in ${inPort}, out ${hop.outPort})`);
          inPort = hop.nextInPort;
        }
        path.push(`${dst.spec.attach.switch}(in ${inPort}, out ${dst.spec.attach.port})`);
      }
      path.push(to);
      return { from, to, ...outcome, path };
    },
  };
}
