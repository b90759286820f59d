import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ConjunctionClauses, K, compileMatch, conjunction, createPacketKey, isConjunctionClause, keyMatches, output, type Action, type FlowEntry } from '../../src/flow/index.js';

/**
 * Adds and removes clauses of `pool` step by step (a remove answers whether the flow was there), and
 * builds from scratch an index of what is left: the two must agree.
 */
function replay(pool: FlowEntry[], steps: readonly { add: boolean; at: number }[]) {
  const live = new Set<FlowEntry>();
  const incremental = new ConjunctionClauses<FlowEntry>();
  for (const step of steps) {
    const f = pool[step.at % pool.length];
    if (step.add) {
      incremental.add(f, f.priority, compileMatch(f.match), f.actions);
      live.add(f);
    } else {
      expect(incremental.remove(f)).toBe(live.delete(f));
    }
  }
  const rebuilt = new ConjunctionClauses<FlowEntry>();
  for (const f of pool) if (live.has(f)) rebuilt.add(f, f.priority, compileMatch(f.match), f.actions);
  return { live, incremental, rebuilt };
}

/**
 * The reference: Open vSwitch's conjunctive match stated directly. The best ordinary flow sets the
 * floor; from the top priority down to it, the first priority where some conjunction has every clause
 * matched wins through a second lookup with conjId set (smallest id on a tie, clause flows ignored).
 */
function reference(flows: readonly FlowEntry[], key: Uint32Array): FlowEntry | undefined {
  const ordinary = (k: Uint32Array) => {
    let best: FlowEntry | undefined;
    for (const f of flows) if (!isConjunctionClause(f.actions) && keyMatches(k, compileMatch(f.match)) && (best === undefined || f.priority > best.priority)) best = f;
    return best;
  };
  const hard = ordinary(key);
  const priorities = [...new Set(flows.filter((f) => isConjunctionClause(f.actions)).map((f) => f.priority))].sort((a, b) => b - a);
  for (const p of priorities) {
    if (hard !== undefined && p <= hard.priority) break;
    const clauses = new Map<number, Set<number>>();
    const needed = new Map<number, number>();
    for (const f of flows) {
      if (f.priority !== p || !isConjunctionClause(f.actions) || !keyMatches(key, compileMatch(f.match))) continue;
      for (const a of f.actions) {
        if (a.type !== 'conjunction') continue;
        const set = clauses.get(a.id) ?? new Set<number>();
        set.add(a.clause);
        clauses.set(a.id, set);
        needed.set(a.id, a.nClauses);
      }
    }
    const complete = [...clauses].filter(([id, set]) => set.size === needed.get(id)).map(([id]) => id).sort((a, b) => a - b);
    if (complete.length === 0) continue;
    const k = key.slice();
    k[K.CONJ_ID] = complete[0];
    const found = ordinary(k);
    if (found !== undefined) return found;
  }
  return hard;
}

