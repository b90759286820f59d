/**
 * The meter table: add/modify/delete with OpenFlow 1.3's checks (add of an existing id, modify of a
 * missing one, ids 1..OFPM_MAX, drop bands with a positive rate and a burst of at least one packet's
 * worth), and the token buckets that run each meter: one bucket per band, filled at the band's rate up
 * to its burst. A packet through a meter spends one token (pktps) or its size in kilobits (kbps) in
 * every band; when some band has too few tokens the packet is dropped, counted in the band of the
 * highest rate it exceeds (OpenFlow: the band whose rate is the highest one under the measured rate),
 * and spends nothing.
 */
import { OvercastError, type ProblemDetail } from '../errors/index.js';
import { METER_ID_MAX, TokenBucket, type FlowMod, type MeterEntry, type MeterMod, type MeterStats } from '../flow/index.js';

interface RunningMeter {
  entry: MeterEntry;
  buckets: TokenBucket[];
  stats: MeterStats;
}

/** A kbps meter spends a frame's size in kilobits. */
const KILOBITS_PER_BYTE = 8 / 1000;

export class MeterTable {
  private readonly meters = new Map<number, RunningMeter>();

  /** The clock is passed in (monotonic milliseconds), so tests drive time. */
  constructor(private readonly nowMs: () => number) {}

  get size(): number {
    return this.meters.size;
  }

  get(meterId: number): MeterEntry | undefined {
    return this.meters.get(meterId)?.entry;
  }

  entries(): MeterEntry[] {
    return [...this.meters.values()].map((m) => m.entry);
  }

  /** Counters of every meter (or of one), in id order. */
  stats(meterId?: number): MeterStats[] {
    const out: MeterStats[] = [];
    for (const m of this.meters.values()) {
      if (meterId === undefined || m.entry.meterId === meterId) out.push({ ...m.stats, bands: m.stats.bands.map((b) => ({ ...b })) });
    }
    return out.sort((a, b) => a.meterId - b.meterId);
  }

  check(mod: MeterMod, path = 'meterMod'): ProblemDetail[] {
    const m = mod.meter;
    const problems: ProblemDetail[] = [];
    const bad = (field: string, message: string) => problems.push({ code: 'OVC_ERR_SWITCH_BAD_METER', message, field: `${path}.${field}` });
    if (!Number.isInteger(m.meterId) || m.meterId < 1 || m.meterId > METER_ID_MAX) bad('meter.meterId', `bad meter id ${m.meterId}`);
    else if (mod.command === 'add' && this.meters.has(m.meterId)) bad('meter.meterId', `meter ${m.meterId} exists`);
    else if (mod.command === 'modify' && !this.meters.has(m.meterId)) bad('meter.meterId', `no meter ${m.meterId}`);
    if (mod.command !== 'delete') {
      if (m.unit !== 'kbps' && m.unit !== 'pktps') bad('meter.unit', `bad meter unit ${String(m.unit)}`);
      if (m.bands.length === 0) bad('meter.bands', 'a meter has at least one band');
      m.bands.forEach((b, i) => {
        if (b.type !== 'drop') bad(`meter.bands[${i}].type`, `unsupported band ${String(b.type)}`);
        if (!Number.isInteger(b.rate) || b.rate < 1) bad(`meter.bands[${i}].rate`, `bad rate ${b.rate}`);
        if (!Number.isInteger(b.burst) || b.burst < 1) bad(`meter.bands[${i}].burst`, `bad burst ${b.burst}`);
      });
    }
    return problems;
  }

  /** Problems with the meter a flow-mod names: it must exist (OpenFlow: OFPMMFC_UNKNOWN_METER). */
  checkFlowMod(mod: FlowMod, path = 'flowMod'): ProblemDetail[] {
    if (mod.command === 'delete' || mod.command === 'deleteStrict') return [];
    const id = mod.flow.meterId;
    if (id === undefined || this.meters.has(id)) return [];
    return [{ code: 'OVC_ERR_SWITCH_NO_METER', message: `no meter ${id}`, field: `${path}.flow.meterId` }];
  }

  apply(mod: MeterMod): void {
    const problems = this.check(mod);
    if (problems.length > 0) throw OvercastError.fromProblems(problems);
    const m = mod.meter;
    if (mod.command === 'delete') {
      this.meters.delete(m.meterId);
      return;
    }
    // A modify keeps the counters (what went through stays counted) and starts full buckets.
    const old = this.meters.get(m.meterId);
    const entry: MeterEntry = { meterId: m.meterId, unit: m.unit, bands: m.bands.map((b) => ({ ...b })) };
    const stats: MeterStats = {
      meterId: m.meterId,
      flowCount: 0,
      packetsIn: old?.stats.packetsIn ?? 0,
      bytesIn: old?.stats.bytesIn ?? 0,
      bands: entry.bands.map((_, i) => ({ packets: old?.stats.bands[i]?.packets ?? 0, bytes: old?.stats.bands[i]?.bytes ?? 0 })),
    };
    const buckets = entry.bands.map((b) => new TokenBucket({ ratePerSec: b.rate, burst: b.burst }, this.nowMs));
    this.meters.set(m.meterId, { entry, buckets, stats });
  }

  /**
   * A packet of `bytes` through meter `meterId`: true when it passes, false when a band drops it (or
   * the meter is missing: a flow never names one, the table refuses it, but a race must not pass).
   */
  pass(meterId: number, bytes: number): boolean {
    const m = this.meters.get(meterId);
    if (!m) return false;
    m.stats.packetsIn++;
    m.stats.bytesIn += bytes;
    const cost = m.entry.unit === 'kbps' ? bytes * KILOBITS_PER_BYTE : 1;
    const { buckets } = m;
    let over = -1;
    for (let i = 0; i < buckets.length; i++) {
      if (!buckets[i].has(cost)) {
        if (over < 0 || m.entry.bands[i].rate > m.entry.bands[over].rate) over = i;
      }
    }
    if (over >= 0) {
      const band = m.stats.bands[over];
      band.packets++;
      band.bytes += bytes;
      return false;
    }
    for (let i = 0; i < buckets.length; i++) buckets[i].take(cost);
    return true;
  }
}
