/**
 * Regression: a flow table whose first rule matches everything (a table-miss flow, which the compiler
 * installs before anything else, docs/architecture.md) made an empty tuple every later rule fitted;
 * the split of its one long chain found nothing in common (the catch-all fixes no bit) and was
 * retried, reading the whole chain, on every insert: a 96,000-flow leaf took minutes to install.
 * Now the split is chosen among the rules that can move, a failed one waits for the chain to double,
 * and rules that all fix the same bits move to the tuple of those bits.
 */
import { describe, expect, it } from 'vitest';
import { TupleSpaceClassifier } from '../../src/classifier/index.js';
import { compileMatch, K, KEY_WORDS, type Match } from '../../src/flow/index.js';

const rule = (id: number, priority: number, match: Match) => ({ id, priority, match: compileMatch(match), payload: id });

describe('a table whose first rule is a catch-all', () => {
  it('keeps chains short whatever comes after it: every lookup probes a few rules, and finds the right one', () => {
    const c = new TupleSpaceClassifier<number>('tuplemerge');
    c.insert(rule(0, 0, {}));
    // Per VPC (metadata) one flow per MAC, and one per VPC with the same MAC: rules that all fix the same bits.
    let id = 1;
    for (let vni = 1; vni <= 200; vni++) {
      c.insert(rule(id++, 10, { metadata: vni, ethDst: 0x0a0000000001 }));
      for (let e = 0; e < 20; e++) c.insert(rule(id++, 100, { metadata: vni, ethDst: 0x020000000000 + e }));
    }
    const key = new Uint32Array(KEY_WORDS);
    key[K.METADATA] = 150;
    key[K.ETH_DST_HI] = 0x0200;
    key[K.ETH_DST_LO] = 7;
    expect(c.lookup(key)?.payload).toBe(1 + 149 * 21 + 1 + 7);
    expect(c.probeCost(key).rules).toBeLessThan(50);
    key[K.ETH_DST_HI] = 0x0a00;
    key[K.ETH_DST_LO] = 1;
    expect(c.lookup(key)?.payload).toBe(1 + 149 * 21);
    key[K.METADATA] = 999;
    expect(c.lookup(key)?.payload).toBe(0);
  });
});
