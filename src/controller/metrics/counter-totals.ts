/**
 * Counters whose totals the controller adds up from the switches' own counters (flow and port stats).
 * The switch's numbers restart when a flow is replaced or a switch restarts; what Prometheus sees
 * only ever grows: each poll adds the increase since the previous one (a smaller reading means the
 * counter restarted, and the reading itself is the increase). Series of objects that are gone are
 * dropped with `retain`, so label cardinality follows the live objects.
 */
import { Counter, type Registry } from 'prom-client';

/**
 * The increase from `last` to `now`; a reading below the last one means the counter restarted. A
 * negative reading is a counter the switch does not keep (OpenFlow's all-ones "not available"): none.
 */
export function increase(last: number | undefined, now: number): number {
  if (!(now >= 0)) return 0;
  return last === undefined || last < 0 || now < last ? now : now - last;
}

interface Series<L extends string> {
  labels: Record<L, string>;
  packets: number;
  bytes: number;
}

/** A pair of counters, `<name>_packets_total` and `<name>_bytes_total`, with the same labels. */
export class PacketByteTotals<L extends string> {
  private readonly series = new Map<string, Series<L>>();

  constructor(
    registry: Registry,
    name: string,
    help: string,
    private readonly labelNames: readonly L[],
  ) {
    const totals = this.series;
    const counter = (unit: 'packets' | 'bytes') =>
      new Counter<L>({
        name: `${name}_${unit}_total`,
        help: `${help} (${unit})`,
        labelNames,
        registers: [registry],
        collect() {
          this.reset();
          for (const s of totals.values()) this.inc(s.labels, s[unit]);
        },
      });
    counter('packets');
    counter('bytes');
  }

  add(labels: Record<L, string>, packets: number, bytes: number): void {
    const key = this.keyOf(labels);
    const s = this.series.get(key);
    if (s) {
      s.packets += packets;
      s.bytes += bytes;
    } else this.series.set(key, { labels, packets, bytes });
  }

  /** Drops every series whose labels `keep` refuses (its object is gone). */
  retain(keep: (labels: Record<L, string>) => boolean): void {
    for (const [key, s] of this.series) if (!keep(s.labels)) this.series.delete(key);
  }

  /** The totals of one series (tests, the JSON stats). */
  get(labels: Record<L, string>): { packets: number; bytes: number } | undefined {
    const s = this.series.get(this.keyOf(labels));
    return s && { packets: s.packets, bytes: s.bytes };
  }

  private keyOf(labels: Record<L, string>): string {
    return this.labelNames.map((n) => labels[n]).join('\u0000');
  }
}

/**
 * One counter with externally added totals (same rules as PacketByteTotals). `refresh`, when given,
 * runs at each scrape first: it adds what the controller's own objects counted since the last one.
 */
export class CounterTotals<L extends string> {
  private readonly series = new Map<string, { labels: Record<L, string>; value: number }>();

  constructor(
    registry: Registry,
    name: string,
    help: string,
    private readonly labelNames: readonly L[],
    refresh?: () => void,
  ) {
    const totals = this.series;
    new Counter<L>({
      name,
      help,
      labelNames,
      registers: [registry],
      collect() {
        refresh?.();
        this.reset();
        for (const s of totals.values()) this.inc(s.labels, s.value);
      },
    });
  }

  add(labels: Record<L, string>, n: number): void {
    const key = this.labelNames.map((l) => labels[l]).join('\u0000');
    const s = this.series.get(key);
    if (s) s.value += n;
    else this.series.set(key, { labels, value: n });
  }

  retain(keep: (labels: Record<L, string>) => boolean): void {
    for (const [key, s] of this.series) if (!keep(s.labels)) this.series.delete(key);
  }
}
