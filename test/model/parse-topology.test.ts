import { describe, expect, it } from 'vitest';
import { parseTopology, shippedGeneratedTopologies, formatTopologyYaml, generateLeafSpine } from '../../src/model/index.js';
import { parseMac } from '../../src/net/mac.js';
import { BASE, caught, loadShipped, problemList, problemsOf, SHIPPED, shippedText } from './helpers.js';

describe('shipped topologies', () => {
  it.each(SHIPPED)('%s loads', (file) => {
    expect(() => loadShipped(file)).not.toThrow();
  });

  it('have the promised shapes', () => {
    const counts = (f: string) => {
      const t = loadShipped(f);
      return [t.switches.length, t.links.length, t.hosts.length];
    };
    expect(counts('demo.yaml')).toEqual([3, 3, 4]);
    expect(counts('linear-8.yaml')).toEqual([8, 7, 8]);
    expect(counts('leaf-spine.yaml')).toEqual([6, 8, 16]);
    expect(counts('fat-tree-k4.yaml')).toEqual([20, 32, 16]);
  });

  it('generated files are exactly the generator output (regenerate, do not hand-edit)', () => {
    for (const [file, text] of shippedGeneratedTopologies()) expect(shippedText(file), file).toBe(text);
  });

  it('formatTopologyYaml round-trips, down links included', () => {
    const t = generateLeafSpine(2, 2, 2);
    const down = { ...t, links: t.links.map((l, i) => (i === 0 ? { ...l, up: false } : l)) };
    expect(parseTopology(formatTopologyYaml(down))).toEqual(down);
  });
});

describe('parseTopology: the long and short forms agree', () => {
  it('object links, object attach and object ports mean the same as the short forms', () => {
    const long = `
name: t
switches:
  - { name: s1, dpid: 1, ports: [{ number: 1 }, { number: 2 }, { number: 3 }] }
  - { name: s2, dpid: 2, ports: [1, 2, 3] }
links:
  - { a: { switch: s1, port: 3 }, b: s2:3 }
hosts:
  - { name: h1, mac: "02-00-00-00-00-01", ip: 10.0.0.1/24, attach: { switch: s1, port: 1 } }
  - { name: h2, mac: "02:00:00:00:00:02", ip: 10.0.0.2/24, attach: s2:1 }
`;
    expect(parseTopology(long)).toEqual(parseTopology(BASE));
  });

  it('reads addresses as numbers and links as up by default', () => {
    const t = parseTopology(BASE);
    expect(t.hosts[0]).toMatchObject({ mac: parseMac('02:00:00:00:00:01'), ip: 0x0a000001, prefixLength: 24 });
    expect(t.links[0]).toEqual({ a: { switch: 's1', port: 3 }, b: { switch: 's2', port: 3 }, up: true });
  });

  it('keeps port names', () => {
    expect(loadShipped('demo.yaml').switches[1].ports[0]).toEqual({ number: 1, name: 'to-s1' });
  });
});

