/**
 * One owner's flows per switch: the unit the engine replaces. A full compile keeps one per owner (a
 * quarter of a million at 10,000 VPCs), most on a handful of switches, so it is one flat array of
 * (dpid, list) pairs rather than a Map (a hash table per owner); an index by dpid appears only past
 * INDEX_FROM switches (an owner on every switch of a large fabric). Lists are read-only once built:
 * one list may serve several switches.
 *
 * Arrays are kept at their exact size while they are short: a JavaScript array grown by push reserves
 * room for 16 more elements (136 bytes), which a quarter of a million owners, each with a few lists,
 * would retain for nothing. Short arrays grow by an exact copy instead (or into the room a builder
 * reserved for the switches it may reach); long ones by push.
 */
import type { FlowEntry } from '../flow/index.js';

const INDEX_FROM = 16;
/** Up to this length, arrays grow by an exact copy; beyond it, by push (amortized). */
const EXACT_UP_TO = 16;

/** `xs` with `x` appended: a new exact-size array while `xs` is short, else `xs` itself, pushed to. */
export function appended<T>(xs: T[], x: T): T[] {
  const n = xs.length;
  if (n >= EXACT_UP_TO) {
    xs.push(x);
    return xs;
  }
  const out = new Array<T>(n + 1);
  for (let i = 0; i < n; i++) out[i] = xs[i];
  out[n] = x;
  return out;
}

export class OwnerFlows {
  /** dpid, list, dpid, list, ... in the order the switches were set (2 * size of them in use). */
  private entries: (number | FlowEntry[])[];
  private count = 0;
  private index: Map<number, number> | undefined;

  /** `room`: how many switches the owner may reach at most (the builder's bound), reserved up front. */
  constructor(room = 0) {
    this.entries = room > 0 ? new Array<number | FlowEntry[]>(2 * Math.min(room, EXACT_UP_TO)) : [];
  }

  get size(): number {
    return this.count;
  }

  /** The i-th switch (0 <= i < size), in the order they were set. */
  dpidAt(i: number): number {
    return this.entries[2 * i] as number;
  }

  listAt(i: number): FlowEntry[] {
    return this.entries[2 * i + 1] as FlowEntry[];
  }

  /** The pair index of a switch, or -1. */
  private find(dpid: number): number {
    if (this.index) return this.index.get(dpid) ?? -1;
    const e = this.entries;
    const n = 2 * this.count;
    for (let i = 0; i < n; i += 2) if (e[i] === dpid) return i >> 1;
    return -1;
  }

  get(dpid: number): FlowEntry[] | undefined {
    const i = this.find(dpid);
    return i < 0 ? undefined : (this.entries[2 * i + 1] as FlowEntry[]);
  }

  has(dpid: number): boolean {
    return this.find(dpid) >= 0;
  }

  set(dpid: number, flows: FlowEntry[]): this {
    const i = this.find(dpid);
    if (i >= 0) {
      this.entries[2 * i + 1] = flows;
      return this;
    }
    const e = this.entries;
    const n = 2 * this.count;
    if (n + 2 <= e.length) {
      e[n] = dpid;
      e[n + 1] = flows;
    } else if (n >= 2 * EXACT_UP_TO) {
      e.push(dpid, flows);
    } else {
      const out = new Array<number | FlowEntry[]>(n + 2);
      for (let j = 0; j < n; j++) out[j] = e[j];
      out[n] = dpid;
      out[n + 1] = flows;
      this.entries = out;
    }
    const size = ++this.count;
    if (this.index) this.index.set(dpid, size - 1);
    else if (size > INDEX_FROM) {
      const index = new Map<number, number>();
      for (let j = 0; j < size; j++) index.set(this.entries[2 * j] as number, j);
      this.index = index;
    }
    return this;
  }

  /** Appends `flow` to the switch's list (a list of this owner's own: not one shared with another switch). */
  push(dpid: number, flow: FlowEntry): void {
    const i = this.find(dpid);
    if (i < 0) {
      this.set(dpid, [flow]);
      return;
    }
    const list = this.entries[2 * i + 1] as FlowEntry[];
    const next = appended(list, flow);
    if (next !== list) this.entries[2 * i + 1] = next;
  }

  forEach(fn: (flows: FlowEntry[], dpid: number) => void): void {
    const e = this.entries;
    const n = 2 * this.count;
    for (let i = 0; i < n; i += 2) fn(e[i + 1] as FlowEntry[], e[i] as number);
  }

  keys(): number[] {
    const out: number[] = new Array<number>(this.size);
    for (let i = 0; i < out.length; i++) out[i] = this.entries[2 * i] as number;
    return out;
  }

  *[Symbol.iterator](): IterableIterator<[number, FlowEntry[]]> {
    const e = this.entries;
    for (let i = 0; i < 2 * this.count; i += 2) yield [e[i] as number, e[i + 1] as FlowEntry[]];
  }

  /** An owner's flows from per-switch tables (the underlay's builders return a Map). */
  static from(tables: ReadonlyMap<number, FlowEntry[]>): OwnerFlows {
    const out = new OwnerFlows();
    for (const [dpid, flows] of tables) out.set(dpid, flows);
    return out;
  }
}
