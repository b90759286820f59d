/**
 * The lab's REST service, run inside the controller process: it knows every lab host's control
 * address (from the lab plan), so a ping from one host to another is one REST call (`overcast lab ping
 * h1 h4`). The path it reports is the echo request traced through the compiled tables from the source
 * host's switch port, so it is the path the packets take now (a link down reroutes it).
 */
import { isOvercastError, OvercastError } from '../errors/index.js';
import { resolveTraceEnd, traceStartBetween, type IntentTrace, type TraceEnd, type TracePacket } from '../compiler/index.js';
import { emptyIntent, type Intent, type Topology } from '../model/index.js';
import { formatIpv4, formatMac, type SocketAddress } from '../net/index.js';
import type { HostAttachSpec } from './child-channel.js';

export interface LabHostAddress {
  name: string;
  control: SocketAddress;
  /** Set for a test host attached to a VPC endpoint (`overcast lab attach`). */
  endpoint?: string;
}
export interface LabPingReply {
  seq: number;
  rttMs: number;
  ttl: number;
}

export interface LabPingResult {
  from: string;
  to: string;
  sent: number;
  received: number;
  replies: LabPingReply[];
  /**
   * The request's way through the fabric, from the compiled tables: the source host, then
   * `switch(in N, out M)` per switch, then the destination host, or `dropped at S (reason)`.
   */
  path: string[];
}

export interface LabHostJson {
  name: string;
  mac: string;
  ip: string;
  control: string;
  /** The endpoint an attached test host stands for. */
  endpoint?: string;
}

export interface LabAttachResult extends LabHostJson {
  switch: string;
  port: number;
  endpoint: string;
}

export interface LabService {
  hosts(): LabHostJson[];
  /**
   * ICMP echo from a lab host, or the test host of an endpoint (by endpoint id or address), to a host,
   * an endpoint or any address.
   */
  ping(from: string, to: string, count: number, timeoutMs: number): Promise<LabPingResult>;
  /** Starts a test host on an endpoint's switch port, with the endpoint's addresses (`overcast lab attach`). */
  attach(endpointId: string, name?: string): Promise<LabAttachResult>;
}

export interface LabServiceComponents {
  /** The topology as the controller has it now (links up or down). */
  topology(): Topology;
  /** Lab hosts' control addresses (read from the lab plan, which the lab writes once hosts are up). */
  hostAddresses(): LabHostAddress[];
  /** A packet through the compiled tables (the controller's runtime.trace). */
  trace(start: { dpid: number; inPort: number; packet: TracePacket }): IntentTrace;
  /** The committed intent (endpoints to ping and attach); none by default. */
  intent?(): Intent;
  /** Asks the lab to start a test host (child-channel.ts requestAttachHost); resolves with its control URL. */
  attachHost?(spec: HostAttachSpec): Promise<string>;
}

/** `switch(in N, out M)` per hop the request crosses, then where it left or why it stopped. */
export function pathOfTrace(t: IntentTrace, from: string): string[] {
  const path = [from];
  for (const hop of t.hops) path.push(`${hop.switch}(in ${hop.inPort}, out ${hop.outputs.map((o) => o.port).join(',') || '-'})`);
  for (const e of t.exits) path.push(e.to.kind === 'host' ? e.to.host : e.to.kind === 'endpoint' ? `endpoint ${e.to.endpoint}` : `${e.switch} port ${e.port}`);
  for (const d of t.drops) path.push(`dropped at ${d.switch} (${d.reason}${d.table ? ` in ${d.table}` : ''})`);
  if (t.truncated) path.push('(loop: trace stopped)');
  return path;
}

/** Unknown names in a ping are unknown lab hosts (the code lab clients know). */
function asLabError(e: unknown): unknown {
  if (isOvercastError(e) && e.code === 'OVC_ERR_TRACE_UNKNOWN_END') return new OvercastError('OVC_ERR_LAB_UNKNOWN_HOST', e.message, e.field);
  return e;
}

