/**
 * The lab's ping service: the path it reports is the echo request traced through the compiled tables
 * from the source host's switch port, so a link going down changes it; unknown hosts are refused by
 * code. The source host's control API is a stub answering POST /ping.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compileFabric, traceIntent } from '../../src/compiler/index.js';
import { createLabService, type LabHostAddress } from '../../src/lab/index.js';
import type { Topology } from '../../src/model/index.js';
import { loadShipped } from '../model/helpers.js';

const demo = loadShipped('demo.yaml');

function withLinkDown(t: Topology, a: string): Topology {
  return { ...t, links: t.links.map((l) => (`${l.a.switch}:${l.a.port}` === a ? { ...l, up: false } : l)) };
}

describe('lab ping service', () => {
  let server: http.Server;
  const pings: unknown[] = [];
  let hosts: LabHostAddress[] = [];

  beforeAll(async () => {
    server = http.createServer((req, res) => {
      let body = '';
      req.on('data', (d: Buffer) => (body += d.toString()));
      req.on('end', () => {
        pings.push(JSON.parse(body));
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ sent: 1, received: 1, replies: [{ seq: 1, rttMs: 0.5, ttl: 64 }] }));
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    const control = { host: '127.0.0.1', port: (server.address() as AddressInfo).port };
    hosts = demo.hosts.map((h) => ({ name: h.name, control }));
  });
  afterAll(async () => {
    await new Promise<void>((r) => server.close(() => r()));
  });

  const serviceOver = (topology: Topology) =>
    createLabService({
      topology: () => topology,
      hostAddresses: () => hosts,
      trace: (start) => traceIntent(compileFabric(topology), topology, start),
    });

  it('reports the path the compiled tables give, and another one once a link is down', async () => {
    const direct = await serviceOver(demo).ping('h1', 'h4', 1, 100);
    expect(direct).toMatchObject({ from: 'h1', to: 'h4', sent: 1, received: 1 });
    expect(direct.path).toEqual(['h1', 's1(in 1, out 4)', 's3(in 2, out 3)', 'h4']);
    expect(pings.at(-1)).toEqual({ dst: '10.0.0.4', count: 1, timeoutMs: 100 });

    const around = await serviceOver(withLinkDown(demo, 's1:4')).ping('h1', 'h4', 1, 100);
    expect(around.path).toEqual(['h1', 's1(in 1, out 3)', 's2(in 1, out 2)', 's3(in 1, out 3)', 'h4']);
  });

  it('says where the request stops when no path is left', async () => {
    const cut = withLinkDown(withLinkDown(demo, 's1:4'), 's1:3');
    const r = await serviceOver(cut).ping('h1', 'h4', 1, 100);
    expect(r.path[0]).toBe('h1');
    expect(r.path.at(-1)).toMatch(/^dropped at s1 /);
  });

  it('refuses a host it does not know, by code', async () => {
    const lab = serviceOver(demo);
    await expect(lab.ping('h1', 'nobody', 1, 100)).rejects.toMatchObject({ code: 'OVC_ERR_LAB_UNKNOWN_HOST', field: 'body.to' });
  });

  it('lists the lab hosts with their control URLs', () => {
    const list = serviceOver(demo).hosts();
    expect(list.map((h) => h.name)).toEqual(['h1', 'h2', 'h3', 'h4']);
    expect(list[0]).toEqual({ name: 'h1', mac: '02:00:00:00:00:01', ip: '10.0.0.1/24', control: `http://${hosts[0].control.host}:${hosts[0].control.port}` });
  });
});
