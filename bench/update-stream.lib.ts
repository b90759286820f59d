/**
 * The benchmarks' online updates, as the TupleMerge harness makes them: starting from the full rule
 * set, alternately remove a random present rule and re-insert a random absent one (a fixed seed, so
 * every run and both sides of an A/B make the same updates).
 */
import { prng } from '../test/support/prng.js';

/** What an update stream changes: any classifier (of any revision: the rule format is shared). */
export interface Updatable<R extends { id: number }> {
  insert(rule: R): void;
  remove(id: number): boolean;
}

export class UpdateStream<R extends { id: number }> {
  private readonly rand = prng(42);
  private readonly present: number[];
  private readonly absent: R[] = [];
  private readonly byId: Map<number, R>;
  private made = 0;

  constructor(rules: readonly R[]) {
    this.present = rules.map((r) => r.id);
    this.byId = new Map(rules.map((r) => [r.id, r]));
  }

  /** One update: a removal on even counts (or when nothing is absent), else a re-insert. */
  step(c: Updatable<R>): void {
    if (this.made++ % 2 === 0 || this.absent.length === 0) {
      const k = Math.floor(this.rand() * this.present.length);
      const id = this.present[k];
      this.present[k] = this.present[this.present.length - 1];
      this.present.pop();
      c.remove(id);
      this.absent.push(this.byId.get(id) as R);
    } else {
      const k = Math.floor(this.rand() * this.absent.length);
      const r = this.absent[k];
      this.absent[k] = this.absent[this.absent.length - 1];
      this.absent.pop();
      c.insert(r);
      this.present.push(r.id);
    }
  }

  /** Put every removed rule back, so later measurements see the full set. */
  restore(c: Updatable<R>): void {
    for (const r of this.absent) {
      c.insert(r);
      this.present.push(r.id);
    }
    this.absent.length = 0;
  }
}
