/**
 * The topology with what placing an endpoint or a link needs to know: each switch's ports, the ports
 * links, hosts and gateways already use, and the hosts' MACs. Built once per topology: a topology
 * change builds a new one.
 */
import type { Topology } from '../../model/index.js';
import { portKey } from './intent-index.js';

export class PlacementIndex {
  readonly switchByDpid = new Map<number, Topology['switches'][number]>();
  readonly portsByDpid = new Map<number, Set<number>>();
  /** `dpid:port` -> what holds it (`link s1:2~s2:1`, `host h1`). */
  readonly usedPorts = new Map<string, string>();
  readonly hostMacs = new Set<number>();

  constructor(readonly topology: Topology) {
    const dpidOf = new Map<string, number>();
    for (const s of topology.switches) {
      this.switchByDpid.set(s.dpid, s);
      this.portsByDpid.set(s.dpid, new Set(s.ports.map((p) => p.number)));
      dpidOf.set(s.name, s.dpid);
    }
    const use = (sw: string, port: number, what: string) => {
      const dpid = dpidOf.get(sw);
      if (dpid !== undefined) this.usedPorts.set(portKey(dpid, port), what);
    };
    for (const l of topology.links) {
      const what = `link ${l.a.switch}:${l.a.port}~${l.b.switch}:${l.b.port}`;
      use(l.a.switch, l.a.port, what);
      use(l.b.switch, l.b.port, what);
    }
    for (const h of topology.hosts) {
      use(h.attach.switch, h.attach.port, `host ${h.name}`);
      this.hostMacs.add(h.mac);
    }
    for (const g of topology.gateways ?? []) use(g.attach.switch, g.attach.port, `gateway ${g.name}`);
  }

  dpidOfSwitch(name: string): number | undefined {
    return this.topology.switches.find((s) => s.name === name)?.dpid;
  }
}
