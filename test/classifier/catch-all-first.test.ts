/**
 * Regression: a flow table whose first rule matches everything (a table-miss flow, which the compiler
 * installs before anything else, docs/architecture.md) made an empty tuple every later rule fitted;
 * the split of its one long chain found nothing in common (the catch-all fixes no bit) and was
 * retried, reading the whole chain, on every insert: a 96,000-flow leaf took minutes to install.
 * Now the split is chosen among the rules that can move, a failed one (or one that leaves the list over
 * the limit) waits for the chain to double,
 * and rules that all fix the same bits move to the tuple of those bits.
 * Then the same with VPCs that share one address plan (the OVN workload, bench/endpoint-install.ts):
 * every rule joined the catch-all's empty tuple, the first table in probe order, and each split moved
 * one shape out while the next rules piled in again: a leaf's first sync of 67,000 flows took 30 s.
 * Now only a rule that would hash nothing joins a table that hashes nothing, later rules follow the
 * lists a split moved, and a split lengthens no identifier (metadata, ct_state) halfway.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { LinearClassifier, TupleSpaceClassifier } from '../../src/classifier/index.js';
import { compileMatch, K, KEY_WORDS, type Match } from '../../src/flow/index.js';

/** A security-group table's five conntrack-state flows per local endpoint: priority, ct_state value, mask. */
const CT_STATES = [
  [300, 48, 48],
  [290, 36, 52],
  [250, 32, 56],
  [200, 40, 56],
  [100, 32, 32],
] as const;

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

  it('keeps VPCs that share one address plan apart: every lookup compares a few rules', () => {
    const c = new TupleSpaceClassifier<number>('tuplemerge');
    const shapes = securityGroupTable(400);
    for (const [id, r] of shapes.rules.entries()) c.insert(rule(id, r.priority, r.match));
    // A split is tried only when a list passes the limit; each VPC's shapes go to their table at once.
    expect(c.splitsTried).toBeLessThan(10);
    expect(c.tableCount).toBeLessThan(12);
    let worst = 0;
    for (const probe of shapes.probes) {
      expect(c.lookup(probe.key)?.priority).toBe(probe.priority);
      worst = Math.max(worst, c.probeCost(probe.key).rules);
    }
    expect(worst).toBeLessThan(20);
  });

  it('answers what the linear oracle answers, under inserts and removes in any order (seeded)', () => {
    const { rules, probes } = securityGroupTable(12);
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 1, max: rules.length - 1 }), { minLength: 1, maxLength: 60 }), fc.shuffledSubarray(rules.map((_, i) => i).slice(1)), (drops, order) => {
        const fast = new TupleSpaceClassifier<number>('tuplemerge');
        const oracle = new LinearClassifier<number>();
        // The catch-all first, as the compiler installs it; then the rest in the drawn order.
        for (const id of [0, ...order]) {
          fast.insert(rule(id, rules[id].priority, rules[id].match));
          oracle.insert(rule(id, rules[id].priority, rules[id].match));
        }
        for (const id of drops) expect(fast.remove(id)).toBe(oracle.remove(id));
        for (const p of probes) expect(fast.lookup(p.key)?.id).toBe(oracle.lookup(p.key)?.id);
      }),
      { seed: 17, numRuns: 60 },
    );
  });
});

/**
 * An ingress security-group table's shapes (compile-security.ts) for `vpcs` VPCs that all use
 * 10.0.0.0/16: after the catch-all, per VPC (metadata) a conntrack flow per member address, per local
 * endpoint (its own zone) five conntrack-state flows, and per VPC a conj_id flow; with the key of a
 * packet for each conntrack-state flow and the priority that must answer it.
 */
function securityGroupTable(vpcs: number): { rules: { priority: number; match: Match }[]; probes: { key: Uint32Array; priority: number }[] } {
  const rules: { priority: number; match: Match }[] = [{ priority: 0, match: {} }];
  const probes: { key: Uint32Array; priority: number }[] = [];
  let zone = 100;
  for (let vni = 1; vni <= vpcs; vni++) {
    for (let e = 0; e < 20; e++) {
      const ip = 0x0a00000a + e;
      rules.push({ priority: 50, match: { metadata: vni, ethType: 0x0800, ipv4Dst: ip } });
      if (e % 4 !== vni % 4) continue;
      zone++;
      for (const [priority, value, mask] of CT_STATES) {
        rules.push({ priority, match: { ethType: 0x0800, ipv4Dst: ip, ctZone: zone, ctState: { value, mask } } });
        if (vni % 16 !== 1) continue;
        const key = new Uint32Array(KEY_WORDS);
        key[K.ETH_TYPE] = 0x0800;
        key[K.IP_DST] = ip;
        key[K.CT_ZONE] = zone;
        key[K.CT_STATE] = value;
        // The best of the five this state matches (a new connection's 32 also matches 250's test).
        probes.push({ key, priority: Math.max(...CT_STATES.filter(([, v, m]) => (value & m) === v).map(([p]) => p)) });
      }
    }
    rules.push({ priority: 200, match: { conjId: vni } });
  }
  return { rules, probes };
}
