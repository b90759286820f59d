/** `overcast status`: the switches a running controller knows, their channel, flows and last push. */
import type { ApiClient } from './api-client.js';
import { ago, formatTable } from './table.js';

interface SwitchJson {
  dpid: number;
  connected: boolean;
  channel?: string;
  remoteAddress?: string;
  desiredFlows: number;
  installedFlows: number;
  /** In a cluster: this controller's role; a slave leaves the switch's tables to its master. */
  role?: 'master' | 'slave';
  lastSync?: { timeMs: number; ms: number; ok: boolean; added?: number; modified?: number; removed?: number; error?: string };
}

interface TopologyJson {
  name: string;
  switches: { name: string; dpid: number }[];
  links: { a: { switch: string; port: number }; b: { switch: string; port: number }; up: boolean }[];
  hosts: unknown[];
}

function lastSyncText(s: SwitchJson, nowMs: number): string {
  const l = s.lastSync;
  if (!l) return s.connected ? 'pending' : '-';
  const when = ago(nowMs - l.timeMs);
  if (!l.ok) return `FAILED ${when}: ${l.error ?? ''}`;
  return `ok ${when} (+${l.added ?? 0} ~${l.modified ?? 0} -${l.removed ?? 0}, ${l.ms.toFixed(1)} ms)`;
}

/** Connected and holding its desired flows, or (in a cluster) left to its master by this controller. */
function inSync(s: SwitchJson): boolean {
  return s.connected && (s.role === 'slave' || s.desiredFlows === s.installedFlows);
}

/** The status report's lines (`nowMs`: wall clock, for "3 s ago"). */
export function formatStatus(apiUrl: string, topology: TopologyJson, switches: SwitchJson[], nowMs: number): string[] {
  const nameOf = new Map(topology.switches.map((s) => [s.dpid, s.name]));
  const connected = switches.filter((s) => s.connected).length;
  const linksUp = topology.links.filter((l) => l.up).length;
  const lines = [
    `controller ${apiUrl}: topology "${topology.name}", ${switches.length} switches (${connected} connected), ${topology.links.length} links (${linksUp} up), ${topology.hosts.length} hosts`,
    '',
  ];
  const rows = [['SWITCH', 'DPID', 'CHANNEL', 'FLOWS desired/installed', 'LAST SYNC']];
  for (const s of switches) {
    const flows = s.role === 'slave' ? `${s.desiredFlows}/- (slave: its master pushes)` : `${s.desiredFlows}/${s.installedFlows}${inSync(s) ? ' in sync' : ''}`;
    const channel = s.connected ? `${s.channel ?? '?'} ${s.remoteAddress ?? ''}`.trim() : 'not connected';
    rows.push([nameOf.get(s.dpid) ?? '?', String(s.dpid), channel, flows, lastSyncText(s, nowMs)]);
  }
  lines.push(...formatTable(rows));
  const down = topology.links.filter((l) => !l.up);
  if (down.length > 0) {
    lines.push('');
    for (const l of down) lines.push(`link ${l.a.switch}:${l.a.port} - ${l.b.switch}:${l.b.port} is down`);
  }
  return lines;
}

export async function runStatus(client: ApiClient, out: (line: string) => void = console.log): Promise<number> {
  const [topology, { switches }] = await Promise.all([client.get<TopologyJson>('/v1/topology'), client.get<{ switches: SwitchJson[] }>('/v1/switches')]);
  for (const line of formatStatus(client.url, topology, switches, Date.now())) out(line);
  return switches.every(inSync) ? 0 : 1;
}
