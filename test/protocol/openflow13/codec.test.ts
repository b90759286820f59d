import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { FIELDS, FIELD_NAMES, fullMask, normalizeMatch, output, setField, type FieldName, type FlowEntry, type FlowMod, type Match } from '../../../src/flow/index.js';
import {
  OFPMF,
  OFPT,
  meterEntryOf,
  toOf13MeterMod,
  createOf13FrameSplitter,
  decodeOf13,
  encodeBundledFlowModsBatch,
  encodeFlowMod,
  encodeFlowModsBatch,
  encodeOf13,
  encodeOf13Many,
  type Of13Message,
} from '../../../src/protocol/openflow13/index.js';
import { isOvercastError } from '../../../src/errors/index.js';
import { ARP_RESPONDER, SAMPLE_MESSAGES, TCP_FLOW } from './sample-messages.js';

describe('OpenFlow 1.3 round trip', () => {
  it.each(SAMPLE_MESSAGES.map((m) => [`${m.type} xid ${m.xid}`, m] as const))('%s', (_name, msg) => {
    const bytes = encodeOf13(msg);
    expect(bytes[0]).toBe(msg.type === 'hello' && msg.version !== undefined ? msg.version : 4);
    expect(bytes.readUInt16BE(2)).toBe(bytes.length);
    expect(bytes.readUInt32BE(4)).toBe(msg.xid);
    expect(decodeOf13(bytes)).toEqual(msg);
  });

  it('encodes the header fields a switch relies on', () => {
    const b = encodeOf13({ type: 'flowMod', xid: 0xdeadbeef, command: 'add', flow: ARP_RESPONDER });
    expect(b[1]).toBe(OFPT.FLOW_MOD);
    expect(b.readBigUInt64BE(8)).toBe(BigInt(ARP_RESPONDER.cookie));
    expect(b[24]).toBe(1); // table
    expect(b.readUInt16BE(30)).toBe(100); // priority
    expect(b.readUInt32BE(32)).toBe(0xffffffff); // no buffer
    expect(b.readUInt16BE(48)).toBe(1); // OFPMT_OXM
    expect(b.readUInt32BE(52)).toBe(0x80000004); // OXM_OF_IN_PORT first
    expect(b.length % 8).toBe(0);
  });

  it('writes the 32-bit metadata and the 53-bit cookie with upper bits zero', () => {
    const b = encodeOf13({ type: 'flowMod', xid: 1, command: 'add', flow: { ...TCP_FLOW, cookie: 2 ** 53 - 1, match: { metadata: 0xffffffff } } });
    expect(b.readBigUInt64BE(8)).toBe(2n ** 53n - 1n);
    expect(b.readUInt32BE(52)).toBe(0x80000408); // OXM_OF_METADATA, exact, 8 bytes
    expect(b.readBigUInt64BE(56)).toBe(0xffffffffn);
  });

  it('writes values ANDed with their masks, full masks exact, zero masks not at all', () => {
    const flow: FlowEntry = {
      ...TCP_FLOW,
      match: { ethType: 0x0800, ipv4Src: { value: 0x0a0000ff, mask: 0xffffff00 }, ipv4Dst: { value: 5, mask: 0xffffffff }, ethSrc: { value: 3, mask: 0 } },
    };
    const decoded = decodeOf13(encodeOf13({ type: 'flowMod', xid: 1, command: 'add', flow }));
    expect(decoded.type === 'flowMod' && decoded.flow.match).toEqual(normalizeMatch(flow.match));
  });

  it('decodes an all-ones cookie mask (ovs-ofctl cookie=X/-1) as every cookie bit', () => {
    const b = encodeOf13({ type: 'flowMod', xid: 1, command: 'delete', flow: { ...TCP_FLOW, cookie: 5 }, cookieMask: Number.MAX_SAFE_INTEGER });
    expect(b.readBigUInt64BE(16)).toBe(0xffffffffffffffffn);
  });

  it('reports a cookie wider than 53 bits as unsupported, not an exception', () => {
    const b = encodeOf13({ type: 'flowMod', xid: 7, command: 'add', flow: TCP_FLOW });
    b.writeUInt32BE(0x00200000, 8);
    expect(decodeOf13(b)).toMatchObject({ type: 'malformed', code: 'OVC_ERR_PROTO_UNSUPPORTED', xid: 7, ofType: OFPT.FLOW_MOD });
  });

  it('reports metadata with upper bits set as unsupported', () => {
    const b = encodeOf13({ type: 'flowMod', xid: 7, command: 'add', flow: { ...TCP_FLOW, match: { metadata: 1 } } });
    b.writeUInt32BE(1, 56);
    expect(decodeOf13(b)).toMatchObject({ type: 'malformed', code: 'OVC_ERR_PROTO_UNSUPPORTED' });
  });

  it('answers a packet-in whose cookie is all ones (no flow) with no cookie', () => {
    const msg: Of13Message = { type: 'packetIn', xid: 0, bufferId: 0xffffffff, totalLen: 1, reason: 0, tableId: 0, match: { inPort: 1 }, data: Buffer.from([1]) };
    const b = encodeOf13(msg);
    expect(b.readBigUInt64BE(16)).toBe(0xffffffffffffffffn);
    expect(decodeOf13(b)).toEqual(msg);
  });

  it('skips unknown OXM fields in a packet-in but refuses them in a flow-mod', () => {
    // A packet-in whose match carries NXM_NX_REG0 (class 1, field 0) after in_port, as Open vSwitch sends.
    const reg0 = Buffer.from('0001000400000007', 'hex');
    const pin = encodeOf13({ type: 'packetIn', xid: 0, bufferId: 0xffffffff, totalLen: 0, reason: 0, tableId: 0, match: { inPort: 1 }, data: Buffer.alloc(0) });
    const matchLen = pin.readUInt16BE(26);
    const withReg = Buffer.concat([pin.subarray(0, 24 + matchLen), reg0, pin.subarray(24 + matchLen)]);
    withReg.writeUInt16BE(matchLen + 8, 26);
    withReg.writeUInt16BE(withReg.length, 2);
    const decoded = decodeOf13(withReg);
    expect(decoded).toMatchObject({ type: 'packetIn', match: { inPort: 1 } });

    const fm = encodeOf13({ type: 'flowMod', xid: 1, command: 'add', flow: { ...TCP_FLOW, match: {}, actions: [] } });
    // Replace the empty match (type 1, length 4, 4 pad) with one holding reg0.
    const withRegFm = Buffer.concat([fm.subarray(0, 48), Buffer.from('0001000c', 'hex'), reg0, Buffer.alloc(4), fm.subarray(56)]);
    withRegFm.writeUInt16BE(withRegFm.length, 2);
    expect(decodeOf13(withRegFm)).toMatchObject({ type: 'malformed', code: 'OVC_ERR_PROTO_UNSUPPORTED' });
  });

  it('refuses copy-field of a field reg_move cannot name, with a typed error', () => {
    try {
      encodeOf13({ type: 'flowMod', xid: 1, command: 'add', flow: { ...TCP_FLOW, actions: [{ type: 'copyField', src: 'tcpFlags', dst: 'tcpFlags' }] } });
      expect.unreachable();
    } catch (e) {
      expect(isOvercastError(e) && e.code).toBe('OVC_ERR_PROTO_UNSUPPORTED');
    }
  });

  it('rejects a message of another version except HELLO', () => {
    const b = encodeOf13({ type: 'barrierRequest', xid: 3 });
    b[0] = 1;
    expect(decodeOf13(b)).toMatchObject({ type: 'malformed', code: 'OVC_ERR_PROTO_VERSION', xid: 3 });
    const h = encodeOf13({ type: 'hello', xid: 3 });
    h[0] = 1;
    expect(decodeOf13(h)).toEqual({ type: 'hello', xid: 3, version: 1 });
  });

  it('reports an unknown message type as unsupported with its xid and type', () => {
    const b = Buffer.from('041b000800000009', 'hex'); // GET_ASYNC_REPLY
    expect(decodeOf13(b)).toMatchObject({ type: 'malformed', code: 'OVC_ERR_PROTO_UNSUPPORTED', xid: 9, ofType: 27 });
  });
});

