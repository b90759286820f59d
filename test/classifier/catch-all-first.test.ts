/**
 * Regression: a flow table whose first rule matches everything (a table-miss flow, which the compiler
 * installs before anything else, docs/architecture.md) made an empty tuple every later rule fitted;
 * the split of its one long chain found nothing in common (the catch-all fixes no bit) and was
 * retried, reading the whole chain, on every insert: a 96,000-flow leaf took minutes to install.
 * Now the split is chosen among the rules that can move, a failed one (or one that leaves the list over
 * the limit) waits for the chain to double,
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

  it('tries a split that leaves the list long again only once the list has doubled', () => {
    // A security-group table's shapes (compile-security.ts): after the catch-all, per VPC (metadata) a
    // conjunction clause per member address, and per local endpoint five conntrack-state flows in its
    // zone. A split moves one shape and leaves the others' list over the collision limit: retried on
    // every insert, each retry reads the table (a leaf with 100 VPCs took seconds, a bench's minutes).
    const c = new TupleSpaceClassifier<number>('tuplemerge');
    c.insert(rule(0, 0, {}));
    const CT_STATES = [
      [300, 48, 48],
      [290, 36, 52],
      [250, 32, 56],
      [200, 40, 56],
      [100, 32, 32],
    ] as const;
    let id = 1;
    let zone = 100;
    for (let vni = 1; vni <= 30; vni++) {
      for (let e = 0; e < 20; e++) {
        const ip = 0x0a00000a + e;
        c.insert(rule(id++, 200, { metadata: vni, ethType: 0x0800, ipv4Dst: ip }));
        if (e % 4 !== 0) continue;
        zone++;
        c.insert(rule(id++, 50, { metadata: vni, ethType: 0x0800, ipv4Src: ip }));
        for (const [priority, value, mask] of CT_STATES) c.insert(rule(id++, priority, { ethType: 0x0800, ipv4Src: ip, ctZone: zone, ctState: { value, mask } }));
      }
    }
    expect(c.splitsTried).toBeLessThan(40);
    const key = new Uint32Array(KEY_WORDS);
    key[K.METADATA] = 7;
    key[K.ETH_TYPE] = 0x0800;
    key[K.IP_DST] = 0x0a00000a + 3;
    expect(c.lookup(key)?.priority).toBe(200);
    key[K.IP_DST] = 0;
    key[K.IP_SRC] = 0x0a00000a + 4;
    key[K.CT_ZONE] = 100 + 6 * 5 + 2;
    key[K.CT_STATE] = 32 | 16;
    expect(c.lookup(key)?.priority).toBe(300);
  });
});
