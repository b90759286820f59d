/**
 * Every classifier (and the cached path) must answer exactly what the linear oracle answers, for random
 * rule sets with ties, masks, prefixes and ranges, under interleaved inserts and removes.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { K, KEY_WORDS, MATCHABLE_WORDS, compileMatch } from '../../src/flow/index.js';
import {
  CachedClassifier,
  LinearClassifier,
  TupleSpaceClassifier,
  createClassifier,
  CLASSIFIER_ALGOS,
  NO_MATCH,
  type Classifier,
  type ClassifierRule,
  type RangeMatch,
  classBenchRulesToClassifierRules,
  parseClassBenchRules,
} from '../../src/classifier/index.js';
import { RuleRecords } from '../../src/classifier/rule-records.js';
import { isOvercastError } from '../../src/errors/index.js';

/** Slots the generators use, with a small pool of values each so rules and packets overlap often. */
const SLOTS = [K.IN_PORT, K.METADATA, K.ETH_TYPE, K.VLAN_VID, K.IP_SRC, K.IP_DST, K.IP_PROTO, K.L4_SRC, K.L4_DST] as const;
const POOL: Record<number, number[]> = {
  [K.IN_PORT]: [1, 2, 3],
  [K.METADATA]: [0, 7, 0x80000001],
  [K.ETH_TYPE]: [0x0800, 0x0806],
  [K.VLAN_VID]: [0, 0x1005, 0x1006],
  // Addresses above 2^31 catch signed/unsigned slips.
  [K.IP_SRC]: [0x0a000001, 0x0a000102, 0xc0a80001, 0xc0a8ff01],
  [K.IP_DST]: [0x0a000001, 0x0a0000ff, 0xfe000001, 0xfe800001],
  [K.IP_PROTO]: [6, 17],
  [K.L4_SRC]: [80, 443, 1023, 1024, 65535],
  [K.L4_DST]: [22, 80, 1024, 8080],
};
const WIDE = new Set<number>([K.IN_PORT, K.METADATA, K.IP_SRC, K.IP_DST]);

const packetArb = fc.tuple(...SLOTS.map((s) => fc.constantFrom(...POOL[s]))).map((vals) => {
  const key = new Uint32Array(KEY_WORDS);
  SLOTS.forEach((s, i) => (key[s] = vals[i]));
  return key;
});

interface RuleSpec {
  priority: number;
  fields: { slot: number; value: number; len: number }[];
  ranges: RangeMatch[];
}

const fieldArb = fc.record({
  slot: fc.constantFrom(...SLOTS),
  pick: fc.nat(10),
  len: fc.nat(32),
  full: fc.boolean(),
});
// Range ends sit on, just below or just above pool values, so boundaries are exercised.
const endArb = fc.tuple(fc.nat(10), fc.constantFrom(-1, 0, 1));
const rangeArb = fc.record({ slot: fc.constantFrom(K.L4_SRC, K.L4_DST), a: endArb, b: endArb });
const rangeEnd = (slot: number, [pick, off]: [number, number]) => {
  const pool = POOL[slot];
  return Math.max(0, Math.min(65535, pool[pick % pool.length] + off));
};

const ruleArb: fc.Arbitrary<RuleSpec> = fc
  .record({ priority: fc.nat(4), fields: fc.array(fieldArb, { maxLength: 4 }), ranges: fc.array(rangeArb, { maxLength: 2 }) })
  .map(({ priority, fields, ranges }) => ({
    priority,
    fields: fields.map((f) => {
      const pool = POOL[f.slot];
      const value = pool[f.pick % pool.length];
      // Wide slots get prefixes (or exact); narrow ones exact or a few high bits.
      const width = WIDE.has(f.slot) ? 32 : 16;
      const len = f.full ? width : f.len % (width + 1);
      return { slot: f.slot, value, len: Math.min(len, width) };
    }),
    ranges: ranges.map((g) => {
      const a = rangeEnd(g.slot, g.a);
      const b = rangeEnd(g.slot, g.b);
      return { slot: g.slot, lo: Math.min(a, b), hi: Math.max(a, b) };
    }),
  }));

function toRule(spec: RuleSpec, id: number): ClassifierRule<number> {
  const value = new Uint32Array(MATCHABLE_WORDS);
  const mask = new Uint32Array(MATCHABLE_WORDS);
  for (const f of spec.fields) {
    const width = WIDE.has(f.slot) ? 32 : 16;
    const m = f.len === 0 ? 0 : ((0xffffffff << (32 - f.len)) >>> (32 - width)) >>> 0;
    const fullWidth = width === 32 ? 0xffffffff : 0xffff;
    const mk = (m & fullWidth) >>> 0;
    mask[f.slot] = mk;
    value[f.slot] = (f.value & mk) >>> 0;
  }
  return { id, priority: spec.priority, match: { value, mask }, ranges: spec.ranges, payload: id };
}

