/**
 * The hold as pure logic over a manual clock: arrival order, per-function and total bounds, expiry,
 * counted drops, one activation request per cold period, release order and delay.
 */
import { describe, expect, it } from 'vitest';
import type { ControllerEventBody } from '../../../src/controller/events.js';
import { createPacketHold, type HeldPacket, type PacketHoldOptions, type PacketInAt } from '../../../src/controller/packet-hold.js';
import { fakeTimers } from './fake-timers.js';

/** Cookie n names function `fn<n>`; cookie 0 is not a cold function's. */
const classify: PacketHoldOptions['classify'] = (p) => (p.cookie === 0 ? undefined : { functionKey: `fn${p.cookie}`, vpcId: 'vpc-1', vip: '10.0.9.9' });

function packet(cookie: number, n: number, dpid = 1): PacketInAt {
  return { dpid, cookie, inPort: 3, table: 3, reason: 'action', frame: Buffer.from([cookie, n]) };
}

function rig(opts: Partial<PacketHoldOptions> = {}) {
  const clock = fakeTimers();
  const events: ControllerEventBody[] = [];
  const hold = createPacketHold(
    { classify, maxPacketsPerFunction: 4, maxPacketsTotal: 6, holdMs: 1000, ...opts },
    { nowMs: clock.now, emit: (e) => events.push(e), setTimeout: clock.setTimeout, clearTimeout: clock.clearTimeout },
  );
  const of = (type: string) => events.filter((e) => e.type === type);
  return { clock, events, hold, of };
}

const n = (p: HeldPacket) => p.frame[1];

