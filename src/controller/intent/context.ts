/**
 * What a resource module (vpcs.ts, endpoints.ts...) works with. A module validates a request against
 * the committed state and then hands its changes to `commit` or `create`: it never writes the store,
 * the in-memory index or the listeners itself, so the commit protocol lives in the service alone.
 */
import type { IntentIndex } from '../store/intent-index.js';
import type { PlacementIndex } from '../store/placement-index.js';
import type { CommittedChange, IntentObjects, ObjectKind } from './changes.js';
import type { Page, PageRequest } from './pagination.js';

/** The committed intent with its lookups; read-only to modules (changes go through the context). */
export type IntentView = Omit<IntentIndex, `put${string}` | `remove${string}`>;

export interface IntentContext {
  readonly index: IntentView;
  /** The current topology with its switches, used ports and host MACs. */
  readonly placement: PlacementIndex;
  /**
   * Commits validated changes as one transaction: stores them, applies them to the index (and the
   * placement, for a topology change) in order, then reports them to the listeners as one batch.
   */
  commit(changes: readonly CommittedChange[]): void;
  /** Commits a new object, which `build` makes inside the transaction from the id the store gives out. */
  create<K extends ObjectKind>(kind: K, build: (id: string) => IntentObjects[K]): IntentObjects[K];
  /** One page of the committed objects of a kind that `keep` accepts, in id order. */
  list<K extends ObjectKind>(kind: K, page: PageRequest, keep: (x: IntentObjects[K]) => boolean): Page<IntentObjects[K]>;
}
