import { describe, expect, it } from 'vitest';
import { CT_STATE, ConnTable, K, createPacketKey, extractKey, type ConntrackOptions } from '../../src/flow/index.js';
import { TCP_ACK, TCP_FIN, TCP_RST, TCP_SYN, buildIcmpEchoFrame, buildTcpFrame, buildUdpFrame, parseIpv4 } from '../../src/net/index.js';

const A = { mac: 0x020000000001, ip: parseIpv4('10.0.0.1') };
const B = { mac: 0x020000000002, ip: parseIpv4('10.0.0.2') };
const { NEW, EST, REL, RPL, INV, TRK } = CT_STATE;

function harness(options: ConntrackOptions = {}) {
  let now = 1000;
  const table = new ConnTable(options, () => now);
  const key = createPacketKey();
  const run = (frame: Uint8Array, zone = 1, commit = false, mark?: { value: number; mask: number }) => {
    expect(extractKey(frame, 1, 0, key)).toBe(0);
    const passed = table.track(key, frame, zone, commit, mark);
    return { passed, state: key[K.CT_STATE], zone: key[K.CT_ZONE], mark: key[K.CT_MARK] };
  };
  const tcp = (from: 'a' | 'b', flags: number, seq: number, ack: number, payload = 0, window = 65535) => {
    const [s, d] = from === 'a' ? [A, B] : [B, A];
    return buildTcpFrame({
      srcMac: s.mac,
      dstMac: d.mac,
      srcIp: s.ip,
      dstIp: d.ip,
      srcPort: from === 'a' ? 40000 : 80,
      dstPort: from === 'a' ? 80 : 40000,
      seq,
      ack,
      flags,
      window,
      payload: new Uint8Array(payload),
    });
  };
  const udp = (from: 'a' | 'b') => {
    const [s, d] = from === 'a' ? [A, B] : [B, A];
    return buildUdpFrame({ srcMac: s.mac, dstMac: d.mac, srcIp: s.ip, dstIp: d.ip, srcPort: from === 'a' ? 5000 : 53, dstPort: from === 'a' ? 53 : 5000, payload: new Uint8Array(4) });
  };
  return { table, run, tcp, udp, advance: (ms: number) => (now += ms) };
}

/** A full handshake a -> b, committed on the SYN; returns the next sequence numbers. */
function handshake(h: ReturnType<typeof harness>) {
  expect(h.run(h.tcp('a', TCP_SYN, 100, 0), 1, true).state).toBe(TRK | NEW);
  expect(h.run(h.tcp('b', TCP_SYN | TCP_ACK, 5000, 101)).state).toBe(TRK | EST | RPL);
  expect(h.run(h.tcp('a', TCP_ACK, 101, 5001)).state).toBe(TRK | EST);
  return { a: 101, b: 5001 };
}

