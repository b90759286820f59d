/** Totals from switch counters only grow: restarts read as fresh increases; gone objects lose their series. */
import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { CounterTotals, increase, PacketByteTotals } from '../../../src/controller/metrics/index.js';

describe('counter totals', () => {
  it('reads a smaller reading as a restarted counter', () => {
    expect(increase(undefined, 7)).toBe(7);
    expect(increase(7, 10)).toBe(3);
    expect(increase(10, 4)).toBe(4);
  });

  it("reads a counter the switch does not keep (Open vSwitch's all ones, decoded -1) as no increase", () => {
    expect(increase(undefined, -1)).toBe(0);
    expect(increase(5, -1)).toBe(0);
    expect(increase(-1, 3)).toBe(3);
  });

  it('exposes packets and bytes as two counters, and forgets retained-out series', async () => {
    const registry = new Registry();
    const t = new PacketByteTotals(registry, 'x_traffic', 'traffic', ['endpoint']);
    t.add({ endpoint: 'ep-1' }, 2, 200);
    t.add({ endpoint: 'ep-1' }, 1, 100);
    t.add({ endpoint: 'ep-2' }, 5, 500);
    let text = await registry.metrics();
    expect(text).toContain('x_traffic_packets_total{endpoint="ep-1"} 3');
    expect(text).toContain('x_traffic_bytes_total{endpoint="ep-2"} 500');
    expect(text).toMatch(/# TYPE x_traffic_packets_total counter/);
    t.retain((l) => l.endpoint !== 'ep-2');
    text = await registry.metrics();
    expect(text).not.toContain('ep-2');
    expect(t.get({ endpoint: 'ep-1' })).toEqual({ packets: 3, bytes: 300 });
  });

  it('runs its refresh before each scrape', async () => {
    const registry = new Registry();
    let seen = 0;
    const c: CounterTotals<'kind'> = new CounterTotals(registry, 'x_seen_total', 'seen', ['kind'], () => c.add({ kind: 'a' }, ++seen));
    await registry.metrics();
    expect(await registry.metrics()).toContain('x_seen_total{kind="a"} 3');
  });
});
