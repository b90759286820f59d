/** ControllerEvents: stamps, the resume ring, listener isolation; endpoint events from intent changes. */
import { describe, expect, it } from 'vitest';
import { CONTROLLER_EVENT_TYPES, ControllerEvents, endpointEvents, isControllerEventType } from '../../../src/controller/events.js';
import type { CommittedChange } from '../../../src/controller/intent/index.js';
import type { Endpoint } from '../../../src/model/index.js';

const sw = (dpid: number) => ({ type: 'switch.disconnected' as const, dpid, reason: 'test' });

describe('ControllerEvents', () => {
  it('stamps each event with an increasing id and the injected clock', () => {
    let t = 5000;
    const events = new ControllerEvents({ nowMs: () => t++ });
    const seen: unknown[] = [];
    events.subscribe((e) => seen.push(e));
    const a = events.emit(sw(1));
    const b = events.emit(sw(2));
    expect([a.id, b.id]).toEqual([1, 2]);
    expect([a.timeMs, b.timeMs]).toEqual([5000, 5001]);
    expect(seen).toEqual([a, b]);
    expect(events.lastId).toBe(2);
  });

  it('replays what came after an id; reports a gap once the ring has moved past it', () => {
    const events = new ControllerEvents({ ringSize: 4 });
    for (let i = 1; i <= 6; i++) events.emit(sw(i));
    expect(events.since(4)).toMatchObject({ gap: false, events: [{ id: 5 }, { id: 6 }] });
    expect(events.since(6)).toEqual({ gap: false, events: [] });
    // ids 3..6 are kept; after 2 nothing is lost, after 1 id 2 is.
    expect(events.since(2).gap).toBe(false);
    const r = events.since(1);
    expect(r.gap).toBe(true);
    expect(r.events.map((e) => e.id)).toEqual([3, 4, 5, 6]);
    expect(events.recent().map((e) => e.id)).toEqual([3, 4, 5, 6]);
  });

  it('an id from the future (another controller process) replays everything kept, as a gap', () => {
    const events = new ControllerEvents({ ringSize: 8 });
    events.emit(sw(1));
    expect(events.since(900)).toMatchObject({ gap: true, events: [{ id: 1 }] });
    expect(events.since(-1).gap).toBe(true);
    expect(new ControllerEvents().since(0)).toEqual({ gap: false, events: [] });
  });

  it('a throwing listener neither reaches the producer nor stops the others', () => {
    const events = new ControllerEvents();
    let got = 0;
    events.subscribe(() => {
      throw new Error('bad listener');
    });
    events.subscribe(() => got++);
    expect(() => events.emit(sw(1))).not.toThrow();
    expect(got).toBe(1);
    expect(events.listenerErrors).toBe(1);
  });

  it('waitFor resolves on the matching event and unsubscribes', async () => {
    const events = new ControllerEvents();
    const p = events.waitFor((e) => e.type === 'switch.disconnected' && e.dpid === 2, 1000);
    events.emit(sw(1));
    events.emit(sw(2));
    expect(await p).toMatchObject({ dpid: 2, id: 2 });
    expect(events.subscriberCount).toBe(0);
  });

  it('knows every event type', () => {
    expect(CONTROLLER_EVENT_TYPES).toContain('function.activation-requested');
    expect(isControllerEventType('packets.dropped')).toBe(true);
    expect(isControllerEventType('toString')).toBe(false);
  });
});

describe('endpointEvents', () => {
  const ep = (over: Partial<Endpoint> = {}): Endpoint => ({
    id: 'ep-1',
    kind: 'function',
    vpcId: 'vpc-1',
    subnetId: 'sn-1',
    dpid: 1,
    port: 2,
    mac: 0x060000000001,
    ip: 0x0a000102,
    labels: { function: 'resize' },
    ...over,
  } as Endpoint);

  it('add is up, delete is down, a move is down then up, a relabel is nothing', () => {
    const changes: CommittedChange[] = [
      { kind: 'endpoint', op: 'add', after: ep() },
      { kind: 'endpoint', op: 'update', before: ep(), after: ep({ labels: { function: 'x' } }) },
      { kind: 'endpoint', op: 'update', before: ep(), after: ep({ port: 3 }) },
      { kind: 'endpoint', op: 'delete', before: ep({ id: 'ep-2' }) },
    ];
    expect(endpointEvents(changes)).toEqual([
      { type: 'endpoint.up', endpointId: 'ep-1', vpcId: 'vpc-1', labels: { function: 'resize' } },
      { type: 'endpoint.down', endpointId: 'ep-1', vpcId: 'vpc-1', labels: { function: 'resize' } },
      { type: 'endpoint.up', endpointId: 'ep-1', vpcId: 'vpc-1', labels: { function: 'resize' } },
      { type: 'endpoint.down', endpointId: 'ep-2', vpcId: 'vpc-1', labels: { function: 'resize' } },
    ]);
  });
});