describe('ConjunctionClauses', () => {
  it('agrees with the reference on random clause sets (property)', () => {
    let viaConjunction = 0;
    // Small domains so that matches and complete conjunctions are frequent.
    const flowArb = fc.oneof(
      fc.record({
        priority: fc.integer({ min: 0, max: 3 }),
        field: fc.constantFrom('ipv4Src' as const, 'tcpDst' as const, 'inPort' as const),
        value: fc.integer({ min: 1, max: 3 }),
        conj: fc.array(fc.record({ id: fc.integer({ min: 1, max: 3 }), clause: fc.integer({ min: 1, max: 3 }) }), { minLength: 1, maxLength: 2 }),
      }),
      fc.record({ priority: fc.integer({ min: 0, max: 3 }), conjId: fc.integer({ min: 0, max: 3 }), port: fc.integer({ min: 1, max: 9 }) }),
    );
    fc.assert(
      fc.property(fc.array(flowArb, { maxLength: 14 }), fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 3 }), (specs, src, dst, port) => {
        const flows: FlowEntry[] = specs.map((s) => {
          if ('conjId' in s) return { table: 0, priority: s.priority, cookie: 0, match: s.conjId === 0 ? {} : { conjId: s.conjId }, actions: [output(s.port)] };
          // Conjunctions 1 and 2 have two clauses, 3 has three.
          const actions: Action[] = s.conj.map((c) => {
            const n = c.id === 3 ? 3 : 2;
            return conjunction(c.id, Math.min(c.clause, n), n);
          });
          const match = s.field === 'tcpDst' ? { ethType: 0x0800, ipProto: 6, tcpDst: s.value } : s.field === 'ipv4Src' ? { ethType: 0x0800, ipv4Src: s.value } : { inPort: s.value };
          return { table: 0, priority: s.priority, cookie: 0, match, actions };
        });
        // Equal-priority ordinary flows are ambiguous in OpenFlow: keep one per priority.
        const priorities = new Set<number>();
        const unique = flows.filter((f) => {
          if (isConjunctionClause(f.actions)) return true;
          if (priorities.has(f.priority)) return false;
          priorities.add(f.priority);
          return true;
        });
        const clauses = new ConjunctionClauses<FlowEntry>();
        for (const f of unique) if (isConjunctionClause(f.actions)) clauses.add(f, f.priority, compileMatch(f.match), f.actions);
        const ordinaryFlows = unique.filter((f) => !isConjunctionClause(f.actions));
        const ordinary = (k: Uint32Array) => {
          let best: FlowEntry | undefined;
          for (const f of ordinaryFlows) if (keyMatches(k, compileMatch(f.match)) && (best === undefined || f.priority > best.priority)) best = f;
          return best;
        };
        const key = createPacketKey();
        key[K.ETH_TYPE] = 0x0800;
        key[K.IP_PROTO] = 6;
        key[K.IP_SRC] = src;
        key[K.L4_DST] = dst;
        key[K.IN_PORT] = port;
        const hard = ordinary(key);
        const got = clauses.resolve(key, hard, hard?.priority ?? -1, ordinary);
        expect(got).toBe(reference(unique, key));
        expect(key[K.CONJ_ID]).toBe(0);
        if (got !== hard) viaConjunction++;
      }),
      // Seeded: the share of runs a conjunction wins is asserted below, and must not hang on luck.
      { numRuns: 1000, seed: 20261207 },
    );
    // The domains are small enough that conjunctions complete and win in a fair share of the runs.
    expect(viaConjunction).toBeGreaterThan(10);
  });

  it('after any sequence of adds and removes, answers as the same clause flows added from scratch (property)', () => {
    // A pool of clause flows over small domains (so that conjunctions complete) and a few ordinary flows.
    const clauseArb = fc.record({
      priority: fc.integer({ min: 0, max: 3 }),
      field: fc.constantFrom('ipv4Src' as const, 'tcpDst' as const, 'inPort' as const),
      value: fc.integer({ min: 1, max: 3 }),
      conj: fc.array(fc.record({ id: fc.integer({ min: 1, max: 3 }), clause: fc.integer({ min: 1, max: 2 }) }), { minLength: 1, maxLength: 2 }),
    });
    const toFlow = (s: { priority: number; field: 'ipv4Src' | 'tcpDst' | 'inPort'; value: number; conj: { id: number; clause: number }[] }): FlowEntry => {
      const match = s.field === 'tcpDst' ? { ethType: 0x0800, ipProto: 6, tcpDst: s.value } : s.field === 'ipv4Src' ? { ethType: 0x0800, ipv4Src: s.value } : { inPort: s.value };
      return { table: 0, priority: s.priority, cookie: 0, match, actions: s.conj.map((c) => conjunction(c.id, c.clause, 2)) };
    };
    // Steps: add pool[i] (again: replaces it) or remove pool[i].
    const stepArb = fc.record({ add: fc.boolean(), at: fc.nat() });
    const ordinaryFlows: FlowEntry[] = [1, 2, 3].map((id) => ({ table: 0, priority: 0, cookie: 0, match: { conjId: id }, actions: [output(id)] }));
    const ordinary = (k: Uint32Array) => ordinaryFlows.find((f) => keyMatches(k, compileMatch(f.match)));
    const keys: Uint32Array[] = [];
    for (const src of [1, 2, 3])
      for (const dst of [1, 2, 3])
        for (const port of [1, 2, 3]) {
          const key = createPacketKey();
          key[K.ETH_TYPE] = 0x0800;
          key[K.IP_PROTO] = 6;
          key[K.IP_SRC] = src;
          key[K.L4_DST] = dst;
          key[K.IN_PORT] = port;
          keys.push(key);
        }
    let answered = 0;
    fc.assert(
      fc.property(fc.array(clauseArb, { minLength: 1, maxLength: 12 }), fc.array(stepArb, { maxLength: 40 }), (specs, steps) => {
        const pool = specs.map(toFlow);
        const { live, incremental, rebuilt } = replay(pool, steps);
        expect(incremental.size).toBe(rebuilt.size);
        for (const key of keys) {
          const got = incremental.resolve(key, undefined, -1, ordinary);
          expect(got).toBe(rebuilt.resolve(key, undefined, -1, ordinary));
          expect(got).toBe(reference([...live, ...ordinaryFlows], key));
          if (got !== undefined) answered++;
        }
      }),
      { numRuns: 300, seed: 20261208 },
    );
    // Conjunctions complete often enough for the comparison to mean something.
    expect(answered).toBeGreaterThan(300);
  });

  it('its clause index (per priority and mask, by hashed values) equals one rebuilt from scratch after any adds and removes (property)', () => {
    // Clause flows of several shapes per priority, exact and masked, so that a priority holds several
    // masks and a mask several values (and a value several clauses).
    const clauseArb = fc.record({
      priority: fc.integer({ min: 0, max: 1 }),
      shape: fc.constantFrom('src' as const, 'net' as const, 'port' as const, 'ports' as const, 'zoneAndDst' as const),
      value: fc.integer({ min: 0, max: 3 }),
      id: fc.integer({ min: 1, max: 2 }),
      clause: fc.integer({ min: 1, max: 2 }),
    });
    type Spec = typeof clauseArb extends fc.Arbitrary<infer T> ? T : never;
    const matchOf = (s: Spec): FlowEntry['match'] => {
      switch (s.shape) {
        case 'src':
          return { ethType: 0x0800, ipv4Src: 0x0a000000 + s.value };
        case 'net':
          return { ethType: 0x0800, ipv4Src: { value: 0x0a000000 + (s.value << 4), mask: 0xfffffff0 } };
        case 'port':
          return { ethType: 0x0800, ipProto: 6, tcpDst: 8000 + s.value };
        case 'ports':
          return { ethType: 0x0800, ipProto: 6, tcpDst: { value: 8000 + (s.value & 6), mask: 0xfffe } };
        case 'zoneAndDst':
          return { ethType: 0x0800, ctZone: s.value, ipv4Dst: 0x0a000100 + s.value };
      }
    };
    const stepArb = fc.record({ add: fc.boolean(), at: fc.nat() });
    // Keys that hit every shape: sources in and around the nets, ports, zones with their destinations.
    const keys: Uint32Array[] = [];
    for (let v = 0; v < 4; v++)
      for (let w = 0; w < 4; w++)
        for (const src of [0x0a000000 + v, 0x0a000000 + (v << 4) + 3]) {
          const key = createPacketKey();
          key[K.ETH_TYPE] = 0x0800;
          key[K.IP_PROTO] = 6;
          key[K.IP_SRC] = src;
          key[K.L4_DST] = 8000 + w;
          key[K.CT_ZONE] = (v + w) % 4;
          key[K.IP_DST] = 0x0a000100 + ((v + w) % 4);
          keys.push(key);
        }
    const ordinaryFlows: FlowEntry[] = [1, 2].map((id) => ({ table: 0, priority: 0, cookie: 0, match: { conjId: id }, actions: [output(id)] }));
    const ordinary = (k: Uint32Array) => ordinaryFlows.find((f) => keyMatches(k, compileMatch(f.match)));
    let compared = 0;
    let answered = 0;
    fc.assert(
      fc.property(fc.array(clauseArb, { minLength: 1, maxLength: 24 }), fc.array(stepArb, { maxLength: 80 }), (specs, steps) => {
        const pool: FlowEntry[] = specs.map((x) => ({ table: 0, priority: x.priority, cookie: 0, match: matchOf(x), actions: [conjunction(x.id, x.clause, 2)] }));
        const name = (f: FlowEntry) => String(pool.indexOf(f));
        const { live, incremental, rebuilt } = replay(pool, steps);
        expect(incremental.shape(name)).toEqual(rebuilt.shape(name));
        expect(incremental.size).toBe(live.size);
        // Every live clause sits in exactly one bucket; nothing removed is left behind.
        const indexed = incremental.shape(name).flatMap((l) => l.subtables.flatMap((t) => t.buckets.flatMap((b) => b.handles)));
        expect(indexed.sort()).toEqual([...live].map(name).sort());
        if (live.size > 0) compared++;
        // And the index answers as the reference does.
        for (const key of keys) {
          const got = incremental.resolve(key, undefined, -1, ordinary);
          expect(got).toBe(reference([...live, ...ordinaryFlows], key));
          if (got !== undefined) answered++;
        }
      }),
      { numRuns: 300, seed: 20261209 },
    );
    expect(compared).toBeGreaterThan(100);
    expect(answered).toBeGreaterThan(100);
  });
});
