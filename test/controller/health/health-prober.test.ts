/**
 * The health prober's logic over a fake clock, a fake controller (switch connections that record
 * packet-outs) and an in-memory intent: probes sent where and as they should be, misses and answers
 * counted into verdicts that go through setBackendHealth, with events, and REST marks respected.
 */
import { describe, expect, it } from 'vitest';
import { ControllerEvents, type ControllerEvent } from '../../../src/controller/events.js';
import { createHealthProber, HEALTH_ECHO_ID, type HealthProberOptions } from '../../../src/controller/health-prober.js';
import type { PacketInEvent, SwitchConnectionEvents } from '../../../src/controller/switch-connection.js';
import { output, PORT, type Action } from '../../../src/flow/index.js';
import { GATEWAY_MAC, markBackendHealth, type Endpoint, type HealthMarkSource, type Intent, type LoadBalancer } from '../../../src/model/index.js';
import { buildIcmpEchoReply, isMalformed, parseFrame } from '../../../src/net/index.js';

const ip = (a: number, b: number, c: number, d: number) => ((a << 24) | (b << 16) | (c << 8) | d) >>> 0;
const GW = ip(10, 0, 1, 1);

function ep(id: string, dpid: number, port: number, n: number, fn?: string): Endpoint {
  return { id, kind: 'function', vpcId: 'v', subnetId: 's', dpid, port, mac: 0x02bb00000000 + n, ip: ip(10, 0, 1, 100 + n), labels: fn ? { function: fn } : {} };
}

interface Sent {
  dpid: number;
  frame: Buffer;
  inPort: number;
  actions: Action[];
}

function world(endpoints: Endpoint[], lbOver: Partial<LoadBalancer> = {}) {
  const lb: LoadBalancer = { id: 'lb1', vpcId: 'v', vip: ip(10, 0, 9, 9), protocol: 'udp', port: 80, backendPort: 80, function: 'fn', weights: {}, unhealthy: [], ...lbOver };
  let state: Intent = {
    vpcs: new Map([['v', { id: 'v', name: 'v', vni: 1, cidr: { network: ip(10, 0, 0, 0), prefixLength: 16 } }]]),
    subnets: new Map([['s', { id: 's', vpcId: 'v', name: 's', cidr: { network: ip(10, 0, 1, 0), prefixLength: 24 }, gateway: GW }]]),
    endpoints: new Map(endpoints.map((e) => [e.id, e])),
    loadBalancers: new Map([[lb.id, lb]]),
  };
  const calls: { lbId: string; endpointId: string; healthy: boolean; by: HealthMarkSource }[] = [];
  const intent = {
    intent: () => state,
    loadBalancers: {
      async setBackendHealth(lbId: string, endpointId: string, healthy: boolean, by: HealthMarkSource = 'rest'): Promise<LoadBalancer> {
        calls.push({ lbId, endpointId, healthy, by });
        const cur = state.loadBalancers?.get(lbId);
        if (!cur) throw new Error('no lb');
        const after = markBackendHealth(cur, endpointId, healthy, by);
        state = { ...state, loadBalancers: new Map([[lbId, after]]) };
        return after;
      },
    },
  };
  const setIntent = (f: (i: Intent) => Intent) => {
    state = f(state);
  };
  const sent: Sent[] = [];
  const listeners = new Map<number, ((e: PacketInEvent) => void)[]>();
  const connected = new Set<number>([101, 102, 103]);
  const events = new ControllerEvents({ nowMs: () => 0 });
  const seen: ControllerEvent[] = [];
  events.subscribe((e) => seen.push(e));
  const controller = {
    events,
    get knownDpids() {
      return [...connected];
    },
    session(dpid: number) {
      if (!connected.has(dpid)) return undefined;
      return {
        connection: {
          packetOut(frame: Buffer, inPort: number, actions: Action[]) {
            sent.push({ dpid, frame, inPort, actions });
          },
          on<E extends keyof SwitchConnectionEvents>(event: E, listener: SwitchConnectionEvents[E]) {
            if (event !== 'packetIn') return;
            const list = listeners.get(dpid) ?? [];
            list.push(listener as (e: PacketInEvent) => void);
            listeners.set(dpid, list);
          },
        },
      };
    },
  };
  let now = 1000;
  let intervalFn: (() => void) | undefined;
  const prober = (o: HealthProberOptions = {}) =>
    createHealthProber(
      { intervalMs: 1000, timeoutMs: 500, unhealthyAfter: 3, healthyAfter: 2, ...o },
      {
        controller,
        intent,
        nowMs: () => now,
        setInterval: (fn) => {
          intervalFn = fn;
          return 1;
        },
        clearInterval: () => {
          intervalFn = undefined;
        },
      },
    );
  /** The backend answers every probe sent to it so far (through the switch's packet-in listeners). */
  const answer = (endpointId: string, over: Partial<{ dpid: number }> = {}) => {
    const e = state.endpoints.get(endpointId)!;
    for (const s of sent.splice(0)) {
      const f = parseFrame(s.frame);
      if (isMalformed(f) || f.ip?.dst !== e.ip) {
        sent.push(s);
        continue;
      }
      const reply = buildIcmpEchoReply(s.frame)!;
      const dpid = over.dpid ?? s.dpid;
      for (const l of listeners.get(dpid) ?? []) l({ reason: 'action', table: 4, cookie: 1, inPort: e.port, frame: reply });
    }
  };
  return {
    intent,
    calls,
    sent,
    seen,
    connected,
    setIntent,
    prober,
    answer,
    advance(ms: number) {
      now += ms;
    },
    fire() {
      now += 1000;
      intervalFn?.();
    },
    get intervalFn() {
      return intervalFn;
    },
  };
}

