/**
 * Where each VPC is present: the switches where at least one owner places it. Endpoints place their
 * VPC on their own switch; elastic IPs and load balancers behind one place it on the switches of the
 * gateways serving their public address (their traffic enters and leaves there). A VPC's flows reach
 * every switch where it is present and the switches on the paths between them.
 *
 * Each placement kind keeps a table of where its owners are placed; `move` is the one routine that
 * re-places an owner, counting per VPC and switch how many owners are there, so a VPC's presence
 * changes only when a switch gains its first owner or loses its last.
 */
import type { FabricContext } from '../fabric-context.js';
import type { ServingGateway } from './exits.js';

/** Where one owner makes its VPC present: switch names, sorted. */
export interface Placement {
  readonly vpcId: string;
  readonly homes: readonly string[];
}

export function samePlacement(a: Placement | undefined, b: Placement | undefined): boolean {
  if (a === b) return true;
  if (a === undefined || b === undefined || a.vpcId !== b.vpcId || a.homes.length !== b.homes.length) return false;
  for (let i = 0; i < a.homes.length; i++) if (a.homes[i] !== b.homes[i]) return false;
  return true;
}

/** The placement of an owner living at the gateways that serve it, or undefined when none does. */
export function gatewayPlacement(vpcId: string, serving: readonly ServingGateway[], fabric: FabricContext): Placement | undefined {
  if (serving.length === 0) return undefined;
  const homes = [...new Set(serving.map((g) => fabric.switchNameOf.get(g.dpid) ?? ''))].sort();
  return { vpcId, homes };
}

/** A VPC's present switches, sorted by dpid: names and dpids. */
export interface PresentSwitches {
  readonly names: readonly string[];
  readonly dpids: readonly number[];
}

/**
 * A set of present switches with the ways to each of its switches: derived from the set and the
 * fabric alone, so VPCs present on the same switches share one (on OVN's workload most VPCs are present
 * on every leaf: a handful of these serve ten thousand VPCs).
 */
interface Shape extends PresentSwitches {
  /** Per home switch: the switches sending towards it and those receiving. */
  readonly towards: Map<string, Towards>;
}

const NOWHERE: Shape = { names: [], dpids: [], towards: new Map() };
/** Past this many shapes (a fabric of many switches, much churn), the table starts over. */
const MAX_SHAPES = 65536;

/** The way to one home switch from every switch where a VPC is present. */
export interface Towards {
  /** The switches that send towards home (home excluded), each with its port towards it. */
  readonly ports: ReadonlyMap<number, number>;
  /** The switches that receive those frames from a link: the next hop of every sender (home included). */
  readonly receivers: readonly number[];
}

export class Presence {
  /** Per placement kind: where each of its owners is placed. */
  private readonly tables = new Map<string, Map<string, Placement>>();
  /** Per VPC: owners per switch name. */
  private readonly counts = new Map<string, Map<string, number>>();
  /** Per VPC: its present switches (dropped when its presence or the topology changes). */
  private readonly presentCache = new Map<string, Shape>();
  /** Shapes by their switch names (dropped when the topology changes). */
  private readonly shapes = new Map<string, Shape>();
  private fabric!: FabricContext;

  setFabric(fabric: FabricContext): void {
    this.fabric = fabric;
    this.presentCache.clear();
    this.shapes.clear();
  }

  /** The placements of one kind's owners, by owner id (the same map for the compiler's lifetime). */
  placements(kind: string): Map<string, Placement> {
    let table = this.tables.get(kind);
    if (!table) this.tables.set(kind, (table = new Map()));
    return table;
  }

  /**
   * Re-places one owner of a kind's table from `before` (its entry there) to `now` (undefined:
   * nowhere). Adds to `changed` every VPC that appeared on a switch or left one.
   */
  move(table: Map<string, Placement>, id: string, before: Placement | undefined, now: Placement | undefined, changed: Set<string>): void {
    if (samePlacement(before, now)) return;
    if (before) {
      for (const home of before.homes) if (this.leave(before.vpcId, home)) changed.add(before.vpcId);
      table.delete(id);
    }
    if (now) {
      for (const home of now.homes) if (this.enter(now.vpcId, home)) changed.add(now.vpcId);
      table.set(id, now);
    }
  }

  /** Forgets what was derived from a VPC's presence (after it changed). */
  invalidate(vpcId: string): void {
    this.presentCache.delete(vpcId);
  }

  /** The switches where the VPC is present, by dpid. */
  present(vpcId: string): Shape {
    let cached = this.presentCache.get(vpcId);
    if (!cached) {
      const at = this.counts.get(vpcId);
      if (!at) return NOWHERE;
      const dpidOf = this.fabric.dpidOf;
      const names = [...at.keys()].sort((x, y) => (dpidOf.get(x) ?? 0) - (dpidOf.get(y) ?? 0));
      const key = names.join('\n');
      cached = this.shapes.get(key);
      if (!cached) {
        if (this.shapes.size >= MAX_SHAPES) this.shapes.clear();
        cached = { names, dpids: names.map((n) => dpidOf.get(n) ?? 0), towards: new Map() };
        this.shapes.set(key, cached);
      }
      this.presentCache.set(vpcId, cached);
    }
    return cached;
  }

  /**
   * The switches on the paths from every switch where the VPC is present to `home`, each with its port
   * towards `home` (home itself excluded), and the switches receiving on those paths (sorted by dpid).
   * Paths are hop-by-hop consistent (src/model/paths.ts), so a walk stops where it meets one already
   * walked.
   */
  towards(vpcId: string, home: string): Towards {
    const shape = this.present(vpcId);
    let out = shape.towards.get(home);
    if (out) return out;
    const ports = new Map<number, number>();
    const receiving = new Set<number>();
    const seen = new Set<string>();
    const hops = this.fabric.nextHopsTo(home);
    const dpidOf = this.fabric.dpidOf;
    for (const from of shape.names) {
      let at = from;
      while (at !== home && !seen.has(at)) {
        const hop = hops.get(at);
        if (!hop) break; // cut off from home: nothing to forward
        seen.add(at);
        ports.set(dpidOf.get(at) ?? 0, hop.outPort);
        receiving.add(dpidOf.get(hop.next) ?? 0);
        at = hop.next;
      }
    }
    out = { ports, receivers: [...receiving].sort((x, y) => x - y) };
    shape.towards.set(home, out);
    return out;
  }

  /** Returns true when the VPC appeared on a new switch. */
  private enter(vpcId: string, home: string): boolean {
    let at = this.counts.get(vpcId);
    if (!at) this.counts.set(vpcId, (at = new Map()));
    const n = at.get(home) ?? 0;
    at.set(home, n + 1);
    return n === 0;
  }

  /** Returns true when the VPC left a switch. */
  private leave(vpcId: string, home: string): boolean {
    const at = this.counts.get(vpcId);
    const n = at?.get(home) ?? 0;
    if (!at || n === 0) return false;
    if (n > 1) {
      at.set(home, n - 1);
      return false;
    }
    at.delete(home);
    if (at.size === 0) this.counts.delete(vpcId);
    return true;
  }
}
