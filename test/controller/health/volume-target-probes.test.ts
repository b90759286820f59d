/**
 * Volume targets under the health prober (fake clock, fake switch connection, in-memory intent): a
 * target that misses its probes leaves its volumes' replica groups through setTargetHealth with
 * volume.target-down, and comes back with volume.target-up once it answers again.
 */
import { describe, expect, it } from 'vitest';
import { ControllerEvents, type ControllerEvent } from '../../../src/controller/events.js';
import { createHealthProber } from '../../../src/controller/health-prober.js';
import type { PacketInEvent } from '../../../src/controller/switch-connection.js';
import type { Action } from '../../../src/flow/index.js';
import type { Endpoint, Intent, Volume } from '../../../src/model/index.js';
import { buildIcmpEchoReply } from '../../../src/net/index.js';

const ip = (a: number, b: number, c: number, d: number) => ((a << 24) | (b << 16) | (c << 8) | d) >>> 0;
const target: Endpoint = { id: 't1', kind: 'storage', vpcId: 'v', subnetId: 's', dpid: 101, port: 3, mac: 0x02cc00000001, ip: ip(10, 0, 1, 5), labels: {} };

describe('health probes of volume targets', () => {
  it('a target missing its probes leaves its volumes and returns once it answers', async () => {
    const vol: Volume = { id: 'vol-1', name: 'home', protocol: 'nfs', targets: ['t1'], ports: [2049] };
    let state: Intent = {
      vpcs: new Map([['v', { id: 'v', name: 'v', vni: 1, cidr: { network: ip(10, 0, 0, 0), prefixLength: 16 } }]]),
      subnets: new Map([['s', { id: 's', vpcId: 'v', name: 's', cidr: { network: ip(10, 0, 1, 0), prefixLength: 24 }, gateway: ip(10, 0, 1, 1) }]]),
      endpoints: new Map([[target.id, target]]),
      volumes: new Map([[vol.id, vol]]),
    };
    const marks: string[] = [];
    const intent = {
      intent: () => state,
      loadBalancers: { setBackendHealth: () => Promise.reject(new Error('no load balancers here')) },
      volumes: {
        setTargetHealth(volumeId: string, endpointId: string, healthy: boolean): Promise<Volume> {
          marks.push(`${volumeId} ${endpointId} ${healthy ? 'in' : 'out'}`);
          const after: Volume = healthy ? vol : { ...vol, unhealthy: [endpointId] };
          state = { ...state, volumes: new Map([[volumeId, after]]) };
          return Promise.resolve(after);
        },
      },
    };
    const sent: Buffer[] = [];
    let listener: ((e: PacketInEvent) => void) | undefined;
    const events = new ControllerEvents({ nowMs: () => 0 });
    const seen: ControllerEvent[] = [];
    events.subscribe((e) => {
      if (e.type.startsWith('volume.')) seen.push(e);
    });
    const controller = {
      events,
      knownDpids: [101],
      session: () => ({
        connection: {
          packetOut: (frame: Buffer, _inPort: number, _actions: Action[]) => void sent.push(frame),
          on: (_event: string, l: (e: PacketInEvent) => void) => void (listener = l),
        },
      }),
    };
    let now = 0;
    const prober = createHealthProber({ intervalMs: 0, timeoutMs: 500, unhealthyAfter: 3, healthyAfter: 2 }, { controller: controller as never, intent, nowMs: () => now });
    const tick = () => {
      now += 1000;
      prober.tick();
    };
    const answer = () => {
      for (const f of sent.splice(0)) listener?.({ reason: 'action', table: 7, cookie: 1, inPort: target.port, frame: buildIcmpEchoReply(f) as Buffer });
    };
    for (let i = 0; i < 4; i++) tick();
    await Promise.resolve();
    expect(marks).toEqual(['vol-1 t1 out']);
    expect(seen).toMatchObject([{ type: 'volume.target-down', volumeId: 'vol-1', endpointId: 't1' }]);
    tick();
    answer();
    tick();
    answer();
    await Promise.resolve();
    expect(marks).toEqual(['vol-1 t1 out', 'vol-1 t1 in']);
    expect(seen[1]).toMatchObject({ type: 'volume.target-up', volumeId: 'vol-1', endpointId: 't1' });
    prober.stop();
  });
});
