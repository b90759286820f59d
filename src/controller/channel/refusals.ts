/**
 * A switch's refusals of messages the controller sent without waiting for an answer (flow-mods,
 * group-mods, bundles, packet-outs). The switch answers such a message only when it refuses it; the
 * refusal is kept and fails the next barrier with a SwitchRefusedError naming the refused message, so
 * a barrier never reports as installed what the switch did not take.
 */
import type { FlowMod, GroupMod, MeterMod } from '../../flow/index.js';

/** Spans of sent messages remembered until a barrier covers them (a bound for callers that never ask for one). */
export const MAX_SENT_SPANS = 4096;

/** The switch refused a message: `code` is the switch's reason, `refused` what was sent, when known. */
export class SwitchRefusedError extends Error {
  /** Refusals the failed barrier reports: this one and `count - 1` after it. */
  count = 1;

  constructor(
    /** An OVC_ERR_* code from a softswitch; OFPET_<type>/<code> from an OpenFlow switch. */
    readonly code: string,
    readonly xid: number,
    /** The refused message, e.g. "flow-mod add table 5 priority 100 cookie 0x7 match {...}". */
    readonly refused: string | undefined,
    /** The switch's own words, when it sends any. */
    readonly detail = '',
  ) {
    super(`switch refused ${refused ?? `the message with xid ${xid}`}: ${code}${detail ? ` (${detail})` : ''}`);
    this.name = 'SwitchRefusedError';
  }

  /** Say that `more` refusals came after this one before the barrier. */
  followedBy(more: number): this {
    if (more > 0) {
      this.count = more + 1;
      this.message += ` and ${more} more`;
    }
    return this;
  }
}

export function describeFlowMod(mod: FlowMod): string {
  const f = mod.flow;
  return `flow-mod ${mod.command} table ${f.table} priority ${f.priority} cookie 0x${f.cookie.toString(16)} match ${JSON.stringify(f.match)}`;
}

export function describeMeterMod(mod: MeterMod): string {
  return `meter-mod ${mod.command} meter ${mod.meter.meterId} (${mod.meter.unit}, ${mod.meter.bands.map((b) => `${b.type} ${b.rate}/${b.burst}`).join(', ')})`;
}

export function describeGroupMod(mod: GroupMod): string {
  return `group-mod ${mod.command} group ${mod.group.groupId} (${mod.group.type}, ${mod.group.buckets.length} buckets)`;
}

interface Span {
  first: number;
  count: number;
  describe: (i: number) => string;
  /** False for messages that change no table (a packet-out): their refusal fails no barrier. */
  changesTables: boolean;
  seq: number;
}

/**
 * What the fire-and-forget messages sent since the last barrier were, by xid, so a refusal can name
 * the message. A batch is one span described on demand: describing every flow-mod as it is sent would
 * cost more than sending it, and refusals are rare.
 */
export class SentLedger {
  private spans: Span[] = [];
  private seq = 0;

  /** `count` messages numbered from xid `first` (wrapping at 2^32); `describe(i)` names the i-th. */
  record(first: number, count: number, describe: (i: number) => string, changesTables = true): void {
    if (count <= 0) return;
    this.spans.push({ first, count, describe, changesTables, seq: this.seq++ });
    // Forget the older half at once, so a long run without barriers costs no copy per message.
    if (this.spans.length > MAX_SENT_SPANS) this.spans = this.spans.slice(this.spans.length - MAX_SENT_SPANS / 2);
  }

  /** A point in the ledger: spans recorded before it can be forgotten once a barrier sent now returns. */
  mark(): number {
    return this.seq;
  }

  /** Forget the spans recorded before `mark` (the switch has processed them). */
  settle(mark: number): void {
    let n = 0;
    while (n < this.spans.length && this.spans[n].seq < mark) n++;
    if (n > 0) this.spans = this.spans.slice(n);
  }

  describe(xid: number): string | undefined {
    const s = this.spanOf(xid);
    return s?.describe((xid - s.first) >>> 0);
  }

  /** Did the message with `xid` change tables? Unknown messages count as changing them. */
  changesTables(xid: number): boolean {
    return this.spanOf(xid)?.changesTables ?? true;
  }

  private spanOf(xid: number): Span | undefined {
    for (let i = this.spans.length - 1; i >= 0; i--) {
      const s = this.spans[i];
      if (((xid - s.first) >>> 0) < s.count) return s;
    }
    return undefined;
  }
}
