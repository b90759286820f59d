/**
 * The settings of the tuple-space engine (tuple-space.ts): which of tss, pstss and TupleMerge it is,
 * and the bounds of its fused lookup and decisive-rule marking. The reasoning behind each default is
 * in docs/classifier.md.
 */
import { PREFIX_RECORDS_FROM } from './rule-records.js';

export interface TupleSpaceOptions {
  /** Let a rule join a table with a less specific tuple (TupleMerge). */
  merge: boolean;
  /** Probe tables best-first and stop early. */
  prioritySort: boolean;
  /** TupleMerge: most rules allowed under one hash key before they split into a more specific table. */
  collisionLimit: number;
  /** TupleMerge: an address prefix this many bits shorter than the other one is left out of a new table's tuple. */
  relaxStep: number;
  /** TupleMerge: new tables wildcard narrow (<= 16-bit) fields that their first rule only partly fixes (port ranges). */
  wildcardNarrow: boolean;
  /** Which compatible table a new rule joins. */
  choose: 'specific' | 'first';
  /**
   * More rules than this under one hash key, and no more than the collision limit, try a narrow split
   * (tuple-choice.ts `narrowSplitSlot`). A lower bar also splits lists a lookup walks cheaply, into
   * tables that every lookup then probes.
   */
  narrowSplitAt: number;
  /** Records keep address prefixes as lengths from this many rules on (rule-records.ts PREFIX_RECORDS_FROM). */
  prefixRecordsFrom: number;
  /** How an over-full hash key is split: TupleMerge's midpoint, or straight to the colliders' common tuple. */
  split: 'midpoint' | 'common';
  /** How new tables relax their first rule's tuple: TupleMerge's, or coarse (addresses to /8 steps, no ports). */
  relaxMode: 'tm' | 'coarse';
  /**
   * Look up through one generated function for all tables (codegen.ts `buildFusedLookup`) once the
   * tables have kept their shape for this many lookups; Infinity = always the loop over per-table
   * probes. Until then lookups take the loop, which is right for any shape. The wait grows (x4, up to
   * MAX_FUSE_WAIT) each time fused code is thrown away young, so churn (tables made, dropped or
   * reordered by a stream of updates) cannot make the classifier compile code all the time: a new
   * function costs far more to build and optimize than a lookup (docs/classifier.md, "fused lookup").
   */
  fuseAfter: number;
  /**
   * Fused lookups between two markings of decisive rules (decisive-marks.ts); the first marking comes
   * with the first fused code. Infinity: never marked, none decisive.
   */
  markEvery: number;
  /** Rules of another table a decision may check one by one when that table cannot point at one bucket. */
  decisiveScanLimit: number;
  /**
   * Hash keys of another table whose buckets a decision may visit, one per value of the bits that
   * table hashes and the rule leaves free (a /24 rule against a table of /32s: 256). 1 = only a rule
   * that fixes every hashed bit points at buckets.
   */
  decisiveKeyLimit: number;
  /**
   * The same limit for a rule that has just joined a table, on the earlier tables whose rules it may
   * unsettle (past it, such a table is cleared whole). Kept small: an update pays for these buckets at
   * once, each a likely cache miss in a big table, where a decision pays only at marking time.
   */
  unsettleKeyLimit: number;
  /**
   * After its decisive rules were cleared all at once, a table waits this many lookups per unit of
   * what marking it cost last time (`TupleTable.markCost`: a unit per decision and per bucket or rule
   * it visited) before it is marked whole again.
   */
  clearHold: number;
  /** Rules decided per marking step (a step runs inside one lookup). */
  markChunk: number;
  /** Removals since a table was last marked whole, per rule of it not decisive, before it is marked whole again. */
  remarkRemovals: number;
}

export const TUPLE_MERGE_DEFAULTS: TupleSpaceOptions = {
  merge: true,
  prioritySort: true,
  collisionLimit: 40,
  narrowSplitAt: 16,
  prefixRecordsFrom: PREFIX_RECORDS_FROM,
  relaxStep: 4,
  wildcardNarrow: true,
  choose: 'first',
  split: 'midpoint',
  relaxMode: 'coarse',
  fuseAfter: 1024,
  markEvery: 1 << 16,
  decisiveScanLimit: 256,
  decisiveKeyLimit: 1024,
  unsettleKeyLimit: 16,
  clearHold: 1024,
  markChunk: 1024,
  remarkRemovals: 8,
};
