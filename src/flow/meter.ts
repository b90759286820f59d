/**
 * A meter (OpenFlow 1.3 §7.3.4.4): a rate limit a flow's meter instruction sends its packets through
 * before the flow's actions. Channel-neutral, like FlowEntry and GroupEntry: the compiler emits
 * meters per switch, the controller diffs and pushes them, the softswitch runs them (src/switch/meters.ts)
 * and the OpenFlow 1.3 codec encodes them for Open vSwitch.
 *
 * One unit per meter, as OpenFlow says (OFPMF_KBPS or OFPMF_PKTPS): each band's rate and burst are
 * kilobits (a second) or packets (a second). Overcast uses drop bands only: a packet over a band's
 * rate is dropped and counted in that band's stats.
 */

export type MeterUnit = 'kbps' | 'pktps';

export interface MeterBand {
  type: 'drop';
  /** Kilobits or packets a second, by the meter's unit. */
  rate: number;
  /** Kilobits or packets saved up at most (the bucket's depth). */
  burst: number;
}

export interface MeterEntry {
  meterId: number;
  unit: MeterUnit;
  bands: MeterBand[];
  /** Names the meter's owner for the controller; a switch keeps none (as with groups). */
  cookie?: number;
}

export type MeterModCommand = 'add' | 'modify' | 'delete';

export interface MeterMod {
  command: MeterModCommand;
  meter: MeterEntry;
}

/** OpenFlow's OFPM_MAX: the last id a flow's meter may have. */
export const METER_ID_MAX = 0xffff0000;

/** Per band: packets and bytes it dropped. */
export interface MeterBandStats {
  packets: number;
  bytes: number;
}

/** A meter's counters: what went in, and what each band dropped (OFPMP_METER). */
export interface MeterStats {
  meterId: number;
  flowCount: number;
  packetsIn: number;
  bytesIn: number;
  bands: MeterBandStats[];
}

/** Same meter as the switch holds it: id, unit and bands in order; not the cookie. */
export function sameMeter(a: MeterEntry, b: MeterEntry): boolean {
  if (a === b) return true;
  if (a.meterId !== b.meterId || a.unit !== b.unit || a.bands.length !== b.bands.length) return false;
  for (let i = 0; i < a.bands.length; i++) {
    const x = a.bands[i];
    const y = b.bands[i];
    if (x.type !== y.type || x.rate !== y.rate || x.burst !== y.burst) return false;
  }
  return true;
}

/** The meter-mods that turn `installed` into `desired`, by meter id (adds and modifies, then deletes). */
export function diffMeters(installed: Iterable<MeterEntry>, desired: Iterable<MeterEntry>): MeterMod[] {
  const have = new Map<number, MeterEntry>();
  for (const m of installed) have.set(m.meterId, m);
  const mods: MeterMod[] = [];
  const seen = new Set<number>();
  for (const m of desired) {
    seen.add(m.meterId);
    const old = have.get(m.meterId);
    if (!old) mods.push({ command: 'add', meter: m });
    else if (!sameMeter(old, m)) mods.push({ command: 'modify', meter: m });
  }
  for (const [id, m] of have) if (!seen.has(id)) mods.push({ command: 'delete', meter: m });
  return mods;
}
