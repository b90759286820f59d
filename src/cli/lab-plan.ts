/**
 * The lab plan: every UDP address of every switch port and host, and every control address, derived
 * from a topology. `overcast lab up` runs it on 127.0.0.1 (one process per switch and host), and
 * docker/compose.yaml is generated from the same plan with service names for hosts, so the tested
 * process layout is the deployed one. Pure.
 */
import type { Topology } from '../model/index.js';
import { formatIpv4, formatMac } from '../net/index.js';

export interface UdpAddress {
  host: string;
  port: number;
}

export interface SwitchPortPlan {
  number: number;
  bind: UdpAddress;
  /** Where frames leaving this port go; absent for a port with nothing attached. */
  peer?: UdpAddress;
}

export interface SwitchPlan {
  name: string;
  dpid: number;
  ports: SwitchPortPlan[];
}

export interface HostPlan {
  name: string;
  mac: string;
  ip: string;
  bind: UdpAddress;
  peer: UdpAddress;
  /** The host's control API (HTTP, so a TCP port): ping, send UDP, read what it received. */
  control: UdpAddress;
}

export interface LabPlan {
  name: string;
  controller: { host: string; nativePort: number; apiPort: number; bindHost: string };
  switches: SwitchPlan[];
  hosts: HostPlan[];
}

export type LabLayout =
  /**
   * `udpPorts`: free 127.0.0.1 UDP ports, at least labPortCount(topology); `tcpPorts`: free TCP ports
   * for the hosts' HTTP control APIs, one per host (a port free in UDP may be taken in TCP).
   */
  | { kind: 'loopback'; udpPorts: number[]; tcpPorts: number[]; apiPort: number; nativePort: number }
  | { kind: 'compose'; apiPort: number; nativePort: number };

/** In containers every service has its own address, so ports can be fixed numbers. */
const COMPOSE_SWITCH_PORT_BASE = 10000;
const COMPOSE_HOST_DATA_PORT = 10000;
const COMPOSE_HOST_CONTROL_PORT = 9000;

export function planLab(topology: Topology, layout: LabLayout): LabPlan {
  const loopback = layout.kind === 'loopback';
  const udpPool = layout.kind === 'loopback' ? [...layout.udpPorts] : [];
  const tcpPool = layout.kind === 'loopback' ? [...layout.tcpPorts] : [];
  const take = (pool: number[], what: string, service: string, fixedPort: number): UdpAddress => {
    if (!loopback) return { host: service, port: fixedPort };
    const port = pool.shift();
    if (port === undefined) throw new Error(`lab plan: the ${what} port pool is too small`);
    return { host: '127.0.0.1', port };
  };
  const alloc = (service: string, fixedPort: number) => take(udpPool, 'UDP', service, fixedPort);

  const portAddr = new Map<string, UdpAddress>();
  const switches: SwitchPlan[] = topology.switches.map((s) => ({
    name: s.name,
    dpid: s.dpid,
    ports: s.ports.map(({ number }) => {
      const bind = alloc(s.name, COMPOSE_SWITCH_PORT_BASE + number);
      portAddr.set(`${s.name}:${number}`, bind);
      return { number, bind };
    }),
  }));
  const peerOf = new Map<string, UdpAddress>();
  const hosts: HostPlan[] = topology.hosts.map((h) => {
    const bind = alloc(h.name, COMPOSE_HOST_DATA_PORT);
    const control = take(tcpPool, 'TCP', h.name, COMPOSE_HOST_CONTROL_PORT);
    const attachKey = `${h.attach.switch}:${h.attach.port}`;
    const peer = portAddr.get(attachKey);
    if (!peer) throw new Error(`host ${h.name} attaches to unknown port ${attachKey}`);
    peerOf.set(attachKey, bind);
    return { name: h.name, mac: formatMac(h.mac), ip: `${formatIpv4(h.ip)}/${h.prefixLength}`, bind, peer, control };
  });
  for (const l of topology.links) {
    const a = `${l.a.switch}:${l.a.port}`;
    const b = `${l.b.switch}:${l.b.port}`;
    const aAddr = portAddr.get(a);
    const bAddr = portAddr.get(b);
    if (!aAddr || !bAddr) throw new Error(`link ${a} - ${b} names an unknown port`);
    peerOf.set(a, bAddr);
    peerOf.set(b, aAddr);
  }
  for (const s of switches) {
    for (const p of s.ports) {
      const peer = peerOf.get(`${s.name}:${p.number}`);
      if (peer) p.peer = peer;
    }
  }
  return {
    name: topology.name,
    controller: {
      host: loopback ? '127.0.0.1' : 'controller',
      bindHost: loopback ? '127.0.0.1' : '0.0.0.0',
      nativePort: layout.nativePort,
      apiPort: layout.apiPort,
    },
    switches,
    hosts,
  };
}

/** How many UDP ports a loopback lab needs: one per switch port, one per host (its data port). */
export function labPortCount(topology: Topology): number {
  return topology.switches.reduce((n, s) => n + s.ports.length, 0) + topology.hosts.length;
}

export function formatUdp(a: UdpAddress): string {
  return `udp://${a.host}:${a.port}`;
}

/** The `--port` argument of `overcast switch` for one port: N=udp://BIND[@PEERHOST:PEERPORT]. */
export function switchPortArg(p: SwitchPortPlan, bindHostOverride?: string): string {
  const bind = formatUdp(bindHostOverride ? { ...p.bind, host: bindHostOverride } : p.bind);
  return p.peer ? `${p.number}=${bind}@${p.peer.host}:${p.peer.port}` : `${p.number}=${bind}`;
}
