import { describe, expect, it } from 'vitest';
import { createExecResult, createPipelineExecutor, trimResult, type TraceStep } from '../../src/flow/execute.js';
import { TokenBucket, compileMatch, diffMeters, keyMatches, output, sameMeter, type FlowEntry, type MeterEntry } from '../../src/flow/index.js';
import { buildUdpFrame } from '../../src/net/index.js';

const meter = (meterId: number, rate: number, burst = 10, unit: MeterEntry['unit'] = 'pktps'): MeterEntry => ({ meterId, unit, bands: [{ type: 'drop', rate, burst }] });

describe('meters as desired state', () => {
  it('compares id, unit and bands, not the cookie', () => {
    expect(sameMeter(meter(1, 100), { ...meter(1, 100), cookie: 7 })).toBe(true);
    expect(sameMeter(meter(1, 100), meter(1, 101))).toBe(false);
    expect(sameMeter(meter(1, 100), meter(1, 100, 11))).toBe(false);
    expect(sameMeter(meter(1, 100), meter(1, 100, 10, 'kbps'))).toBe(false);
  });

  it('diffs installed against desired: add, modify, delete, and nothing when equal', () => {
    const installed = [meter(1, 100), meter(2, 200), meter(3, 300)];
    expect(diffMeters(installed, [meter(1, 100), meter(2, 250), meter(4, 400)])).toEqual([
      { command: 'modify', meter: meter(2, 250) },
      { command: 'add', meter: meter(4, 400) },
      { command: 'delete', meter: meter(3, 300) },
    ]);
    expect(diffMeters(installed, installed.map((m) => ({ ...m, bands: m.bands.map((b) => ({ ...b })) })))).toEqual([]);
  });
});

describe('TokenBucket costs', () => {
  it('spends a cost in one take, and spends nothing when it refuses', () => {
    let now = 0;
    const b = new TokenBucket({ ratePerSec: 1000, burst: 24 }, () => now);
    expect(b.take(12)).toBe(true);
    expect(b.has(13)).toBe(false);
    expect(b.take(13)).toBe(false);
    expect(b.take(12)).toBe(true);
    expect(b.take(1)).toBe(false);
    now += 5; // 5 tokens back
    expect(b.take(5)).toBe(true);
  });
});

describe('the meter instruction in the executor', () => {
  const flow: FlowEntry = { table: 0, priority: 1, match: {}, actions: [output(2)], meterId: 5, cookie: 1 };
  const frame = buildUdpFrame({ srcMac: 0x020000000001, dstMac: 0x020000000002, srcIp: 0x0a000001, dstIp: 0x0a000002, srcPort: 1, dstPort: 2, payload: new Uint8Array(10) });

  /** One frame through the flow; `passes` is what the meter answers (undefined: no meter hook). */
  function run(passes: boolean | undefined) {
    const cm = compileMatch(flow.match);
    const seen: [number, number][] = [];
    const meter = (id: number, bytes: number): boolean => {
      seen.push([id, bytes]);
      return passes === true;
    };
    const exec = createPipelineExecutor({
      lookup: (table, key) => (table === 0 && keyMatches(key, cm) ? { flow } : undefined),
      ...(passes === undefined ? {} : { meter }),
      ports: [1, 2],
      tableMiss: 'drop',
      tableCount: 2,
    });
    const trace: TraceStep[] = [];
    const r = trimResult(exec.run(frame, 1, createExecResult(), { trace }));
    return { r, trace, seen };
  }

  it('drops a packet its meter refuses, before the actions, and says why', () => {
    const { r, trace, seen } = run(false);
    expect(r.outPorts).toEqual([]);
    expect(r.drop).toBe('meter');
    expect(seen).toEqual([[5, frame.length]]);
    expect(trace).toContainEqual({ kind: 'meter', meterId: 5, passed: false });
  });

  it('runs the actions of a packet its meter passes', () => {
    const { r, trace } = run(true);
    expect(r.outPorts).toEqual([2]);
    expect(trace).toContainEqual({ kind: 'meter', meterId: 5, passed: true });
  });

  it('passes every packet without a meter hook (the controller trace)', () => {
    const { r } = run(undefined);
    expect(r.outPorts).toEqual([2]);
  });
});
