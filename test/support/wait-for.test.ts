import { describe, expect, it } from 'vitest';
import { describeSeen, giveUp, notYet, waitFor } from './wait-for.js';

describe('waitFor', () => {
  it("returns the check's first value, sync or async, once the condition holds", async () => {
    let n = 0;
    expect(await waitFor('n to reach 3', () => (++n >= 3 ? n : undefined), { everyMs: 1 })).toBe(3);
    let m = 0;
    expect(await waitFor('m to reach 2', async () => (++m >= 2 ? `m=${m}` : notYet(m)), { everyMs: 1 })).toBe('m=2');
    expect(await waitFor('zero is a value', () => 0)).toBe(0);
  });

  it('treats false and notYet as not yet', async () => {
    let n = 0;
    expect(await waitFor('a true', () => ++n > 2, { everyMs: 1 })).toBe(true);
    expect(n).toBe(3);
  });

  it('fails with what the check saw last', async () => {
    let n = 0;
    await expect(waitFor('n to go negative', () => notYet({ n: ++n, frames: Buffer.from([1, 2]) }), { timeoutMs: 50, everyMs: 5 })).rejects.toThrow(
      /^timed out after 50 ms waiting for n to go negative; last seen: \{"n":\d+,"frames":"hex:0102"\}$/,
    );
  });

  it('fails with the last error a throwing check raised, and says when the check reported nothing', async () => {
    await expect(
      waitFor('a server that refuses', async () => {
        throw new Error('ECONNREFUSED');
      }, { timeoutMs: 30, everyMs: 5 }),
    ).rejects.toThrow('last seen: Error: ECONNREFUSED');
    await expect(waitFor('silence', () => undefined, { timeoutMs: 20 })).rejects.toThrow('last seen: nothing');
  });

  it('fails at once when the check gives up', async () => {
    let runs = 0;
    await expect(waitFor('a sync', () => (++runs === 2 ? giveUp({ type: 'switch.sync-failed' }) : notYet(runs)), { timeoutMs: 60_000, everyMs: 1 })).rejects.toThrow(
      'gave up waiting for a sync: {"type":"switch.sync-failed"}',
    );
    expect(runs).toBe(2);
  });

  it('fails at the deadline when the check itself never answers', async () => {
    const started = performance.now();
    await expect(waitFor('a request that hangs', () => new Promise<never>(() => {}), { timeoutMs: 50 })).rejects.toThrow(/the check itself had not answered/);
    expect(performance.now() - started).toBeLessThan(5000);
  });

  it('describes Maps, Sets, bigints and long values', () => {
    expect(describeSeen(new Map([['a', new Set([1n])]]))).toBe('{"a":["1n"]}');
    expect(describeSeen('x'.repeat(5000))).toMatch(/\.\.\. \(5000 chars\)$/);
  });
});
