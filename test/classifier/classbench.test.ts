/**
 * The ClassBench reader, and every shared ClassBench rule set classified by every classifier exactly as
 * the linear oracle does (on a sample of each trace, so the default run stays fast).
 */
import { existsSync, readFileSync } from 'node:fs';
import { brotliDecompressSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { K, createPacketKey } from '../../src/flow/index.js';
import {
  LinearClassifier,
  classBenchRulesToClassifierRules,
  createClassifier,
  TupleSpaceClassifier,
  parseClassBenchRule,
  parseClassBenchRules,
  parseClassBenchTrace,
  traceKey,
  type ClassBenchTrace,
} from '../../src/classifier/index.js';
import { isOvercastError } from '../../src/errors/index.js';
import { classBenchDir } from '../../src/cli/bench-classifier.js';

const CB = classBenchDir();

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (e) {
    return isOvercastError(e) ? e.code : 'not-an-overcast-error';
  }
  return undefined;
}

describe('ClassBench rules', () => {
  it('parses a rule line into prefixes, ranges and protocol', () => {
    const r = parseClassBenchRule('@245.83.225.153/32\t41.143.127.86/24\t0 : 65535\t1221 : 1221\t0x06/0xFF\t0x0000/0x0200\t', 7);
    expect(r).toEqual({
      line: 7,
      srcIp: 0xf553e199,
      srcLen: 32,
      dstIp: 0x298f7f00, // host bits masked off
      dstLen: 24,
      srcPortLo: 0,
      srcPortHi: 65535,
      dstPortLo: 1221,
      dstPortHi: 1221,
      proto: 6,
      protoMask: 0xff,
    });
  });

  it('accepts 5-field lines and CRLF endings, skips blank lines, keeps file line numbers', () => {
    const text = '@1.2.3.0/24\t0.0.0.0/0\t0 : 65535\t0 : 1023\t0x11/0xFF\r\n\r\n@0.0.0.0/0\t0.0.0.0/0\t0 : 65535\t0 : 65535\t0x00/0x00\r\n';
    const rules = parseClassBenchRules(text);
    expect(rules.map((r) => r.line)).toEqual([0, 2]);
    const [a, b] = classBenchRulesToClassifierRules(rules);
    expect(a.priority).toBeGreaterThan(b.priority);
    // 0 : 1023 is a prefix, so it becomes a mask, not a range.
    expect(a.match.mask[K.L4_DST]).toBe(0xfc00);
    expect(a.ranges).toEqual([]);
    expect(b.payload).toBe(2);
  });

  it('keeps non-prefix port ranges as ranges', () => {
    const [r] = classBenchRulesToClassifierRules(parseClassBenchRules('@0.0.0.0/0\t0.0.0.0/0\t1024 : 65535\t100 : 200\t0x06/0xFF\n'));
    expect(r.ranges).toEqual([
      { slot: K.L4_SRC, lo: 1024, hi: 65535 },
      { slot: K.L4_DST, lo: 100, hi: 200 },
    ]);
  });

  it('reports malformed rules with a typed error naming the line', () => {
    for (const bad of ['@1.2.3.4/33\t0.0.0.0/0\t0 : 1\t0 : 1\t0x06/0xFF', '@1.2.3.256/8\t0.0.0.0/0\t0 : 1\t0 : 1\t0x06/0xFF', '@1.2.3.4/8\t0.0.0.0/0\t9 : 1\t0 : 1\t0x06/0xFF', 'garbage']) {
      let field: string | undefined;
      try {
        parseClassBenchRules(`@0.0.0.0/0\t0.0.0.0/0\t0 : 65535\t0 : 65535\t0x00/0x00\n${bad}\n`);
      } catch (e) {
        field = isOvercastError(e) ? `${e.code} ${e.field}` : 'other';
      }
      expect(field, bad).toBe('OVC_ERR_CLASSIFIER_BAD_RULESET line 2');
    }
  });
});

describe('ClassBench traces', () => {
  it('parses headers and the generating filter index', () => {
    const t = parseClassBenchTrace('3047714019\t3772336843\t65535\t0\t6\t268439552\t685\n1 2 3 4 17\n');
    expect(t.count).toBe(2);
    expect(Array.from(t.headers)).toEqual([3047714019, 3772336843, 65535, 0, 6, 1, 2, 3, 4, 17]);
    expect(Array.from(t.filterIdx)).toEqual([685, -1]);
    const key = createPacketKey();
    traceKey(t, 0, key);
    expect([key[K.IP_SRC], key[K.IP_DST], key[K.L4_SRC], key[K.L4_DST], key[K.IP_PROTO]]).toEqual([3047714019, 3772336843, 65535, 0, 6]);
  });

  it('rejects malformed lines with a typed error', () => {
    expect(codeOf(() => parseClassBenchTrace('1 2 3 4\n'))).toBe('OVC_ERR_CLASSIFIER_BAD_RULESET');
    expect(codeOf(() => parseClassBenchTrace('1 2 70000 4 6\n'))).toBe('OVC_ERR_CLASSIFIER_BAD_RULESET');
    expect(codeOf(() => parseClassBenchTrace('1 2 x 4 6\n'))).toBe('OVC_ERR_CLASSIFIER_BAD_RULESET');
  });
});

