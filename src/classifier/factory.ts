/**
 * One place to make a classifier by name. The softswitch should call `createClassifier<T>()` (the
 * default: TupleMerge behind the exact-match cache) for every table.
 */
import { OvercastError } from '../errors/index.js';
import type { Classifier } from './classifier.js';
import { CachedClassifier, DEFAULT_CACHE_ENTRIES } from './flow-cache.js';
import { LinearClassifier } from './linear.js';
import { FlatLinearClassifier } from './linear-flat.js';
import { TupleSpaceClassifier } from './tuple-space.js';

export const CLASSIFIER_ALGOS = ['default', 'tuplemerge', 'tuplemerge+cache', 'pstss', 'tss', 'tss+cache', 'linear', 'linear-flat'] as const;
export type ClassifierAlgo = (typeof CLASSIFIER_ALGOS)[number];

export function isClassifierAlgo(name: string): name is ClassifierAlgo {
  return (CLASSIFIER_ALGOS as readonly string[]).includes(name);
}

export interface ClassifierFactoryOptions {
  /** Flow-cache entries for the cached algorithms (rounded up to a power of two). */
  cacheEntries?: number;
}

/**
 * The baselines probe table by table as Open vSwitch's classifier does (no fused lookup): they stand
 * for the designs they are named after, and the fused code is part of ours.
 */
const BASELINE_PSTSS = { merge: false, prioritySort: true, fuseAfter: Infinity };
const BASELINE_TSS = { merge: false, prioritySort: false, fuseAfter: Infinity };

/**
 * - `default` = `tuplemerge+cache`: what the softswitch uses.
 * - `tuplemerge`: the fast classifier without a cache.
 * - `pstss`, `tss`: tuple-space search with and without priority-sorted tables (baselines).
 * - `linear`: the reference oracle; `linear-flat`: linear search over flat records (the benchmark baseline).
 * Throws OVC_ERR_CLASSIFIER_UNKNOWN_ALGO for any other name.
 */
export function createClassifier<T>(algo: string = 'default', options: ClassifierFactoryOptions = {}): Classifier<T> {
  const entries = options.cacheEntries ?? DEFAULT_CACHE_ENTRIES;
  switch (algo) {
    case 'default':
    case 'tuplemerge+cache':
      return new CachedClassifier<T>(new TupleSpaceClassifier<T>('tuplemerge'), entries);
    case 'tuplemerge':
      return new TupleSpaceClassifier<T>('tuplemerge');
    case 'pstss':
      return new TupleSpaceClassifier<T>('pstss', BASELINE_PSTSS);
    case 'tss':
      return new TupleSpaceClassifier<T>('tss', BASELINE_TSS);
    case 'tss+cache':
      return new CachedClassifier<T>(new TupleSpaceClassifier<T>('tss', BASELINE_TSS), entries);
    case 'linear':
      return new LinearClassifier<T>();
    case 'linear-flat':
      return new FlatLinearClassifier<T>();
    default:
      throw new OvercastError('OVC_ERR_CLASSIFIER_UNKNOWN_ALGO', `unknown classifier "${algo}" (known: ${CLASSIFIER_ALGOS.join(', ')})`, 'algo');
  }
}
