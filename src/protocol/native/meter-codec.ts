/**
 * Mapping between the channel-neutral meter model (src/flow/meter.ts) and the generated protobuf
 * messages: meters, meter-mods, meter stats. Decoding throws WireError on a bad shape, which
 * decodeMessage turns into a Malformed result.
 */
import type { MeterEntry, MeterMod, MeterModCommand, MeterStats, MeterUnit } from '../../flow/index.js';
import { WireError, fromWire, toWire, u64 } from './flow-codec.js';
import type { overcast } from './generated/overcast.js';

type IMeter = overcast.native.IMeter;
type IMeterMod = overcast.native.IMeterMod;
type IMeterStats = overcast.native.IMeterStats;

/** Wire order of the MeterUnit and MeterModCommand enums in overcast.proto. */
const METER_UNITS: readonly MeterUnit[] = ['kbps', 'pktps'];
const METER_MOD_COMMANDS: readonly MeterModCommand[] = ['add', 'modify', 'delete'];

export function encodeMeter(m: MeterEntry): IMeter {
  return { meterId: m.meterId, unit: toWire(METER_UNITS, m.unit, 'meter unit'), bands: m.bands.map((b) => ({ rate: b.rate, burst: b.burst })) };
}

export function decodeMeter(m: IMeter | null | undefined): MeterEntry {
  if (!m) throw new WireError('missing meter');
  return {
    meterId: m.meterId ?? 0,
    unit: fromWire(METER_UNITS, m.unit, 'meter unit'),
    bands: (m.bands ?? []).map((b) => ({ type: 'drop', rate: b.rate ?? 0, burst: b.burst ?? 0 })),
  };
}

export function encodeMeterMod(m: MeterMod): IMeterMod {
  return { command: toWire(METER_MOD_COMMANDS, m.command, 'meter-mod command'), meter: encodeMeter(m.meter) };
}

export function decodeMeterMod(m: IMeterMod | null | undefined): MeterMod {
  if (!m) throw new WireError('missing meter-mod');
  return { command: fromWire(METER_MOD_COMMANDS, m.command, 'meter-mod command'), meter: decodeMeter(m.meter) };
}

export function encodeMeterStats(s: MeterStats): IMeterStats {
  return { meterId: s.meterId, flowCount: s.flowCount, packetsIn: s.packetsIn, bytesIn: s.bytesIn, bands: s.bands.map((b) => ({ packets: b.packets, bytes: b.bytes })) };
}

export function decodeMeterStats(s: IMeterStats): MeterStats {
  return {
    meterId: s.meterId ?? 0,
    flowCount: s.flowCount ?? 0,
    packetsIn: u64(s.packetsIn),
    bytesIn: u64(s.bytesIn),
    bands: (s.bands ?? []).map((b) => ({ packets: u64(b.packets), bytes: u64(b.bytes) })),
  };
}
