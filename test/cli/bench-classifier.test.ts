import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { brotliCompressSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { median, runClassifierBench } from '../../src/cli/bench-classifier.js';

const RULES = [
  '@10.0.0.0/8\t0.0.0.0/0\t0 : 65535\t80 : 80\t0x06/0xFF\t0x0000/0x0000\t',
  '@0.0.0.0/0\t0.0.0.0/0\t1024 : 65535\t0 : 65535\t0x11/0xFF\t0x0000/0x0000\t',
  '@0.0.0.0/0\t192.168.0.0/16\t0 : 65535\t0 : 65535\t0x00/0x00\t0x0000/0x0000\t',
  '',
].join('\n');
// 10.1.2.3 -> x:80 tcp (rule 0); udp from port 2000 (rule 1); to 192.168.1.1 (rule 2); nothing.
const TRACE = ['167838211\t1\t5\t80\t6\t0\t0', '1\t2\t2000\t53\t17\t0\t1', '1\t3232235777\t5\t5\t1\t0\t2', '1\t2\t5\t5\t1\t0\t2', ''].join('\n');

function io() {
  const out: string[] = [];
  const err: string[] = [];
  return { out, err, io: { write: (t: string) => void out.push(t), error: (t: string) => void err.push(t) } };
}

describe('runClassifierBench', () => {
  const dir = mkdtempSync(join(tmpdir(), 'overcast-cb-'));
  const rules = join(dir, 'rules');
  const trace = join(dir, 'trace.br');
  writeFileSync(rules, RULES);
  writeFileSync(trace, brotliCompressSync(Buffer.from(TRACE)));

  for (const algo of ['default', 'tuplemerge', 'pstss', 'tss', 'linear']) {
    it(`writes matched rule lines with --out and passes --check (${algo})`, async () => {
      const out = join(dir, `out-${algo}`);
      const t = io();
      const code = await runClassifierBench({ rules, trace, algo, out, check: true, json: true }, t.io);
      expect(code).toBe(0);
      expect(readFileSync(out, 'utf8')).toBe('0\n1\n2\n-1\n');
      const report = JSON.parse(t.out.join(''));
      expect(report).toMatchObject({ rules: 3, packets: 4, matched: 3, check: { checked: 4, differences: 0 } });
    });
  }

  it('reports the first pass (compiling, marking) apart from the median of the passes after it', async () => {
    let t = io();
    expect(await runClassifierBench({ rules, trace, algo: 'tuplemerge', runs: 2, check: true, json: true }, t.io)).toBe(0);
    const report = JSON.parse(t.out.join(''));
    expect(report).toMatchObject({ passes: 2, matched: 3, check: { checked: 4, differences: 0 } });
    expect(report.coldLookupsPerSec).toBeGreaterThan(0);
    expect(report.lookupsPerSec).toBeGreaterThan(0);
    t = io();
    expect(await runClassifierBench({ rules, trace, algo: 'default', runs: 0, json: true }, t.io)).toBe(0);
    const first = JSON.parse(t.out.join(''));
    expect(first.passes).toBe(0);
    expect(first.lookupsPerSec).toBe(first.coldLookupsPerSec);
    // A count that is not one (the command line's parser refuses it first, naming the option).
    await expect(runClassifierBench({ rules, trace, runs: 1.5 }, io().io)).rejects.toThrow(/runs: not a non-negative integer/);
    t = io();
    expect(await runClassifierBench({ rules, trace, runs: 2 }, t.io)).toBe(0);
    expect(t.out.join('')).toMatch(/M lookups\/s \(median of 2 passes; the first pass [0-9.]+, with compiling and marking\)/);
  });

  it('exits 2 with the error code on a malformed rule file or an unknown algorithm', async () => {
    const bad = join(dir, 'bad');
    writeFileSync(bad, '@1.2.3.4/40\t0.0.0.0/0\t0 : 1\t0 : 1\t0x06/0xFF\n');
    let t = io();
    expect(await runClassifierBench({ rules: bad, trace }, t.io)).toBe(2);
    expect(t.err.join('')).toContain('OVC_ERR_CLASSIFIER_BAD_RULESET');
    t = io();
    expect(await runClassifierBench({ rules, trace, algo: 'nope' }, t.io)).toBe(2);
    expect(t.err.join('')).toContain('OVC_ERR_CLASSIFIER_UNKNOWN_ALGO');
    t = io();
    expect(await runClassifierBench({ rules: join(dir, 'missing'), trace }, t.io)).toBe(2);
    expect(t.err.join('')).toContain('ENOENT');
  });
});

describe('median', () => {
  it('is the middle value of an odd count and the mean of the middle two of an even one, in any order', () => {
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 3, 2])).toBe(2.5);
    expect(median([1.49, 1.53])).toBeCloseTo(1.51);
    expect(median([7])).toBe(7);
  });
});
