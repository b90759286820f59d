/**
 * Flows by identity (table, priority, canonical match: what `sameFlowKey` compares and a strict
 * flow-mod names), without building a string per flow. A table of a million flows keyed by `flowKey`
 * strings holds a million strings of ~100 bytes; this keys them by a 30-bit hash of the same identity
 * (a small integer, stored unboxed) and settles the rare collision with `sameFlowKey`.
 *
 * The hash reads the canonical form: a field with a zero mask is absent, a full mask is an exact
 * value, and only the value bits under the mask count, so two flows `sameFlowKey` calls equal always
 * hash alike.
 */
import { FIELDS, type FieldName } from './fields.js';
import { sameFlowKey, type FlowEntry } from './flow-entry.js';
import type { FieldMatch } from './match.js';

const TWO_32 = 0x100000000;
/** Per field: its position (mixed into the hash) and width; a plain lookup, no inherited keys. */
const FIELD_INFO: Record<string, { index: number; bits: number } | undefined> = Object.create(null) as Record<string, { index: number; bits: number } | undefined>;
(Object.keys(FIELDS) as FieldName[]).forEach((name, index) => (FIELD_INFO[name] = { index: index + 1, bits: FIELDS[name].bits }));

function mix(h: number, x: number): number {
  h = Math.imul(h ^ x, 0x01000193);
  return h ^ (h >>> 15);
}

/**
 * A 30-bit hash of a flow's identity. Fields are combined order-independently (a sum of per-field
 * hashes), so the order of a match's keys does not matter.
 */
export function flowIdentityHash(f: Pick<FlowEntry, 'table' | 'priority' | 'match'>): number {
  let sum = 0;
  const m = f.match as Record<string, FieldMatch | undefined>;
  for (const k in m) {
    const v = m[k];
    const info = FIELD_INFO[k];
    if (v === undefined || info === undefined) continue;
    let value: number;
    let mask: number;
    if (typeof v === 'number') {
      value = v;
      mask = -1;
    } else {
      mask = v.mask;
      if (mask === 0) continue;
      const full = info.bits === 32 ? 0xffffffff : 2 ** info.bits - 1;
      if (mask === full) mask = -1;
      value = v.value;
    }
    let h = mix(0x811c9dc5, info.index);
    if (info.bits > 32) {
      const hiMask = mask === -1 ? 0xffff : Math.floor(mask / TWO_32);
      const loMask = mask === -1 ? -1 : mask >>> 0;
      h = mix(h, Math.floor(value / TWO_32) & hiMask);
      h = mix(h, (value >>> 0) & loMask);
      h = mix(h, mask === -1 ? -1 : hiMask ^ loMask);
    } else {
      h = mix(h, value & mask);
      h = mix(h, mask);
    }
    sum = (sum + h) | 0;
  }
  return mix(mix(sum, f.table), f.priority) & 0x3fffffff;
}

const asFlow = <T>(x: T): FlowEntry => x as unknown as FlowEntry;

/**
 * A set of flows, or of records that each hold one (`flowOf`), at most one per identity. Buckets hold
 * one entry, or an array of the few that collide.
 */
export class FlowIndex<T extends object = FlowEntry> {
  private readonly byHash = new Map<number, T | T[]>();
  private count = 0;

  constructor(
    entries?: Iterable<T>,
    private readonly flowOf: (x: T) => FlowEntry = asFlow,
  ) {
    if (entries) for (const x of entries) this.set(x);
  }

  get size(): number {
    return this.count;
  }

  /** The entry whose flow has `f`'s identity, if any. */
  get(f: FlowEntry): T | undefined {
    const at = this.byHash.get(flowIdentityHash(f));
    if (at === undefined) return undefined;
    if (!Array.isArray(at)) return sameFlowKey(this.flowOf(at), f) ? at : undefined;
    for (const x of at) if (sameFlowKey(this.flowOf(x), f)) return x;
    return undefined;
  }

  has(f: FlowEntry): boolean {
    return this.get(f) !== undefined;
  }

  /** Puts `x` in place of any entry with its flow's identity; returns the one it replaced. */
  set(x: T): T | undefined {
    const f = this.flowOf(x);
    const h = flowIdentityHash(f);
    const at = this.byHash.get(h);
    if (at === undefined) {
      this.byHash.set(h, x);
      this.count++;
      return undefined;
    }
    if (!Array.isArray(at)) {
      if (sameFlowKey(this.flowOf(at), f)) {
        this.byHash.set(h, x);
        return at;
      }
      this.byHash.set(h, [at, x]);
      this.count++;
      return undefined;
    }
    for (let i = 0; i < at.length; i++) {
      if (sameFlowKey(this.flowOf(at[i]), f)) {
        const old = at[i];
        at[i] = x;
        return old;
      }
    }
    at.push(x);
    this.count++;
    return undefined;
  }

  /** Removes the entry whose flow has `f`'s identity; returns it. */
  delete(f: FlowEntry): T | undefined {
    const h = flowIdentityHash(f);
    const at = this.byHash.get(h);
    if (at === undefined) return undefined;
    if (!Array.isArray(at)) {
      if (!sameFlowKey(this.flowOf(at), f)) return undefined;
      this.byHash.delete(h);
      this.count--;
      return at;
    }
    const i = at.findIndex((x) => sameFlowKey(this.flowOf(x), f));
    if (i < 0) return undefined;
    const [old] = at.splice(i, 1);
    if (at.length === 1) this.byHash.set(h, at[0]);
    this.count--;
    return old;
  }

  clear(): void {
    this.byHash.clear();
    this.count = 0;
  }

  *values(): IterableIterator<T> {
    for (const at of this.byHash.values()) {
      if (Array.isArray(at)) yield* at;
      else yield at;
    }
  }

  [Symbol.iterator](): IterableIterator<T> {
    return this.values();
  }
}
