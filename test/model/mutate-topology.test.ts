import { describe, expect, it } from 'vitest';
import {
  addHost,
  addLink,
  addSwitch,
  generateLinear,
  linkId,
  removeHost,
  removeLink,
  removeSwitch,
  setLinkUp,
} from '../../src/model/index.js';
import { caught } from './helpers.js';

describe('pure topology mutations', () => {
  const t = generateLinear(3);
  const frozen = JSON.stringify(t);

  it('add a switch and link it', () => {
    const t2 = addLink(addSwitch(t, { name: 's4', dpid: 4, ports: [{ number: 1 }, { number: 2 }] }), { switch: 's3', port: 3 }, { switch: 's4', port: 1 });
    expect(t2.switches.map((s) => s.name)).toEqual(['s1', 's2', 's3', 's4']);
    expect(t2.links.map(linkId)).toContain('s3:3~s4:1');
    expect(JSON.stringify(t)).toBe(frozen);
  });

  it('refuse what breaks a rule, with every problem', () => {
    expect(caught(() => addSwitch(t, { name: 's1', dpid: 1, ports: [] })).problems.map((p) => p.code)).toEqual([
      'OVC_ERR_TOPO_DUPLICATE_NAME',
      'OVC_ERR_TOPO_DUPLICATE_DPID',
    ]);
    expect(caught(() => addLink(t, { switch: 's1', port: 3 }, { switch: 's3', port: 3 })).code).toBe('OVC_ERR_TOPO_PORT_IN_USE');
    expect(caught(() => addLink(t, { switch: 's1', port: 2 }, { switch: 's1', port: 2 })).code).toBe('OVC_ERR_TOPO_SELF_LINK');
    expect(caught(() => addHost(t, { ...t.hosts[0], name: 'hx', attach: { switch: 's1', port: 2 } })).code).toBe('OVC_ERR_TOPO_DUPLICATE_MAC');
  });

  it('remove a switch with its links and hosts', () => {
    const t2 = removeSwitch(t, 's2');
    expect(t2.switches.map((s) => s.name)).toEqual(['s1', 's3']);
    expect(t2.links).toEqual([]);
    expect(t2.hosts.map((h) => h.name)).toEqual(['h1', 'h3']);
    expect(caught(() => removeSwitch(t, 's9')).code).toBe('OVC_ERR_TOPO_UNKNOWN_SWITCH');
  });

  it('remove and toggle links by id or by either end', () => {
    expect(removeLink(t, 's1:3~s2:2').links).toHaveLength(1);
    expect(removeLink(t, { switch: 's2', port: 2 }).links.map(linkId)).toEqual(['s2:3~s3:2']);
    const down = setLinkUp(t, { switch: 's3', port: 2 }, false);
    expect(down.links.map((l) => l.up)).toEqual([true, false]);
    expect(setLinkUp(down, 's2:3~s3:2', true)).toEqual(t);
    expect(caught(() => removeLink(t, { switch: 's1', port: 1 })).code).toBe('OVC_ERR_TOPO_UNKNOWN_LINK');
    expect(JSON.stringify(t)).toBe(frozen);
  });

  it('remove hosts', () => {
    expect(removeHost(t, 'h2').hosts.map((h) => h.name)).toEqual(['h1', 'h3']);
    expect(caught(() => removeHost(t, 'h9')).code).toBe('OVC_ERR_TOPO_UNKNOWN_HOST');
  });
});