describe('connection table', () => {
  it('tracks a TCP connection: new, then established both ways, replies marked', () => {
    const h = harness();
    const s = handshake(h);
    expect(h.run(h.tcp('a', TCP_ACK, s.a, s.b, 100)).state).toBe(TRK | EST);
    expect(h.run(h.tcp('b', TCP_ACK, s.b, s.a + 100, 50)).state).toBe(TRK | EST | RPL);
    expect(h.table.size).toBe(1);
  });

  it('an uncommitted new connection is not recorded', () => {
    const h = harness();
    expect(h.run(h.tcp('a', TCP_SYN, 100, 0)).state).toBe(TRK | NEW);
    expect(h.run(h.tcp('b', TCP_SYN | TCP_ACK, 5000, 101)).state).toBe(TRK | INV);
    expect(h.table.size).toBe(0);
  });

  it('a stray segment is invalid: no SYN seen, outside the window, after RST, after both FINs', () => {
    const h = harness();
    expect(h.run(h.tcp('a', TCP_ACK, 100, 1), 1, true).state).toBe(TRK | INV);
    expect(h.run(h.tcp('b', TCP_SYN | TCP_ACK, 5000, 101), 1, true).state).toBe(TRK | INV);
    expect(h.table.size).toBe(0);
    const s = handshake(h);
    // Far beyond the window b advertised, and acknowledging data b never sent.
    expect(h.run(h.tcp('a', TCP_ACK, s.a + 10_000_000, s.b)).state).toBe(TRK | INV);
    expect(h.run(h.tcp('a', TCP_ACK, s.a, s.b + 1_000_000)).state).toBe(TRK | INV);
    expect(h.run(h.tcp('a', TCP_ACK, s.a, s.b)).state).toBe(TRK | EST);
    // Invalid flag combinations.
    expect(h.run(h.tcp('a', TCP_SYN | TCP_FIN, s.a, s.b)).state).toBe(TRK | INV);
    expect(h.run(h.tcp('a', 0, s.a, s.b)).state).toBe(TRK | INV);
    // A reset in the window closes; what follows is invalid until a new SYN.
    expect(h.run(h.tcp('b', TCP_RST | TCP_ACK, s.b, s.a)).state).toBe(TRK | EST | RPL);
    expect(h.run(h.tcp('a', TCP_ACK, s.a, s.b)).state).toBe(TRK | INV);
    expect(h.run(h.tcp('a', TCP_SYN, 9000, 0), 1, true).state).toBe(TRK | NEW);
    expect(h.table.size).toBe(1);
  });

  it('closes with FINs: data after a FIN and segments after both FINs are acknowledged are invalid', () => {
    const h = harness();
    const s = handshake(h);
    expect(h.run(h.tcp('a', TCP_FIN | TCP_ACK, s.a, s.b)).state).toBe(TRK | EST);
    expect(h.run(h.tcp('a', TCP_ACK, s.a + 1, s.b, 10)).state).toBe(TRK | INV);
    expect(h.run(h.tcp('b', TCP_FIN | TCP_ACK, s.b, s.a + 1)).state).toBe(TRK | EST | RPL);
    expect(h.run(h.tcp('a', TCP_ACK, s.a + 1, s.b + 1)).state).toBe(TRK | EST);
    expect(h.run(h.tcp('b', TCP_ACK, s.b + 1, s.a + 1, 10)).state).toBe(TRK | INV);
  });

  it('times connections out per state', () => {
    const h = harness({ timeouts: { tcpSynSentMs: 1000, tcpEstablishedMs: 60_000, udpFirstMs: 500, udpMultipleMs: 5000 } });
    h.run(h.tcp('a', TCP_SYN, 100, 0), 1, true);
    h.advance(1001);
    expect(h.run(h.tcp('b', TCP_SYN | TCP_ACK, 5000, 101)).state).toBe(TRK | INV);
    expect(h.table.size).toBe(0);
    const s = handshake(h);
    h.advance(59_000);
    expect(h.run(h.tcp('a', TCP_ACK, s.a, s.b)).state).toBe(TRK | EST);
    expect(h.run(h.udp('a'), 1, true).state).toBe(TRK | NEW);
    h.advance(400);
    expect(h.run(h.udp('b')).state).toBe(TRK | EST | RPL);
    h.advance(4000);
    expect(h.run(h.udp('a')).state).toBe(TRK | EST);
    h.advance(60_001);
    expect(h.table.expire()).toBe(2);
    expect(h.table.size).toBe(0);
    expect(h.table.stats.expired).toBeGreaterThanOrEqual(2);
  });

  it('keeps zones apart', () => {
    const h = harness();
    h.run(h.udp('a'), 1, true);
    expect(h.run(h.udp('b'), 1).state).toBe(TRK | EST | RPL);
    expect(h.run(h.udp('b'), 2)).toMatchObject({ state: TRK | NEW, zone: 2 });
  });

  it('limits connections per zone: the overflow is counted and dropped', () => {
    const h = harness({ zoneLimit: 2 });
    const udpFrom = (port: number) => buildUdpFrame({ srcMac: A.mac, dstMac: B.mac, srcIp: A.ip, dstIp: B.ip, srcPort: port, dstPort: 53 });
    expect(h.run(udpFrom(1), 7, true).passed).toBe(true);
    expect(h.run(udpFrom(2), 7, true).passed).toBe(true);
    expect(h.run(udpFrom(3), 7, true).passed).toBe(false);
    expect(h.table.stats.zoneLimitDrops).toBe(1);
    expect(h.run(udpFrom(3), 8, true).passed).toBe(true);
    // An existing connection still passes, and a zone's own limit overrides the default.
    expect(h.run(udpFrom(1), 7, true).state).toBe(TRK | EST);
    h.table.setZoneLimit(7, 3);
    expect(h.run(udpFrom(3), 7, true).passed).toBe(true);
    expect(h.table.zoneCount(7)).toBe(3);
  });

  it('commit sets the mark under its mask', () => {
    const h = harness();
    expect(h.run(h.udp('a'), 1, true, { value: 0x12, mask: 0xff }).mark).toBe(0x12);
    expect(h.run(h.udp('b'), 1).mark).toBe(0x12);
    expect(h.run(h.udp('b'), 1, true, { value: 0x300, mask: 0xf00 }).mark).toBe(0x312);
  });

  it('tracks ICMP echo by id; an ICMP error quoting a tracked packet is related', () => {
    const h = harness();
    const echo = (from: 'a' | 'b', type: 'request' | 'reply', id = 7) => {
      const [s, d] = from === 'a' ? [A, B] : [B, A];
      return buildIcmpEchoFrame({ srcMac: s.mac, dstMac: d.mac, srcIp: s.ip, dstIp: d.ip, type, id, seq: 1 });
    };
    expect(h.run(echo('a', 'request'), 1, true).state).toBe(TRK | NEW);
    expect(h.run(echo('b', 'reply')).state).toBe(TRK | EST | RPL);
    expect(h.run(echo('b', 'request')).state).toBe(TRK | NEW);
    expect(h.run(echo('b', 'reply', 8)).state).toBe(TRK | INV);
    // Destination unreachable from b, quoting a's UDP datagram to b.
    const quoted = h.udp('a');
    h.run(quoted, 1, true);
    const inner = quoted.subarray(14, 14 + 28);
    const err = new Uint8Array(14 + 20 + 8 + inner.length);
    err.set(h.udp('b').subarray(0, 34));
    err[14 + 9] = 1; // ICMP
    err[14 + 2] = 0;
    err[14 + 3] = 20 + 8 + inner.length;
    err[34] = 3;
    err[35] = 3;
    err.set(inner, 42);
    expect(h.run(err).state).toBe(TRK | REL | RPL);
    const unrelated = err.slice();
    unrelated[42 + 20 + 1] ^= 0xff; // another source port
    expect(h.run(unrelated).state).toBe(TRK | INV);
  });

  it('a non-IPv4 packet is invalid', () => {
    const h = harness();
    const arp = new Uint8Array(42);
    arp[12] = 0x08;
    arp[13] = 0x06;
    const key = createPacketKey();
    extractKey(arp, 1, 0, key);
    h.table.track(key, arp, 1, true, undefined);
    expect(key[K.CT_STATE]).toBe(TRK | INV);
  });
});

