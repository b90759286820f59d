/** The reference classifier (the oracle): every rule, in priority order, checked one by one. */
import { NO_MATCH, beats, checkNewRuleId, ruleMatches, type Classifier, type ClassifierRule } from './classifier.js';

export class LinearClassifier<T> implements Classifier<T> {
  readonly name = 'linear';
  private rules: ClassifierRule<T>[] = [];
  private readonly ids = new Set<number>();

  get size(): number {
    return this.rules.length;
  }

  insert(rule: ClassifierRule<T>): void {
    checkNewRuleId(rule.id, this.ids.has(rule.id));
    this.ids.add(rule.id);
    // Keep sorted best-first so lookup can stop at the first match; binary search for the slot.
    let lo = 0;
    let hi = this.rules.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (beats(rule, this.rules[mid])) hi = mid;
      else lo = mid + 1;
    }
    this.rules.splice(lo, 0, rule);
  }

  remove(id: number): boolean {
    if (!this.ids.delete(id)) return false;
    const i = this.rules.findIndex((r) => r.id === id);
    this.rules.splice(i, 1);
    return true;
  }

  lookup(key: Uint32Array): ClassifierRule<T> | undefined {
    const rules = this.rules;
    for (let i = 0; i < rules.length; i++) if (ruleMatches(key, rules[i])) return rules[i];
    return undefined;
  }

  lookupId(key: Uint32Array): number {
    return this.lookup(key)?.id ?? NO_MATCH;
  }
}