describe('fast flow-mod encoding', () => {
  const mods: FlowMod[] = [
    { command: 'add', flow: ARP_RESPONDER },
    { command: 'add', flow: TCP_FLOW },
    { command: 'deleteStrict', flow: TCP_FLOW },
  ];

  it('encodeFlowMod equals the generic encoder', () => {
    expect(encodeFlowMod(mods[0], 5)).toEqual(encodeOf13({ type: 'flowMod', xid: 5, ...mods[0] }));
  });

  it('a batch is the concatenation of single flow-mods with consecutive xids', () => {
    const batch = encodeFlowModsBatch(mods, 0xfffffffe);
    const singles = mods.map((m, i) => encodeFlowMod(m, (0xfffffffe + i) >>> 0));
    expect(batch).toEqual(Buffer.concat(singles));
  });

  it('returns buffers that later calls do not overwrite', () => {
    const a = encodeFlowMod(mods[0], 1);
    const copy = Buffer.from(a);
    encodeFlowModsBatch([mods[1], mods[1], mods[1]], 2);
    expect(a).toEqual(copy);
  });

  it('a bundled batch wraps each flow-mod in a BUNDLE_ADD_MESSAGE with the same xid', () => {
    const b = encodeBundledFlowModsBatch(9, mods, 100, 1);
    const split = createOf13FrameSplitter().push(b);
    expect(split.frames.map((f) => decodeOf13(f))).toEqual(
      mods.map((m, i) => ({ type: 'bundleAdd', xid: 100 + i, bundleId: 9, flags: 1, message: { type: 'flowMod', xid: 100 + i, ...m } })),
    );
  });

  it('grows its scratch buffer for batches larger than it', () => {
    const many = Array.from({ length: 3000 }, (_, i): FlowMod => ({ command: 'add', flow: { ...ARP_RESPONDER, priority: i } }));
    const batch = encodeFlowModsBatch(many, 1);
    const { frames } = createOf13FrameSplitter().push(batch);
    expect(frames).toHaveLength(3000);
    expect(decodeOf13(frames[2999])).toMatchObject({ type: 'flowMod', xid: 3000, flow: { priority: 2999 } });
  });
});