/** Lets the verdicts' commits (promises that are already resolved) run their continuations. */
const committed = () => new Promise<void>((resolve) => setImmediate(resolve));

describe('health prober', () => {
  it("probes each backend from its gateway on its own switch, out of its port; non-backends are left alone", () => {
    const w = world([ep('a', 101, 3, 1, 'fn'), ep('b', 102, 4, 2, 'fn'), ep('c', 103, 5, 3, 'other')]);
    const p = w.prober();
    w.fire();
    expect(w.sent.map((s) => s.dpid).sort()).toEqual([101, 102]);
    for (const s of w.sent) {
      const f = parseFrame(s.frame);
      if (isMalformed(f)) throw new Error('malformed probe');
      const target = s.dpid === 101 ? ep('a', 101, 3, 1) : ep('b', 102, 4, 2);
      expect(s.actions).toEqual([output(target.port)]);
      expect(s.inPort).toBe(PORT.CONTROLLER);
      expect(f.eth.src).toBe(GATEWAY_MAC);
      expect(f.eth.dst).toBe(target.mac);
      expect(f.ip?.src).toBe(GW);
      expect(f.ip?.dst).toBe(target.ip);
      expect(f.icmp?.type).toBe(8);
      expect(f.icmp?.id).toBe(HEALTH_ECHO_ID);
    }
    expect(p.stats().probesSent).toBe(2);
    p.stop();
    expect(w.intervalFn).toBeUndefined();
  });

  it('three misses in a row take a backend out (once, with an event); two answers bring it back', async () => {
    const w = world([ep('a', 101, 3, 1, 'fn'), ep('b', 102, 4, 2, 'fn')]);
    const p = w.prober();
    const round = (answerA: boolean) => {
      w.fire();
      w.advance(10);
      if (answerA) w.answer('a');
      w.answer('b');
    };
    round(true);
    round(false);
    round(false);
    round(false); // judges the second unanswered probe
    expect(w.calls).toEqual([]);
    round(false); // judges the third
    expect(w.calls).toEqual([{ lbId: 'lb1', endpointId: 'a', healthy: false, by: 'probe' }]);
    expect(w.intent.intent().loadBalancers?.get('lb1')?.unhealthy).toEqual(['a']);
    await committed(); // the event follows the commit
    expect(w.seen.filter((e) => e.type === 'backend.unhealthy')).toMatchObject([{ loadBalancerId: 'lb1', endpointId: 'a', misses: 3 }]);
    round(false);
    round(false);
    expect(w.calls).toHaveLength(1); // still out, not marked again
    round(true);
    expect(w.calls).toHaveLength(1);
    round(true);
    expect(w.calls[1]).toEqual({ lbId: 'lb1', endpointId: 'a', healthy: true, by: 'probe' });
    expect(w.intent.intent().loadBalancers?.get('lb1')?.unhealthy).toEqual([]);
    await committed();
    expect(w.seen.filter((e) => e.type === 'backend.healthy')).toMatchObject([{ loadBalancerId: 'lb1', endpointId: 'a', successes: 2 }]);
    expect(p.stats()).toMatchObject({ markedUnhealthy: 1, markedHealthy: 1 });
    p.stop();
  });

  it('an answer after the timeout counts as a miss; answers from elsewhere or with another id are not ours', () => {
    const w = world([ep('a', 101, 3, 1, 'fn')]);
    const p = w.prober({ unhealthyAfter: 1 });
    w.fire();
    // Wrong switch: ignored, the probe stays outstanding.
    w.advance(10);
    w.answer('a', { dpid: 102 });
    expect(p.stats().repliesMatched).toBe(0);
    w.fire();
    expect(w.calls).toEqual([{ lbId: 'lb1', endpointId: 'a', healthy: false, by: 'probe' }]);
    w.advance(600);
    w.answer('a');
    expect(p.stats()).toMatchObject({ repliesLate: 1, repliesMatched: 0 });
    // The same answer with another echo id (or from another address) is not ours.
    w.fire();
    const probe = w.sent.at(-1)!;
    const reply = buildIcmpEchoReply(probe.frame)!;
    const f = parseFrame(reply);
    if (isMalformed(f) || !f.icmp || !f.ip) throw new Error('malformed reply');
    const otherId = Buffer.from(reply);
    otherId.writeUInt16BE(0x1234, f.icmp.offset + 4);
    expect(p.offer({ dpid: 101, reason: 'action', table: 4, cookie: 1, inPort: 3, frame: otherId })).toBe(false);
    const otherSrc = Buffer.from(reply);
    otherSrc.writeUInt32BE(ip(10, 0, 1, 99), f.ip.offset + 12);
    expect(p.offer({ dpid: 101, reason: 'action', table: 4, cookie: 1, inPort: 3, frame: otherSrc })).toBe(false);
    expect(p.offer({ dpid: 101, reason: 'action', table: 4, cookie: 1, inPort: 3, frame: reply })).toBe(true);
    expect(p.stats().repliesMatched).toBe(1);
    const foreign = p.offer({ dpid: 101, reason: 'action', table: 4, cookie: 1, inPort: 3, frame: Buffer.from('not a frame') });
    expect(foreign).toBe(false);
    p.stop();
  });

  it('leaves REST marks alone (made while it runs or found at start) and returns its own, also those found at start', async () => {
    // At start: b marked over REST, c by a prober before a restart (the stored intent says which).
    const w = world([ep('a', 101, 3, 1, 'fn'), ep('b', 102, 4, 2, 'fn'), ep('c', 103, 5, 3, 'fn')], { unhealthy: ['b', 'c'], unhealthyByProbe: ['c'] });
    const p = w.prober();
    await w.intent.loadBalancers.setBackendHealth('lb1', 'a', false); // REST, while the prober runs
    w.calls.length = 0;
    for (let i = 0; i < 3; i++) {
      w.fire();
      w.advance(10);
      for (const e of ['a', 'b', 'c']) w.answer(e);
    }
    expect(w.calls).toEqual([{ lbId: 'lb1', endpointId: 'c', healthy: true, by: 'probe' }]);
    expect(w.intent.intent().loadBalancers?.get('lb1')?.unhealthy).toEqual(['a', 'b']);
    expect(w.intent.intent().loadBalancers?.get('lb1')?.unhealthyByProbe).toBeUndefined();
    p.stop();
  });

  it('a REST mark on a backend it took out makes the mark the operator\'s', async () => {
    const w = world([ep('a', 101, 3, 1, 'fn')]);
    const p = w.prober();
    for (let i = 0; i < 4; i++) w.fire(); // three misses (each judged at the next tick): out, by the prober
    expect(w.intent.intent().loadBalancers?.get('lb1')).toMatchObject({ unhealthy: ['a'], unhealthyByProbe: ['a'] });
    await w.intent.loadBalancers.setBackendHealth('lb1', 'a', false); // the operator drains it for good
    w.calls.length = 0;
    for (let i = 0; i < 3; i++) {
      w.fire();
      w.advance(10);
      w.answer('a');
    }
    expect(w.calls).toEqual([]);
    expect(w.intent.intent().loadBalancers?.get('lb1')?.unhealthy).toEqual(['a']);
    p.stop();
  });

  it('a switch that is not connected gets no probes and its backends no verdict', () => {
    const w = world([ep('a', 101, 3, 1, 'fn')]);
    const p = w.prober({ unhealthyAfter: 1 });
    w.connected.delete(101);
    for (let i = 0; i < 5; i++) w.fire();
    expect(w.sent).toEqual([]);
    expect(w.calls).toEqual([]);
    expect(p.stats()).toMatchObject({ probesSent: 0, unreachable: 5 });
    p.stop();
  });

  it('forgets a backend that left the function, and restarts the counts of one that moved', () => {
    const w = world([ep('a', 101, 3, 1, 'fn')]);
    const p = w.prober();
    w.fire();
    w.fire();
    expect(p.status()).toMatchObject([{ endpointId: 'a', misses: 1 }]);
    w.setIntent((i) => ({ ...i, endpoints: new Map([['a', ep('a', 102, 7, 1, 'fn')]]) }));
    w.fire();
    expect(p.status()).toMatchObject([{ endpointId: 'a', dpid: 102, port: 7, misses: 0 }]);
    w.setIntent((i) => ({ ...i, endpoints: new Map([['a', ep('a', 102, 7, 1)]]) }));
    w.sent.length = 0;
    w.fire();
    expect(p.status()).toEqual([]);
    expect(w.sent).toEqual([]);
    p.stop();
  });
});
