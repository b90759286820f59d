/**
 * How the tuple-space engine chooses tuples (tuple-space.ts): the tuple of a new table (TupleMerge's
 * relaxation), the tuple an over-full hash key splits into, the narrow field a service list splits on,
 * and the order in which a table's generated code checks the slots it does not hash. Pure functions of
 * masks and rules; the engine does the moving.
 */
import { K, MATCHABLE_WORDS } from '../flow/index.js';
import type { ClassifierRule } from './classifier.js';
import { SLOT_FULL_MASK } from './rule-store.js';
import { PREFIX_MASKS, type RuleRecords } from './rule-records.js';
import type { TupleSpaceOptions } from './tuple-space-options.js';
import { isPrefixMask, popcount, type TupleTable } from './tuple-table.js';

/** How many of a table's rules `selectiveSlots` looks at. */
const SELECTIVE_SAMPLE = 256;

/**
 * TupleMerge's relaxation of a new table's tuple from its first rule's effective mask, which decides
 * how many later rules can share the table; written into `out`, which is returned.
 * - IPv4 addresses: when one prefix is more than `relaxStep` bits longer than the other, the shorter
 *   address and its port leave the tuple (rules keyed mostly by one address then share tables).
 *   `relaxMode` 'coarse' rounds the prefix lengths that stay down to a multiple of 8 and drops every
 *   narrow field; 'tm' shortens them as TupleMerge's reference code does (32 -> 28, 25..31 by 3,
 *   17..24 by 2, 9..16 by 1).
 * - narrow fields (16 bits or less: ports, protocol, EtherType, VLAN) stay only when fully fixed to
 *   their slot's width (`wildcardNarrow`); a partial one (a port range, the 8-bit protocol in its
 *   16-bit slot) is left to the exact check after the hash.
 * - other wide fields (in_port, metadata, tunnel id, MACs) are exact identifiers: kept as they are.
 */
export function relaxTuple(eff: Int32Array, opts: TupleSpaceOptions, out: Int32Array): Int32Array {
  for (let s = 0; s < MATCHABLE_WORDS; s++) {
    const m = eff[s];
    const full = SLOT_FULL_MASK[s];
    out[s] = full <= 0xffff && opts.wildcardNarrow && m !== full ? 0 : m;
  }
  const src = popcount(out[K.IP_SRC]);
  const dst = popcount(out[K.IP_DST]);
  if (dst > src + opts.relaxStep) {
    out[K.IP_SRC] = 0;
    out[K.L4_SRC] = 0;
  } else if (src > dst + opts.relaxStep) {
    out[K.IP_DST] = 0;
    out[K.L4_DST] = 0;
  }
  if (opts.relaxMode === 'coarse') {
    for (let s = 0; s < MATCHABLE_WORDS; s++) if (SLOT_FULL_MASK[s] <= 0xffff) out[s] = 0;
    out[K.IP_SRC] = PREFIX_MASKS[popcount(out[K.IP_SRC]) & ~7];
    out[K.IP_DST] = PREFIX_MASKS[popcount(out[K.IP_DST]) & ~7];
  } else {
    out[K.IP_SRC] = shortenPrefix(out[K.IP_SRC]);
    out[K.IP_DST] = shortenPrefix(out[K.IP_DST]);
  }
  return out;
}

/** Shorten a prefix mask for a new table's tuple; non-prefix masks are left alone. */
function shortenPrefix(m: number): number {
  const len = popcount(m);
  if (len === 0 || !isPrefixMask(m)) return m;
  const cut = len === 32 ? 4 : len > 24 ? 3 : len > 16 ? 2 : len > 8 ? 1 : 0;
  return PREFIX_MASKS[len - cut];
}

/**
 * The slots a midpoint split may lengthen: the addresses and the narrow fields (ports, protocol). The
 * other 32-bit slots are identifiers or bit sets (in_port, metadata, MAC halves, ct_state, conj_id):
 * half an identifier's mask separates nothing (a fabric's VNIs all share their top 16 bits), and the
 * union of ct_state masks fits only the colliders that test every one of those bits. Those slots
 * join a split's tuple only as part of what every collider fixes.
 */
const SPLIT_SLOTS: readonly boolean[] = Array.from({ length: MATCHABLE_WORDS }, (_, s) => s === K.IP_SRC || s === K.IP_DST || SLOT_FULL_MASK[s] <= 0xffff);

