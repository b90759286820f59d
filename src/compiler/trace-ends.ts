/**
 * The two ends of a trace or a ping, named the way people name them: an endpoint id (`ep-3`), a
 * topology host's name (`h1`) or an address (`10.1.0.5`). The source must be attached somewhere (an
 * endpoint or a host); the destination may be any address. The packet is the one the source would
 * send: to a destination in its own subnet it goes to that destination's MAC, anywhere else to the
 * VPC's distributed gateway (GATEWAY_MAC). Pure: topology and intent in, the trace's start out.
 */
import { OvercastError } from '../errors/index.js';
import { GATEWAY_MAC, type Intent, type Topology } from '../model/index.js';
import { formatIpv4, formatMac, parseIpv4, prefixMask } from '../net/index.js';
import type { IntentTrace, TracePacket } from './trace-intent.js';
import { traceJson, type IntentTraceJson } from './trace-json.js';

export interface TraceEnd {
  kind: 'endpoint' | 'host' | 'address';
  /** The endpoint id, the host name, or the address as given. */
  name: string;
  ip: number;
  mac?: number;
  /** Where it attaches (endpoints and hosts). */
  dpid?: number;
  port?: number;
  vpcId?: string;
  /** The subnet it lies in: endpoints by their subnet, hosts by their prefix. */
  subnet?: { network: number; prefixLength: number };
}

/** Where a described packet enters the fabric (a TracePacketStart whose packet is a description). */
export interface TracePacketStart {
  dpid: number;
  inPort: number;
  packet: TracePacket;
}

export interface TraceL4 {
  protocol: 'icmp' | 'tcp' | 'udp';
  /** Destination port (tcp, udp); default 7. */
  port?: number;
}

function endpointEnd(intent: Intent, id: string): TraceEnd | undefined {
  const e = intent.endpoints.get(id);
  if (!e) return undefined;
  const subnet = intent.subnets.get(e.subnetId);
  return {
    kind: 'endpoint',
    name: e.id,
    ip: e.ip,
    mac: e.mac,
    dpid: e.dpid,
    port: e.port,
    vpcId: e.vpcId,
    ...(subnet ? { subnet: { network: subnet.cidr.network, prefixLength: subnet.cidr.prefixLength } } : {}),
  };
}

function hostEnd(topology: Topology, name: string): TraceEnd | undefined {
  const h = topology.hosts.find((x) => x.name === name);
  const sw = h && topology.switches.find((s) => s.name === h.attach.switch);
  if (!h || !sw) return undefined;
  const mask = prefixMask(h.prefixLength);
  return { kind: 'host', name: h.name, ip: h.ip, mac: h.mac, dpid: sw.dpid, port: h.attach.port, subnet: { network: (h.ip & mask) >>> 0, prefixLength: h.prefixLength } };
}

function isAddress(text: string): boolean {
  return /^\d{1,3}(\.\d{1,3}){3}$/.test(text);
}

/**
 * One end by name. An address names the endpoint or host holding it; with `vpcId`, endpoints of that
 * VPC first (VPCs may reuse addresses). `attached`: the end must be an endpoint or a host (a source).
 */
export function resolveTraceEnd(topology: Topology, intent: Intent, text: string, field: string, o: { vpcId?: string; attached?: boolean } = {}): TraceEnd {
  const named = endpointEnd(intent, text) ?? hostEnd(topology, text);
  if (named) return named;
  if (!isAddress(text)) throw new OvercastError('OVC_ERR_TRACE_UNKNOWN_END', `${text} is no endpoint id, host name or IPv4 address`, field);
  const ip = parseIpv4(text, field);
  // Inside a VPC an address means that VPC's endpoint; other VPCs' endpoints are not reachable by it.
  const candidates: TraceEnd[] =
    o.vpcId !== undefined
      ? [...intent.endpoints.values()].filter((e) => e.ip === ip && e.vpcId === o.vpcId).map((e) => endpointEnd(intent, e.id) as TraceEnd)
      : [
          ...[...intent.endpoints.values()].filter((e) => e.ip === ip).map((e) => endpointEnd(intent, e.id) as TraceEnd),
          ...topology.hosts.filter((h) => h.ip === ip).map((h) => hostEnd(topology, h.name) as TraceEnd),
        ];
  if (candidates.length === 1) return candidates[0];
  if (candidates.length > 1) {
    throw new OvercastError('OVC_ERR_TRACE_AMBIGUOUS_END', `${text} is the address of ${candidates.map((c) => c.name).join(', ')}: name one`, field);
  }
  if (o.attached) throw new OvercastError('OVC_ERR_TRACE_UNKNOWN_END', `no endpoint or host has the address ${text}`, field);
  return { kind: 'address', name: text, ip };
}

