/**
 * Meters on OpenFlow 1.3 (§7.3.4.4, §7.3.5.12-13): meter bands, meter config and meter stats entries,
 * and the mapping between the channel-neutral meter (src/flow/meter.ts) and OFPT_METER_MOD's flags
 * and bands. Overcast's meters always carry OFPMF_BURST (their burst is explicit) and OFPMF_STATS
 * (their band counters are read back).
 */
import type { MeterEntry, MeterMod, MeterStats } from '../../flow/index.js';
import { OFPMBT_DROP, OFPMBT_DSCP_REMARK, OFPMF } from './constants.js';
import type { Of13MeterBand, Of13MeterMod, Of13MeterConfig, Of13MeterStats } from './messages.js';
import { malformed, unsupported, type Reader, type Writer } from './wire.js';

const BAND_LEN = 16;
const METER_STATS_LEN = 40;
const BAND_STATS_LEN = 16;

export function writeMeterBands(w: Writer, bands: readonly Of13MeterBand[]): void {
  for (const band of bands) {
    w.u16(band.type === 'drop' ? OFPMBT_DROP : OFPMBT_DSCP_REMARK);
    w.u16(BAND_LEN);
    w.u32(band.rate);
    w.u32(band.burstSize);
    if (band.type === 'drop') w.u32(0);
    else {
      w.u8(band.precLevel);
      w.zeros(3);
    }
  }
}

/** Bands until the reader is empty. */
export function readMeterBands(r: Reader): Of13MeterBand[] {
  const bands: Of13MeterBand[] = [];
  while (r.remaining > 0) {
    const bandType = r.u16();
    const len = r.u16();
    if (len !== BAND_LEN) throw malformed(`meter band length ${len}`);
    const rate = r.u32();
    const burstSize = r.u32();
    if (bandType === OFPMBT_DROP) {
      r.skip(4);
      bands.push({ type: 'drop', rate, burstSize });
    } else if (bandType === OFPMBT_DSCP_REMARK) {
      const precLevel = r.u8();
      r.skip(3);
      bands.push({ type: 'dscpRemark', rate, burstSize, precLevel });
    } else throw unsupported(`meter band type ${bandType}`);
  }
  return bands;
}

export function writeMeterConfig(w: Writer, m: Of13MeterConfig): void {
  w.u16(8 + BAND_LEN * m.bands.length);
  w.u16(m.flags);
  w.u32(m.meterId);
  writeMeterBands(w, m.bands);
}

export function readMeterConfig(r: Reader): Of13MeterConfig {
  const len = r.u16();
  if (len < 8) throw malformed(`meter config length ${len}`);
  const body = r.sub(len - 2, 'meter config');
  const flags = body.u16();
  const meterId = body.u32();
  return { flags, meterId, bands: readMeterBands(body) };
}

export function writeMeterStats(w: Writer, s: Of13MeterStats): void {
  w.u32(s.meterId);
  w.u16(METER_STATS_LEN + BAND_STATS_LEN * s.bands.length);
  w.zeros(6);
  w.u32(s.flowCount);
  w.u64(s.packetInCount);
  w.u64(s.byteInCount);
  w.u32(s.durationSec);
  w.u32(s.durationNsec);
  for (const b of s.bands) {
    w.u64(b.packetBandCount);
    w.u64(b.byteBandCount);
  }
}

export function readMeterStats(r: Reader): Of13MeterStats {
  const meterId = r.u32();
  const len = r.u16();
  if (len < METER_STATS_LEN || (len - METER_STATS_LEN) % BAND_STATS_LEN !== 0) throw malformed(`meter stats length ${len}`);
  const body = r.sub(len - 6, 'meter stats');
  body.skip(6);
  const flowCount = body.u32();
  const packetInCount = body.u64Counter();
  const byteInCount = body.u64Counter();
  const durationSec = body.u32();
  const durationNsec = body.u32();
  const bands = [];
  while (body.remaining > 0) bands.push({ packetBandCount: body.u64Counter(), byteBandCount: body.u64Counter() });
  return { meterId, flowCount, packetInCount, byteInCount, durationSec, durationNsec, bands };
}

/** A channel-neutral meter-mod as OFPT_METER_MOD (a delete carries no bands). */
export function toOf13MeterMod(mod: MeterMod, xid: number): Of13MeterMod {
  const m = mod.meter;
  const unit = m.unit === 'kbps' ? OFPMF.KBPS : OFPMF.PKTPS;
  const bands: Of13MeterBand[] = mod.command === 'delete' ? [] : m.bands.map((b) => ({ type: 'drop', rate: b.rate, burstSize: b.burst }));
  return { type: 'meterMod', xid, command: mod.command, flags: mod.command === 'delete' ? 0 : unit | OFPMF.BURST | OFPMF.STATS, meterId: m.meterId, bands };
}

/** A meter as the switch reports it (drop bands only: Overcast installs no other). */
export function meterEntryOf(c: Of13MeterConfig): MeterEntry {
  return {
    meterId: c.meterId,
    unit: (c.flags & OFPMF.KBPS) !== 0 ? 'kbps' : 'pktps',
    bands: c.bands.filter((b) => b.type === 'drop').map((b) => ({ type: 'drop', rate: b.rate, burst: b.burstSize })),
  };
}

export function meterStatsOf(s: Of13MeterStats): MeterStats {
  return {
    meterId: s.meterId,
    flowCount: s.flowCount,
    packetsIn: s.packetInCount,
    bytesIn: s.byteInCount,
    bands: s.bands.map((b) => ({ packets: b.packetBandCount, bytes: b.byteBandCount })),
  };
}
