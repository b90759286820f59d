/**
 * `overcast trace FROM TO [--tcp PORT | --udp PORT | --icmp]`: the path a packet takes between two
 * endpoints, hosts or addresses through the compiled tables (POST /v1/trace/between), printed switch
 * by switch: each table's matched flow with its owner, the rewrites, where the packet leaves or why it
 * is dropped.
 */
import type { ApiClient } from './api-client.js';

interface End {
  kind: string;
  name: string;
  ip: string;
  mac?: string;
  vpc?: string;
  dpid?: number;
  port?: number;
}

type Target = { kind: 'switch'; switch: string; port: number } | { kind: 'host'; host: string } | { kind: 'endpoint'; endpoint: string } | { kind: 'port' };

export interface TraceBetweenJson {
  from: End;
  to: End;
  dpid: number;
  inPort: number;
  packet: { kind: string; ethSrc?: string; ethDst?: string; ipv4Src?: string; ipv4Dst?: string; l4Dst?: number };
  trace: {
    hops: {
      switch: string;
      dpid: number;
      inPort: number;
      tables: { table: string; flow?: { priority: number; owner?: { kind: string; name: string }; text: string }; miss?: string }[];
      rewrites: { field: string; from: string | number; to: string | number }[];
      conntrack?: { zone: number; state: string; mark: number }[];
      outputs: { port: number; to: Target }[];
      drop?: string;
    }[];
    exits: { switch: string; port: number; to: Target }[];
    drops: { switch: string; reason: string; table?: string; owner?: { kind: string; name: string } }[];
    truncated: boolean;
  };
}

export interface TraceProtocol {
  protocol: 'icmp' | 'tcp' | 'udp';
  port?: number;
}

const ownerText = (o: { kind: string; name: string } | undefined) => (o ? (o.name ? `${o.kind} ${o.name}` : o.kind) : 'no owner');

const endText = (e: End) => (e.kind === 'address' ? e.ip : `${e.name} (${[e.kind, e.ip, e.vpc && `vpc ${e.vpc}`].filter(Boolean).join(', ')})`);

function targetText(t: Target): string {
  switch (t.kind) {
    case 'switch':
      return `${t.switch} port ${t.port}`;
    case 'host':
      return `host ${t.host}`;
    case 'endpoint':
      return `endpoint ${t.endpoint}`;
    default:
      return 'an unknown port';
  }
}

/** The trace as lines of text. */
export function formatTraceBetween(r: TraceBetweenJson): string[] {
  const p = r.packet;
  const l4 = p.l4Dst !== undefined ? ` port ${p.l4Dst}` : '';
  const lines = [
    `trace ${endText(r.from)} -> ${endText(r.to)}: ${p.kind}${l4}`,
    `  packet ${p.ethSrc} -> ${p.ethDst}, ${p.ipv4Src} -> ${p.ipv4Dst}`,
  ];
  for (const hop of r.trace.hops) {
    lines.push('', `${hop.switch} (dpid ${hop.dpid}), in port ${hop.inPort}`);
    for (const t of hop.tables) {
      if (t.flow) lines.push(`  ${t.table.padEnd(8)} priority ${String(t.flow.priority).padEnd(5)} ${ownerText(t.flow.owner).padEnd(22)} ${t.flow.text}`);
      else lines.push(`  ${t.table.padEnd(8)} miss (${t.miss ?? 'drop'})`);
    }
    for (const w of hop.rewrites) lines.push(`  rewrite ${w.field}: ${w.from} -> ${w.to}`);
    for (const c of hop.conntrack ?? []) lines.push(`  ct zone ${c.zone}: ${c.state}${c.mark !== 0 ? ` mark 0x${c.mark.toString(16)}` : ''}`);
    for (const o of hop.outputs) lines.push(`  out port ${o.port} -> ${targetText(o.to)}`);
    if (hop.drop) lines.push(`  dropped: ${hop.drop}`);
  }
  lines.push('');
  for (const e of r.trace.exits) lines.push(`delivered: ${e.switch} port ${e.port} -> ${targetText(e.to)}`);
  for (const d of r.trace.drops) lines.push(`dropped at ${d.switch}${d.table ? ` in ${d.table}` : ''}: ${d.reason}${d.owner ? ` (${ownerText(d.owner)})` : ''}`);
  if (r.trace.truncated) lines.push('loop: the trace stopped after too many switches');
  return lines;
}

/** Prints the trace; exit code 0 when the packet leaves the fabric somewhere, 1 when it does not. */
export async function runTrace(client: ApiClient, from: string, to: string, l4: TraceProtocol, out: (line: string) => void = console.log): Promise<number> {
  const r = await client.post<TraceBetweenJson>('/v1/trace/between', { from, to, protocol: l4.protocol, ...(l4.port !== undefined ? { port: l4.port } : {}) });
  for (const line of formatTraceBetween(r)) out(line);
  return r.trace.exits.length > 0 ? 0 : 1;
}
