/**
 * A trace (./trace-intent.ts) as JSON for people and clients: MAC and IPv4 addresses as text
 * (`02:00:00:00:00:01`, `10.0.0.1`) in header summaries and rewrites, frames as hex. Pure.
 */
import type { FieldName } from '../flow/index.js';
import { formatIpv4, formatMac } from '../net/index.js';
import type { HeaderSummary, IntentTrace, TraceHop } from './trace-intent.js';

const MAC_FIELDS: ReadonlySet<string> = new Set<FieldName>(['ethSrc', 'ethDst', 'arpSha', 'arpTha']);
const IPV4_FIELDS: ReadonlySet<string> = new Set<FieldName>(['ipv4Src', 'ipv4Dst', 'arpSpa', 'arpTpa']);

/** A header value as JSON shows it: addresses as text, anything else as the number it is. */
export function headerValueText(field: string, value: number): string | number {
  if (MAC_FIELDS.has(field)) return formatMac(value);
  if (IPV4_FIELDS.has(field)) return formatIpv4(value >>> 0);
  return value;
}

export type HeaderSummaryJson = Partial<Record<keyof HeaderSummary, string | number>>;

function headersJson(h: HeaderSummary): HeaderSummaryJson {
  const out: HeaderSummaryJson = {};
  for (const [k, v] of Object.entries(h) as [keyof HeaderSummary, number][]) out[k] = headerValueText(k, v);
  return out;
}

export interface TraceHopJson extends Omit<TraceHop, 'rewrites' | 'outputs'> {
  rewrites: { field: string; from: string | number; to: string | number }[];
  outputs: (Omit<TraceHop['outputs'][number], 'headers'> & { headers: HeaderSummaryJson })[];
}

export interface IntentTraceJson extends Omit<IntentTrace, 'hops' | 'exits'> {
  hops: TraceHopJson[];
  exits: (Omit<IntentTrace['exits'][number], 'headers' | 'frame'> & { headers: HeaderSummaryJson; frame: string })[];
}

const hex = (bytes: Uint8Array) => Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');

export function traceJson(t: IntentTrace): IntentTraceJson {
  return {
    ...t,
    hops: t.hops.map((h) => ({
      ...h,
      rewrites: h.rewrites.map((r) => ({ field: r.field, from: headerValueText(r.field, r.from), to: headerValueText(r.field, r.to) })),
      outputs: h.outputs.map((o) => ({ ...o, headers: headersJson(o.headers) })),
    })),
    exits: t.exits.map((e) => ({ ...e, headers: headersJson(e.headers), frame: hex(e.frame) })),
  };
}
