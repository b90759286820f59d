/**
 * What a resource module (vpcs.ts, endpoints.ts...) works with. A module validates a request against
 * the applied state inside `write` and hands its changes to the draft: it never writes the store, the
 * in-memory index or the listeners itself, so the commit protocol lives in the service alone. `write`
 * may run the validation again (against a newer state) when another controller committed first, so
 * the function it is given decides from the state alone.
 */
import type { IntentIndex } from '../store/intent-index.js';
import type { PlacementIndex } from '../store/placement-index.js';
import type { CommittedChange, IntentObjects, ObjectKind } from './changes.js';
import type { Page, PageRequest } from './pagination.js';

/** The committed intent with its lookups; read-only to modules (changes go through the draft). */
export type IntentView = Omit<IntentIndex, `put${string}` | `remove${string}`>;

/** The changes of one transaction, collected while a module validates. */
export interface IntentDraft {
  /** Validated changes, applied in this order (a VPC delete carries its subnets' deletes first). */
  commit(changes: readonly CommittedChange[]): void;
  /** A new object, which `build` makes from the id this transaction gives out. */
  create<K extends ObjectKind>(kind: K, build: (id: string) => IntentObjects[K]): IntentObjects[K];
}

export interface IntentContext {
  readonly index: IntentView;
  /** The current topology with its switches, used ports and host MACs. */
  readonly placement: PlacementIndex;
  /**
   * Validates and commits as one transaction: `decide` reads the state, throws what is wrong and
   * gives its changes to the draft; resolves with its result once the changes are committed and
   * applied to the index (nothing is committed when it gave none).
   */
  write<T>(decide: (tx: IntentDraft) => T): Promise<T>;
  /** One page of the committed objects of a kind that `keep` accepts, in id order. */
  list<K extends ObjectKind>(kind: K, page: PageRequest, keep: (x: IntentObjects[K]) => boolean): Page<IntentObjects[K]>;
}
