/**
 * The lab plan: every UDP address of every switch port and host, and every control address, derived
 * from a topology and an addressing. In containers the addressing is fixed (service names, fixed
 * ports: docker/compose.yaml); on 127.0.0.1 it is what each process reported after binding port 0
 * (`overcast lab up`, src/lab/start-lab.ts). Either way the peers come from the same topology, so the
 * tested process layout is the deployed one. Pure.
 */
import type { Topology } from '../model/index.js';
import type { HostAttachSpec } from './child-channel.js';
import { formatIpv4, formatMac, type SocketAddress } from '../net/index.js';

export interface SwitchPortPlan {
  number: number;
  bind: SocketAddress;
  /** Where frames leaving this port go; absent for a port with nothing attached. */
  peer?: SocketAddress;
}

export interface SwitchPlan {
  name: string;
  dpid: number;
  ports: SwitchPortPlan[];
  /** The softswitch's Prometheus listener (`--metrics`), when it has one. */
  metrics?: SocketAddress;
}

export interface HostPlan {
  name: string;
  mac: string;
  ip: string;
  bind: SocketAddress;
  peer: SocketAddress;
  /** The host's control API (HTTP, so a TCP port): ping, send UDP, read what it received. */
  control: SocketAddress;
}

export interface ControllerPlan {
  host: string;
  bindHost: string;
  nativePort: number;
  apiPort: number;
}

/** A test host started on a switch port after the lab came up (an endpoint's data plane). */
export type AttachedHostPlan = HostAttachSpec & { control: SocketAddress };

export interface LabPlan {
  name: string;
  controller: ControllerPlan;
  switches: SwitchPlan[];
  hosts: HostPlan[];
  /** Written to the plan file as hosts are attached; absent in a fresh plan. */
  attached?: AttachedHostPlan[];
}

/** Where each part of a lab listens. */
export interface LabAddressing {
  controller: ControllerPlan;
  switchPort(switchName: string, port: number): SocketAddress;
  hostData(hostName: string): SocketAddress;
  hostControl(hostName: string): SocketAddress;
}

/** In containers every service has its own address, so ports can be fixed numbers. */
const COMPOSE_SWITCH_PORT_BASE = 10000;
const COMPOSE_HOST_DATA_PORT = 10000;
const COMPOSE_HOST_CONTROL_PORT = 9000;

/** docker/compose.yaml's addressing: service names, fixed ports. */
export function composeAddressing(apiPort: number, nativePort: number): LabAddressing {
  return {
    controller: { host: 'controller', bindHost: '0.0.0.0', nativePort, apiPort },
    switchPort: (sw, port) => ({ host: sw, port: COMPOSE_SWITCH_PORT_BASE + port }),
    hostData: (h) => ({ host: h, port: COMPOSE_HOST_DATA_PORT }),
    hostControl: (h) => ({ host: h, port: COMPOSE_HOST_CONTROL_PORT }),
  };
}

export function planLab(topology: Topology, addressing: LabAddressing): LabPlan {
  const switches: SwitchPlan[] = topology.switches.map((s) => ({
    name: s.name,
    dpid: s.dpid,
    ports: s.ports.map(({ number }) => ({ number, bind: addressing.switchPort(s.name, number) })),
  }));
  const portAddr = new Map<string, SocketAddress>(switches.flatMap((s) => s.ports.map((p): [string, SocketAddress] => [`${s.name}:${p.number}`, p.bind])));
  const peerOf = new Map<string, SocketAddress>();
  const hosts: HostPlan[] = topology.hosts.map((h) => {
    const bind = addressing.hostData(h.name);
    const attachKey = `${h.attach.switch}:${h.attach.port}`;
    const peer = portAddr.get(attachKey);
    if (!peer) throw new Error(`host ${h.name} attaches to unknown port ${attachKey}`);
    peerOf.set(attachKey, bind);
    return { name: h.name, mac: formatMac(h.mac), ip: `${formatIpv4(h.ip)}/${h.prefixLength}`, bind, peer, control: addressing.hostControl(h.name) };
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
  return { name: topology.name, controller: addressing.controller, switches, hosts };
}

export function formatUdp(a: SocketAddress): string {
  return `udp://${a.host}:${a.port}`;
}

/** The `--port` argument of `overcast switch` for one port: N=udp://BIND[@PEERHOST:PEERPORT]. */
export function switchPortArg(p: SwitchPortPlan, bindHostOverride?: string): string {
  const bind = formatUdp(bindHostOverride ? { ...p.bind, host: bindHostOverride } : p.bind);
  return p.peer ? `${p.number}=${bind}@${p.peer.host}:${p.peer.port}` : `${p.number}=${bind}`;
}