type Op = { kind: 'insert'; rule: RuleSpec } | { kind: 'remove'; pick: number };
const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 3, arbitrary: ruleArb.map((rule) => ({ kind: 'insert' as const, rule })) },
  { weight: 1, arbitrary: fc.nat(1000).map((pick) => ({ kind: 'remove' as const, pick })) },
);

function makeAll(): Classifier<number>[] {
  return [
    ...CLASSIFIER_ALGOS.filter((a) => a !== 'linear').map((a) => createClassifier<number>(a)),
    // Tiny collision limits force table splits; a tiny cache forces evictions and collisions.
    new TupleSpaceClassifier<number>('tm-limit1', { collisionLimit: 1 }),
    new TupleSpaceClassifier<number>('tm-tm', { collisionLimit: 2, relaxMode: 'tm', split: 'common', choose: 'first' }),
    new CachedClassifier<number>(new TupleSpaceClassifier<number>('tm-small-cache', { collisionLimit: 2 }), 4),
    // The fused lookup from the first lookup after every change (0), and after one loop lookup (1):
    // sameAnswers looks every packet up twice, so both paths answer right after each change.
    new TupleSpaceClassifier<number>('tm-fused-now', { fuseAfter: 0 }),
    new TupleSpaceClassifier<number>('tm-fused-second', { fuseAfter: 1, collisionLimit: 2 }),
    // Records with address prefixes as lengths (the 100k-rule layout) from the first rule, through
    // the per-table probes and through the fused lookup.
    new TupleSpaceClassifier<number>('tm-prefix-records', { prefixRecordsFrom: 0 }),
    new TupleSpaceClassifier<number>('tm-prefix-records-fused', { prefixRecordsFrom: 0, fuseAfter: 0 }),
    // Two rules under one hash key already try a narrow split (moves rules between tables).
    new TupleSpaceClassifier<number>('tm-narrow-split', { narrowSplitAt: 1, fuseAfter: 0 }),
    // Decisive rules marked at every lookup, so every insert and split meets marked rules: other
    // tables checked one by one; through the buckets of every hash key the rule leaves open (scan
    // limit 0); and (key limit 1 too) cleared whole and marked again at once.
    new TupleSpaceClassifier<number>('tm-decisive', { fuseAfter: 0, markEvery: 1, collisionLimit: 2 }),
    new TupleSpaceClassifier<number>('tm-decisive-keys', { fuseAfter: 0, markEvery: 1, decisiveScanLimit: 0, decisiveKeyLimit: 1 << 16, unsettleKeyLimit: 1 << 16 }),
    new TupleSpaceClassifier<number>('tm-decisive-clear', { fuseAfter: 0, markEvery: 1, decisiveScanLimit: 0, decisiveKeyLimit: 1, unsettleKeyLimit: 1, clearHold: 0 }),
    // One rule decided per lookup: a marking round spread over many lookups and changes.
    new TupleSpaceClassifier<number>('tm-decisive-chunked', { fuseAfter: 0, markEvery: 1, markChunk: 1 }),
    // The loop over per-table probes, after each change, meets the rules marked before it.
    new TupleSpaceClassifier<number>('tm-decisive-loop', { fuseAfter: 1, markEvery: 1, collisionLimit: 2 }),
  ];
}

/** A rule on a source prefix and a destination prefix. */
function pair(id: number, priority: number, src: number, srcLen: number, dst: number, dstLen: number): ClassifierRule<number> {
  const value = new Uint32Array(MATCHABLE_WORDS);
  const mask = new Uint32Array(MATCHABLE_WORDS);
  mask[K.IP_SRC] = srcLen === 0 ? 0 : (0xffffffff << (32 - srcLen)) >>> 0;
  mask[K.IP_DST] = dstLen === 0 ? 0 : (0xffffffff << (32 - dstLen)) >>> 0;
  value[K.IP_SRC] = src & mask[K.IP_SRC];
  value[K.IP_DST] = dst & mask[K.IP_DST];
  return { id, priority, match: { value, mask }, payload: id };
}

/** A rule on an exact source and destination address pair (a "host pair"). */
function host(id: number, priority: number, src: number, dst: number): ClassifierRule<number> {
  return pair(id, priority, src, 32, dst, 32);
}

/** A rule on a destination prefix of `len` bits. */
function net(id: number, priority: number, dst: number, len: number): ClassifierRule<number> {
  return pair(id, priority, 0, 0, dst, len);
}

function sameAnswers(oracle: LinearClassifier<number>, others: Classifier<number>[], packets: Uint32Array[]): void {
  for (const p of packets) {
    const want = oracle.lookup(p)?.id;
    for (const c of others) {
      // Twice: the second answer may come from a cache.
      expect(c.lookup(p)?.id, c.name).toBe(want);
      expect(c.lookup(p)?.id, c.name).toBe(want);
      expect(c.lookupId(p), c.name).toBe(want ?? NO_MATCH);
    }
  }
}

