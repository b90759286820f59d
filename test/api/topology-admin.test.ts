import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { buildTestApi, ok, refused, vpcWithSubnet, type TestApi } from './helpers.js';

interface TopologyReply {
  name: string;
  switches: { name: string; dpid: number; ports: { number: number; name?: string }[] }[];
  links: { id: string; a: { switch: string; port: number }; b: { switch: string; port: number }; up: boolean }[];
  hosts: { name: string; mac: string; ip: string; attach: { switch: string; port: number } }[];
}

let t: TestApi;
beforeEach(async () => {
  t = await buildTestApi();
});
afterEach(async () => {
  await t.close();
});

const s3 = { name: 's3', dpid: 3, ports: [1, 2, { number: 3, name: 'uplink' }] };

describe('topology admin', () => {
  it('adds a switch and a link, sets the link down and up, removes both', async () => {
    const withSwitch = await ok<TopologyReply>(t.app, 'POST', '/v1/topology/switches', s3);
    expect(withSwitch.switches.at(-1)).toEqual({ name: 's3', dpid: 3, ports: [{ number: 1 }, { number: 2 }, { number: 3, name: 'uplink' }] });
    const withLink = await ok<TopologyReply>(t.app, 'POST', '/v1/topology/links', { a: { switch: 's3', port: 3 }, b: { switch: 's2', port: 7 } });
    expect(withLink.links.at(-1)).toEqual({ id: 's2:7~s3:3', a: { switch: 's3', port: 3 }, b: { switch: 's2', port: 7 }, up: true });
    const down = await ok<TopologyReply>(t.app, 'PATCH', `/v1/topology/links/${encodeURIComponent('s2:7~s3:3')}`, { up: false });
    expect(down.links.find((l) => l.id === 's2:7~s3:3')?.up).toBe(false);
    expect(t.intent.topology.get().links.at(-1)?.up).toBe(false);
    const up = await ok<TopologyReply>(t.app, 'PATCH', '/v1/topology/links/s2:7~s3:3', { up: true });
    expect(up.links.find((l) => l.id === 's2:7~s3:3')?.up).toBe(true);
    const noLink = await ok<TopologyReply>(t.app, 'DELETE', '/v1/topology/links/s2:7~s3:3', undefined, 200);
    expect(noLink.links.map((l) => l.id)).toEqual(['s1:8~s2:8']);
    const noSwitch = await ok<TopologyReply>(t.app, 'DELETE', '/v1/topology/switches/s3', undefined, 200);
    expect(noSwitch.switches.map((s) => s.name)).toEqual(['s1', 's2']);
  });

  it('removing a switch takes its links with it', async () => {
    await ok(t.app, 'POST', '/v1/topology/switches', s3);
    await ok(t.app, 'POST', '/v1/topology/links', { a: { switch: 's3', port: 1 }, b: { switch: 's1', port: 7 }, up: false });
    const after = await ok<TopologyReply>(t.app, 'DELETE', '/v1/topology/switches/s3', undefined, 200);
    expect(after.links.map((l) => l.id)).toEqual(['s1:8~s2:8']);
  });

  it('refuses duplicate switches and bad links, each with its field', async () => {
    await refused(t.app, 'POST', '/v1/topology/switches', { ...s3, dpid: 1 }, 409, 'OVC_ERR_TOPO_DUPLICATE_DPID', 'body.dpid');
    await refused(t.app, 'POST', '/v1/topology/switches', { ...s3, name: 's1' }, 409, 'OVC_ERR_TOPO_DUPLICATE_NAME', 'body.name');
    await refused(t.app, 'POST', '/v1/topology/switches', { ...s3, ports: [1, 1] }, 409, 'OVC_ERR_TOPO_DUPLICATE_PORT', 'body.ports[1]');
    await refused(t.app, 'POST', '/v1/topology/switches', { ...s3, name: 'h1' }, 409, 'OVC_ERR_TOPO_DUPLICATE_NAME', 'body.name');
    await refused(t.app, 'POST', '/v1/topology/switches', { ...s3, name: 'bad:name' }, 400, 'OVC_ERR_TOPO_SCHEMA', 'body.name');
    await refused(t.app, 'POST', '/v1/topology/switches', { name: 's3', ports: [] }, 400, 'OVC_ERR_API_VALIDATION', 'body.dpid');
    const link = (a: string, ap: number, b: string, bp: number) => ({ a: { switch: a, port: ap }, b: { switch: b, port: bp } });
    await refused(t.app, 'POST', '/v1/topology/links', link('s1', 8, 's2', 7), 409, 'OVC_ERR_TOPO_PORT_IN_USE', 'body.a');
    await refused(t.app, 'POST', '/v1/topology/links', link('s2', 7, 's1', 1), 409, 'OVC_ERR_TOPO_PORT_IN_USE', 'body.b');
    await refused(t.app, 'POST', '/v1/topology/links', link('s9', 1, 's2', 7), 404, 'OVC_ERR_TOPO_UNKNOWN_SWITCH', 'body.a');
    await refused(t.app, 'POST', '/v1/topology/links', link('s1', 99, 's2', 7), 404, 'OVC_ERR_TOPO_UNKNOWN_PORT', 'body.a');
    await refused(t.app, 'POST', '/v1/topology/links', link('s1', 7, 's1', 7), 400, 'OVC_ERR_TOPO_SELF_LINK', 'body');
    await refused(t.app, 'PATCH', '/v1/topology/links/s1:1~s2:1', { up: false }, 404, 'OVC_ERR_TOPO_UNKNOWN_LINK', 'params.id');
    await refused(t.app, 'PATCH', '/v1/topology/links/s1:8~s2:8', { up: 'no' }, 400, 'OVC_ERR_API_VALIDATION', 'body.up');
    await refused(t.app, 'DELETE', '/v1/topology/links/s1:1~s2:1', undefined, 404, 'OVC_ERR_TOPO_UNKNOWN_LINK', 'params.id');
    await refused(t.app, 'DELETE', '/v1/topology/switches/s9', undefined, 404, 'OVC_ERR_TOPO_UNKNOWN_SWITCH', 'params.name');
    expect(t.intent.topology.get().switches.length).toBe(2);
    expect(t.intent.topology.get().links.length).toBe(1);
  });

  it('keeps endpoints and topology apart: no link on an endpoint port, no switch removal under endpoints', async () => {
    const { vpc, subnet } = await vpcWithSubnet(t.app);
    await ok(t.app, 'POST', '/v1/topology/switches', s3);
    const ep = await ok<{ id: string }>(t.app, 'POST', '/v1/endpoints', { kind: 'storage', vpc: vpc.id, subnet: subnet.id, dpid: 3, port: 2 });
    await refused(t.app, 'POST', '/v1/topology/links', { a: { switch: 's1', port: 7 }, b: { switch: 's3', port: 2 } }, 409, 'OVC_ERR_TOPO_PORT_IN_USE', 'body.b');
    await refused(t.app, 'DELETE', '/v1/topology/switches/s3', undefined, 409, 'OVC_ERR_TOPO_SWITCH_HAS_ENDPOINTS', 'params.name');
    await ok(t.app, 'DELETE', `/v1/endpoints/${ep.id}`);
    await ok(t.app, 'DELETE', '/v1/topology/switches/s3', undefined, 200);
  });

  it('frees a port for endpoints when its link is removed', async () => {
    const { vpc, subnet } = await vpcWithSubnet(t.app);
    const body = { kind: 'host', vpc: vpc.id, subnet: subnet.id, dpid: 1, port: 8 };
    await refused(t.app, 'POST', '/v1/endpoints', body, 409, 'OVC_ERR_ENDPOINT_PORT_IN_USE', 'body.port');
    await ok(t.app, 'DELETE', '/v1/topology/links/s1:8~s2:8', undefined, 200);
    await ok(t.app, 'POST', '/v1/endpoints', body);
  });
});