describe('parseTopology: every error code', () => {
  const replace = (from: string, to: string) => {
    expect(BASE).toContain(from);
    return BASE.replace(from, to);
  };

  it('OVC_ERR_TOPO_PARSE for YAML that does not parse, with its line', () => {
    const problems = problemList('name: t\nswitches: [\n');
    expect(problems[0].code).toBe('OVC_ERR_TOPO_PARSE');
    expect(problems[0].line).toBeGreaterThanOrEqual(2);
  });

  it('OVC_ERR_TOPO_PARSE for a key given twice', () => {
    expect(problemsOf('name: t\nname: u\nswitches: []\n')[0][0]).toBe('OVC_ERR_TOPO_PARSE');
  });

  it.each([
    ['a scalar document', 'just text', undefined],
    ['a missing switches list', 'name: t\n', 'switches'],
    ['a missing name', 'switches: []\n', 'name'],
  ])('OVC_ERR_TOPO_SCHEMA for %s', (_what, text, field) => {
    expect(problemsOf(text)).toContainEqual(['OVC_ERR_TOPO_SCHEMA', field]);
  });

  it.each([
    ['missing dpid', 'dpid: 1, ', '', 'switches[0].dpid'],
    ['dpid as text', 'dpid: 1,', 'dpid: one,', 'switches[0].dpid'],
    ['dpid zero', 'dpid: 1,', 'dpid: 0,', 'switches[0].dpid'],
    ['port zero', 'ports: [1, 2, 3] }\n  - { name: s2', 'ports: [0, 1, 2, 3] }\n  - { name: s2', 'switches[0].ports[0]'],
    ['an unknown field', '{ name: s1,', '{ colour: red, name: s1,', 'switches[0].colour'],
    ['a name with a colon', '{ name: h1,', '{ name: "h:1",', 'hosts[0].name'],
    ['a name with a space', '{ name: h1,', '{ name: "h 1",', 'hosts[0].name'],
    ['a link that is not a pair', '[s1:3, s2:3]', '[s1:3]', 'links[0]'],
    ['an endpoint that is not switch:port', '[s1:3, s2:3]', '[s1:3, s2-3]', 'links[0][1]'],
    ['a link up flag that is not boolean', '[s1:3, s2:3]', '{ a: s1:3, b: s2:3, up: maybe }', 'links[0].up'],
    ['a host without attach', ', attach: s1:1 }', ' }', 'hosts[0].attach'],
  ])('OVC_ERR_TOPO_SCHEMA for %s', (_what, from, to, field) => {
    expect(problemsOf(replace(from, to))).toEqual([['OVC_ERR_TOPO_SCHEMA', field]]);
  });

  it.each([
    ['OVC_ERR_TOPO_DUPLICATE_DPID', 'dpid: 2', 'dpid: 1', 'switches[1].dpid'],
    ['OVC_ERR_TOPO_DUPLICATE_NAME', 'name: h2', 'name: s2', 'hosts[1].name'],
    ['OVC_ERR_TOPO_DUPLICATE_PORT', 'ports: [1, 2, 3] }\n  - { name: s2', 'ports: [1, 2, 2, 3] }\n  - { name: s2', 'switches[0].ports[2]'],
    ['OVC_ERR_TOPO_UNKNOWN_SWITCH', '[s1:3, s2:3]', '[s1:3, s9:3]', 'links[0][1]'],
    ['OVC_ERR_TOPO_UNKNOWN_SWITCH', 'attach: s2:1', 'attach: s9:1', 'hosts[1].attach'],
    ['OVC_ERR_TOPO_UNKNOWN_PORT', '[s1:3, s2:3]', '[s1:3, s2:7]', 'links[0][1]'],
    ['OVC_ERR_TOPO_UNKNOWN_PORT', 'attach: s2:1', 'attach: s2:9', 'hosts[1].attach'],
    ['OVC_ERR_TOPO_PORT_IN_USE', 'attach: s2:1', 'attach: s2:3', 'hosts[1].attach'],
    ['OVC_ERR_TOPO_PORT_IN_USE', 'attach: s2:1', 'attach: s1:1', 'hosts[1].attach'],
    ['OVC_ERR_TOPO_SELF_LINK', '[s1:3, s2:3]', '[s1:3, s1:3]', 'links[0]'],
    ['OVC_ERR_TOPO_DUPLICATE_MAC', '"02:00:00:00:00:02"', '"02:00:00:00:00:01"', 'hosts[1].mac'],
    ['OVC_ERR_TOPO_DUPLICATE_IP', 'ip: 10.0.0.2/24', 'ip: 10.0.0.1/24', 'hosts[1].ip'],
    ['OVC_ERR_NET_BAD_MAC', '"02:00:00:00:00:02"', '"02:00:00:00:00:zz"', 'hosts[1].mac'],
    ['OVC_ERR_NET_BAD_MAC', '"02:00:00:00:00:02"', '"01:00:5e:00:00:02"', 'hosts[1].mac'],
    ['OVC_ERR_NET_BAD_MAC', '"02:00:00:00:00:02"', '"00:00:00:00:00:00"', 'hosts[1].mac'],
    ['OVC_ERR_NET_BAD_IPV4', 'ip: 10.0.0.2/24', 'ip: 10.0.0.300/24', 'hosts[1].ip'],
    ['OVC_ERR_NET_BAD_IPV4', 'ip: 10.0.0.2/24', 'ip: 010.0.0.2/24', 'hosts[1].ip'],
    ['OVC_ERR_NET_BAD_CIDR', 'ip: 10.0.0.2/24', 'ip: 10.0.0.2', 'hosts[1].ip'],
    ['OVC_ERR_NET_BAD_CIDR', 'ip: 10.0.0.2/24', 'ip: 10.0.0.2/33', 'hosts[1].ip'],
    ['OVC_ERR_NET_BAD_CIDR', 'ip: 10.0.0.2/24', 'ip: 10.0.0.255/24', 'hosts[1].ip'],
  ])('%s: %s -> %s', (code, from, to, field) => {
    expect(problemsOf(replace(from, to))).toEqual([[code, field]]);
  });

  it('a second link on the same pair of ports is PORT_IN_USE on both ends', () => {
    expect(problemsOf(replace('  - [s1:3, s2:3]\n', '  - [s1:3, s2:3]\n  - [s2:3, s1:3]\n'))).toEqual([
      ['OVC_ERR_TOPO_PORT_IN_USE', 'links[1][0]'],
      ['OVC_ERR_TOPO_PORT_IN_USE', 'links[1][1]'],
    ]);
  });
});

