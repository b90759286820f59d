/**
 * One owner's flows per switch: the unit the engine replaces. A full compile keeps one per owner (a
 * quarter of a million at 10,000 VPCs), most on a handful of switches, so it is two parallel arrays
 * (dpids, lists) rather than a Map (a hash table per owner); an index by dpid appears only past
 * INDEX_FROM switches (an owner on every switch of a large fabric). Lists are read-only once built:
 * one list may serve several switches.
 */
import type { FlowEntry } from '../flow/index.js';

const INDEX_FROM = 16;

export class OwnerFlows {
  private readonly dpids: number[] = [];
  private readonly lists: FlowEntry[][] = [];
  private index: Map<number, number> | undefined;

  get size(): number {
    return this.dpids.length;
  }

  /** The i-th switch (0 <= i < size), in the order they were set. */
  dpidAt(i: number): number {
    return this.dpids[i];
  }

  listAt(i: number): FlowEntry[] {
    return this.lists[i];
  }

  private find(dpid: number): number {
    if (this.index) return this.index.get(dpid) ?? -1;
    const d = this.dpids;
    for (let i = 0; i < d.length; i++) if (d[i] === dpid) return i;
    return -1;
  }

  get(dpid: number): FlowEntry[] | undefined {
    const i = this.find(dpid);
    return i < 0 ? undefined : this.lists[i];
  }

  has(dpid: number): boolean {
    return this.find(dpid) >= 0;
  }

  set(dpid: number, flows: FlowEntry[]): this {
    const i = this.find(dpid);
    if (i >= 0) {
      this.lists[i] = flows;
      return this;
    }
    this.dpids.push(dpid);
    this.lists.push(flows);
    if (this.index) this.index.set(dpid, this.dpids.length - 1);
    else if (this.dpids.length > INDEX_FROM) this.index = new Map(this.dpids.map((x, j) => [x, j]));
    return this;
  }

  /** Appends `flow` to the switch's list (a list of this owner's own: not one shared with another switch). */
  push(dpid: number, flow: FlowEntry): void {
    const list = this.get(dpid);
    if (list) list.push(flow);
    else this.set(dpid, [flow]);
  }

  forEach(fn: (flows: FlowEntry[], dpid: number) => void): void {
    for (let i = 0; i < this.dpids.length; i++) fn(this.lists[i], this.dpids[i]);
  }

  keys(): number[] {
    return [...this.dpids];
  }

  *[Symbol.iterator](): IterableIterator<[number, FlowEntry[]]> {
    for (let i = 0; i < this.dpids.length; i++) yield [this.dpids[i], this.lists[i]];
  }

  /** An owner's flows from per-switch tables (the underlay's builders return a Map). */
  static from(tables: ReadonlyMap<number, FlowEntry[]>): OwnerFlows {
    const out = new OwnerFlows();
    for (const [dpid, flows] of tables) out.set(dpid, flows);
    return out;
  }
}