export function createLabService(c: LabServiceComponents): LabService {
  const intent = () => c.intent?.() ?? emptyIntent();
  const endOf = (text: string, field: string, o: { vpcId?: string; attached?: boolean } = {}): TraceEnd => {
    const entry = c.hostAddresses().find((h) => h.name === text);
    try {
      return resolveTraceEnd(c.topology(), intent(), entry?.endpoint ?? text, field, o);
    } catch (e) {
      throw asLabError(e);
    }
  };
  /** The control address of the test host standing for `end` (a lab host, or an endpoint's attached host). */
  const controlOf = (end: TraceEnd, field: string): SocketAddress => {
    const entry = c.hostAddresses().find((h) => (end.kind === 'endpoint' ? h.endpoint === end.name : h.name === end.name && h.endpoint === undefined));
    if (entry) return entry.control;
    const hint = end.kind === 'endpoint' ? `: overcast lab attach ${end.name}` : '';
    throw new OvercastError('OVC_ERR_LAB_UNKNOWN_HOST', `no test host for ${end.kind} ${end.name}${hint}`, field);
  };
  return {
    hosts: () => {
      const addresses = c.hostAddresses();
      const url = (a: SocketAddress | undefined) => (a ? `http://${a.host}:${a.port}` : '');
      const lab = c.topology().hosts.map((h) => {
        const a = addresses.find((x) => x.name === h.name && x.endpoint === undefined)?.control;
        return { name: h.name, mac: formatMac(h.mac), ip: `${formatIpv4(h.ip)}/${h.prefixLength}`, control: url(a) };
      });
      const endpoints = intent().endpoints;
      const attached = addresses.flatMap((a) => {
        const e = a.endpoint === undefined ? undefined : endpoints.get(a.endpoint);
        const subnet = e && intent().subnets.get(e.subnetId);
        return e ? [{ name: a.name, mac: formatMac(e.mac), ip: `${formatIpv4(e.ip)}/${subnet?.cidr.prefixLength ?? 32}`, control: url(a.control), endpoint: e.id }] : [];
      });
      return [...lab, ...attached];
    },
    async ping(from, to, count, timeoutMs) {
      const src = endOf(from, 'body.from', { attached: true });
      const dst = endOf(to, 'body.to', src.vpcId === undefined ? {} : { vpcId: src.vpcId });
      const control = controlOf(src, 'body.from');
      const res = await fetch(`http://${control.host}:${control.port}/ping`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ dst: formatIpv4(dst.ip), count, timeoutMs }),
      });
      if (!res.ok) throw new Error(`host ${from} answered HTTP ${res.status}`);
      const outcome = (await res.json()) as Pick<LabPingResult, 'sent' | 'received' | 'replies'>;
      let path = [from];
      try {
        path = pathOfTrace(c.trace(traceStartBetween(src, dst)), from);
      } catch (e) {
        // No packet to trace (a lab host pinging an address no host has): the ping's outcome stands alone.
        if (!isOvercastError(e)) throw e;
      }
      return { from, to, ...outcome, path };
    },
    async attach(endpointId, name = endpointId) {
      const e = intent().endpoints.get(endpointId);
      if (!e) throw new OvercastError('OVC_ERR_ENDPOINT_NOT_FOUND', `no endpoint ${endpointId}`, 'body.endpoint');
      const taken = c.hostAddresses().find((h) => h.name === name || h.endpoint === endpointId) ?? c.topology().hosts.find((h) => h.name === name);
      if (taken) throw new OvercastError('OVC_ERR_LAB_ATTACH', `${taken.name} already exists (one test host per endpoint, names unique)`, 'body.name');
      const sw = c.topology().switches.find((s) => s.dpid === e.dpid);
      const subnet = intent().subnets.get(e.subnetId);
      if (!sw || !subnet) throw new OvercastError('OVC_ERR_LAB_ATTACH', `endpoint ${endpointId} is on no switch of the topology`, 'body.endpoint');
      if (!c.attachHost) throw new OvercastError('OVC_ERR_LAB_ATTACH', 'this controller was not started by `overcast lab up`: no lab to start a test host', 'body.endpoint');
      const spec: HostAttachSpec = {
        name,
        endpoint: e.id,
        mac: formatMac(e.mac),
        ip: `${formatIpv4(e.ip)}/${subnet.cidr.prefixLength}`,
        gateway: formatIpv4(subnet.gateway),
        switch: sw.name,
        port: e.port,
      };
      const control = await c.attachHost(spec);
      return { name, endpoint: e.id, mac: spec.mac, ip: spec.ip, control, switch: sw.name, port: e.port };
    },
  };
}