describe('packet hold', () => {
  it('ignores packet-ins that are no cold function\'s', () => {
    const { hold, events } = rig();
    expect(hold.offer(packet(0, 1))).toBe('ignored');
    expect(events).toEqual([]);
    expect(hold.stats().coldFunctions).toBe(0);
  });

  it('holds per function and releases in arrival order, with the delay from registration', () => {
    const { hold, clock, of } = rig();
    hold.offer(packet(1, 1));
    clock.advance(10);
    hold.offer(packet(2, 1));
    hold.offer(packet(1, 2));
    hold.offer(packet(1, 3, 2));
    expect(hold.held('fn1')).toBe(3);
    expect(hold.held('fn2')).toBe(1);

    const registeredAt = clock.now();
    clock.advance(25); // flows being installed
    const sent: HeldPacket[] = [];
    const r = hold.release('fn1', (p) => void sent.push(p), { sinceMs: registeredAt });
    expect(sent.map(n)).toEqual([1, 2, 3]);
    expect(sent.map((p) => p.dpid)).toEqual([1, 1, 2]);
    expect(sent.every((p) => p.inPort === 3)).toBe(true);
    expect(r).toMatchObject({ functionKey: 'fn1', count: 3, unsendable: 0, delayMs: 25 });
    expect(of('function.activated')).toEqual([{ type: 'function.activated', functionKey: 'fn1', heldPackets: 3 }]);
    expect(of('packets.released')).toEqual([{ type: 'packets.released', functionKey: 'fn1', count: 3, delayMs: 25 }]);
    // fn2 is untouched
    expect(hold.held('fn1')).toBe(0);
    expect(hold.held('fn2')).toBe(1);
  });

  it('keeps its own copy of the frame (the channel may reuse its buffer)', () => {
    const { hold } = rig();
    const p = packet(1, 7);
    hold.offer(p);
    p.frame[1] = 99;
    const sent: HeldPacket[] = [];
    hold.release('fn1', (x) => void sent.push(x));
    expect(n(sent[0])).toBe(7);
  });

  it('asks for activation once per cold period, with VPC, VIP and the held count', () => {
    const { hold, of } = rig();
    for (let i = 1; i <= 3; i++) hold.offer(packet(1, i));
    expect(of('function.activation-requested')).toEqual([
      { type: 'function.activation-requested', functionKey: 'fn1', vpcId: 'vpc-1', vip: '10.0.9.9', heldPackets: 1 },
    ]);
    hold.release('fn1', () => true);
    // A packet after the release starts a new cold period (scale to zero happened again, or a straggler).
    hold.offer(packet(1, 4));
    expect(of('function.activation-requested')).toHaveLength(2);
    expect(hold.stats().activationRequests).toBe(2);
  });

  it('a plain string from classify is the function key', () => {
    const clock = fakeTimers();
    const events: ControllerEventBody[] = [];
    const hold = createPacketHold({ classify: () => 'k' }, { nowMs: clock.now, emit: (e) => events.push(e), setTimeout: clock.setTimeout, clearTimeout: clock.clearTimeout });
    hold.offer(packet(5, 1));
    expect(events).toEqual([{ type: 'function.activation-requested', functionKey: 'k', heldPackets: 1 }]);
    hold.close();
    expect(clock.pending()).toBe(0);
  });

  it('drops beyond the per-function bound, counts them, and reports them once at the end of the period', () => {
    const { hold, of } = rig();
    const results = [1, 2, 3, 4, 5, 6].map((i) => hold.offer(packet(1, i)));
    expect(results).toEqual(['held', 'held', 'held', 'held', 'dropped', 'dropped']);
    expect(hold.stats().dropped.overflow).toBe(2);
    expect(of('packets.dropped')).toEqual([]);
    const sent: HeldPacket[] = [];
    hold.release('fn1', (p) => void sent.push(p));
    // The first four are kept (the oldest waited longest), not the newest.
    expect(sent.map(n)).toEqual([1, 2, 3, 4]);
    expect(of('packets.dropped')).toEqual([{ type: 'packets.dropped', functionKey: 'fn1', reason: 'overflow', count: 2 }]);
  });

  it('bounds the total across functions', () => {
    const { hold } = rig();
    for (let i = 1; i <= 4; i++) hold.offer(packet(1, i));
    expect(hold.offer(packet(2, 1))).toBe('held');
    expect(hold.offer(packet(2, 2))).toBe('held');
    expect(hold.offer(packet(3, 1))).toBe('dropped'); // total 6 reached
    expect(hold.stats()).toMatchObject({ heldPackets: 6, coldFunctions: 3, dropped: { overflow: 1 } });
    // fn3 could hold nothing but still asked for activation.
    hold.release('fn1', () => true);
    expect(hold.offer(packet(3, 2))).toBe('held');
  });

  it('expires packets after holdMs in arrival order and counts them', () => {
    const { hold, clock, of } = rig();
    hold.offer(packet(1, 1));
    clock.advance(400);
    hold.offer(packet(1, 2));
    clock.advance(600); // packet 1 is 1000 ms old
    expect(hold.held('fn1')).toBe(1);
    expect(of('packets.dropped')).toEqual([{ type: 'packets.dropped', functionKey: 'fn1', reason: 'expired', count: 1 }]);
    clock.advance(399);
    expect(hold.held('fn1')).toBe(1);
    clock.advance(1);
    expect(hold.held('fn1')).toBe(0);
    expect(hold.stats()).toMatchObject({ coldFunctions: 0, heldPackets: 0, dropped: { expired: 2 } });
    expect(clock.pending()).toBe(0);
    // The cold period ended with the last packet: the next one asks again.
    hold.offer(packet(1, 3));
    expect(of('function.activation-requested')).toHaveLength(2);
  });

  it('expiry frees room under the bound', () => {
    const { hold, clock } = rig();
    for (let i = 1; i <= 4; i++) hold.offer(packet(1, i));
    clock.advance(1000);
    expect(hold.offer(packet(1, 5))).toBe('held');
    const sent: HeldPacket[] = [];
    hold.release('fn1', (p) => void sent.push(p));
    expect(sent.map(n)).toEqual([5]);
  });

  it('a packet whose time is up at release is not sent, even if its timer is late', () => {
    let t = 1000;
    const events: ControllerEventBody[] = [];
    // Timers that never fire: release must still judge age itself.
    const hold = createPacketHold({ classify, holdMs: 100 }, { nowMs: () => t, emit: (e) => events.push(e), setTimeout: () => 0, clearTimeout: () => {} });
    hold.offer(packet(1, 1));
    t = 2000;
    const r = hold.release('fn1', () => true);
    expect(r).toMatchObject({ count: 0, expired: 1, delayMs: undefined });
    expect(events.filter((e) => e.type === 'packets.released')).toEqual([]);
  });

  it('counts packets the runtime could not send (switch gone) and goes on with the rest', () => {
    const { hold, of } = rig();
    hold.offer(packet(1, 1, 1));
    hold.offer(packet(1, 2, 2));
    hold.offer(packet(1, 3, 1));
    const sent: number[] = [];
    const r = hold.release('fn1', (p) => {
      if (p.dpid === 2) return false;
      if (n(p) === 3) throw new Error('socket closed');
      sent.push(n(p));
      return true;
    });
    expect(sent).toEqual([1]);
    expect(r).toMatchObject({ count: 1, unsendable: 2 });
    expect(of('packets.dropped')).toEqual([{ type: 'packets.dropped', functionKey: 'fn1', reason: 'unsendable', count: 2 }]);
    expect(hold.stats()).toMatchObject({ releasedTotal: 1, dropped: { unsendable: 2 } });
  });

  it('release of a function with nothing held still reports the activation', () => {
    const { hold, events } = rig();
    expect(hold.release('fn9', () => true)).toMatchObject({ count: 0, delayMs: undefined });
    expect(events).toEqual([{ type: 'function.activated', functionKey: 'fn9', heldPackets: 0 }]);
  });

  it('release cancels the expiry timer', () => {
    const { hold, clock } = rig();
    hold.offer(packet(1, 1));
    expect(clock.pending()).toBe(1);
    hold.release('fn1', () => true);
    expect(clock.pending()).toBe(0);
  });

  it('a steady flood for one function is a few events, not one per packet', () => {
    const { hold, clock, events, of } = rig({ maxPacketsPerFunction: 1024, maxPacketsTotal: 16_384, holdMs: 10_000 });
    // 20,000 packets over 20 s, one a millisecond: held, expired, overflowed, held again...
    for (let i = 0; i < 20_000; i++) {
      hold.offer(packet(1, i & 0xff));
      clock.advance(1);
    }
    clock.advance(20_000);
    const stats = hold.stats();
    expect(of('function.activation-requested')).toHaveLength(1);
    const dropped = of('packets.dropped') as Extract<ControllerEventBody, { type: 'packets.dropped' }>[];
    // Every drop is counted, in events as in the stats...
    expect(dropped.reduce((n, e) => n + e.count, 0)).toBe(stats.dropped.expired + stats.dropped.overflow);
    expect(stats.dropped.expired + stats.dropped.overflow).toBe(20_000);
    // ...in at most one expiry report a second and one overflow report per cold period.
    expect(dropped.filter((e) => e.reason === 'expired').length).toBeLessThanOrEqual(42);
    expect(dropped.filter((e) => e.reason === 'overflow')).toHaveLength(1);
    expect(events.length).toBeLessThanOrEqual(45);
  });
});
