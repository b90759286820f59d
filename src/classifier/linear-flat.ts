/**
 * Linear search over flat rule records: the honest linear baseline for benchmarks (the oracle in
 * linear.ts walks rule objects and all 22 slots, which measures JavaScript objects, not the method).
 * Rules are kept best-first in an Int32Array of record indices; lookup returns the first match.
 */
import { NO_MATCH, checkNewRuleId, type Classifier, type ClassifierRule } from './classifier.js';
import { RuleStore } from './rule-store.js';

export class FlatLinearClassifier<T> implements Classifier<T> {
  readonly name = 'linear-flat';
  private readonly store = new RuleStore<T>();
  private order = new Int32Array(64);
  private n = 0;

  get size(): number {
    return this.n;
  }

  insert(rule: ClassifierRule<T>): void {
    checkNewRuleId(rule.id, this.store.byId.has(rule.id));
    const r = this.store.add(rule);
    if (this.n === this.order.length) {
      const o = new Int32Array(this.order.length * 2);
      o.set(this.order);
      this.order = o;
    }
    let lo = 0;
    let hi = this.n;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      const m = this.order[mid];
      const p = this.store.priority(m);
      if (rule.priority > p || (rule.priority === p && rule.id < this.store.id(m))) hi = mid;
      else lo = mid + 1;
    }
    this.order.copyWithin(lo + 1, lo, this.n);
    this.order[lo] = r;
    this.n++;
  }

  remove(id: number): boolean {
    const r = this.store.byId.get(id);
    if (r === undefined) return false;
    const i = this.order.subarray(0, this.n).indexOf(r);
    this.order.copyWithin(i, i + 1, this.n);
    this.n--;
    this.store.release(r);
    return true;
  }

  lookup(key: Uint32Array): ClassifierRule<T> | undefined {
    const order = this.order;
    const store = this.store;
    for (let i = 0; i < this.n; i++) if (store.matches(order[i], key)) return store.rules[order[i]];
    return undefined;
  }

  lookupId(key: Uint32Array): number {
    const order = this.order;
    const store = this.store;
    for (let i = 0; i < this.n; i++) if (store.matches(order[i], key)) return store.id(order[i]);
    return NO_MATCH;
  }
}
