import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createExecResult, createPipelineExecutor, flowHash, selectBucket, type PipelineEnv } from '../../src/flow/execute.js';
import {
  MAGLEV_DEFAULT_SIZE,
  bucketName,
  bucketNames,
  buildMaglev,
  compileSelectTable,
  degradedTable,
  isPrime,
  maglevCounts,
  maglevDisruption,
  maglevLookup,
  nextPrime,
  reweightMaglev,
  selectTableFor,
  type MaglevTable,
} from '../../src/flow/maglev.js';
import { K, createPacketKey, group, output, setField, type Bucket, type GroupEntry } from '../../src/flow/index.js';
import { ETH_TYPE_IPV4, IP_PROTO_TCP, buildTcpFrame } from '../../src/net/index.js';
import { isOvercastError } from '../../src/errors/index.js';

const SMALL = 4099;
const names = (n: number, prefix = 'be') => Array.from({ length: n }, (_, i) => `${prefix}-${i}`);

/** A seeded generator of 5-tuples (xorshift32): the same connections on every run. */
function tuples(count: number, seed = 0x12345678): Uint32Array[] {
  let x = seed >>> 0;
  const next = () => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x;
  };
  const out: Uint32Array[] = [];
  for (let i = 0; i < count; i++) {
    const key = createPacketKey();
    key[K.ETH_TYPE] = ETH_TYPE_IPV4;
    key[K.IP_SRC] = next();
    key[K.IP_DST] = 0x0a000064;
    key[K.IP_PROTO] = IP_PROTO_TCP;
    key[K.L4_SRC] = next() & 0xffff;
    key[K.L4_DST] = 443;
    out.push(key);
  }
  return out;
}
const hashes = (count: number, seed?: number) => tuples(count, seed).map(flowHash);

function expectCode(f: () => unknown, code: string): void {
  try {
    f();
  } catch (e) {
    expect(isOvercastError(e) && e.code).toBe(code);
    return;
  }
  expect.unreachable('no error thrown');
}

/** Maglev's populate, written the slow obvious way: the reference for the fast one's turn order. */
function referenceEntries(ns: string[], ws: number[], size: number): string[] {
  const perms = buildMaglev(ns, undefined, size); // offsets and skips only
  const order = ns.map((_, i) => i).filter((i) => ws[i] > 0);
  order.sort((a, b) => (ns[a] < ns[b] ? -1 : ns[a] > ns[b] ? 1 : a - b));
  const maxW = Math.max(...ws);
  const slot: (string | undefined)[] = new Array(size).fill(undefined);
  const j = new Map<number, number>(order.map((i) => [i, 0]));
  const credit = new Map<number, number>(order.map((i) => [i, 0]));
  let filled = 0;
  while (filled < size) {
    for (const i of order) {
      credit.set(i, credit.get(i)! + ws[i]);
      if (credit.get(i)! < maxW) continue;
      credit.set(i, credit.get(i)! - maxW);
      let c: number;
      do {
        c = (perms.offsets[i] + j.get(i)! * perms.skips[i]) % size;
        j.set(i, j.get(i)! + 1);
      } while (slot[c] !== undefined);
      slot[c] = ns[i];
      if (++filled === size) break;
    }
  }
  return slot as string[];
}
const slotNames = (t: MaglevTable) => Array.from(t.entries, (e) => t.names[e]);

