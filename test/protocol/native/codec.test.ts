import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { FIELD_NAMES, PORT, decTtl, group, output, popMpls, popVlan, pushMpls, pushVlan, setField, copyField, toController, type FlowEntry } from '../../../src/flow/index.js';
import {
  FIELD_WIRE,
  FrameDecoder,
  MAX_FRAME_BYTES,
  decodeFramed,
  decodeMessage,
  encodeMessage,
  encodePayload,
  isMalformed,
  type Msg,
} from '../../../src/protocol/index.js';
import { overcast } from '../../../src/protocol/native/generated/overcast.js';

const flow: FlowEntry = {
  table: 2,
  priority: 100,
  match: {
    inPort: 3,
    metadata: { value: 0x10, mask: 0xff },
    ethDst: 0x0200deadbeef,
    ethSrc: { value: 0x020000000000, mask: 0xff0000000000 },
    ethType: 0x0800,
    ipProto: 17,
    ipv4Dst: { value: 0x0a000000, mask: 0xff000000 },
    udpDst: 53,
  },
  actions: [
    setField('ethDst', 0xffffffffffff),
    copyField('arpSha', 'arpTha'),
    pushVlan(),
    popVlan(),
    pushMpls(),
    setField('mplsLabel', 0xfffff),
    popMpls(0x0800),
    decTtl(),
    group(7),
    output(4),
    toController(),
  ],
  writeMetadata: { value: 5, mask: 0xffffffff },
  gotoTable: 4,
  meterId: 9,
  cookie: 2 ** 52 + 17,
  idleTimeoutSec: 10,
  hardTimeoutSec: 60,
};

const samples: Msg[] = [
  { type: 'hello', xid: 1, versions: [1, 3] },
  { type: 'error', xid: 2, code: 'OVC_ERR_PROTO_MALFORMED', message: 'bad', data: new Uint8Array([1, 2, 3]) },
  { type: 'error', xid: 2, code: 'OVC_ERR_PROTO_VERSION', message: '' },
  { type: 'echoRequest', xid: 3, data: new Uint8Array([9]) },
  { type: 'echoReply', xid: 3, data: new Uint8Array(0) },
  { type: 'featuresRequest', xid: 4 },
  { type: 'featuresReply', xid: 4, dpid: 2 ** 40 + 1, nTables: 7, ports: [{ portNo: 1, name: 'p1', hwAddr: 0x02aabbccddee, up: true }] },
  { type: 'flowMod', xid: 5, flowMod: { command: 'add', flow } },
  { type: 'flowMod', xid: 5, flowMod: { command: 'deleteStrict', flow: { table: 0, priority: 0, match: {}, actions: [], cookie: 0 }, cookieMask: 0xffff, outPort: 2, outGroup: 3 } },
  { type: 'flowMod', xid: 5, flowMod: { command: 'delete', flow: { table: 0, priority: 0, match: {}, actions: [], cookie: 0 }, allTables: true } },
  { type: 'flowMod', xid: 5, flowMod: { command: 'modify', flow } },
  { type: 'flowMod', xid: 5, flowMod: { command: 'modifyStrict', flow } },
  {
    type: 'groupMod',
    xid: 6,
    groupMod: {
      command: 'add',
      group: { groupId: 7, type: 'select', cookie: 12, buckets: [{ weight: 3, actions: [output(1)] }, { weight: 1, watchPort: 2, watchGroup: 4, actions: [] }] },
    },
  },
  { type: 'groupMod', xid: 6, groupMod: { command: 'delete', group: { groupId: 7, type: 'fastFailover', buckets: [] } } },
  { type: 'barrierRequest', xid: 7 },
  { type: 'barrierReply', xid: 7 },
  { type: 'packetIn', xid: 0, inPort: 1, table: 3, reason: 'action', cookie: 99, metadata: 4, data: new Uint8Array([1, 2]) },
  { type: 'packetOut', xid: 8, inPort: PORT.CONTROLLER, actions: [output(PORT.FLOOD)], data: new Uint8Array([5]) },
  { type: 'packetOut', xid: 8, inPort: 2, actions: [], data: new Uint8Array([5]) },
  { type: 'portStatus', xid: 0, reason: 'modify', port: { portNo: 2, name: 'p2', hwAddr: 0, up: false } },
  { type: 'flowStatsRequest', xid: 9, match: { inPort: 1 }, cookie: 5, cookieMask: 0xff },
  { type: 'flowStatsRequest', xid: 9, table: 3, match: {}, cookie: 0, cookieMask: 0 },
  { type: 'flowStatsReply', xid: 9, flows: [{ flow, packets: 10, bytes: 2 ** 40, durationMs: 1234 }], more: true },
  { type: 'flowRemoved', xid: 0, flow, reason: 'idleTimeout', packets: 1, bytes: 64, durationMs: 5000 },
  { type: 'portStatsRequest', xid: 10 },
  { type: 'portStatsRequest', xid: 10, portNo: 4 },
  {
    type: 'portStatsReply',
    xid: 10,
    ports: [{ portNo: 1, rxPackets: 1, txPackets: 2, rxBytes: 3, txBytes: 4, rxDropped: 5, txDropped: 6, txErrors: 7 }],
    more: false,
  },
  { type: 'bundleControl', xid: 11, bundleId: 3, ctrl: 'commitRequest' },
  { type: 'bundleAdd', xid: 11, bundleId: 3, mod: { type: 'flowMod', flowMod: { command: 'add', flow } } },
  { type: 'bundleAdd', xid: 11, bundleId: 3, mod: { type: 'groupMod', groupMod: { command: 'modify', group: { groupId: 1, type: 'indirect', buckets: [{ actions: [output(2)] }] } } } },
  { type: 'roleRequest', xid: 12, role: 'master', generationId: 2 ** 33 },
  { type: 'roleReply', xid: 12, role: 'slave', generationId: 1 },
  { type: 'groupDescRequest', xid: 13 },
  {
    type: 'groupDescReply',
    xid: 13,
    groups: [
      { groupId: 7, type: 'select', buckets: [{ weight: 3, actions: [output(1)] }] },
      { groupId: 8, type: 'indirect', cookie: 5, buckets: [{ actions: [setField('ethDst', 0x020000000001), output(2)] }] },
    ],
    more: true,
  },
];