/**
 * Apply inserts and removes to the oracle and every classifier (makeAll) alike, checking after each
 * operation that sizes and answers for the packets agree. `toRule` makes the rule of an insert, with the id given.
 */
function replayAgainstOracle<Op extends { kind: 'insert' } | { kind: 'remove'; pick: number }>(
  ops: readonly Op[],
  packets: Uint32Array[],
  toRule: (op: Extract<Op, { kind: 'insert' }>, id: number) => ClassifierRule<number>,
): void {
  const oracle = new LinearClassifier<number>();
  const others = makeAll();
  const live: number[] = [];
  let nextId = 0;
  for (const op of ops) {
    if (op.kind === 'insert') {
      const rule = toRule(op as Extract<Op, { kind: 'insert' }>, nextId++);
      oracle.insert(rule);
      for (const c of others) c.insert(rule);
      live.push(rule.id);
    } else if (live.length > 0) {
      const [id] = live.splice((op as { pick: number }).pick % live.length, 1);
      expect(oracle.remove(id)).toBe(true);
      for (const c of others) expect(c.remove(id), c.name).toBe(true);
    }
    for (const c of others) expect(c.size, c.name).toBe(oracle.size);
    sameAnswers(oracle, others, packets);
  }
}

describe('classifiers agree with the linear oracle', () => {
  it('on random rule sets under interleaved inserts and removes', () => {
    fc.assert(
      fc.property(fc.array(opArb, { minLength: 1, maxLength: 60 }), fc.array(packetArb, { minLength: 1, maxLength: 12 }), (ops, packets) =>
        replayAgainstOracle(ops, packets, (op, id) => toRule(op.rule, id)),
      ),
      { numRuns: 50 },
    );
  });

  it('on flows compiled from the flow model (value/mask only)', () => {
    const matchArb = fc.record(
      {
        inPort: fc.constantFrom(1, 2),
        ethType: fc.constant(0x0800),
        ipv4Src: fc.record({ value: fc.constantFrom(0x0a000001, 0xc0a80001), mask: fc.constantFrom(0xffffffff, 0xffffff00, 0xff000000) }),
        ipProto: fc.constant(6),
      },
      { requiredKeys: [] },
    );
    fc.assert(
      fc.property(fc.array(fc.tuple(matchArb, fc.nat(3)), { maxLength: 30 }), fc.array(packetArb, { minLength: 1, maxLength: 10 }), (flows, packets) => {
        const oracle = new LinearClassifier<number>();
        const others = makeAll();
        flows.forEach(([m, priority], id) => {
          const rule = { id, priority, match: compileMatch(m), payload: id };
          oracle.insert(rule);
          for (const c of others) c.insert(rule);
        });
        sameAnswers(oracle, others, packets);
      }),
      { numRuns: 40 },
    );
  });

  it('on service lists (many exact ports under one address) that narrow splits reshape, under inserts and removes', () => {
    // Rules like fw1's: a few destinations, each with exact ports, some wildcards and ranges below.
    const ports = [21, 22, 25, 53, 80, 443, 8080, 65535];
    const serviceArb = fc.record({
      priority: fc.nat(6),
      dst: fc.constantFrom(0x0a000001, 0xfe000001),
      dport: fc.option(fc.constantFrom(...ports), { freq: 4 }),
      proto: fc.option(fc.constantFrom(6, 17), { freq: 2 }),
      range: fc.option(fc.constantFrom<[number, number]>([0, 1023], [1024, 65535], [80, 80]), { freq: 4 }),
    });
    const opsArb = fc.array(
      fc.oneof(
        { weight: 3, arbitrary: serviceArb.map((rule) => ({ kind: 'insert' as const, rule })) },
        { weight: 1, arbitrary: fc.nat(1000).map((pick) => ({ kind: 'remove' as const, pick })) },
      ),
      { minLength: 1, maxLength: 50 },
    );
    const packetsArb = fc.array(
      fc.tuple(fc.constantFrom(0x0a000001, 0xfe000001), fc.constantFrom(...ports, 1024, 2000), fc.constantFrom(6, 17)),
      { minLength: 1, maxLength: 10 },
    );
    fc.assert(
      fc.property(opsArb, packetsArb, (ops, tuples) => {
        const packets = tuples.map(([dst, dport, proto]) => {
          const key = new Uint32Array(KEY_WORDS);
          key[K.IP_DST] = dst;
          key[K.L4_DST] = dport;
          key[K.IP_PROTO] = proto;
          return key;
        });
        replayAgainstOracle(ops, packets, ({ rule: r }, id) => {
          const value = new Uint32Array(MATCHABLE_WORDS);
          const mask = new Uint32Array(MATCHABLE_WORDS);
          value[K.IP_DST] = r.dst;
          mask[K.IP_DST] = 0xffffffff;
          if (r.dport !== null) [value[K.L4_DST], mask[K.L4_DST]] = [r.dport, 0xffff];
          if (r.proto !== null) [value[K.IP_PROTO], mask[K.IP_PROTO]] = [r.proto, 0xff];
          const ranges = r.range === null ? [] : [{ slot: K.L4_DST, lo: r.range[0], hi: r.range[1] }];
          return { id, priority: r.priority, match: { value, mask }, ranges, payload: id };
        });
      }),
      { numRuns: 100 },
    );
  });

  it('moves a destination\'s services out of one long chain into a table that hashes their port (narrow split)', () => {
    // fw1's pattern: one host, many exact destination ports, one wildcard-port rule below them.
    const dst = 0x86668af1;
    const services = [21, 22, 23, 25, 53, 80, 88, 110, 123, 143, 161, 389, 443, 445, 544, 993, 995, 3306, 5432, 7649];
    const rule = (id: number, dport: number | undefined): ClassifierRule<number> => {
      const value = new Uint32Array(MATCHABLE_WORDS);
      const mask = new Uint32Array(MATCHABLE_WORDS);
      value[K.IP_DST] = dst;
      mask[K.IP_DST] = 0xffffffff;
      if (dport !== undefined) {
        value[K.L4_DST] = dport;
        mask[K.L4_DST] = 0xffff;
      }
      return { id, priority: 100 - id, match: { value, mask }, payload: id };
    };
    const rules = [...services.map((port, i) => rule(i, port)), rule(services.length, undefined)];
    const split = new TupleSpaceClassifier<number>('tm');
    const chained = new TupleSpaceClassifier<number>('tm', { narrowSplitAt: Infinity });
    const oracle = new LinearClassifier<number>();
    for (const r of rules) for (const c of [split, chained, oracle]) c.insert(r);
    expect(chained.tableCount).toBe(1);
    expect(split.tableCount).toBe(2);
    const key = new Uint32Array(KEY_WORDS);
    key[K.IP_DST] = dst;
    let splitRules = 0;
    let chainedRules = 0;
    for (const port of [...services, 8080]) {
      key[K.L4_DST] = port;
      expect(split.lookupId(key)).toBe(oracle.lookupId(key));
      splitRules += split.probeCost(key).rules;
      chainedRules += chained.probeCost(key).rules;
    }
    // By hash, each service costs one rule check, and so does the port no rule names (its bucket in
    // the split table is empty; it falls to the wildcard rule); in one chain, a walk down the list.
    expect(splitRules).toBe(services.length + 1);
    expect(chainedRules).toBeGreaterThan(5 * splitRules);
    // Removing the services empties the split table again.
    for (let id = 0; id < services.length; id++) expect(split.remove(id)).toBe(true);
    expect(split.tableCount).toBe(1);
    key[K.L4_DST] = 22;
    expect(split.lookupId(key)).toBe(services.length);
  });

  it('stops at a decisive rule, and a rule that comes to beat it in another table unsettles it', () => {
    for (const scanLimit of [256, 0]) {
      const c = new TupleSpaceClassifier<number>('tm', { fuseAfter: 0, markEvery: 1, decisiveScanLimit: scanLimit, clearHold: 0, remarkRemovals: 2 });
      const oracle = new LinearClassifier<number>();
      const both = (r: ClassifierRule<number>) => [c, oracle].forEach((x) => x.insert(r));
      // Host pairs in one table (the best at 100), a /24 in a second table between them (50), and a
      // /8 below all (1): the host pair at 5 loses to the /24 for the packets both match.
      both(host(0, 100, 0x0a000001, 0x0a000002));
      both(host(1, 5, 0x0a000003, 0x0b000004));
      both(net(2, 50, 0x0c000000, 24));
      both(net(3, 1, 0x0b000000, 8));
      expect(c.tableCount).toBe(3);
      const key = new Uint32Array(KEY_WORDS);
      key[K.IP_SRC] = 0x0a000003;
      key[K.IP_DST] = 0x0b000004;
      // The first lookup fuses and marks: host 1 is decisive (the /24 does not overlap it), so the
      // lookup stops in the first table instead of probing the /24's as well.
      expect(c.lookupId(key)).toBe(1);
      expect(c.probeCost(key).tables, `scan limit ${scanLimit}`).toBe(1);
      // A /24 at 60 over host 1's destination joins the /24 table (probed after the hosts' table):
      // host 1 must stop being decisive, or the lookup would stop at it.
      const beating = net(4, 60, 0x0b000000, 24);
      both(beating);
      expect(c.lookupId(key)).toBe(oracle.lookupId(key));
      expect(c.lookupId(key)).toBe(4);
      expect(c.probeCost(key).tables).toBe(2);
      // Once it leaves (with another rule: here a table is marked whole again when the rules removed
      // number twice its rules that are not decisive), marking makes host 1 decisive again.
      both(net(5, 55, 0x0d000000, 24));
      for (const id of [4, 5]) [c, oracle].forEach((x) => x.remove(id));
      expect(c.lookupId(key)).toBe(1);
      c.lookupId(key);
      expect(c.probeCost(key).tables, `scan limit ${scanLimit}, after the remove`).toBe(1);
    }
  });

  it('decides and unsettles through the buckets of each hash key a rule leaves open in another table', () => {
    // Scan limit 0: another table is searched through its buckets or not at all.
    const byKeys = new TupleSpaceClassifier<number>('tm', { fuseAfter: 0, markEvery: 1, decisiveScanLimit: 0, unsettleKeyLimit: 256 });
    const oneBucket = new TupleSpaceClassifier<number>('tm', { fuseAfter: 0, markEvery: 1, decisiveScanLimit: 0, decisiveKeyLimit: 1 });
    const oracle = new LinearClassifier<number>();
    const all = [byKeys, oneBucket, oracle];
    // The first table hashes the destination /32: a rule at 200 leads it, and two source /24s below.
    // The second hashes the source /32 (best 100): its host outranks both /24s but meets neither.
    for (const r of [
      pair(0, 200, 0, 0, 0x0d000001, 32),
      pair(1, 50, 0x0a000000, 24, 0x0b000004, 32),
      pair(2, 60, 0x0a000200, 24, 0x0c000001, 32),
      pair(3, 100, 0x0a000107, 32, 0, 0),
    ])
      for (const c of all) c.insert(r);
    expect(byKeys.tableCount).toBe(2);
    const key = (src: number, dst: number) => {
      const k = new Uint32Array(KEY_WORDS);
      k[K.IP_SRC] = src;
      k[K.IP_DST] = dst;
      return k;
    };
    const toRule1 = key(0x0a000009, 0x0b000004);
    const toRule2 = key(0x0a000201, 0x0c000001);
    for (const c of all) expect(c.lookupId(toRule1)).toBe(1);
    // A /24 leaves 8 bits of the second table's key open: 256 buckets hold every rule there that may
    // meet it, none of them does, so rule 1 is decisive. Pointed at one bucket only, it cannot be told.
    expect(byKeys.probeCost(toRule1).tables).toBe(1);
    expect(byKeys.probeCost(toRule2).tables).toBe(1);
    expect(oneBucket.probeCost(toRule1).tables).toBe(2);
    // A host at 90 with a destination /24 joins the second table and beats rule 1 where they meet: it
    // leaves 8 bits of the first table's key open, and through those buckets it unsettles rule 1 and
    // nothing else (rule 2 keeps its mark; the default clearHold would keep a table cleared whole
    // unmarked for many lookups).
    const beating = pair(4, 90, 0x0a000009, 32, 0x0b000000, 24);
    for (const c of all) c.insert(beating);
    for (const c of all) expect(c.lookupId(toRule1)).toBe(4);
    const otherSource = key(0x0a00000a, 0x0b000004);
    for (const c of all) expect(c.lookupId(otherSource)).toBe(1);
    expect(byKeys.probeCost(toRule1).tables).toBe(2);
    expect(byKeys.probeCost(otherSource).tables).toBe(2);
    expect(byKeys.probeCost(toRule2).tables).toBe(1);
  });

  it('marks a cleared table again after a wait in proportion to what marking it cost', () => {
    /** Lookups until a cleared table of host rules is marked again, when deciding each host scans `sources` rules. */
    const waitAfterClear = (sources: number) => {
      // clearHold 1 and a marking round per lookup: the wait is the table's marking cost, in lookups.
      // Scan limit 8: the later source table is scanned, the hosts' table of 12 is not.
      const c = new TupleSpaceClassifier<number>('tm', { fuseAfter: 0, markEvery: 1, clearHold: 1, decisiveScanLimit: 8, decisiveKeyLimit: 1, unsettleKeyLimit: 1 });
      const oracle = new LinearClassifier<number>();
      const both = (r: ClassifierRule<number>) => [c, oracle].forEach((x) => x.insert(r));
      // Hosts: source 10.0.0.0/24 to 11.0.0.i, priorities 100 down to 89 (a table hashing the destination).
      for (let i = 0; i < 12; i++) both(pair(i, 100 - i, 0x0a000000, 24, 0x0b000000 + i, 32));
      // Source hosts elsewhere at 95 (a table hashing the source): the hosts below 95 scan it to be decided.
      for (let j = 0; j < sources; j++) both(pair(100 + j, 95, 0x0a050000 + j, 32, 0, 0));
      const key = new Uint32Array(KEY_WORDS);
      key[K.IP_SRC] = 0x0a000005;
      key[K.IP_DST] = 0x0b00000b;
      expect(c.lookupId(key)).toBe(11);
      expect(c.probeCost(key).tables).toBe(1);
      // A destination /24 at 90 elsewhere: it may meet hosts the first table cannot point at, so that table is cleared.
      both(pair(200, 90, 0, 0, 0x0c000000, 24));
      expect(c.probeCost(key).tables).toBe(3);
      for (let n = 1; n < 10_000; n++) {
        expect(c.lookupId(key)).toBe(oracle.lookupId(key));
        if (c.probeCost(key).tables === 1) return n;
      }
      return Infinity;
    };
    const cheap = waitAfterClear(1);
    const costly = waitAfterClear(8);
    // Six hosts scan the source table: 6 + 6 x (1 + 1) = 18 units against 6 + 6 x (1 + 8) = 60.
    expect(cheap).toBeGreaterThanOrEqual(12);
    expect(costly).toBeGreaterThanOrEqual(3 * cheap - 6);
    expect(costly).toBeLessThan(10_000);
  });

  it('clears the marks of a table that comes to be probed before one it came after', () => {
    const c = new TupleSpaceClassifier<number>('tm', { fuseAfter: 0, markEvery: 1, clearHold: 0 });
    const oracle = new LinearClassifier<number>();
    for (const r of [host(0, 100, 0x0a000001, 0x0a000002), host(1, 40, 0x0a000003, 0x0b000004), net(2, 50, 0x0c000000, 24), net(3, 30, 0x0b000000, 24)]) {
      c.insert(r);
      oracle.insert(r);
    }
    const key = new Uint32Array(KEY_WORDS);
    key[K.IP_SRC] = 0x0a000003;
    key[K.IP_DST] = 0x0b000004;
    // Hosts' table (best 100) first, the /24s (best 50) last: the /24 at 30 is marked decisive,
    // since no table after its own has anything.
    expect(c.lookupId(key)).toBe(1);
    expect(c.probeCost(key).tables).toBe(1);
    // Without host 0 the hosts' table (best 40) goes after the /24s: the /24 at 30, met first now,
    // loses to host 1 and must not stop the lookup.
    c.remove(0);
    oracle.remove(0);
    expect(c.lookupId(key)).toBe(oracle.lookupId(key));
    expect(c.lookupId(key)).toBe(1);
    expect(c.probeCost(key).tables).toBe(2);
  });

  it('switches to the fused lookup once the tables settle, and back to the loop when they change', () => {
    const c = new TupleSpaceClassifier<number>('tm', { fuseAfter: 3 });
    const rule = (id: number, priority: number, slot: number, value: number): ClassifierRule<number> => {
      const mask = new Uint32Array(MATCHABLE_WORDS);
      const v = new Uint32Array(MATCHABLE_WORDS);
      mask[slot] = 0xffffffff;
      v[slot] = value;
      return { id, priority, match: { value: v, mask }, payload: id };
    };
    const key = new Uint32Array(KEY_WORDS);
    key[K.IP_DST] = 0x0a000001;
    key[K.IN_PORT] = 2;
    c.insert(rule(1, 1, K.IP_DST, 0x0a000001));
    const answers: (number | undefined)[] = [];
    for (let i = 0; i < 3; i++) answers.push(c.lookup(key)?.id);
    expect(c.fusedActive).toBe(false);
    answers.push(c.lookup(key)?.id);
    expect(c.fusedActive).toBe(true);
    // A better rule on another slot makes a new table at the front: the fused code is stale at once,
    // and the loop serves the new answer until the shape has held long enough (the fused code died
    // young, so the wait is now 4 x 3 lookups).
    c.insert(rule(2, 9, K.IN_PORT, 2));
    expect(c.fusedActive).toBe(false);
    answers.push(c.lookup(key)?.id);
    for (let i = 0; i < 11; i++) c.lookup(key);
    expect(c.fusedActive).toBe(false);
    c.lookup(key);
    expect(c.fusedActive).toBe(true);
    answers.push(c.lookup(key)?.id);
    expect(answers).toEqual([1, 1, 1, 1, 2, 2]);
    // A change inside a table (same tuple, same order) keeps the fused code.
    c.insert(rule(3, 0, K.IP_DST, 0x0a000002));
    expect(c.fusedActive).toBe(true);
    expect(c.remove(2)).toBe(true);
    expect(c.lookup(key)?.id).toBe(1);
  });

  it('waits longer before fusing again when fused code keeps dying young (churn), and recovers', () => {
    const c = new TupleSpaceClassifier<number>('tm', { fuseAfter: 2 });
    const key = new Uint32Array(KEY_WORDS);
    let nextId = 0;
    let priority = 0;
    /** A rule above all others on a slot no table hashes yet: a new table at the front, a new shape. */
    const reshape = () => {
      const slots = [K.IN_PORT, K.METADATA, K.ETH_TYPE, K.VLAN_VID, K.IP_SRC, K.IP_DST, K.IP_PROTO, K.L4_SRC];
      const mask = new Uint32Array(MATCHABLE_WORDS);
      mask[slots[nextId % slots.length]] = 1;
      c.insert({ id: nextId++, priority: ++priority, match: { value: new Uint32Array(MATCHABLE_WORDS), mask }, payload: 0 });
    };
    /** Lookups until the fused code takes over. */
    const lookupsToFuse = () => {
      let n = 0;
      while (!c.fusedActive && n < 1000) {
        c.lookup(key);
        n++;
      }
      return n;
    };
    reshape();
    expect(lookupsToFuse()).toBe(3);
    reshape(); // the fused code served nothing: young
    expect(lookupsToFuse()).toBe(9);
    reshape();
    expect(lookupsToFuse()).toBe(33);
    // Now it lives long (16 x its wait of 32 lookups) before the next change: back to the base wait.
    for (let i = 0; i < 16 * 32; i++) c.lookup(key);
    reshape();
    expect(lookupsToFuse()).toBe(3);
    expect(c.lookup(key)?.id).toBe(nextId - 1);
  });

  it('breaks priority ties towards the smaller id, whatever the insertion order', () => {
    for (const algo of CLASSIFIER_ALGOS) {
      const c = createClassifier<string>(algo);
      const wild = { value: new Uint32Array(MATCHABLE_WORDS), mask: new Uint32Array(MATCHABLE_WORDS) };
      c.insert({ id: 9, priority: 5, match: wild, payload: 'late' });
      c.insert({ id: 3, priority: 5, match: wild, payload: 'early' });
      c.insert({ id: 1, priority: 4, match: wild, payload: 'lower' });
      expect(c.lookup(new Uint32Array(KEY_WORDS))?.payload, algo).toBe('early');
      expect(c.remove(3)).toBe(true);
      expect(c.lookup(new Uint32Array(KEY_WORDS))?.payload, algo).toBe('late');
      expect(c.remove(3)).toBe(false);
    }
  });

  it('refuses a duplicate id and an unknown algorithm with typed errors', () => {
    for (const algo of CLASSIFIER_ALGOS) {
      const c = createClassifier<number>(algo);
      const rule = { id: 1, priority: 1, match: { value: new Uint32Array(MATCHABLE_WORDS), mask: new Uint32Array(MATCHABLE_WORDS) }, payload: 1 };
      c.insert(rule);
      let code: string | undefined;
      try {
        c.insert(rule);
      } catch (e) {
        code = isOvercastError(e) ? e.code : 'other';
      }
      expect(code, algo).toBe('OVC_ERR_CLASSIFIER_DUPLICATE_ID');
      expect(c.size).toBe(1);
      // lookupId answers NO_MATCH (-1) for "none", so an id must be a non-negative safe integer.
      for (const id of [-1, 1.5, 2 ** 53]) {
        let bad: string | undefined;
        try {
          c.insert({ ...rule, id });
        } catch (e) {
          bad = isOvercastError(e) ? `${e.code} ${e.field}` : 'other';
        }
        expect(bad, `${algo} id ${id}`).toBe('OVC_ERR_CLASSIFIER_BAD_ID id');
      }
      expect(c.size).toBe(1);
      expect(c.lookupId(new Uint32Array(KEY_WORDS))).toBe(1);
    }
    expect(() => createClassifier('nope')).toThrow(expect.objectContaining({ code: 'OVC_ERR_CLASSIFIER_UNKNOWN_ALGO' }));
  });
});