describe('Maglev table', () => {
  it('checks its size and weights', () => {
    expect([2, 3, 251, 4099, 65537].every(isPrime)).toBe(true);
    expect([0, 1, 4, 65536, 65535, 4.5, -7].some(isPrime)).toBe(false);
    expect(nextPrime(65536)).toBe(65537);
    expectCode(() => buildMaglev(['a'], undefined, 65536), 'OVC_ERR_FLOW_BAD_MAGLEV');
    expectCode(() => buildMaglev(['a'], undefined, 1), 'OVC_ERR_FLOW_BAD_MAGLEV');
    expectCode(() => buildMaglev(['a', 'b'], [1, -1], SMALL), 'OVC_ERR_FLOW_BAD_MAGLEV');
    expectCode(() => buildMaglev(['a', 'b'], [1, Number.NaN], SMALL), 'OVC_ERR_FLOW_BAD_MAGLEV');
    expectCode(() => buildMaglev(['a', 'b'], [1, 0.5], SMALL), 'OVC_ERR_FLOW_BAD_MAGLEV');
    expectCode(() => buildMaglev(['a', 'b'], [1], SMALL), 'OVC_ERR_FLOW_BAD_MAGLEV');
  });

  it('fills every slot, gives weight-0 backends none, and answers -1 with no backend', () => {
    const t = buildMaglev(['a', 'b', 'c'], [1, 0, 2], SMALL);
    const counts = maglevCounts(t);
    expect(counts[0] + counts[2]).toBe(SMALL);
    expect(counts[1]).toBe(0);
    expect(maglevLookup(buildMaglev([], undefined, SMALL), 123)).toBe(-1);
    expect(maglevLookup(buildMaglev(['a'], [0], SMALL), 123)).toBe(-1);
    expect(maglevLookup(buildMaglev(['a'], [5], 2), 0xffffffff)).toBe(0);
  });

  it('matches the obvious populate loop (equal and weighted, both replays)', () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(fc.string({ minLength: 1, maxLength: 6 }), { minLength: 1, maxLength: 12 }),
        fc.array(fc.integer({ min: 0, max: 20 }), { minLength: 12, maxLength: 12 }),
        fc.constantFrom(251, 1031),
        fc.boolean(),
        (ns, wsAll, size, equal) => {
          const ws = ns.map((_, i) => (equal ? 1 : wsAll[i]));
          if (!ws.some((w) => w > 0)) ws[0] = 1;
          // One very heavy backend forces the heap replay; mild weights take the round loop.
          if (!equal && ns.length > 3) ws[1] = 1000;
          expect(slotNames(buildMaglev(ns, ws, size))).toEqual(referenceEntries(ns, ws, size));
        },
      ),
      { numRuns: 60 },
    );
  });

  it('is deterministic and independent of the order backends are listed in', () => {
    fc.assert(
      fc.property(fc.uniqueArray(fc.string({ minLength: 1, maxLength: 8 }), { minLength: 1, maxLength: 30 }), fc.integer(), (ns, seed) => {
        const shuffled = [...ns].sort((a, b) => ((hashOf(a, seed) - hashOf(b, seed)) | 0) || (a < b ? -1 : 1));
        const a = buildMaglev(ns, undefined, 1031);
        expect(slotNames(buildMaglev(ns, undefined, 1031))).toEqual(slotNames(a));
        expect(slotNames(buildMaglev(shuffled, undefined, 1031))).toEqual(slotNames(a));
      }),
      { numRuns: 100 },
    );
  });

  it('gives equal backends M/N slots each, to within one', () => {
    for (const n of [3, 10, 100, 1000]) {
      const counts = maglevCounts(buildMaglev(names(n)));
      expect(Math.max(...counts) - Math.min(...counts)).toBeLessThanOrEqual(1);
      expect(Math.min(...counts)).toBe(Math.floor(MAGLEV_DEFAULT_SIZE / n));
    }
  });

  it('splits 90/10 (and uneven pools) by weight: within 0.1% over the table, a few % over 10,000 connections', () => {
    const t = buildMaglev(['stable', 'canary'], [90, 10]);
    const counts = maglevCounts(t);
    expect(Math.abs(counts[0] / MAGLEV_DEFAULT_SIZE - 0.9)).toBeLessThan(0.001);
    let canary = 0;
    for (const h of hashes(10_000)) if (maglevLookup(t, h) === 1) canary++;
    expect(Math.abs(canary / 10_000 - 0.1)).toBeLessThan(0.02);
    // Revisions of several endpoints each: 3 stable endpoints at 30, 2 canary endpoints at 5.
    const pool = buildMaglev(['s1', 's2', 's3', 'c1', 'c2'], [30, 30, 30, 5, 5]);
    const share = Array.from(maglevCounts(pool), (c) => c / MAGLEV_DEFAULT_SIZE);
    for (const [i, want] of [0.3, 0.3, 0.3, 0.05, 0.05].entries()) expect(Math.abs(share[i] - want)).toBeLessThan(0.001);
  });

  it('moves about 1/N of connections when one backend of N leaves, and about 1/(N+1) when one joins', () => {
    const cases: { n: number; maxExtra: number }[] = [
      { n: 10, maxExtra: 0.01 },
      { n: 100, maxExtra: 0.01 },
    ];
    for (const { n, maxExtra } of cases) {
      const all = buildMaglev(names(n));
      const fewer = buildMaglev(names(n).filter((_, i) => i !== 7));
      const leave = maglevDisruption(all, fewer);
      expect(leave).toBeGreaterThanOrEqual(1 / n - 0.001);
      expect(leave).toBeLessThan(1 / n + maxExtra);
      // Connections that were not on the leaving backend: few move.
      let others = 0;
      let otherMoved = 0;
      for (const h of hashes(10_000)) {
        const before = all.names[maglevLookup(all, h)];
        if (before === 'be-7') continue;
        others++;
        if (fewer.names[maglevLookup(fewer, h)] !== before) otherMoved++;
      }
      expect(otherMoved / others).toBeLessThan(maxExtra);
      const more = buildMaglev([...names(n), 'newcomer']);
      const join = maglevDisruption(all, more);
      expect(join).toBeGreaterThanOrEqual(1 / (n + 1) - 0.001);
      expect(join).toBeLessThan(1 / (n + 1) + maxExtra);
    }
  });

  it('keeps names, so reweighting with weight 0 equals rebuilding without the backend', () => {
    const t = buildMaglev(names(20), undefined, SMALL);
    const w = new Array(20).fill(1);
    w[4] = 0;
    const without = buildMaglev(names(20).filter((_, i) => i !== 4), undefined, SMALL);
    expect(slotNames(reweightMaglev(t, w))).toEqual(slotNames(without));
  });
});

