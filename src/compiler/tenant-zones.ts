/**
 * Per-switch numbers for tenants where a 24-bit VNI does not fit: Open vSwitch's connection-tracking
 * zones are 16 bits (1..65,535; zone 0 is the default, the underlay's), and security groups give each
 * VPC a zone of its own on every switch where it is present (docs/vpc.md, "Zones"). Far fewer VPCs
 * meet on one switch than exist in the fabric, so a zone is a VPC's on one switch only.
 *
 * The assignment is a pure function of the set of VNIs present on a switch, so an incremental update
 * equals a full recompute, and it moves nobody who need not move:
 *   - a VNI's home zone is ((VNI - 1) mod 65,535) + 1: the VNI itself for the first 65,535;
 *   - the smallest VNI of a home zone holds it;
 *   - the others (only possible past 65,535 VPCs, when two VNIs 65,535 apart meet on one switch), in
 *     VNI order, take the next zone after their home that no home holder and no earlier one holds.
 * A switch that would carry more than 65,535 VPCs is refused (OVC_ERR_VPC_ZONES_EXHAUSTED).
 * Pure: no I/O; the security-group compiler asks `zoneOf` and re-reads the VPCs `enter`/`leave` moved.
 */
import { OvercastError } from '../errors/index.js';

export const MAX_ZONE = 65_535;

/** The zone a VNI holds on any switch where no other VNI with the same home zone is smaller. */
export function homeZone(vni: number): number {
  return ((vni - 1) % MAX_ZONE) + 1;
}

/** The zones of one switch's VNIs (the pure function above); throws when there are more than MAX_ZONE. */
export function assignZones(vnis: Iterable<number>, dpid = 0): Map<number, number> {
  const sorted = [...new Set(vnis)].sort((x, y) => x - y);
  if (sorted.length > MAX_ZONE) throw exhausted(dpid, sorted.length);
  const zones = new Map<number, number>();
  const held = new Set<number>();
  const displaced: number[] = [];
  for (const vni of sorted) {
    const home = homeZone(vni);
    if (held.has(home)) displaced.push(vni);
    else {
      held.add(home);
      zones.set(vni, home);
    }
  }
  for (const vni of displaced) {
    let z = homeZone(vni);
    do z = z === MAX_ZONE ? 1 : z + 1;
    while (held.has(z));
    held.add(z);
    zones.set(vni, z);
  }
  return zones;
}

function exhausted(dpid: number, n: number): OvercastError {
  return new OvercastError('OVC_ERR_VPC_ZONES_EXHAUSTED', `switch ${dpid} would carry ${n} VPCs: more than ${MAX_ZONE} connection-tracking zones`, 'dpid');
}

interface SwitchZones {
  zoneOf: Map<number, number>;
  held: Set<number>;
  /** VNIs not in their home zone: while there are none, a change moves no other VNI. */
  displaced: number;
}

/** Which zones changed: VNI -> its zone now (undefined: it left the switch). */
export type ZoneChanges = Map<number, number | undefined>;

/** The zones of every switch, kept current as VPCs enter and leave switches. */
export class TenantZones {
  private readonly switches = new Map<number, SwitchZones>();

  zoneOf(dpid: number, vni: number): number | undefined {
    return this.switches.get(dpid)?.zoneOf.get(vni);
  }

  /** One switch's zones, by VNI (a copy). */
  zones(dpid: number): Map<number, number> {
    return new Map(this.switches.get(dpid)?.zoneOf);
  }

  /** A VPC appears on a switch; returns the zones that changed (its own among them). */
  enter(dpid: number, vni: number): ZoneChanges {
    let sw = this.switches.get(dpid);
    if (!sw) this.switches.set(dpid, (sw = { zoneOf: new Map(), held: new Set(), displaced: 0 }));
    if (sw.zoneOf.has(vni)) return new Map();
    if (sw.zoneOf.size >= MAX_ZONE) throw exhausted(dpid, sw.zoneOf.size + 1);
    const home = homeZone(vni);
    if (sw.displaced === 0 && !sw.held.has(home)) {
      sw.zoneOf.set(vni, home);
      sw.held.add(home);
      return new Map([[vni, home]]);
    }
    return this.reassign(dpid, sw, [...sw.zoneOf.keys(), vni]);
  }

  /** A VPC leaves a switch; returns the zones that changed (its own, now undefined, among them). */
  leave(dpid: number, vni: number): ZoneChanges {
    const sw = this.switches.get(dpid);
    if (!sw || !sw.zoneOf.has(vni)) return new Map();
    if (sw.displaced === 0) {
      sw.held.delete(sw.zoneOf.get(vni) ?? 0);
      sw.zoneOf.delete(vni);
      if (sw.zoneOf.size === 0) this.switches.delete(dpid);
      return new Map([[vni, undefined]]);
    }
    const rest = [...sw.zoneOf.keys()].filter((x) => x !== vni);
    const changes = this.reassign(dpid, sw, rest);
    changes.set(vni, undefined);
    if (sw.zoneOf.size === 0) this.switches.delete(dpid);
    return changes;
  }

  private reassign(dpid: number, sw: SwitchZones, vnis: number[]): ZoneChanges {
    const next = assignZones(vnis, dpid);
    const changes: ZoneChanges = new Map();
    for (const [vni, zone] of next) if (sw.zoneOf.get(vni) !== zone) changes.set(vni, zone);
    for (const vni of sw.zoneOf.keys()) if (!next.has(vni)) changes.set(vni, undefined);
    sw.zoneOf = next;
    sw.held = new Set(next.values());
    sw.displaced = 0;
    for (const [vni, zone] of next) if (zone !== homeZone(vni)) sw.displaced++;
    return changes;
  }
}