describe('parseTopology: all problems at once', () => {
  const broken = `name: broken
switches:
  - { name: s1, dpid: 1, ports: [1, 2, 3] }
  - { name: s2, dpid: 1, ports: [1, 1] }
  - 42
  - { name: s4, dpid: 4, ports: [1], colour: red }
links:
  - [s1:3, s9:1]
  - [s1:3, s2:1]
hosts:
  - { name: h1, mac: "02:00:00:00:00:0g", ip: 10.0.0.1/24, attach: s1:1 }
  - { name: h2, mac: "02:00:00:00:00:02", ip: 10.0.0.1/24, attach: s1:2 }
  - { name: s1, mac: "02:00:00:00:00:03", ip: 10.0.0.300/24, attach: s4:7 }
`;

  it('reports every problem, each with its code and field, in file order', () => {
    expect(problemsOf(broken)).toEqual([
      ['OVC_ERR_TOPO_DUPLICATE_DPID', 'switches[1].dpid'],
      ['OVC_ERR_TOPO_DUPLICATE_PORT', 'switches[1].ports[1]'],
      ['OVC_ERR_TOPO_SCHEMA', 'switches[2]'],
      ['OVC_ERR_TOPO_SCHEMA', 'switches[3].colour'],
      ['OVC_ERR_TOPO_UNKNOWN_SWITCH', 'links[0][1]'],
      ['OVC_ERR_TOPO_PORT_IN_USE', 'links[1][0]'],
      ['OVC_ERR_NET_BAD_MAC', 'hosts[0].mac'],
      ['OVC_ERR_TOPO_DUPLICATE_IP', 'hosts[1].ip'],
      ['OVC_ERR_TOPO_DUPLICATE_NAME', 'hosts[2].name'],
      ['OVC_ERR_NET_BAD_IPV4', 'hosts[2].ip'],
      ['OVC_ERR_TOPO_UNKNOWN_PORT', 'hosts[2].attach'],
    ]);
  });

  it('places each problem at its line and column, also in the message', () => {
    const problems = problemList(broken);
    const at = (field: string) => problems.find((p) => p.field === field);
    expect(at('switches[1].dpid')).toMatchObject({ line: 4, column: 23 });
    expect(at('switches[2]')).toMatchObject({ line: 5 });
    expect(at('hosts[2].attach')).toMatchObject({ line: 13 });
    expect(at('hosts[2].attach')?.message).toMatch(/^test\.yaml:13:\d+: /);
  });

  it('the error itself carries the first problem', () => {
    const e = caught(() => parseTopology(broken));
    expect([e.code, e.field, e.statusCode]).toEqual(['OVC_ERR_TOPO_DUPLICATE_DPID', 'switches[1].dpid', 409]);
  });

  it('a missing field is placed at its parent', () => {
    const problems = problemList(BASE.replace('dpid: 2, ', ''));
    expect(problems[0]).toMatchObject({ field: 'switches[1].dpid', line: 5 });
  });
});
