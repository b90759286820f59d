/**
 * The operational state of links, from what the switches say about their ports. A link carries
 * traffic when it is up as configured (the stored topology) and neither of its ports is known to be
 * down. Ports are known from the switch's own word: its features on every (re)connect replace all
 * that was known of its ports, port-status messages update one port. So a port that anybody reported
 * down comes back as soon as its switch (re)connects saying it is up, and a topology change (which
 * hands the compiler the stored link states) gets the known port state laid over it again.
 */
import { linkId, type PortRef, type Topology } from '../model/index.js';

export interface LinkChange {
  link: PortRef;
  op: 'up' | 'down';
}

export class PortStates {
  /** dpid -> port -> up; a port absent is not known to be down. */
  private readonly byDpid = new Map<number, Map<number, boolean>>();

  /** A switch (re)connected reporting these ports: they replace what was known of it. */
  replaceSwitch(dpid: number, ports: readonly { number: number; up: boolean }[]): void {
    this.byDpid.set(dpid, new Map(ports.map((p) => [p.number, p.up])));
  }

  set(dpid: number, port: number, up: boolean): void {
    let m = this.byDpid.get(dpid);
    if (!m) {
      m = new Map();
      this.byDpid.set(dpid, m);
    }
    m.set(port, up);
  }

  isDown(dpid: number, port: number): boolean {
    return this.byDpid.get(dpid)?.get(port) === false;
  }
}

/** Is each stored link operational (up as configured, neither port known down)? By link id. */
export function operationalLinks(stored: Topology, ports: PortStates): Map<string, boolean> {
  const dpidOf = new Map(stored.switches.map((s) => [s.name, s.dpid]));
  const down = (r: PortRef) => {
    const dpid = dpidOf.get(r.switch);
    return dpid !== undefined && ports.isDown(dpid, r.port);
  };
  return new Map(stored.links.map((l) => [linkId(l), l.up && !down(l.a) && !down(l.b)]));
}

/** The link changes that bring `compiled` (the compiler's topology) in line with the operational state. */
export function linkChanges(stored: Topology, compiled: Topology, ports: PortStates): LinkChange[] {
  const now = new Map(compiled.links.map((l) => [linkId(l), l.up]));
  const changes: LinkChange[] = [];
  for (const [id, up] of operationalLinks(stored, ports)) {
    const current = now.get(id);
    if (current === undefined || current === up) continue;
    const link = stored.links.find((l) => linkId(l) === id);
    if (link) changes.push({ link: link.a, op: up ? 'up' : 'down' });
  }
  return changes;
}