describe('select groups on Maglev', () => {
  const backend = (i: number, weight?: number): Bucket => ({
    ...(weight === undefined ? {} : { weight }),
    actions: [setField('ethDst', 0x020000000100 + i), setField('ipv4Dst', 0x0a010000 + i), output(10 + i)],
  });

  it('names a bucket by what it does, canonically, and identical buckets distinctly', () => {
    const a: Bucket = { weight: 3, actions: [setField('ipv4Dst', 5), output(2)] };
    const sameWire: Bucket = { weight: 9, watchPort: 2, actions: [{ value: 5, field: 'ipv4Dst', type: 'setField' }, { type: 'output', port: 2, maxLen: 0 }] };
    expect(bucketName(sameWire)).toBe(bucketName(a));
    expect(bucketName({ actions: [setField('ipv4Dst', 6), output(2)] })).not.toBe(bucketName(a));
    expect(new Set(bucketNames([a, a, a])).size).toBe(3);
    const pool = [backend(1), backend(2), backend(3)];
    expect(bucketNames([...pool, backend(4)]).slice(0, 3)).toEqual(bucketNames(pool));
    expect(bucketNames([pool[0], pool[2]])).toEqual([bucketNames(pool)[0], bucketNames(pool)[2]]);
  });

  it('keeps a connection on its bucket when an unrelated bucket is added, bar Maglev\'s small churn', () => {
    const pool = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10].map((i) => backend(i));
    const grown = [...pool.slice(0, 5), backend(11), ...pool.slice(5)];
    const newName = bucketName(backend(11));
    let stayed = 0;
    let toNew = 0;
    const hs = hashes(10_000);
    for (const h of hs) {
      const before = bucketName(pool[selectBucket(pool, h)]);
      const after = bucketName(grown[selectBucket(grown, h)]);
      if (after === before) stayed++;
      else if (after === newName) toNew++;
    }
    expect(toNew / hs.length).toBeGreaterThan(1 / 11 - 0.02);
    expect(toNew / hs.length).toBeLessThan(1 / 11 + 0.02);
    expect((hs.length - stayed - toNew) / hs.length).toBeLessThan(0.01);
  });

  it('builds a group\'s table once and keeps it with the bucket list', () => {
    const pool = [backend(1), backend(2)];
    const t = selectTableFor(pool);
    expect(selectTableFor(pool)).toBe(t);
    expect(t.size).toBe(MAGLEV_DEFAULT_SIZE);
    const small = selectTableFor(pool, SMALL);
    expect(small.size).toBe(SMALL);
    expect(selectTableFor(pool)).toBe(small);
    expect(slotNames(compileSelectTable(pool, SMALL))).toEqual(slotNames(small));
    expect(selectBucket([], 42)).toBe(-1);
    expect(selectBucket([{ weight: 0, actions: [output(1)] }], 42)).toBe(-1);
  });

  it('sends a dead bucket\'s connections to live ones and leaves the live ones\' connections alone', () => {
    const pool = [1, 2, 3, 4, 5].map((i) => ({ ...backend(i), watchPort: 10 + i }));
    let down = 12;
    const isLive = (b: Bucket) => b.watchPort !== down;
    const hs = hashes(5000);
    const before = hs.map((h) => selectBucket(pool, h));
    const after = hs.map((h) => selectBucket(pool, h, isLive));
    for (let i = 0; i < hs.length; i++) {
      if (before[i] === 1) expect(after[i]).not.toBe(1);
      else expect(after[i]).toBe(before[i]);
    }
    const t = selectTableFor(pool);
    const live = Uint8Array.from([1, 0, 1, 1, 1]);
    expect(degradedTable(t, live)).toBe(degradedTable(t, Uint8Array.from(live)));
    down = 0; // everything up again: back where they were
    expect(hs.map((h) => selectBucket(pool, h, isLive))).toEqual(before);
    expect(selectBucket(pool, hs[0], () => false)).toBe(-1);
  });

  it('in the executor: packets of one 5-tuple always leave through the same bucket, rewritten to its backend', () => {
    const buckets = [backend(1, 90), backend(2, 10)];
    const groups = new Map<number, GroupEntry>([[5, { groupId: 5, type: 'select', buckets }]]);
    const vipFlow = { table: 0, priority: 1, match: {}, actions: [group(5)], cookie: 0 };
    const env: PipelineEnv = {
      lookup: () => ({ flow: vipFlow }),
      group: (id) => groups.get(id),
      ports: [1, 11, 12],
      tableMiss: 'drop',
      tableCount: 8,
    };
    const ex = createPipelineExecutor(env);
    const res = createExecResult();
    const frame = (srcIp: number, srcPort: number) =>
      buildTcpFrame({ srcMac: 0x020000000001, dstMac: 0x02000000ffff, srcIp, dstIp: 0x0a0000fe, srcPort, dstPort: 80 });
    const perPort = new Map<number, number>();
    const conns = tuples(3000, 99);
    let wrongRewrite = 0;
    let unstable = 0;
    for (const k of conns) {
      const f = frame(k[K.IP_SRC], k[K.L4_SRC]);
      ex.run(f, 1, res);
      expect(res.outCount).toBe(1);
      const port = res.outPorts[0];
      const i = port - 11;
      const out = Buffer.from(res.outFrames[0]);
      if (out.readUInt32BE(30) !== 0x0a010001 + i || out.readUIntBE(0, 6) !== 0x020000000101 + i) wrongRewrite++;
      perPort.set(port, (perPort.get(port) ?? 0) + 1);
      if (ex.run(f, 1, res).outPorts[0] !== port || ex.run(Buffer.from(f), 7, res).outPorts[0] !== port) unstable++;
    }
    expect(wrongRewrite).toBe(0);
    expect(unstable).toBe(0);
    expect([...perPort.keys()].sort()).toEqual([11, 12]);
    expect(Math.abs(perPort.get(12)! / conns.length - 0.1)).toBeLessThan(0.03);
  });
});

function hashOf(s: string, seed: number): number {
  let h = seed | 0;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  return h;
}