/** Random flow entries the model accepts (values within their fields' widths, prerequisites met). */
function arbMatch(): fc.Arbitrary<Match> {
  const field = (name: FieldName) => {
    const max = fullMask(name);
    const value = fc.integer({ min: 0, max });
    if (!FIELDS[name].maskable) return value;
    return fc.oneof(value, fc.record({ value, mask: fc.integer({ min: 1, max }) }));
  };
  const tcp = fc.record({ tcpSrc: field('tcpSrc'), tcpDst: field('tcpDst'), tcpFlags: field('tcpFlags') }, { requiredKeys: [] });
  const generic = fc.record(
    {
      inPort: field('inPort'),
      metadata: field('metadata'),
      tunnelId: field('tunnelId'),
      ethDst: field('ethDst'),
      ethSrc: field('ethSrc'),
      vlanVid: field('vlanVid'),
      ipv4Src: field('ipv4Src'),
      ipv4Dst: field('ipv4Dst'),
      ipDscp: field('ipDscp'),
    },
    { requiredKeys: [] },
  );
  return fc.tuple(generic, tcp).map(([g, t]) => normalizeMatch({ ...g, ethType: 0x0800, ipProto: 6, ...t }));
}

function arbFlow(): fc.Arbitrary<FlowEntry> {
  const settable = FIELD_NAMES.filter((n) => FIELDS[n].settable);
  const action = fc.oneof(
    fc.integer({ min: 1, max: 0xfffffeff }).map((p) => output(p)),
    fc.constantFrom(...settable).chain((f) => fc.integer({ min: 0, max: fullMask(f) }).map((v) => setField(f, v))),
  );
  return fc
    .record({
      table: fc.integer({ min: 0, max: 5 }),
      priority: fc.integer({ min: 0, max: 0xffff }),
      match: arbMatch(),
      actions: fc.array(action, { maxLength: 6 }),
      cookie: fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }),
      idleTimeoutSec: fc.integer({ min: 1, max: 0xffff }),
    })
    .map((f) => ({ ...f, gotoTable: f.table + 1 }));
}

