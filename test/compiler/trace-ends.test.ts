/**
 * Trace ends by name: endpoint ids, host names and addresses resolve to where the packet enters and
 * what it looks like (to a neighbour's MAC in the same subnet, else to the gateway); addresses shared
 * by VPCs resolve in the source's VPC; unknown and ambiguous names are refused by code and field.
 */
import { describe, expect, it } from 'vitest';
import { createIncrementalCompiler, resolveTraceEnd, traceBetween, traceBetweenJson, traceIntent } from '../../src/compiler/index.js';
import { GATEWAY_MAC, type Topology } from '../../src/model/index.js';
import { ip, twoVpcIntent, vpcTopology } from './vpc-fixture.js';

const intent = twoVpcIntent();
const base = vpcTopology();
const topology: Topology = {
  ...base,
  hosts: [
    { name: 'u1', mac: 0x020000ff0001, ip: ip(192, 168, 0, 1), prefixLength: 24, attach: { switch: 'leaf1', port: 1 } },
    { name: 'u2', mac: 0x020000ff0002, ip: ip(192, 168, 0, 2), prefixLength: 24, attach: { switch: 'leaf2', port: 1 } },
  ],
};

describe('trace ends', () => {
  it('resolves an endpoint id to its port, addresses and subnet', () => {
    expect(resolveTraceEnd(topology, intent, 'r1', 'from')).toMatchObject({ kind: 'endpoint', name: 'r1', dpid: 101, port: 7, vpcId: 'red', subnet: { prefixLength: 24 } });
  });

  it('sends to the neighbour in the same subnet, and to the gateway across subnets', () => {
    const same = traceBetween(topology, intent, 'r1', 'r2');
    expect(same.start).toMatchObject({ dpid: 101, inPort: 7, packet: { kind: 'icmp', ethDst: intent.endpoints.get('r2')?.mac } });
    const across = traceBetween(topology, intent, 'r1', 'r4', { protocol: 'tcp', port: 443 });
    expect(across.start.packet).toMatchObject({ kind: 'tcp', ethDst: GATEWAY_MAC, l4Dst: 443 });
  });

  it("reads an address in the source's VPC (blue reuses red's addresses)", () => {
    const r = traceBetween(topology, intent, 'b1', '10.0.0.12');
    expect(r.to).toMatchObject({ kind: 'endpoint', name: 'b3' });
    // Outside any endpoint of the VPC: a plain address, sent to the gateway.
    expect(traceBetween(topology, intent, 'b1', '8.8.8.8').to).toMatchObject({ kind: 'address' });
  });

  it('refuses an address several endpoints hold as a source, and a name nothing has', () => {
    expect(() => traceBetween(topology, intent, '10.0.0.10', 'r2', undefined, 'body.')).toThrow(expect.objectContaining({ code: 'OVC_ERR_TRACE_AMBIGUOUS_END', field: 'body.from' }));
    expect(() => traceBetween(topology, intent, 'r1', 'nobody', undefined, 'body.')).toThrow(expect.objectContaining({ code: 'OVC_ERR_TRACE_UNKNOWN_END', field: 'body.to' }));
    expect(() => traceBetween(topology, intent, 'u1', 'r2')).toThrow(expect.objectContaining({ code: 'OVC_ERR_TRACE_UNKNOWN_END', field: 'to' }));
  });

  it('traces host to host in the underlay and answers with addresses as text', () => {
    const compiler = createIncrementalCompiler(topology, intent);
    const json = traceBetweenJson(topology, intent, { from: 'u1', to: '192.168.0.2' }, (start) =>
      traceIntent(compiler.tables(), topology, start, { describeCookie: (c) => compiler.describeCookie(c) }),
    );
    expect(json.from).toEqual({ kind: 'host', name: 'u1', ip: '192.168.0.1', mac: '02:00:00:ff:00:01', dpid: 101, port: 1 });
    expect(json.packet).toEqual({ kind: 'icmp', ethSrc: '02:00:00:ff:00:01', ethDst: '02:00:00:ff:00:02', ipv4Src: '192.168.0.1', ipv4Dst: '192.168.0.2' });
    expect(json.trace.exits).toEqual([expect.objectContaining({ switch: 'leaf2', port: 1, to: { kind: 'host', host: 'u2' }, headers: expect.objectContaining({ ipv4Dst: '192.168.0.2', ethDst: '02:00:00:ff:00:02' }) })]);
    expect(typeof json.trace.exits[0].frame).toBe('string');
  });
});

describe('a trace through a load balancer', () => {
  it("follows the select group's bucket to a backend", async () => {
    const { fnEndpoint, gatewayTopology, serviceIntent } = await import('./service-fixture.js');
    const t = gatewayTopology();
    const client = fnEndpoint('client', 102, 12, 90);
    const backends = [fnEndpoint('b0', 101, 7, 1, { function: 'resize' }), fnEndpoint('b1', 103, 7, 2, { function: 'resize' })];
    const lb = { id: 'lb-1', vpcId: 'red', vip: ip(10, 0, 0, 200), protocol: 'tcp' as const, port: 80, backendPort: 8080, function: 'resize', weights: {}, unhealthy: [] };
    const i = { ...serviceIntent([client, ...backends]), loadBalancers: new Map([[lb.id, lb]]) };
    const compiler = createIncrementalCompiler(t, i);
    const json = traceBetweenJson(t, i, { from: 'client', to: '10.0.0.200', protocol: 'tcp', port: 80 }, (start) =>
      traceIntent(compiler.tables(), t, start, { describeCookie: (c) => compiler.describeCookie(c), intent: i, groups: compiler.groups() }),
    );
    expect(json.trace.drops).toEqual([]);
    expect(json.trace.exits).toHaveLength(1);
    const exit = json.trace.exits[0];
    expect(['b0', 'b1']).toContain(exit.to.kind === 'endpoint' ? exit.to.endpoint : '');
    expect(exit.headers).toMatchObject({ ipv4Src: '10.0.0.100', ipv4Dst: expect.stringMatching(/^10\.0\.0\.1[12]$/) });
  });
});
