import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { throttledWarn } from '../../../src/controller/channel/throttled-log.js';

describe('throttled refusal warnings', () => {
  it('logs one line per message per interval, then says how many it did not log', () => {
    const lines: Record<string, unknown>[] = [];
    const logger = pino({ level: 'warn' }, { write: (l: string) => void lines.push(JSON.parse(l) as Record<string, unknown>) });
    let now = 0;
    const warn = throttledWarn(logger, () => now, 1000);
    for (let i = 0; i < 50; i++) warn('refused', { i });
    warn('other', {});
    now = 1000;
    warn('refused', { i: 50 });
    expect(lines.map((l) => [l.msg, l.i, l.notLoggedSince])).toEqual([
      ['refused', 0, undefined],
      ['other', undefined, undefined],
      ['refused', 50, 49],
    ]);
  });
});