/**
 * The tuple that rules colliding under one hash key (`colliders`) split into. From the tuple they
 * all share: with `split` 'common', that tuple; with 'midpoint' (TupleMerge's split), that tuple with
 * the one field of SPLIT_SLOTS where they differ most lengthened halfway towards the longest, or
 * undefined when they differ in none.
 */
export function splitTuple<T>(store: RuleRecords<T>, colliders: readonly number[], split: TupleSpaceOptions['split']): Int32Array | undefined {
  const common = new Int32Array(MATCHABLE_WORDS).fill(-1);
  const union = new Int32Array(MATCHABLE_WORDS);
  for (const r of colliders) {
    store.effective(store.rules[r] as ClassifierRule<T>);
    for (let s = 0; s < MATCHABLE_WORDS; s++) {
      common[s] &= store.effMask[s];
      union[s] |= store.effMask[s];
    }
  }
  if (split === 'common') return common;
  let best = -1;
  let gain = 0;
  for (let s = 0; s < MATCHABLE_WORDS; s++) {
    if (!SPLIT_SLOTS[s]) continue;
    const d = popcount(union[s]) - popcount(common[s]);
    if (d > gain) {
      gain = d;
      best = s;
    }
  }
  if (best < 0) return undefined;
  const a = popcount(common[best]);
  const b = popcount(union[best]);
  common[best] = isPrefixMask(common[best]) && isPrefixMask(union[best]) ? PREFIX_MASKS[(a + b + 1) >> 1] : union[best];
  return common;
}

/**
 * The narrow slot (16 bits or less) that table t does not hash and on which rules colliding under one
 * hash key tell themselves apart, or -1: fw1's hosts list their services by destination port and
 * protocol, one rule each. The slot must be fixed exactly by at least half of the colliders and take
 * distinct values for at least 3 in 4 of them: a field that leaves groups behind (a protocol with 3
 * values over 17 rules) would make a table that every lookup probes for little gain.
 */
export function narrowSplitSlot<T>(store: RuleRecords<T>, t: TupleTable, colliders: readonly number[]): number {
  let bestSlot = -1;
  let bestDistinct = 0;
  for (let s = 0; s < MATCHABLE_WORDS; s++) {
    const full = SLOT_FULL_MASK[s];
    if (full > 0xffff || t.maskOf(s) !== 0) continue;
    const values = new Set<number>();
    let fixed = 0;
    for (const r of colliders) {
      const rule = store.rules[r] as ClassifierRule<T>;
      if ((rule.match.mask[s] & full) !== full) continue;
      fixed++;
      values.add(rule.match.value[s] & full);
    }
    if (fixed * 2 >= colliders.length && values.size > bestDistinct) {
      bestDistinct = values.size;
      bestSlot = s;
    }
  }
  return bestSlot < 0 || bestDistinct * 4 < colliders.length * 3 ? -1 : bestSlot;
}

/**
 * The slots table t does not hash on which its rules constrain in the most different ways, most
 * first: a chain holds rules that agree on the hashed slots, so these are where a rule met in a chain
 * that does not match the packet most likely fails (fw1's hosts list their services: rules of one
 * destination differing in port and protocol). Counted over at most SELECTIVE_SAMPLE of its rules.
 */
export function selectiveSlots<T>(store: RuleRecords<T>, t: TupleTable): number[] {
  const step = Math.max(1, Math.floor(t.count / SELECTIVE_SAMPLE));
  const seen = new Map<number, Set<string>>();
  for (let i = 0; i < t.count; i += step) {
    const rule = store.rules[t.members[i]] as ClassifierRule<T>;
    const { value, mask } = rule.match;
    for (let s = 0; s < MATCHABLE_WORDS; s++) {
      if (t.maskOf(s) !== 0) continue;
      let c = `${value[s] & mask[s]}/${mask[s]}`;
      for (const g of rule.ranges ?? []) if (g.slot === s) c += ` ${g.lo}-${g.hi}`;
      let set = seen.get(s);
      if (set === undefined) seen.set(s, (set = new Set()));
      set.add(c);
    }
  }
  return [...seen].filter(([, set]) => set.size > 1).sort((a, b) => b[1].size - a[1].size).map(([s]) => s);
}
