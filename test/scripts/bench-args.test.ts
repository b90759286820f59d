import { describe, expect, it } from 'vitest';
// @ts-expect-error: a plain-JavaScript script module, without types
import { splitBenchArgs } from '../../scripts/bench-args.js';

describe('splitBenchArgs (scripts/run-bench.js)', () => {
  it('passes the options after the names through, with or without a "--" before them', () => {
    // `npm run bench:classifier -- --sizes 1k`: npm drops the "--".
    expect(splitBenchArgs(['classifier', '--sizes', '1k'])).toEqual({ names: ['classifier'], passThrough: ['--sizes', '1k'] });
    expect(splitBenchArgs(['classifier', '--', '--sizes', '1k'])).toEqual({ names: ['classifier'], passThrough: ['--sizes', '1k'] });
    expect(splitBenchArgs(['switch', 'classifier'])).toEqual({ names: ['switch', 'classifier'], passThrough: [] });
    expect(splitBenchArgs([])).toEqual({ names: [], passThrough: [] });
    // A value that starts with "-" after an option stays with the options.
    expect(splitBenchArgs(['classifier-ab', '--base-options', '{"x":-1}', '--', '-y'])).toEqual({
      names: ['classifier-ab'],
      passThrough: ['--base-options', '{"x":-1}', '--', '-y'],
    });
  });
});
