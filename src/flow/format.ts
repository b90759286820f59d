/**
 * Human-readable flows, in the spirit of `ovs-ofctl dump-flows`: MACs and IPs as text, ports by name
 * for the reserved ones. Used by the REST API, the CLI and logs; never on the datapath.
 */
import { PORT, type Action } from './actions.js';
import { CT_STATE, FIELDS, FIELD_NAMES, fullMask, type FieldName } from './fields.js';
import type { FlowEntry } from './flow-entry.js';
import { fieldMask, fieldValue } from './match.js';
import { tableName } from './pipeline.js';

const RESERVED_PORT_NAMES = new Map<number, string>(Object.entries(PORT).map(([name, n]) => [n, name]));

function hex(n: number, width: number): string {
  return n.toString(16).padStart(width, '0');
}
function mac(n: number): string {
  return hex(n, 12).replace(/(..)(?!$)/g, '$1:');
}
function ip(n: number): string {
  return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
}

export function formatFieldValue(field: FieldName, value: number): string {
  const bits = FIELDS[field].bits;
  if (bits === 48) return mac(value);
  if (field === 'ipv4Src' || field === 'ipv4Dst' || field === 'arpSpa' || field === 'arpTpa') return ip(value >>> 0);
  if (field === 'ethType') return `0x${hex(value, 4)}`;
  return String(value);
}

const CT_STATE_NAMES = Object.entries(CT_STATE).map(([name, bit]): [string, number] => [name.toLowerCase(), bit]);

/** ct_state as Open vSwitch writes it: `+trk+est-new` (bits the mask covers, set or clear). */
export function formatCtState(value: number, mask = fullMask('ctState')): string {
  let s = '';
  for (const [name, bit] of CT_STATE_NAMES) if ((mask & bit) !== 0) s += `${(value & bit) !== 0 ? '+' : '-'}${name}`;
  const other = (mask & ~Object.values(CT_STATE).reduce((a, b) => a | b, 0)) >>> 0;
  return other === 0 ? s : `${s}(0x${hex(value & other, 1)}/0x${hex(other, 1)})`;
}

export function formatPort(port: number): string {
  return RESERVED_PORT_NAMES.get(port) ?? String(port);
}

export function formatMatch(match: FlowEntry['match']): string {
  const parts: string[] = [];
  for (const name of FIELD_NAMES) {
    const m = match[name];
    if (m === undefined) continue;
    const mask = fieldMask(name, m);
    if (name === 'ctState') {
      parts.push(`ctState=${formatCtState(fieldValue(m), mask)}`);
      continue;
    }
    const v = formatFieldValue(name, fieldValue(m));
    parts.push(mask === fullMask(name) ? `${name}=${v}` : `${name}=${v}/${formatFieldValue(name, mask)}`);
  }
  return parts.join(',') || '*';
}

export function formatAction(a: Action): string {
  switch (a.type) {
    case 'output':
      return `output:${formatPort(a.port)}`;
    case 'group':
      return `group:${a.groupId}`;
    case 'setField':
      return `set:${a.field}=${formatFieldValue(a.field, a.value)}`;
    case 'copyField':
      return `copy:${a.src}->${a.dst}`;
    case 'pushVlan':
      return `push_vlan:0x${hex(a.ethType, 4)}`;
    case 'popVlan':
      return 'pop_vlan';
    case 'pushMpls':
      return `push_mpls:0x${hex(a.ethType, 4)}`;
    case 'popMpls':
      return `pop_mpls:0x${hex(a.ethType, 4)}`;
    case 'decTtl':
      return 'dec_ttl';
    case 'ct': {
      const args = a.commit === true ? ['commit'] : [];
      args.push(`zone=${a.zone}`);
      if (a.mark !== undefined) args.push(`mark=0x${hex(a.mark.value, 1)}/0x${hex(a.mark.mask, 1)}`);
      if (a.table !== undefined) args.push(`table=${tableName(a.table)}`);
      return `ct(${args.join(',')})`;
    }
    case 'conjunction':
      return `conjunction(${a.id},${a.clause}/${a.nClauses})`;
  }
}

export function formatFlow(f: FlowEntry): string {
  const instr: string[] = [];
  if (f.actions.length) instr.push(f.actions.map(formatAction).join(','));
  if (f.writeMetadata) instr.push(`write_metadata:0x${hex(f.writeMetadata.value, 1)}/0x${hex(f.writeMetadata.mask, 1)}`);
  if (f.gotoTable !== undefined) instr.push(`goto:${tableName(f.gotoTable)}`);
  const actions = instr.length ? instr.join(',') : 'drop';
  return `cookie=0x${hex(f.cookie, 1)} table=${tableName(f.table)} priority=${f.priority} ${formatMatch(f.match)} actions=${actions}`;
}