describe('properties', () => {
  it('every valid flow-mod round-trips', () => {
    fc.assert(
      fc.property(arbFlow(), fc.integer({ min: 0, max: 0xffffffff }), (flow, xid) => {
        expect(decodeOf13(encodeFlowMod({ command: 'add', flow }, xid))).toEqual({ type: 'flowMod', xid, command: 'add', flow });
      }),
      { numRuns: 300 },
    );
  });

  it('random bytes never throw', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 0, maxLength: 300 }), fc.integer({ min: 0, max: 29 }), (bytes, type) => {
        const b = Buffer.from(bytes);
        if (b.length >= 8) {
          b[0] = 4;
          b[1] = type;
          b.writeUInt16BE(b.length, 2);
        }
        const m = decodeOf13(b);
        expect(typeof m.type).toBe('string');
      }),
      { numRuns: 3000 },
    );
  });

  it('every truncation or corruption of a valid message decodes without throwing', () => {
    const all = SAMPLE_MESSAGES.map((m) => encodeOf13(m));
    fc.assert(
      fc.property(fc.nat({ max: all.length - 1 }), fc.nat(), fc.nat({ max: 255 }), (i, at, byte) => {
        const orig = all[i];
        const cut = Buffer.from(orig.subarray(0, Math.max(8, at % (orig.length + 1))));
        cut.writeUInt16BE(cut.length, 2);
        expect(typeof decodeOf13(cut).type).toBe('string');
        const corrupt = Buffer.from(orig);
        const pos = 8 + (at % Math.max(1, orig.length - 8));
        if (pos < corrupt.length) corrupt[pos] = byte;
        expect(typeof decodeOf13(corrupt).type).toBe('string');
      }),
      { numRuns: 3000 },
    );
  });
});

describe('frame splitter', () => {
  const stream = encodeOf13Many(SAMPLE_MESSAGES);

  it('splits a stream cut at any points into the same messages', () => {
    fc.assert(
      fc.property(fc.array(fc.nat({ max: stream.length }), { maxLength: 20 }), (cuts) => {
        const points = [...new Set([0, ...cuts, stream.length])].sort((a, b) => a - b);
        const splitter = createOf13FrameSplitter();
        const frames: Buffer[] = [];
        for (let i = 1; i < points.length; i++) {
          const r = splitter.push(stream.subarray(points[i - 1], points[i]));
          expect(r.error).toBeUndefined();
          frames.push(...r.frames);
        }
        expect(splitter.pending).toBe(0);
        expect(frames.map((f) => decodeOf13(f))).toEqual(SAMPLE_MESSAGES);
      }),
      { numRuns: 100 },
    );
  });

  it('reports a frame above the cap as oversized, and stays failed', () => {
    const s = createOf13FrameSplitter({ maxFrameBytes: 64 });
    const big = encodeOf13({ type: 'echoRequest', xid: 1, data: Buffer.alloc(100) });
    const r = s.push(Buffer.concat([encodeOf13({ type: 'barrierRequest', xid: 0 }), big]));
    expect(r.frames).toHaveLength(1);
    expect(r.error?.code).toBe('OVC_ERR_PROTO_OVERSIZED');
    expect(s.push(encodeOf13({ type: 'barrierRequest', xid: 2 })).error?.code).toBe('OVC_ERR_PROTO_OVERSIZED');
  });

  it('reports a length below the header size as malformed', () => {
    expect(createOf13FrameSplitter().push(Buffer.from('0400000400000000', 'hex')).error?.code).toBe('OVC_ERR_PROTO_MALFORMED');
  });
});

describe('set-field values', () => {
  it('round-trips a 48-bit MAC set-field and a tunnel id', () => {
    const flow: FlowEntry = { ...TCP_FLOW, actions: [setField('ethDst', 0xffffffffffff), setField('tunnelId', 0xffffffff)] };
    expect(decodeOf13(encodeFlowMod({ command: 'add', flow }, 1))).toMatchObject({ flow: { actions: flow.actions } });
  });
});

describe('meters between the channel-neutral model and OpenFlow 1.3', () => {
  it('a meter-mod carries its unit, BURST and STATS; a config read back is the same meter', () => {
    const meter = { meterId: 3, unit: 'pktps' as const, bands: [{ type: 'drop' as const, rate: 200, burst: 20 }], cookie: 9 };
    const mod = toOf13MeterMod({ command: 'add', meter }, 5);
    expect(mod).toEqual({ type: 'meterMod', xid: 5, command: 'add', flags: OFPMF.PKTPS | OFPMF.BURST | OFPMF.STATS, meterId: 3, bands: [{ type: 'drop', rate: 200, burstSize: 20 }] });
    expect(meterEntryOf({ flags: mod.flags, meterId: 3, bands: mod.bands })).toEqual({ meterId: 3, unit: 'pktps', bands: meter.bands });
    expect(toOf13MeterMod({ command: 'delete', meter: { ...meter, unit: 'kbps' } }, 6)).toMatchObject({ flags: 0, bands: [] });
    expect(meterEntryOf({ flags: OFPMF.KBPS | OFPMF.BURST, meterId: 4, bands: [] }).unit).toBe('kbps');
  });
});
