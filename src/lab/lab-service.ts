/**
 * The lab's REST service, run inside the controller process: it knows every lab host's control
 * address (from the lab plan), so a ping from one host to another is one REST call (`overcast lab ping
 * h1 h4`). The path it reports is the echo request traced through the compiled tables from the source
 * host's switch port, so it is the path the packets take now (a link down reroutes it).
 */
import { OvercastError } from '../errors/index.js';
import type { IntentTrace, TracePacket } from '../compiler/index.js';
import type { Topology } from '../model/index.js';
import { formatIpv4, formatMac, type SocketAddress } from '../net/index.js';

export interface LabHostAddress {
  name: string;
  control: SocketAddress;
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

export interface LabService {
  hosts(): { name: string; mac: string; ip: string; control: string }[];
  ping(from: string, to: string, count: number, timeoutMs: number): Promise<LabPingResult>;
}

export interface LabServiceComponents {
  /** The topology as the controller has it now (links up or down). */
  topology(): Topology;
  /** Lab hosts' control addresses (read from the lab plan, which the lab writes once hosts are up). */
  hostAddresses(): LabHostAddress[];
  /** A packet through the compiled tables (the controller's runtime.trace). */
  trace(start: { dpid: number; inPort: number; packet: TracePacket }): IntentTrace;
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

export function createLabService(c: LabServiceComponents): LabService {
  const controlOf = (name: string) => c.hostAddresses().find((h) => h.name === name)?.control;
  const must = (name: string, field: string) => {
    const spec = c.topology().hosts.find((h) => h.name === name);
    const control = controlOf(name);
    if (!spec || !control) throw new OvercastError('OVC_ERR_LAB_UNKNOWN_HOST', `no lab host named ${name}`, field);
    return { spec, control };
  };
  return {
    hosts: () => {
      const addresses = c.hostAddresses();
      return c.topology().hosts.map((h) => {
        const a = addresses.find((x) => x.name === h.name)?.control;
        return { name: h.name, mac: formatMac(h.mac), ip: `${formatIpv4(h.ip)}/${h.prefixLength}`, control: a ? `http://${a.host}:${a.port}` : '' };
      });
    },
    async ping(from, to, count, timeoutMs) {
      const src = must(from, 'body.from');
      const dst = must(to, 'body.to');
      const res = await fetch(`http://${src.control.host}:${src.control.port}/ping`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ dst: formatIpv4(dst.spec.ip), count, timeoutMs }),
      });
      if (!res.ok) throw new Error(`host ${from} answered HTTP ${res.status}`);
      const outcome = (await res.json()) as Pick<LabPingResult, 'sent' | 'received' | 'replies'>;
      const srcSwitch = c.topology().switches.find((s) => s.name === src.spec.attach.switch);
      // A lab host has no gateway: it resolves the destination itself, so the request carries its MAC.
      const trace = srcSwitch
        ? c.trace({
            dpid: srcSwitch.dpid,
            inPort: src.spec.attach.port,
            packet: { kind: 'icmp', ethSrc: src.spec.mac, ethDst: dst.spec.mac, ipv4Src: src.spec.ip, ipv4Dst: dst.spec.ip },
          })
        : undefined;
      return { from, to, ...outcome, path: trace ? pathOfTrace(trace, from) : [from] };
    },
  };
}
