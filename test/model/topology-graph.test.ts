import { describe, expect, it } from 'vitest';
import {
  buildTopologyGraph,
  hostByIp,
  hostByMac,
  hostByName,
  hostsOnSwitch,
  neighbourOnPort,
  setLinkUp,
  shortestPath,
  switchByDpid,
  switchPorts,
  generateLinear,
  generateLeafSpine,
} from '../../src/model/index.js';
import { parseMac } from '../../src/net/mac.js';
import { parseIpv4 } from '../../src/net/ipv4.js';
import { loadShipped } from './helpers.js';

describe('buildTopologyGraph and its queries', () => {
  const graph = buildTopologyGraph(loadShipped('demo.yaml'));

  it('has switches and hosts as nodes, links and attachments as edges', () => {
    expect(graph.order).toBe(7);
    expect(graph.size).toBe(3 + 4);
    expect(graph.getNodeAttribute('s1', 'kind')).toBe('switch');
    expect(graph.getNodeAttribute('h1', 'kind')).toBe('host');
    expect(graph.getEdgeAttributes('s1:4~s3:2')).toMatchObject({ kind: 'link' });
  });

  it('answers what is on a port', () => {
    expect(neighbourOnPort(graph, 's1', 3)).toMatchObject({ kind: 'switch', switch: 's2', port: 1, up: true, linkId: 's1:3~s2:1' });
    expect(neighbourOnPort(graph, 's2', 1)).toMatchObject({ kind: 'switch', switch: 's1', port: 3 });
    expect(neighbourOnPort(graph, 's2', 3)).toMatchObject({ kind: 'host', host: { name: 'h3' } });
    expect(neighbourOnPort(graph, 's3', 9)).toBeUndefined();
  });

  it('finds hosts by name, MAC and IP, and switches by dpid', () => {
    expect(hostByName(graph, 'h4')?.attach).toEqual({ switch: 's3', port: 3 });
    expect(hostByMac(graph, parseMac('02:00:00:00:00:02'))?.name).toBe('h2');
    expect(hostByIp(graph, parseIpv4('10.0.0.3'))?.name).toBe('h3');
    expect(hostByIp(graph, parseIpv4('10.0.0.99'))).toBeUndefined();
    expect(switchByDpid(graph, 3)?.name).toBe('s3');
    expect(hostsOnSwitch(graph, 's1').map((h) => h.name)).toEqual(['h1', 'h2']);
    expect(switchPorts(graph, 's2').map((p) => p.number)).toEqual([1, 2, 3]);
    expect(switchPorts(graph, 'nope')).toEqual([]);
  });
});

describe('shortestPath', () => {
  it('walks a line', () => {
    const g = buildTopologyGraph(generateLinear(5));
    const p = shortestPath(g, 's1', 's4');
    expect(p?.switches).toEqual(['s1', 's2', 's3', 's4']);
    expect(p?.hops[0]).toEqual({ switch: 's1', outPort: 3, next: 's2', nextInPort: 2 });
    expect(shortestPath(g, 's4', 's1')?.switches).toEqual(['s4', 's3', 's2', 's1']);
    expect(shortestPath(g, 's3', 's3')).toEqual({ switches: ['s3'], hops: [] });
  });

  it('breaks ties by the lowest neighbour dpid, whatever the declaration order', () => {
    const t = generateLeafSpine(2, 4, 1);
    const reversed = { ...t, links: [...t.links].reverse(), switches: [...t.switches].reverse() };
    for (const topo of [t, reversed]) {
      expect(shortestPath(buildTopologyGraph(topo), 'leaf1', 'leaf3')?.switches).toEqual(['leaf1', 'spine1', 'leaf3']);
    }
  });

  it('avoids a link that is down, and returns null when nothing is left', () => {
    const t = generateLeafSpine(2, 2, 1);
    const oneDown = setLinkUp(t, { switch: 'leaf1', port: 2 }, false); // leaf1 -> spine1
    expect(shortestPath(buildTopologyGraph(oneDown), 'leaf1', 'leaf2')?.switches).toEqual(['leaf1', 'spine2', 'leaf2']);
    const bothDown = setLinkUp(oneDown, { switch: 'leaf1', port: 3 }, false);
    expect(shortestPath(buildTopologyGraph(bothDown), 'leaf1', 'leaf2')).toBeNull();
    expect(shortestPath(buildTopologyGraph(t), 'leaf1', 'nowhere')).toBeNull();
  });

  it('the path from any switch on a path is that path\'s suffix (hop-by-hop consistency)', () => {
    const g = buildTopologyGraph(loadShipped('fat-tree-k4.yaml'));
    const switches = g.filterNodes((_n, a) => a.kind === 'switch');
    for (const from of switches) {
      for (const to of ['edge1', 'edge8', 'core3']) {
        const p = shortestPath(g, from, to);
        expect(p).not.toBeNull();
        if (!p) continue;
        for (let i = 1; i < p.switches.length; i++) expect(shortestPath(g, p.switches[i], to)?.switches).toEqual(p.switches.slice(i));
      }
    }
  });

  it('fat tree: edge to edge across pods takes 4 hops', () => {
    const g = buildTopologyGraph(loadShipped('fat-tree-k4.yaml'));
    expect(shortestPath(g, 'edge1', 'edge8')?.switches).toHaveLength(5);
    expect(shortestPath(g, 'edge1', 'edge2')?.switches).toHaveLength(3);
  });
});