function readText(path: string): string {
  const raw = readFileSync(path);
  return (path.endsWith('.br') ? brotliDecompressSync(raw) : raw).toString('latin1');
}

/** `n` lines spread evenly over a trace text (parsing a whole 1M-line trace per set would be slow here). */
function sampleTrace(text: string, n: number): ClassBenchTrace {
  const lines: string[] = [];
  for (let i = 0; i < n; i++) {
    let at = Math.floor((i * text.length) / n);
    if (at > 0) at = text.indexOf('\n', at) + 1;
    if (at <= 0 || at >= text.length) break;
    const end = text.indexOf('\n', at);
    lines.push(text.slice(at, end < 0 ? undefined : end));
  }
  return parseClassBenchTrace(lines.join('\n'));
}

const SETS: [rules: string, trace: string, packets: number][] = [
  ['public/cutsplit/acl_1k', 'public/cutsplit/acl_1k_trace', 3000],
  ['public/cutsplit/fw_1k', 'public/cutsplit/fw_1k_trace', 3000],
  ['public/cutsplit/ipc_1k', 'public/cutsplit/ipc_1k_trace', 3000],
  ...['acl1', 'fw1', 'ipc1'].flatMap((s): [string, string, number][] => [
    [`public/neurocuts/${s}_1k`, `public/neurocuts/${s}_1k_trace1M.br`, 2000],
    [`public/neurocuts/${s}_10k`, `public/neurocuts/${s}_10k_trace1M.br`, 300],
    [`generated/${s}_1k`, `generated/${s}_1k_trace1M.br`, 2000],
    [`generated/${s}_10k`, `generated/${s}_10k_trace1M.br`, 300],
  ]),
];
// The 64k and 100k sets take ~5 s each to build four ways on this machine: opt in with
// OVERCAST_CLASSBENCH_FULL=1 (the benchmark's --check covers them too).
const LARGE: [string, string, number][] = [
  ...['acl1', 'fw1', 'ipc1'].map((s): [string, string, number] => [`generated/${s}_100k.br`, `generated/${s}_100k_trace1M.br`, 200]),
  ['public/partitionsort/fw1_64k.br', 'public/partitionsort/fw1_64k_trace1M.br', 200],
];
if (process.env.OVERCAST_CLASSBENCH_FULL === '1') SETS.push(...LARGE);

describe.skipIf(!existsSync(CB))('every shared ClassBench set, sampled, against the oracle', () => {
  it('tuplemerge rejects nothing from the TupleMerge sample set (CRLF, 5 fields)', () => {
    const rules = classBenchRulesToClassifierRules(parseClassBenchRules(readText(`${CB}/public/tuplemerge/acl1_seed_1.rules`)));
    expect(rules.length).toBe(941);
  });

  for (const [rulesPath, tracePath, packets] of SETS) {
    it(rulesPath, () => {
      const rules = classBenchRulesToClassifierRules(parseClassBenchRules(readText(`${CB}/${rulesPath}`)));
      const trace = sampleTrace(readText(`${CB}/${tracePath}`), packets);
      const oracle = new LinearClassifier<number>();
      const algos = ['tuplemerge', 'default', 'pstss', 'tss'].map((a) => createClassifier<number>(a));
      // The sample is shorter than the default fuseAfter: this one takes the fused lookup from the start.
      algos.push(new TupleSpaceClassifier<number>('tuplemerge-fused', { fuseAfter: 0 }));
      for (const r of rules) {
        oracle.insert(r);
        for (const c of algos) c.insert(r);
      }
      const key = createPacketKey();
      for (let i = 0; i < trace.count; i++) {
        traceKey(trace, i, key);
        const want = oracle.lookup(key)?.payload ?? -1;
        // The generator's rule matches, so the first match is at or before it.
        expect(want).toBeGreaterThanOrEqual(0);
        expect(want).toBeLessThanOrEqual(trace.filterIdx[i]);
        for (const c of algos) expect(c.lookup(key)?.payload ?? -1, c.name).toBe(want);
      }
      // Building 100k rules four ways takes tens of seconds on a loaded 2-core machine.
    }, 180_000);
  }
});
