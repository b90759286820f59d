/** volume.target-down / -up from port status and switch connections, once per transition and volume. */
import { describe, expect, it } from 'vitest';
import { ControllerEvents, type ControllerEvent } from '../../../src/controller/events.js';
import { watchVolumeTargets } from '../../../src/controller/volume-targets.js';
import type { Endpoint, Intent, Volume } from '../../../src/model/index.js';

const ep = (id: string, dpid: number, port: number): Endpoint => ({ id, kind: 'storage', vpcId: 'v', subnetId: 's', dpid, port, mac: dpid * 100 + port, ip: dpid * 100 + port, labels: {} });
const vol = (id: string, targets: string[]): Volume => ({ id, name: id, protocol: 'gluster', targets, ports: [24007] });
const intent: Intent = {
  vpcs: new Map(),
  subnets: new Map(),
  endpoints: new Map([ep('t1', 1, 3), ep('t2', 2, 3), ep('x', 1, 4)].map((e) => [e.id, e])),
  volumes: new Map([vol('vol-1', ['t1', 't2']), vol('vol-2', ['t1'])].map((v) => [v.id, v])),
};

describe('volume target watch', () => {
  it('reports a target down with its port or switch and up again, once per volume', () => {
    const events = new ControllerEvents({ nowMs: () => 0 });
    const seen: ControllerEvent[] = [];
    events.subscribe((e) => {
      if (e.type.startsWith('volume.')) seen.push(e);
    });
    const off = watchVolumeTargets({ events, intent: () => intent });
    events.emit({ type: 'port.status', dpid: 1, port: 4, up: false, reason: 'link-down' });
    expect(seen).toEqual([]);
    events.emit({ type: 'port.status', dpid: 1, port: 3, up: false, reason: 'link-down' });
    events.emit({ type: 'switch.disconnected', dpid: 1, reason: 'closed' });
    expect(seen.map((e) => [e.type, 'volumeId' in e ? e.volumeId : '', 'endpointId' in e ? e.endpointId : ''])).toEqual([
      ['volume.target-down', 'vol-1', 't1'],
      ['volume.target-down', 'vol-2', 't1'],
    ]);
    events.emit({ type: 'switch.disconnected', dpid: 2, reason: 'closed' });
    events.emit({ type: 'switch.connected', dpid: 1, channel: 'native', remoteAddress: '' });
    expect(seen.slice(2).map((e) => [e.type, 'endpointId' in e ? e.endpointId : ''])).toEqual([
      ['volume.target-down', 't2'],
      ['volume.target-up', 't1'],
      ['volume.target-up', 't1'],
    ]);
    off();
  });

  it('takes the target out of its volumes\' replica groups and puts it back; a stored mark is cleared when its switch connects', () => {
    const events = new ControllerEvents({ nowMs: () => 0 });
    const marks: string[] = [];
    let current: Intent = intent;
    const off = watchVolumeTargets({
      events,
      intent: () => current,
      setTargetHealth: (volumeId, endpointId, healthy) => {
        marks.push(`${volumeId} ${endpointId} ${healthy ? 'in' : 'out'}`);
        return Promise.resolve();
      },
    });
    events.emit({ type: 'port.status', dpid: 2, port: 3, up: false, reason: 'link-down' });
    events.emit({ type: 'port.status', dpid: 2, port: 3, up: true, reason: 'link-up' });
    expect(marks).toEqual(['vol-1 t2 out', 'vol-1 t2 in']);
    // Marked out by an earlier controller: its switch connecting puts it back, with no event.
    current = { ...intent, volumes: new Map([...(intent.volumes ?? [])].map(([id, v]) => [id, { ...v, unhealthy: ['t1'] }])) };
    events.emit({ type: 'switch.connected', dpid: 1, channel: 'native', remoteAddress: '' });
    expect(marks.slice(2)).toEqual(['vol-1 t1 in', 'vol-2 t1 in']);
    off();
  });
});