function inSubnet(ip: number, subnet: TraceEnd['subnet']): boolean {
  if (!subnet) return false;
  const mask = prefixMask(subnet.prefixLength);
  return ((ip & mask) >>> 0) === subnet.network;
}

/** The packet `from` sends to `to`, and where it enters the fabric. */
export function traceStartBetween(from: TraceEnd, to: TraceEnd, l4: TraceL4 = { protocol: 'icmp' }, fieldPrefix = ''): TracePacketStart {
  if (from.dpid === undefined || from.port === undefined || from.mac === undefined) {
    throw new OvercastError('OVC_ERR_TRACE_UNKNOWN_END', `${from.name} is attached nowhere: a trace starts at an endpoint or a host`, `${fieldPrefix}from`);
  }
  let ethDst: number;
  if (from.kind === 'endpoint') {
    ethDst = inSubnet(to.ip, from.subnet) && to.mac !== undefined && to.vpcId === from.vpcId ? to.mac : GATEWAY_MAC;
  } else {
    // Topology hosts share one flat underlay: no gateway, the destination must be another host.
    if (to.kind !== 'host' || to.mac === undefined) {
      throw new OvercastError('OVC_ERR_TRACE_UNKNOWN_END', `host ${from.name} reaches only other topology hosts, not ${to.name}`, `${fieldPrefix}to`);
    }
    ethDst = to.mac;
  }
  const base = { ethSrc: from.mac, ethDst, ipv4Src: from.ip, ipv4Dst: to.ip };
  const packet: TracePacket = l4.protocol === 'icmp' ? { kind: 'icmp', ...base } : { kind: l4.protocol, ...base, l4Dst: l4.port ?? 7 };
  return { dpid: from.dpid, inPort: from.port, packet };
}

/**
 * Both ends by name and the trace's start: the destination is looked for in the source's VPC first.
 * Problems name the fields `<fieldPrefix>from` and `<fieldPrefix>to` (the API passes `body.`).
 */
export function traceBetween(
  topology: Topology,
  intent: Intent,
  from: string,
  to: string,
  l4?: TraceL4,
  fieldPrefix = '',
): { from: TraceEnd; to: TraceEnd; start: TracePacketStart } {
  const src = resolveTraceEnd(topology, intent, from, `${fieldPrefix}from`, { attached: true });
  const dst = resolveTraceEnd(topology, intent, to, `${fieldPrefix}to`, src.vpcId === undefined ? {} : { vpcId: src.vpcId });
  return { from: src, to: dst, start: traceStartBetween(src, dst, l4, fieldPrefix) };
}

/** An end as JSON: addresses as text. */
export function traceEndJson(e: TraceEnd): Record<string, unknown> {
  return {
    kind: e.kind,
    name: e.name,
    ip: formatIpv4(e.ip),
    ...(e.mac !== undefined ? { mac: formatMac(e.mac) } : {}),
    ...(e.vpcId !== undefined ? { vpc: e.vpcId } : {}),
    ...(e.dpid !== undefined ? { dpid: e.dpid, port: e.port } : {}),
  };
}

/** A described packet as JSON: addresses as text. */
export function tracePacketJson(p: TracePacket): Record<string, unknown> {
  if (p.kind === 'arp') return { kind: p.kind, op: p.op, ethSrc: formatMac(p.ethSrc), arpSpa: formatIpv4(p.arpSpa), arpTpa: formatIpv4(p.arpTpa) };
  return {
    kind: p.kind,
    ethSrc: formatMac(p.ethSrc),
    ethDst: formatMac(p.ethDst),
    ipv4Src: formatIpv4(p.ipv4Src),
    ipv4Dst: formatIpv4(p.ipv4Dst),
    ...(p.l4Dst !== undefined ? { l4Dst: p.l4Dst } : {}),
  };
}

export interface TraceBetweenQuery {
  from: string;
  to: string;
  protocol?: TraceL4['protocol'];
  port?: number;
}

export interface TraceBetweenResult {
  from: Record<string, unknown>;
  to: Record<string, unknown>;
  dpid: number;
  inPort: number;
  packet: Record<string, unknown>;
  trace: IntentTraceJson;
}

/** POST /v1/trace/between's answer: both ends resolved, the packet, and its trace through `trace`. */
export function traceBetweenJson(
  topology: Topology,
  intent: Intent,
  q: TraceBetweenQuery,
  trace: (start: TracePacketStart) => IntentTrace,
  fieldPrefix = '',
): TraceBetweenResult {
  const l4: TraceL4 = { protocol: q.protocol ?? 'icmp', ...(q.port !== undefined ? { port: q.port } : {}) };
  const { from, to, start } = traceBetween(topology, intent, q.from, q.to, l4, fieldPrefix);
  return { from: traceEndJson(from), to: traceEndJson(to), dpid: start.dpid, inPort: start.inPort, packet: tracePacketJson(start.packet), trace: traceJson(trace(start)) };
}
