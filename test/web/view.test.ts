/** The topology page's view model: link state from three sources, rates, VPC groups, trace paths. */
import { describe, expect, it } from 'vitest';
import { buildView, linkIdOf, rateText, tracePath, type PageTopology } from '../../src/web/view.js';

const topology: PageTopology = {
  name: 't',
  switches: [
    { name: 's1', dpid: 1 },
    { name: 's2', dpid: 2 },
  ],
  links: [
    { a: { switch: 's2', port: 3 }, b: { switch: 's1', port: 4 }, up: true },
    { a: { switch: 's1', port: 5 }, b: { switch: 's2', port: 5 }, up: false },
  ],
  hosts: [{ name: 'h1', mac: '02:00:00:00:00:01', ip: '10.0.0.1/24', attach: { switch: 's1', port: 1 } }],
};

describe('page view', () => {
  it('names links as the API does', () => {
    expect(linkIdOf({ switch: 's2', port: 3 }, { switch: 's1', port: 4 })).toBe('s1:4~s2:3');
    expect(linkIdOf({ switch: 's1', port: 9 }, { switch: 's1', port: 2 })).toBe('s1:2~s1:9');
  });

  it('marks a link down when set down, or when a port of it is down, and labels rates', () => {
    const v = buildView(topology, [{ dpid: 1, connected: true, desiredFlows: 3, installedFlows: 3, ports: [{ number: 4, up: true }] }], [], [], [
      { id: 's1:4~s2:3', up: true, aToB: { packetsPerSecond: 1500, bytesPerSecond: 1 }, bToA: { packetsPerSecond: 500, bytesPerSecond: 1 } },
    ]);
    expect(v.links.map((l) => [l.linkId, l.up, l.why, l.label])).toEqual([
      ['s1:4~s2:3', true, undefined, '2.0 kpkt/s'],
      ['s1:5~s2:5', false, 'set down', 'down'],
    ]);
    const portDown = buildView(topology, [{ dpid: 1, connected: true, desiredFlows: 0, installedFlows: 0, ports: [{ number: 4, up: false }] }], [], []);
    expect(portDown.links[0]).toMatchObject({ up: false, why: 'port down' });
    expect(v.switches).toEqual([
      { id: 'sw:s1', name: 's1', dpid: 1, connected: true, flows: '3/3 flows' },
      { id: 'sw:s2', name: 's2', dpid: 2, connected: false, flows: 'unknown' },
    ]);
  });

  it('groups underlay hosts and each VPC’s endpoints', () => {
    const v = buildView(topology, [], [{ id: 'vpc-1', name: 'shop', cidr: '10.1.0.0/16' }], [
      { id: 'ep-1', kind: 'function', vpc: 'vpc-1', dpid: 2, port: 7, ip: '10.1.0.2', labels: { function: 'web' } },
    ]);
    expect(v.groups.map((g) => [g.vpc, g.members.map((m) => [m.id, m.switchId, m.label])])).toEqual([
      ['', [['host:h1', 'sw:s1', 'h1\n10.0.0.1/24']]],
      ['vpc-1', [['ep:ep-1', 'sw:s2', 'ep-1 (web)\n10.1.0.2']]],
    ]);
  });

  it('reads a rate as idle, pkt/s, kpkt/s or Mpkt/s', () => {
    expect([0, 3.25, 42, 1200, 2.5e6].map(rateText)).toEqual(['idle', '3.3 pkt/s', '42 pkt/s', '1.2 kpkt/s', '2.5 Mpkt/s']);
  });

  it('turns a trace into the nodes and edges it crosses', () => {
    const p = tracePath({
      from: { kind: 'host', name: 'h1' },
      to: { kind: 'endpoint', name: 'ep-1', ip: '10.1.0.2' },
      trace: {
        hops: [
          { switch: 's1', inPort: 1, outputs: [{ port: 4, to: { kind: 'switch', switch: 's2', port: 3 } }] },
          { switch: 's2', inPort: 3, outputs: [{ port: 7, to: { kind: 'endpoint', endpoint: 'ep-1' } }] },
        ],
        exits: [{ switch: 's2', port: 7, to: { kind: 'endpoint', endpoint: 'ep-1' } }],
        drops: [],
        truncated: false,
      },
    });
    expect(p.nodes).toEqual(['host:h1', 'sw:s1', 'sw:s2', 'ep:ep-1']);
    expect(p.edges).toEqual(['att:host:h1', 'link:s1:4~s2:3', 'att:ep:ep-1']);
    expect(p.steps).toEqual(['from host h1', 's1 (in 1, out 4)', 's2 (in 3, out 7)', 'delivered to endpoint ep-1']);
  });
});
