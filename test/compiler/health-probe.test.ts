/**
 * Health probes' return path: a backend's ICMP echo reply to its subnet's gateway reaches the
 * controller (under the subnet's cookie) on the backend's own switch; other traffic to the gateway
 * stays dropped; the flow follows the VPC's presence like the gateway's ARP answers.
 */
import { describe, expect, it } from 'vitest';
import { createIncrementalCompiler, PRIORITY, subnetCookie } from '../../src/compiler/index.js';
import { PORT, TABLE } from '../../src/flow/index.js';
import { GATEWAY_MAC } from '../../src/model/index.js';
import { buildIcmpEchoFrame, ICMP_ECHO_REPLY } from '../../src/net/index.js';
import { ip } from './vpc-fixture.js';
import { createServiceSim, fnEndpoint, gatewayTopology, serviceIntent } from './service-fixture.js';

const topology = gatewayTopology();
const GATEWAY_IP = ip(10, 0, 0, 1);
const backend = fnEndpoint('b0', 103, 7, 1, { function: 'resize' });
const other = fnEndpoint('c0', 102, 8, 2);

function healthFlows(tables: ReadonlyMap<number, readonly { table: number; priority: number; cookie?: number }[]>) {
  const out = new Map<number, number>();
  for (const [dpid, flows] of tables) {
    const n = flows.filter((f) => f.table === TABLE.ROUTE && f.priority === PRIORITY.ROUTE_HEALTH_REPLY).length;
    if (n > 0) out.set(dpid, n);
  }
  return out;
}

describe('health probe replies', () => {
  it("a backend's echo reply to its gateway goes to the controller under the subnet's cookie, and nowhere else", () => {
    const c = createIncrementalCompiler(topology, serviceIntent([backend, other]));
    const s = createServiceSim(topology, c.tables(), c.groups(), [backend, other]);
    const reply = buildIcmpEchoFrame({ srcMac: backend.mac, dstMac: GATEWAY_MAC, srcIp: backend.ip, dstIp: GATEWAY_IP, type: 'reply', id: 0x4f43, seq: 7 });
    expect(s.send(backend.dpid, backend.port, reply)).toEqual([]);
    expect(s.packetIns).toBe(1);
    const flow = (c.tables().get(backend.dpid) ?? []).find((f) => f.table === TABLE.ROUTE && f.priority === PRIORITY.ROUTE_HEALTH_REPLY);
    expect(flow?.cookie).toBe(subnetCookie('red-a'));
    expect(flow?.match.icmpType).toBe(ICMP_ECHO_REPLY);
    expect(flow?.actions).toEqual([{ type: 'output', port: PORT.CONTROLLER, maxLen: expect.any(Number) }]);
  });

  it('an echo request to the gateway and a reply to another address are not lifted', () => {
    const c = createIncrementalCompiler(topology, serviceIntent([backend, other]));
    const s = createServiceSim(topology, c.tables(), c.groups(), [backend, other]);
    const request = buildIcmpEchoFrame({ srcMac: backend.mac, dstMac: GATEWAY_MAC, srcIp: backend.ip, dstIp: GATEWAY_IP, type: 'request', id: 1, seq: 1 });
    expect(s.send(backend.dpid, backend.port, request)).toEqual([]);
    const toOther = buildIcmpEchoFrame({ srcMac: backend.mac, dstMac: GATEWAY_MAC, srcIp: backend.ip, dstIp: other.ip, type: 'reply', id: 1, seq: 1 });
    expect(s.send(backend.dpid, backend.port, toOther).map((d) => d.to)).toEqual(['endpoint:c0']);
    expect(s.packetIns).toBe(0);
  });

  it('lives on every switch where the VPC is present, one flow each, and leaves with the last endpoint', () => {
    const c = createIncrementalCompiler(topology, serviceIntent([backend, other]));
    expect(healthFlows(c.tables())).toEqual(new Map([[102, 1], [103, 1]]));
    c.apply({ kind: 'endpoint', op: 'delete', id: 'c0' });
    expect(healthFlows(c.tables())).toEqual(new Map([[103, 1]]));
    c.apply({ kind: 'endpoint', op: 'delete', id: 'b0' });
    expect(healthFlows(c.tables())).toEqual(new Map());
  });
});