describe('ct in flow text', () => {
  it('formats ct_state as Open vSwitch does, and ct and conjunction actions', async () => {
    const { formatCtState, formatFlow, ct, conjunction } = await import('../../src/flow/index.js');
    expect(formatCtState(TRK | EST, TRK | EST | NEW)).toBe('-new+est+trk');
    expect(
      formatFlow({ table: 10, priority: 5, cookie: 1, match: { ethType: 0x0800, ctState: { value: TRK | NEW, mask: TRK | NEW } }, actions: [ct(3, { commit: true, mark: { value: 1, mask: 1 } }), conjunction(4, 1, 2)] }),
    ).toContain('ctState=+new+trk actions=ct(commit,zone=3,mark=0x1/0x1),conjunction(4,1/2)');
  });
});

describe('ct and conjunction validation', () => {
  it('checkActions and checkFlow refuse what Open vSwitch refuses', async () => {
    const { checkActions, checkFlow, ct, conjunction, output } = await import('../../src/flow/index.js');
    const codes = (actions: Parameters<typeof checkActions>[0]) => checkActions(actions).map((p) => p.field);
    expect(codes([ct(1, { commit: true, mark: { value: 1, mask: 1 } }), ct(2, { table: 3 })])).toEqual([]);
    expect(codes([ct(0x10000)])).toEqual(['actions[0]']);
    expect(codes([ct(1, { table: 3 }), output(1)])).toEqual(['actions[0]']);
    expect(codes([ct(1, { table: 255 })])).toEqual(['actions[0]']);
    expect(codes([ct(1, { mark: { value: 1, mask: 1 } })])).toEqual(['actions[0]']);
    expect(codes([conjunction(1, 1, 2), conjunction(2, 3, 3)])).toEqual([]);
    expect(codes([conjunction(1, 0, 2)])).toEqual(['actions[0]']);
    expect(codes([conjunction(1, 3, 2)])).toEqual(['actions[0]']);
    expect(codes([conjunction(1, 1, 1)])).toEqual(['actions[0]']);
    expect(codes([conjunction(1, 1, 65)])).toEqual(['actions[0]']);
    expect(codes([conjunction(1, 1, 2), output(1)])).toEqual(['actions[0]']);
    const flow = (match: object) => ({ table: 0, priority: 1, cookie: 0, match, actions: [ct(1)] });
    expect(checkFlow(flow({ ethType: 0x0800 }), 4)).toEqual([]);
    expect(checkFlow(flow({}), 4).map((p) => [p.code, p.field])).toEqual([['OVC_ERR_FLOW_BAD_ACTION', 'flow.actions[0]']]);
  });
});
