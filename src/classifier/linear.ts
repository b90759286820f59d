/** The reference classifier (the oracle): every rule, in priority order, checked one by one. */
import { keyMatches } from '../flow/index.js';
import { beats, type Classifier, type ClassifierRule } from './classifier.js';

export class LinearClassifier<T> implements Classifier<T> {
  readonly name = 'linear';
  private rules: ClassifierRule<T>[] = [];

  get size(): number {
    return this.rules.length;
  }

  insert(rule: ClassifierRule<T>): void {
    // Keep sorted best-first so lookup can stop at the first match.
    let i = this.rules.length;
    while (i > 0 && beats(rule, this.rules[i - 1])) i--;
    this.rules.splice(i, 0, rule);
  }

  remove(id: number): boolean {
    const i = this.rules.findIndex((r) => r.id === id);
    if (i < 0) return false;
    this.rules.splice(i, 1);
    return true;
  }

  lookup(key: Uint32Array): ClassifierRule<T> | undefined {
    for (const r of this.rules) if (keyMatches(key, r.match)) return r;
    return undefined;
  }
}