describe('record layouts: narrow order and packed slots, and what widens them', () => {
  /** What a rule may bring that the compact record forms cannot hold (rule-records.ts). */
  const WIDENERS = ['fraction', 'huge-priority', 'negative-priority', 'huge-id', 'wide-mask', 'wide-range'] as const;
  type Widener = (typeof WIDENERS)[number];
  type WideOp = { kind: 'insert'; rule: RuleSpec; widen?: Widener } | { kind: 'remove'; pick: number };
  const wideOpArb: fc.Arbitrary<WideOp> = fc.oneof(
    { weight: 3, arbitrary: ruleArb.map((rule) => ({ kind: 'insert' as const, rule })) },
    { weight: 1, arbitrary: fc.tuple(ruleArb, fc.constantFrom(...WIDENERS)).map(([rule, widen]) => ({ kind: 'insert' as const, rule, widen })) },
    { weight: 1, arbitrary: fc.nat(1000).map((pick) => ({ kind: 'remove' as const, pick })) },
  );
  function toWideRule(spec: RuleSpec, id: number, widen: Widener | undefined): ClassifierRule<number> {
    const rule = toRule(spec, widen === 'huge-id' ? id + 2 ** 40 : id);
    if (widen === 'fraction') rule.priority += 0.5;
    if (widen === 'huge-priority') rule.priority += 2 ** 33;
    if (widen === 'negative-priority') rule.priority -= 2 ** 33;
    if (widen === 'wide-mask') {
      // A mask past the port field's 16 bits: only a key word wider than the field can match it.
      rule.match.mask[K.L4_SRC] = 0x1ffff;
      rule.match.value[K.L4_SRC] = 0x10050;
    }
    if (widen === 'wide-range') rule.ranges = [...(rule.ranges ?? []), { slot: K.L4_DST, lo: 0xff00, hi: 0x1ffff }];
    return rule;
  }
  /** Packets whose port words may be wider than the field (no parser makes them; the contract allows them). */
  const wordArb = fc.constantFrom(22, 80, 1024, 0xff10, 0x10050, 0xffffffff);
  const widePacketArb = fc.tuple(packetArb, wordArb, wordArb).map(([key, sport, dport]) => {
    const k = key.slice();
    k[K.L4_SRC] = sport;
    k[K.L4_DST] = dport;
    return k;
  });

  it('answer as the oracle does while rules widen the layout mid-stream, and for keys wider than their fields', () => {
    fc.assert(
      fc.property(fc.array(wideOpArb, { minLength: 1, maxLength: 50 }), fc.array(fc.oneof(packetArb, widePacketArb), { minLength: 1, maxLength: 12 }), (ops, packets) =>
        replayAgainstOracle(ops, packets, (op, id) => toWideRule(op.rule, id, op.widen)),
      ),
      { numRuns: 40 },
    );
  });

  it('packs ClassBench rules into 11 words (44 bytes), and widens only what a later rule needs', () => {
    const records = new RuleRecords<number>();
    const [acl] = classBenchRulesToClassifierRules(parseClassBenchRules('@10.1.0.0/16\t192.168.1.0/24\t0 : 65535\t1024 : 65535\t0x06/0xFF\t0x0000/0x0000\t\n'));
    records.add(acl);
    // next, hash, priority, id; source and destination (mask, value); protocol packed; destination port range packed.
    expect(records.layout()).toMatchObject({ stride: 10, wideOrder: false });
    const ports = toRule({ priority: 1, fields: [], ranges: [{ slot: K.L4_SRC, lo: 80, hi: 80 }] }, 1);
    records.add(ports);
    expect(records.layout().stride).toBe(11);
    expect(records.layout().ranges.map((g) => g.narrow)).toEqual([true, true]);
    const r0 = records.byId.get(0) as number;
    expect([records.priority(r0), records.id(r0)]).toEqual([acl.priority, 0]);
    // A priority that is no int32 moves priority and id to f64 pairs (records at even words).
    records.add({ ...toRule({ priority: 2.5, fields: [], ranges: [] }, 2) });
    expect(records.layout()).toMatchObject({ stride: 14, wideOrder: true });
    expect([records.priority(r0), records.id(r0), records.priority(records.byId.get(2) as number)]).toEqual([acl.priority, 0, 2.5]);
    // A range past a 16-bit field's width unpacks that slot only.
    records.add(toRule({ priority: 1, fields: [], ranges: [{ slot: K.L4_DST, lo: 0, hi: 0x10000 }] }, 3));
    expect(records.layout().ranges.map((g) => [g.slot, g.narrow])).toEqual([
      [K.L4_SRC, true],
      [K.L4_DST, false],
    ]);
  });

  it('from PREFIX_RECORDS_FROM rules on, keeps address prefixes as lengths: ClassBench rules in 9 words (36 bytes)', () => {
    const records = new RuleRecords<number>(64, 2);
    const [acl] = classBenchRulesToClassifierRules(parseClassBenchRules('@10.1.0.0/16\t192.168.1.0/24\t0 : 65535\t1024 : 65535\t0x06/0xFF\t0x0000/0x0000\t\n'));
    records.add(acl);
    expect(records.layout().stride).toBe(10);
    records.add(toRule({ priority: 1, fields: [], ranges: [{ slot: K.L4_SRC, lo: 80, hi: 80 }] }, 1));
    // The second rule turns prefixes on: next, hash (with both lengths), priority, id; source and
    // destination values; protocol packed; both port ranges packed.
    expect(records.layout().stride).toBe(9);
    expect(records.prefixSlots).toEqual([K.IP_SRC, K.IP_DST]);
    // The record keeps the hash's low bits beside the lengths; the whole hash is kept apart for updates.
    const r0 = records.byId.get(0) as number;
    records.setHash(r0, 0x9abcdef1 | 0);
    expect(records.getHash(r0)).toBe(0x9abcdef1 | 0);
    // A mask that is no prefix (a wildcarded middle byte) gives that slot its mask word back.
    const spec = { priority: 1, fields: [{ slot: K.IP_SRC, value: 0x0a000001, len: 32 }], ranges: [] };
    const odd = toRule(spec, 2);
    odd.match.mask[K.IP_SRC] = 0xff00ffff;
    odd.match.value[K.IP_SRC] = 0x0a000001;
    records.add(odd);
    expect(records.prefixSlots).toEqual([K.IP_DST]);
    expect(records.layout().stride).toBe(10);
    expect(records.getHash(r0)).toBe(0x9abcdef1 | 0);
  });
});
