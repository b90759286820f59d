/**
 * The one place the softswitch picks its classifier: TupleMerge-style tuple space search with an
 * exact-match flow cache in front (src/classifier, docs/classifier.md), one per table.
 */
import { createClassifier, type Classifier } from '../classifier/index.js';

export type ClassifierFactory = <T>() => Classifier<T>;

/**
 * Per-table cache entries. Sixteen tables per switch and a process per switch in a lab: 8K entries
 * keeps each cache ~256 KB while still holding every active connection of a test-sized fabric.
 */
export const SWITCH_CACHE_ENTRIES = 8192;

export const createFlowClassifier: ClassifierFactory = <T>() => createClassifier<T>('default', { cacheEntries: SWITCH_CACHE_ENTRIES });