function plain(m: unknown): unknown {
  if (m instanceof Uint8Array) return [...m];
  if (Array.isArray(m)) return m.map(plain);
  if (m && typeof m === 'object') return Object.fromEntries(Object.entries(m).map(([k, v]) => [k, plain(v)]));
  return m;
}

describe('native codec', () => {
  it.each(samples.map((m) => [m.type, m] as const))('round-trips %s', (_t, m) => {
    const decoded = decodeFramed(encodeMessage(m));
    expect(plain(decoded)).toEqual(plain(m));
  });

  it('covers every message type', () => {
    const types = new Set(samples.map((m) => m.type));
    expect(types.size).toBe(24);
  });

  it('gives every flow field a distinct wire number', () => {
    const numbers = FIELD_NAMES.map((f) => FIELD_WIRE[f]);
    expect(new Set(numbers).size).toBe(FIELD_NAMES.length);
  });

  it('reports garbage as malformed, never throwing', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), (bytes) => {
        const r = decodeMessage(bytes);
        if (isMalformed(r)) expect(r.code).toBe('OVC_ERR_PROTO_MALFORMED');
      }),
      { numRuns: 2000 },
    );
  });

  it('reports mutated valid messages as malformed or decodes them, never throwing', () => {
    const payloads = samples.map(encodePayload);
    fc.assert(
      fc.property(fc.integer({ min: 0, max: payloads.length - 1 }), fc.nat(), fc.integer({ min: 0, max: 255 }), (i, pos, byte) => {
        const p = Uint8Array.from(payloads[i]);
        if (p.length > 0) p[pos % p.length] = byte;
        decodeMessage(p);
      }),
      { numRuns: 2000 },
    );
  });

  it('reports an empty envelope and an unknown field number as malformed', () => {
    const r = decodeMessage(new Uint8Array(0));
    expect(isMalformed(r) && r.code).toBe('OVC_ERR_PROTO_MALFORMED');
    const unknownField = overcast.native.Message.encode({ xid: 1, flowMod: { flow: { match: [{ field: 99 as overcast.native.Field, value: 1 }] } } }).finish();
    const r2 = decodeMessage(unknownField);
    expect(isMalformed(r2) && r2.code).toBe('OVC_ERR_PROTO_MALFORMED');
    const noFlow = overcast.native.Message.encode({ xid: 1, flowMod: {} }).finish();
    const r3 = decodeMessage(noFlow);
    expect(isMalformed(r3) && r3.code).toBe('OVC_ERR_PROTO_MALFORMED');
    const noAction = overcast.native.Message.encode({ xid: 1, packetOut: { actions: [{}] } }).finish();
    const r4 = decodeMessage(noAction);
    expect(isMalformed(r4) && r4.code).toBe('OVC_ERR_PROTO_MALFORMED');
  });

  it('refuses to encode a message beyond the frame limit', () => {
    expect(() => encodeMessage({ type: 'echoRequest', xid: 1, data: new Uint8Array(MAX_FRAME_BYTES + 1) })).toThrow(
      expect.objectContaining({ code: 'OVC_ERR_PROTO_OVERSIZED' }),
    );
  });

  it('decodes a stream split at every byte boundary', () => {
    const stream = Buffer.concat(samples.map(encodeMessage));
    const dec = new FrameDecoder();
    const out: Msg[] = [];
    for (let i = 0; i < stream.length; i += 7) {
      for (const ev of dec.push(stream.subarray(i, i + 7))) {
        expect(ev.type).toBe('frame');
        if (ev.type === 'frame') {
          const m = decodeMessage(ev.frame);
          if (!isMalformed(m)) out.push(m);
        }
      }
    }
    expect(out.map((m) => m.type)).toEqual(samples.map((m) => m.type));
    expect(dec.pendingBytes).toBe(0);
  });
});
