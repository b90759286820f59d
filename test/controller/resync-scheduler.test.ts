/** The retry of a failed push: backoff doubling to a cap, reset by a success, one retry at a time. */
import { describe, expect, it } from 'vitest';
import { createResyncScheduler } from '../../src/controller/resync-scheduler.js';
import { fakeTimers } from './packet-hold/fake-timers.js';

function rig(options = {}) {
  const timers = fakeTimers(0);
  const runs: { dpid: number; atMs: number }[] = [];
  const scheduler = createResyncScheduler(options, {
    resync: (dpid) => runs.push({ dpid, atMs: timers.now() }),
    setTimeout: timers.setTimeout,
    clearTimeout: timers.clearTimeout,
  });
  return { timers, runs, scheduler };
}

describe('resync scheduler', () => {
  it('retries after 250 ms, doubling on every failure up to 10 s', () => {
    const { timers, runs, scheduler } = rig();
    const delays: number[] = [];
    for (let i = 0; i < 8; i++) {
      delays.push(scheduler.failed(7));
      timers.advance(delays[i]);
    }
    expect(delays).toEqual([250, 500, 1000, 2000, 4000, 8000, 10_000, 10_000]);
    expect(runs.map((r) => r.atMs)).toEqual([250, 750, 1750, 3750, 7750, 15_750, 25_750, 35_750]);
  });

  it('a failure while a retry is pending does not schedule another', () => {
    const { timers, runs, scheduler } = rig();
    expect(scheduler.failed(7)).toBe(250);
    timers.advance(100);
    expect(scheduler.failed(7)).toBe(250);
    expect(timers.pending()).toBe(1);
    timers.advance(150);
    expect(runs).toEqual([{ dpid: 7, atMs: 250 }]);
  });

  it('a success cancels the pending retry and resets the delay; switches back off independently', () => {
    const { timers, runs, scheduler } = rig({ initialDelayMs: 10, maxDelayMs: 40 });
    scheduler.failed(1);
    timers.advance(10);
    expect(scheduler.failed(1)).toBe(20);
    expect(scheduler.failed(2)).toBe(10);
    scheduler.succeeded(1);
    timers.advance(100);
    expect(runs.map((r) => r.dpid)).toEqual([1, 2]);
    expect(scheduler.failed(1)).toBe(10);
    scheduler.forget(1);
    scheduler.close();
    expect(timers.pending()).toBe(0);
  });
});
