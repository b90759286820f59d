/**
 * Overcast flows in `ovs-ofctl add-flows` text syntax, written without the binary codec: the tests
 * load this text into a reference bridge with ovs-ofctl and compare its dump with the bridge our
 * controller pushed (Open vSwitch parses both, so it is the judge), and the push benchmark feeds the
 * same flows to `ovs-ofctl add-flows` as the baseline. Pure.
 */
import { PORT, type Action, type FieldName, type FlowEntry } from '../../flow/index.js';
import { FIELDS, FIELD_NAMES, fieldMask, fieldValue, fullMask } from '../../flow/index.js';

/** Open vSwitch's name for each field (its meta-flow names, accepted in OpenFlow 1.3 mode). */
export const OVS_FIELD_NAMES: { readonly [F in FieldName]: string } = {
  inPort: 'in_port',
  metadata: 'metadata',
  tunnelId: 'tun_id',
  ethDst: 'eth_dst',
  ethSrc: 'eth_src',
  ethType: 'eth_type',
  vlanVid: 'vlan_vid',
  vlanPcp: 'vlan_pcp',
  ipDscp: 'ip_dscp',
  ipProto: 'ip_proto',
  ipv4Src: 'ip_src',
  ipv4Dst: 'ip_dst',
  tcpSrc: 'tcp_src',
  tcpDst: 'tcp_dst',
  tcpFlags: 'tcp_flags',
  udpSrc: 'udp_src',
  udpDst: 'udp_dst',
  icmpType: 'icmp_type',
  icmpCode: 'icmp_code',
  arpOp: 'arp_op',
  arpSpa: 'arp_spa',
  arpTpa: 'arp_tpa',
  arpSha: 'arp_sha',
  arpTha: 'arp_tha',
  mplsLabel: 'mpls_label',
  mplsTc: 'mpls_tc',
  mplsBos: 'mpls_bos',
  ctState: 'ct_state',
  ctZone: 'ct_zone',
  ctMark: 'ct_mark',
  conjId: 'conj_id',
};

const RESERVED_PORTS = new Map<number, string>([
  [PORT.IN_PORT, 'in_port'],
  [PORT.TABLE, 'table'],
  [PORT.NORMAL, 'normal'],
  [PORT.FLOOD, 'flood'],
  [PORT.ALL, 'all'],
  [PORT.CONTROLLER, 'controller'],
  [PORT.LOCAL, 'local'],
]);

function hex(n: number): string {
  return `0x${n.toString(16)}`;
}

function mac(n: number): string {
  return n
    .toString(16)
    .padStart(12, '0')
    .replace(/(..)(?!$)/g, '$1:');
}

function ip(n: number): string {
  return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
}

export function ofctlValue(field: FieldName, v: number): string {
  if (FIELDS[field].bits === 48) return mac(v);
  if (field === 'ipv4Src' || field === 'ipv4Dst' || field === 'arpSpa' || field === 'arpTpa') return ip(v >>> 0);
  if (field === 'inPort' || field === 'mplsLabel' || field === 'ctZone' || field === 'conjId') return String(v);
  return hex(v);
}

export function ofctlMatch(match: FlowEntry['match']): string[] {
  const parts: string[] = [];
  for (const f of FIELD_NAMES) {
    const m = match[f];
    if (m === undefined) continue;
    const mask = fieldMask(f, m);
    const v = ofctlValue(f, fieldValue(m));
    parts.push(mask === fullMask(f) ? `${OVS_FIELD_NAMES[f]}=${v}` : `${OVS_FIELD_NAMES[f]}=${v}/${ofctlValue(f, mask)}`);
  }
  return parts;
}

export function ofctlAction(a: Action): string {
  switch (a.type) {
    case 'output': {
      if (a.port === PORT.CONTROLLER) return `controller(max_len=${a.maxLen ?? 0xffff})`;
      const reserved = RESERVED_PORTS.get(a.port);
      return reserved ?? `output:${a.port}`;
    }
    case 'group':
      return `group:${a.groupId}`;
    case 'setField':
      return `set_field:${ofctlValue(a.field, a.value)}->${OVS_FIELD_NAMES[a.field]}`;
    case 'copyField':
      return `move:${OVS_FIELD_NAMES[a.src]}[]->${OVS_FIELD_NAMES[a.dst]}[]`;
    case 'pushVlan':
      return `push_vlan:${hex(a.ethType)}`;
    case 'popVlan':
      return 'pop_vlan';
    case 'pushMpls':
      return `push_mpls:${hex(a.ethType)}`;
    case 'popMpls':
      return `pop_mpls:${hex(a.ethType)}`;
    case 'decTtl':
      return 'dec_ttl';
    case 'ct': {
      const args = a.commit === true ? ['commit'] : [];
      args.push(`zone=${a.zone}`);
      if (a.table !== undefined) args.push(`table=${a.table}`);
      if (a.mark !== undefined) args.push(`exec(set_field:${hex(a.mark.value)}/${hex(a.mark.mask)}->ct_mark)`);
      return `ct(${args.join(',')})`;
    }
    case 'conjunction':
      return `conjunction(${a.id},${a.clause}/${a.nClauses})`;
  }
}

/** One `add-flows` line (OpenFlow 1.3 instructions: apply-actions, meter, write-metadata, goto). */
export function ofctlFlow(f: FlowEntry): string {
  const head = [`table=${f.table}`, `priority=${f.priority}`, `cookie=${hex(f.cookie)}`];
  if (f.idleTimeoutSec) head.push(`idle_timeout=${f.idleTimeoutSec}`);
  if (f.hardTimeoutSec) head.push(`hard_timeout=${f.hardTimeoutSec}`);
  const ins: string[] = [];
  if (f.meterId !== undefined) ins.push(`meter:${f.meterId}`);
  // Plain actions are OVS's apply-actions instruction (it refuses an explicit apply_actions(...)).
  ins.push(...f.actions.map(ofctlAction));
  if (f.writeMetadata) ins.push(`write_metadata:${hex(f.writeMetadata.value)}/${hex(f.writeMetadata.mask)}`);
  if (f.gotoTable !== undefined) ins.push(`goto_table:${f.gotoTable}`);
  return `${[...head, ...ofctlMatch(f.match)].join(',')} actions=${ins.length > 0 ? ins.join(',') : 'drop'}`;
}

/** A flow dump line without the fields that change with time and traffic, for comparing dumps. */
export function stableDumpLine(line: string): string {
  return line
    .trim()
    .replace(/\b(duration|n_packets|n_bytes|idle_age|hard_age)=[^,\s]+,?\s*/g, '')
    .replace(/\s+/g, ' ');
}

/** The flow lines of `ovs-ofctl dump-flows` output, stable and sorted. */
export function stableDump(dump: string): string[] {
  return dump
    .split('\n')
    .filter((l) => l.includes('actions='))
    .map(stableDumpLine)
    .sort();
}
